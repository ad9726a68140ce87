"""The weekly retraining and the nightly statistics refresh (jobs/models.py), with the service's clock: a better
model is made current and the managers told, a model that is not better is declined with its reason, and a run
with no new outcomes since the newest model trains nothing. Both databases."""

from datetime import date, timedelta

import sqlalchemy as sa
from sqlmodel import select

from jobs import runner
from jobs.registry import get
from matching import db, lifecycle
from matching.clock import CLOCK
from matching.engine import learning
from matching.models import CareLeaver, Notification, Opportunity, Outcome, ScoringModel
from tests.conftest import TEST_TODAY

SECRET_NAME = "Zephyrine"


def _outcomes(engine, department_id: int, count: int, start: int = 0) -> None:
    """Outcomes where success is exactly the jobs without a guaranteed interview: the default weights (which
    favour guaranteed interviews) rank them backwards, so a learned model does better on any held-out rows."""
    with db.session_scope(db.writer(engine)) as session:
        for n in range(start, start + count):
            person = CareLeaver(case_reference=f"R{n:04d}", first_name=SECRET_NAME, date_of_birth=date(2004, 1, 1),
                                leaving_care_category="former_relevant", home_area="E8", consent_share_employers=True)
            job = Opportunity(reference=f"R-{n}", department_id=department_id, kind="job", title="Clerk", area="E8",
                              guaranteed_interview=n % 2 == 0)
            session.add_all([person, job])
            session.flush()
            match = lifecycle.propose(session, care_leaver_id=person.id, opportunity_id=job.id)
            failed = job.guaranteed_interview
            match.state = "not_successful" if failed else "completed"
            session.add(Outcome(match_id=match.id, recorded_on=TEST_TODAY,
                                kind="not_successful" if failed else "placement_completed"))


def _models(engine) -> dict[str, str]:
    with db.session_scope(engine) as session:
        return {row.version: row.status for row in session.exec(select(ScoringModel))}


def _told(engine) -> list[Notification]:
    with db.session_scope(engine) as session:
        return list(session.exec(select(Notification).where(Notification.kind == "model_promoted")))


def test_retraining_is_weekly_on_sunday_night():
    job = get("retrain")
    assert job.cron == {"day_of_week": "sun", "hour": 1, "minute": 30}  # before the 02:30 nightly matching


def test_retraining_promotes_a_better_model_declines_one_no_better_and_does_nothing_twice(settings, engine, people):
    learning.load_model.cache_clear()
    too_few = runner.run_job("retrain", settings)
    assert too_few.result == "ok" and too_few.summary.startswith("not trained: 0 labelled outcomes")
    assert _models(engine) == {}

    _outcomes(engine, people["department"].department_id, 240)
    CLOCK.fix(TEST_TODAY - timedelta(days=1))  # a Sunday
    first = runner.run_job("retrain", settings)
    assert first.result == "ok", first.summary
    [(version, status)] = _models(engine).items()
    assert status == "current" and first.summary.startswith(f"{version} made current:")
    with db.session_scope(engine) as session:
        metrics = session.get(ScoringModel, version).metrics
    assert metrics["held_out"]["roc_auc"] - metrics["current_on_same_rows"]["roc_auc"] >= learning.PROMOTION_MARGIN
    assert metrics["current_on_same_rows"]["version"].startswith("weights-")
    told = _told(engine)
    assert [n.user_id for n in told] == [people["manager"].id]
    assert version in told[0].body and "/models" in told[0].body and SECRET_NAME not in told[0].body
    assert SECRET_NAME not in first.summary

    CLOCK.fix(TEST_TODAY)  # the next day, same outcomes: nothing new trained, nobody told again
    again = runner.run_job("retrain", settings)
    assert again.result == "ok" and again.summary == f"no new outcomes since {version} (current); nothing trained"
    assert _models(engine) == {version: "current"} and len(_told(engine)) == 1

    _outcomes(engine, people["department"].department_id, 8, start=240)
    CLOCK.fix(TEST_TODAY + timedelta(days=6))  # the next Sunday, with new outcomes of the same kind
    week_later = runner.run_job("retrain", settings)
    assert week_later.result == "ok", week_later.summary
    statuses = _models(engine)
    [declined] = [v for v, s in statuses.items() if s == "declined"]
    assert statuses[version] == "current" and len(statuses) == 2  # the one in use does as well: kept
    assert week_later.summary.startswith(f"{declined} declined: its held-out ROC AUC")
    assert f"at least {learning.PROMOTION_MARGIN:+.3f} is needed" in week_later.summary
    assert len(_told(engine)) == 1
    once_more = runner.run_job("retrain", settings)
    assert once_more.summary == f"no new outcomes since {declined} (declined); nothing trained"
    assert len(_models(engine)) == 2


def test_the_held_out_quarter_is_the_same_matches_at_every_training():
    ids = list(range(1, 2001))
    kept = learning.held_out(ids)
    assert 0.2 < kept.mean() < 0.3
    assert (learning.held_out(ids[:1000]) == kept[:1000]).all()  # more outcomes later: the same ones still kept back


def test_the_statistics_refresh_analyses_the_database(settings, engine, people):
    _outcomes(engine, people["department"].department_id, 3)
    run = runner.run_job("refresh_statistics", settings)
    assert run.result == "ok", run.summary
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            assert run.summary.startswith("planner statistics refreshed (VACUUM (ANALYZE))")
            rows = connection.execute(sa.text("SELECT reltuples FROM pg_class WHERE relname = 'care_leavers'")).scalar()
        else:
            assert run.summary.startswith("planner statistics refreshed (ANALYZE)")
            rows = connection.execute(sa.text("SELECT stat FROM sqlite_stat1 WHERE tbl = 'care_leavers' LIMIT 1")
                                      ).scalar()
            rows = int(rows.split()[0])
    assert rows == 3
    assert "dashboard" in run.summary  # it says what it did not refresh too
