"""The scheduled jobs: the one wrapper (a recorded run, rollback on failure, no personal data in logs, the
managers told), each job at its boundary days with the service's clock, each safe to run twice, and the
`springboard worker` / `springboard jobs` commands."""

import logging
from datetime import date, datetime, timedelta

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from sqlmodel import select

from api.cli import main
from jobs import registry, runner, vetting, worker
from matching import db, mentoring
from matching.clock import CLOCK, ZONE, utcnow
from matching.models import CareLeaver, CareLeaverCreate, Department, JobRun, Mentor, Notification, StoredValue, User
from matching.settings import get_settings
from tests import factories
from tests.conftest import TEST_TODAY
from tests.test_platform import _loaded_after

SECRET = "Jayden Okonkwo-Smith"


def _notices(engine, kind: str | None = None) -> list[Notification]:
    with db.session_scope(engine) as session:
        query = select(Notification).order_by(Notification.id)
        return list(session.exec(query.where(Notification.kind == kind) if kind else query))


def _user(session, name: str, role: str, **fields) -> User:
    user = User(email=f"{name.split()[0].lower()}.{role}@example.gov.uk", full_name=name, role=role, **fields)
    session.add(user)
    session.flush()
    return user


def test_every_job_is_declared_with_a_schedule_and_a_description():
    jobs = registry.all_jobs()
    assert set(jobs) == {"purge_expired", "vetting_warnings", "overdue_reminders", "send_notifications", "birthdays",
                         "nightly_matching", "run_queued_matching", "close_opportunities", "weekly_digest", "retrain",
                         "refresh_statistics"}
    assert all(job.cron and job.description for job in jobs.values())
    with pytest.raises(LookupError, match="no job called 'nope'"):
        registry.get("nope")


# --- The wrapper ----------------------------------------------------------------------------------------

@pytest.fixture
def failing_job():
    @registry.scheduled("explodes", "A job that writes, then fails", hour=1)
    def explodes(context):
        context.session.add(Department(name="Half written", code="HALF"))
        context.session.flush()
        raise ValueError(f"could not reach {SECRET}")  # an error's text can carry personal data
    yield "explodes"
    registry.JOBS.pop("explodes")


def test_a_run_is_recorded_with_its_result(settings):
    run = runner.run_job("purge_expired", settings)
    assert run.result == "ok" and run.finished_at >= run.started_at
    assert run.summary == "0 expired sessions and counters deleted, 0 old job runs deleted"


def test_a_failing_job_is_rolled_back_recorded_without_its_words_and_the_managers_told_once(
        settings, engine, people, failing_job, caplog):
    with caplog.at_level(logging.INFO, logger="springboard"):
        first, second = runner.run_job(failing_job, settings), runner.run_job(failing_job, settings)
    assert (first.result, first.summary) == ("failed", "builtins.ValueError") and second.result == "failed"
    assert SECRET not in caplog.text and "job explodes failed" in caplog.text
    with db.session_scope(engine) as session:
        assert session.exec(select(Department).where(Department.code == "HALF")).first() is None
        assert [r.result for r in session.exec(select(JobRun).order_by(JobRun.id))] == ["failed", "failed"]
    told = _notices(engine, "job_failed")
    assert [n.user_id for n in told] == [people["manager"].id]  # one per manager and day, however many failures
    assert SECRET not in told[0].body and "explodes" in told[0].subject


# --- Purging what has expired ------------------------------------------------------------------------

def test_purge_deletes_expired_sessions_and_old_job_runs_and_is_safe_twice(settings, engine):
    moment = datetime(2026, 11, 23, 3, 10, tzinfo=ZONE)
    with CLOCK.fixed(moment), db.session_scope(db.writer(engine)) as session:
        for key, expires_at in {"session:gone": moment - timedelta(seconds=1), "session:now": moment,
                                "session:later": moment + timedelta(hours=1), "sign-in:forever": None}.items():
            session.add(StoredValue(key=key, value=b"x", expires_at=expires_at))
        for days in (91, 89):
            started = moment - timedelta(days=days)
            session.add(JobRun(job="old", started_at=started, finished_at=started, result="ok"))
    with CLOCK.fixed(moment):
        first, second = runner.run_job("purge_expired", settings), runner.run_job("purge_expired", settings)
    assert first.summary == "2 expired sessions and counters deleted, 1 old job runs deleted"
    assert second.summary == "0 expired sessions and counters deleted, 0 old job runs deleted"
    with db.session_scope(engine) as session:
        assert sorted(session.exec(select(StoredValue.key))) == ["session:later", "sign-in:forever"]
        assert len(session.exec(select(JobRun).where(JobRun.job == "old")).all()) == 1


# --- Vetting expiry warnings ------------------------------------------------------------------------

def _dbs_lapse_day(checked_on: date) -> date:
    """The first day the engine's DBS rule stops counting a check (found from the rule itself)."""
    day = checked_on
    while mentoring.dbs_current(checked_on, day):
        day += timedelta(days=1)
    return day


def _checked_on_lapsing(lapse: date) -> date:
    checked_on = mentoring.dbs_valid_from(lapse - timedelta(days=1))  # the oldest check counting the day before
    assert _dbs_lapse_day(checked_on) == lapse
    return checked_on


def _mentor(session, department_id: int, name: str, *, lapses_on: date, status: str = "active") -> Mentor:
    user = _user(session, name, "mentor", department_id=department_id)
    mentor = Mentor(user_id=user.id, department_id=department_id, job_title="Gardener", status=status,
                    dbs_checked_on=_checked_on_lapsing(lapses_on), safeguarding_trained_on=date(2015, 1, 5))
    session.add(mentor)
    session.flush()
    return mentor


def test_vetting_warnings_go_thirty_days_ahead_to_the_mentor_and_the_managers_once(settings, engine, people):
    today = TEST_TODAY
    with db.session_scope(db.writer(engine)) as session:
        parks = people["mentor"].department_id
        in_30 = _mentor(session, parks, "Sam Thirty", lapses_on=today + timedelta(days=30))
        in_31 = _mentor(session, parks, "Kim Later", lapses_on=today + timedelta(days=31))
        _mentor(session, parks, "Lapsed Already", lapses_on=today)  # no longer counts: not a warning
        _mentor(session, parks, "Pending Person", lapses_on=today + timedelta(days=10), status="pending")
        mentor_users = {m.id: m.user_id for m in (in_30, in_31)}
    run = runner.run_job("vetting_warnings", settings)
    assert run.summary == "2 notices written"
    sam, manager = _notices(engine, "vetting_expiry")
    assert (sam.user_id, manager.user_id) == (mentor_users[in_30.id], people["manager"].id)
    assert "23 December 2026" in sam.subject and sam.body.startswith("Hello Sam,")
    assert sam.body.rstrip().splitlines()[-3] == "http://127.0.0.1:8000/profile"
    assert f"/mentors/{in_30.id}/vetting" in manager.body and "Sam" not in manager.body
    assert runner.run_job("vetting_warnings", settings).summary == "0 notices written"  # twice in a day
    with CLOCK.fixed(today + timedelta(days=1)):
        assert runner.run_job("vetting_warnings", settings).summary == "2 notices written"  # Kim's, not Sam's again
    assert [n.user_id for n in _notices(engine, "vetting_expiry")][2:] == [mentor_users[in_31.id],
                                                                          people["manager"].id]


def test_a_check_with_an_expiry_is_warned_from_its_rule():
    """Safeguarding training has no expiry today; a rule with one would be warned about the same way."""
    yearly = vetting.Check("training", "training", "x", lambda on, day: on is not None and day < on.replace(
        year=on.year + 1))
    assert vetting.lapses_on(yearly, date(2025, 12, 23), TEST_TODAY) == date(2026, 12, 23)
    assert vetting.lapses_on(yearly, date(2025, 12, 24), TEST_TODAY) is None  # 31 days away
    safeguarding = vetting.CHECKS[1]
    assert vetting.lapses_on(safeguarding, date(2010, 1, 1), TEST_TODAY) is None


# --- Overdue reminders ------------------------------------------------------------------------------

def _young_person(session, adviser_id: int | None, *, last_contact_on: date) -> CareLeaver:
    data = CareLeaverCreate.model_validate(factories.care_leaver(
        first_name="Jayden", family_name="Okonkwo-Smith", personal_adviser_id=adviser_id,
        last_contact_on=last_contact_on.isoformat(), pathway_plan_reviewed_on=TEST_TODAY.isoformat()))
    person = CareLeaver(**data.model_dump())
    session.add(person)
    session.flush()
    return person


def test_overdue_reminders_tell_each_adviser_their_counts_and_the_managers_nobodys(settings, engine, people):
    eight_weeks_ago = TEST_TODAY - timedelta(weeks=8)
    with db.session_scope(db.writer(engine)) as session:
        ann = people["adviser"].id
        _young_person(session, ann, last_contact_on=eight_weeks_ago - timedelta(days=1))  # overdue by a day
        _young_person(session, ann, last_contact_on=eight_weeks_ago - timedelta(days=30))
        _young_person(session, ann, last_contact_on=eight_weeks_ago)  # exactly 8 weeks: not yet overdue
        _young_person(session, people["other_adviser"].id, last_contact_on=eight_weeks_ago)  # nothing overdue
        _young_person(session, None, last_contact_on=eight_weeks_ago - timedelta(days=1))  # nobody's
        gone = _user(session, "Left Adviser", "adviser", active=False)
        _young_person(session, gone.id, last_contact_on=eight_weeks_ago - timedelta(days=2))
    run = runner.run_job("overdue_reminders", settings)
    assert run.summary == "2 notices written for 1 advisers"
    adviser, manager = _notices(engine, "overdue")
    assert adviser.user_id == ann and "- 2 not contacted for over 8 weeks\n" in adviser.body
    assert adviser.body.startswith("Hello Test,") and "http://127.0.0.1:8000/caseload" in adviser.body
    assert manager.user_id == people["manager"].id and "- 2 not contacted for over 8 weeks\n" in manager.body
    assert all("Jayden" not in n.body and "Okonkwo" not in n.body and "T0" not in n.body for n in (adviser, manager))
    assert runner.run_job("overdue_reminders", settings).summary == "0 notices written for 1 advisers"
    with CLOCK.fixed(TEST_TODAY + timedelta(days=1)):  # the next day: those at exactly 8 weeks are overdue too
        assert runner.run_job("overdue_reminders", settings).summary == "3 notices written for 2 advisers"
    tomorrow = {n.user_id: n.body for n in _notices(engine, "overdue")[2:]}
    assert "- 3 not contacted for over 8 weeks\n" in tomorrow[ann]
    assert "- 1 not contacted for over 8 weeks\n" in tomorrow[people["other_adviser"].id]


# --- The commands -----------------------------------------------------------------------------------

@pytest.fixture
def configured(database_url, tmp_path, monkeypatch):
    """The commands' settings (read from the environment) point at the test's database."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def _clear_job_store(engine) -> None:
    """The suite empties the models' tables between tests; APScheduler's is not one of them."""
    with db.session_scope(db.writer(engine)) as session:
        session.execute(sa.text(f"DELETE FROM {worker.SCHEDULER_TABLE}"))


def test_jobs_run_and_jobs_list_show_each_job_its_next_and_last_run(configured, engine):
    _clear_job_store(engine)
    cli = CliRunner()
    ran = cli.invoke(main, ["jobs", "run", "purge_expired"])
    assert ran.exit_code == 0 and "purge_expired (run 1) ok: 0 expired" in ran.output
    unknown = cli.invoke(main, ["jobs", "run", "nope"])
    assert unknown.exit_code == 2 and "there is no job called 'nope'" in unknown.output
    listed = cli.invoke(main, ["jobs", "list"]).output
    assert "purge_expired\n" in listed and "next: not scheduled (no worker has led yet)" in listed
    assert "last: 2026-11-23 12:00 ok: 0 expired sessions" in listed and "vetting_warnings\n  " in listed
    _schedule_all(configured.db_url)
    listed = cli.invoke(main, ["jobs", "list"]).output
    assert "not scheduled" not in listed and "last: never run" in listed
    nightly = listed.split("purge_expired\n")[1].splitlines()[1].strip()
    assert nightly.startswith("next: ") and nightly.endswith(" 03:10")


def _schedule_all(url: str) -> None:
    scheduler = worker.make_scheduler(url)
    scheduler.start(paused=True)
    worker.schedule_all(scheduler)
    scheduler.remove_jobstore("default")  # so the scheduler's thread cannot run a due job as it shuts down
    scheduler.shutdown(wait=False)


def test_a_new_leader_keeps_a_missed_run_due_rather_than_moving_it_to_tomorrow(configured, engine):
    _clear_job_store(engine)
    _schedule_all(configured.db_url)
    tomorrow = worker.next_runs(engine)["purge_expired"]
    missed = tomorrow - 24 * 3600 - 120  # today's 03:10, while no worker led
    with db.session_scope(db.writer(engine)) as session:
        session.execute(sa.text(f"UPDATE {worker.SCHEDULER_TABLE} SET next_run_time = :t WHERE id = 'purge_expired'"),
                        {"t": missed})
    _schedule_all(configured.db_url)  # what a worker taking over does before it resumes
    assert worker.next_runs(engine)["purge_expired"] == missed


def test_a_failed_run_from_the_command_line_exits_non_zero(configured, failing_job):
    failed = CliRunner().invoke(main, ["jobs", "run", failing_job])
    assert failed.exit_code == 1 and "failed: builtins.ValueError" in failed.output


@pytest.mark.parametrize("args", [["worker", "--help"], ["jobs", "--help"], ["jobs", "list", "--help"]])
def test_the_job_commands_help_imports_nothing_heavy(args):
    _, loaded = _loaded_after(*args)
    assert loaded == []


def test_serve_runs_the_scheduler_when_asked(configured, engine, monkeypatch):
    import uvicorn

    _clear_job_store(engine)
    started = []
    real_start = worker.start_in_background
    monkeypatch.setattr(worker, "start_in_background", lambda settings: started.append(real_start(settings)))
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    assert CliRunner().invoke(main, ["serve"]).exit_code == 0 and started == []
    monkeypatch.setenv("SCHEDULER_IN_SERVE", "true")
    get_settings.cache_clear()
    assert CliRunner().invoke(main, ["serve"]).exit_code == 0
    (thread, stop), = started
    try:
        _until(lambda: set(worker.next_runs(engine)) == set(registry.all_jobs()))
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def _until(condition, seconds: float = 30) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.05)


def test_the_clock_of_a_run_is_the_services(settings):
    with CLOCK.fixed(date(2027, 2, 1)):
        run = runner.run_job("purge_expired", settings)
    assert run.started_at.astimezone(ZONE).date() == date(2027, 2, 1) and utcnow().date() == TEST_TODAY
