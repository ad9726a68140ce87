"""The managers' overview counts: each is its list's length, kept for a minute, made again at once when the
manager changes the intervals."""

from datetime import UTC, date, datetime, timedelta

from fixtures import demo

from matching import cases, council_settings, dashboard, db, offer
from matching.clock import CLOCK
from tests.test_pages import sign_in

TODAY = date(2026, 11, 23)


def test_each_count_is_the_length_of_its_list_on_the_demo_borough(engine):
    assert demo.load(engine, seed=5, today=TODAY).loaded
    with db.session_scope(engine) as session:
        counts = dashboard.attention_counts(session, TODAY)
        lists = [cases.not_in_touch(session, today=TODAY), cases.pathway_reviews(session, today=TODAY),
                 cases.overdue_check_ins(session, today=TODAY), cases.no_recent_meeting(session, today=TODAY),
                 cases.waiting(session, today=TODAY), offer.missed(session, today=TODAY)]
    assert list(counts.values()) == [len(found) for found in lists]
    assert all(counts.values())  # the demo has someone on every list, so a wrong count cannot hide as 0 == 0


def test_counts_are_kept_for_a_minute_and_made_again_when_the_intervals_change(engine):
    dashboard._KEPT.clear()
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 0, tzinfo=UTC)), db.session_scope(engine) as session:
        first = dashboard.recent_counts(session, TODAY)
    assert demo.load(engine, seed=5, today=TODAY).loaded
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 0, 59, tzinfo=UTC)), db.session_scope(engine) as session:
        assert dashboard.recent_counts(session, TODAY) is first  # under a minute: the counts made at 9:00
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 1, 5, tzinfo=UTC)), db.session_scope(engine) as session:
        again = dashboard.recent_counts(session, TODAY)
    assert again.counted_at - first.counted_at >= timedelta(minutes=1) and any(again.rows.values())
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 1, 30, tzinfo=UTC)), db.session_scope(db.writer(engine)) as session:
        shorter = council_settings.load(session, council_settings.FollowUpSettings).model_copy(
            update={"not_in_touch_weeks": 1})
        council_settings.save(session, shorter, version=council_settings.version_of(
            session, council_settings.FollowUpSettings), actor_id=None)
    with CLOCK.fixed(datetime(2026, 11, 23, 9, 1, 31, tzinfo=UTC)), db.session_scope(engine) as session:
        changed = dashboard.recent_counts(session, TODAY)
        expected = len(cases.not_in_touch(session, today=TODAY, weeks=1))
    assert changed is not again and changed.rows["Not in touch"] == expected > again.rows["Not in touch"]


def test_the_overview_page_says_when_it_counted(browser, engine):
    dashboard._KEPT.clear()
    sign_in(browser, "manager")
    with CLOCK.fixed(datetime(2026, 11, 23, 14, 5, tzinfo=UTC)):
        page = browser.get("/overview")
    assert page.status_code == 200 and "Counted on 23 November 2026 at 2:05pm" in page.text
