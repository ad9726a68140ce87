"""A person's choice of how they are told (issue 14): the /notices page for every role, the domain change
(audited), notices held for a daily digest sent at 07:00 in London as one e-mail to a real local SMTP server
(aiosmtpd), retried as the same e-mail when the server refuses, never sent twice and never lost; the kinds
that never wait."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from matching import db, notifications
from matching.clock import CLOCK, ZONE, utcnow
from matching.models import AuditEvent, Notification, User
from tests.conftest import TEST_TODAY
from tests.test_notifications import Inbox, smtp  # noqa: F401 (the fixture)
from tests.test_pages import csrf, sign_in

ROLES = ["adviser", "manager", "mentor", "department", "admin"]


def _at(hour: int, minute: int = 0, day=TEST_TODAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)


def _person(engine, *, notices="daily", signed_in=True, name="Dee Daily") -> User:
    with db.session_scope(db.writer(engine)) as session:
        user = User(email=f"{name.split()[0].lower()}@example.gov.uk", full_name=name, role="adviser",
                    notices=notices, last_login_at=utcnow() if signed_in else None)
        session.add(user)
        session.flush()
        return user


def _notify(engine, user: User, key: str, kind: str = "proposals", path: str = "/proposals") -> None:
    with db.session_scope(db.writer(engine)) as session:
        notifications.notify(session, key=key, kind=kind, user=user, subject=f"Springboard: about {key}",
                             lines=[f"Something about {key} is waiting for you."],
                             url=f"https://springboard.example{path}")


def _notices(engine) -> dict[str, Notification]:
    with db.session_scope(engine) as session:
        return {n.key: n for n in session.exec(select(Notification).order_by(Notification.id))}


def _send(engine, port: int):
    return notifications.send_due(engine, notifications.SmtpMailer("127.0.0.1", port),
                                  from_address="springboard@council.example")


# --- The page ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_role_sees_their_stored_choice_and_can_change_it(browser, engine, people, role):
    assert sign_in(browser, role).status_code == 303
    shown = browser.get("/notices")
    assert shown.status_code == 200 and shown.text.count("<h1") == 1  # the radios' legend is the page's heading
    assert "<title>How we tell you" in shown.text and '<h1 class="govuk-fieldset__heading">' in shown.text
    assert 'value="immediate" checked' in shown.text and 'value="daily" checked' not in shown.text
    changed = browser.post("/notices", data={"notices": "daily", "_csrf_token": csrf(shown.text)},
                           follow_redirects=False)
    assert changed.status_code == 303 and changed.headers["location"] == "/notices"
    after = browser.get("/notices")
    assert "govuk-notification-banner--success" in after.text and "once a day, at 7am" in after.text
    assert 'value="daily" checked' in after.text and 'value="immediate" checked' not in after.text
    with db.session_scope(engine) as session:
        assert session.get(User, people[role].id).notices == "daily"
        (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "notices")).all()
    assert (event.actor_id, event.entity, event.entity_id) == (people[role].id, "user", people[role].id)


def test_the_form_refuses_no_choice_and_an_unknown_one_and_changes_nothing(browser, engine, people):
    sign_in(browser, "adviser")
    token = csrf(browser.get("/notices").text)
    for posted in ({}, {"notices": "hourly"}):
        refused = browser.post("/notices", data={**posted, "_csrf_token": token})
        assert refused.status_code == 400 and "<title>Error: How we tell you" in refused.text
        assert 'class="govuk-error-summary"' in refused.text and 'href="#notices"' in refused.text
        assert "Select how we tell you" in refused.text and " checked" not in refused.text
    with db.session_scope(engine) as session:
        assert session.get(User, people["adviser"].id).notices == "immediate"
        assert session.exec(select(AuditEvent).where(AuditEvent.action == "notices")).all() == []


def test_choosing_what_is_already_chosen_says_so_and_is_not_green(browser, engine, people):
    sign_in(browser, "mentor")
    token = csrf(browser.get("/notices").text)
    after = browser.post("/notices", data={"notices": "immediate", "_csrf_token": token})
    assert "Nothing changed: we will email you straight away" in after.text
    assert "govuk-notification-banner--success" not in after.text


def test_the_page_needs_signing_in(browser):
    assert browser.get("/notices", follow_redirects=False).headers["location"].startswith("/sign-in")


# --- Which notices wait -----------------------------------------------------------------------------------

def test_the_digest_hour_is_seven_in_london_whatever_the_season():
    assert notifications.next_digest_at(_at(6, 59)) == _at(7)
    assert notifications.next_digest_at(_at(7)) == _at(7, day=TEST_TODAY + timedelta(days=1))
    spring = datetime(2027, 3, 27, 23, 30, tzinfo=ZONE)  # the clocks go forward that night
    assert notifications.next_digest_at(spring).astimezone(UTC).isoformat() == "2027-03-28T06:00:00+00:00"


def test_held_only_for_a_daily_choice_of_someone_who_signed_in_and_never_a_link_that_expires(engine):
    daily, never = _person(engine), _person(engine, signed_in=False, name="Nia New")
    immediate = _person(engine, notices="immediate", name="Ian Now")
    _notify(engine, daily, "held")
    _notify(engine, daily, "reset", kind="password_reset")
    _notify(engine, never, "invited", kind="password_invitation")
    _notify(engine, never, "other")
    _notify(engine, immediate, "now")
    found = _notices(engine)
    assert (found["held"].status, found["held"].next_attempt_at) == ("held", _at(7, day=TEST_TODAY + timedelta(1)))
    assert {key: n.status for key, n in found.items() if key != "held"} == dict.fromkeys(
        ["reset", "invited", "other", "now"], "pending")
    assert notifications.kind_of("password_reset").never_waits and not notifications.kind_of("proposals").never_waits


def test_going_back_to_immediate_releases_what_was_held(engine):
    dee = _person(engine)
    _notify(engine, dee, "one")
    with db.session_scope(db.writer(engine)) as session:
        assert notifications.set_choice(session, dee.id, "immediate") == 1
        assert notifications.set_choice(session, dee.id, "daily") == 0
    assert _notices(engine)["one"].status == "pending"
    with pytest.raises(notifications.InvalidInput), db.session_scope(db.writer(engine)) as session:
        notifications.set_choice(session, dee.id, "weekly")


# --- The daily digest -----------------------------------------------------------------------------------------

def test_held_notices_go_at_seven_as_one_email_listing_each_and_never_twice(engine, smtp):  # noqa: F811
    dee, ian = _person(engine), _person(engine, notices="immediate", name="Ian Now")
    _notify(engine, dee, "first", path="/proposals")
    _notify(engine, dee, "second", path="/referrals/4")
    _notify(engine, ian, "straight")
    assert _send(engine, smtp.port) == {"sent": 1}  # Ian's, at noon; Dee's wait
    CLOCK.fix(_at(6, 59, TEST_TODAY + timedelta(days=1)))
    assert _send(engine, smtp.port) == {}
    CLOCK.fix(_at(7, 0, TEST_TODAY + timedelta(days=1)))
    assert _send(engine, smtp.port) == {"sent": 1}
    assert _send(engine, smtp.port) == {}
    straight, digest = smtp.messages
    assert digest["To"] == "dee@example.gov.uk" and digest["Subject"] == "Springboard: your daily digest (2 notices)"
    text = digest.get_payload().replace("\r\n", "\n")
    assert text.startswith("Hello Dee,\n") and text.count("Hello") == 1
    assert text.index("1. about first") < text.index("Something about first") < text.index(
        "https://springboard.example/proposals") < text.index("2. about second") < text.index(
        "https://springboard.example/referrals/4")
    assert "https://springboard.example/referrals/4" not in straight.get_payload()
    found = _notices(engine)
    assert [(found[k].status, found[k].attempts) for k in ("first", "second")] == [("sent", 1), ("sent", 1)]


def test_a_refused_digest_keeps_its_notices_held_and_is_retried_as_the_same_email(engine, smtp):  # noqa: F811
    dee = _person(engine)
    _notify(engine, dee, "first")
    CLOCK.fix(_at(7, 0, TEST_TODAY + timedelta(days=1)))
    smtp.refusing = True
    assert _send(engine, smtp.port) == {"retrying": 1} and smtp.messages == []
    refused = _notices(engine)["first"]
    assert (refused.status, refused.attempts, refused.last_error) == ("digesting", 1, "SMTPDataError 451")
    _notify(engine, dee, "later")  # held for the next digest, not slipped into the one being retried
    assert _notices(engine)["later"].status == "held"
    smtp.refusing = False
    CLOCK.fix(refused.next_attempt_at)
    assert _send(engine, smtp.port) == {"sent": 1}
    (digest,) = smtp.messages
    assert "about first" in digest.get_payload() and "about later" not in digest.get_payload()
    found = _notices(engine)
    assert (found["first"].status, found["first"].attempts, found["later"].status) == ("sent", 2, "held")
    CLOCK.fix(_at(7, 0, TEST_TODAY + timedelta(days=2)))
    assert _send(engine, smtp.port) == {"sent": 1} and "about later" in smtp.messages[1].get_payload()
    assert "about first" not in smtp.messages[1].get_payload()


def test_a_digest_after_a_server_that_was_down_loses_nothing(engine):
    from tests.test_notifications import _free_port

    dee = _person(engine)
    _notify(engine, dee, "first")
    CLOCK.fix(_at(8, 0, TEST_TODAY + timedelta(days=3)))  # days late: still one digest, nothing lost
    assert _send(engine, _free_port()) == {"retrying": 1}  # nothing listens there
    assert _notices(engine)["first"].status == "digesting"
