"""The one wrapper every job runs in, whether the scheduler or `springboard jobs run` starts it.

It records the run in `job_runs` (its own small transactions, so a failed job's record survives the
rollback), gives the job one unit of work that commits when it returns and rolls back everything when it
raises, logs the job's name, run id and outcome only (never the data, nor an error's text, which can quote
the SQL parameters), and tells the managers when a job fails.
"""

import logging

import sqlalchemy as sa
from sqlmodel import Session, select

from jobs import registry
from matching import clock, db, notifications
from matching.models import JobRun
from matching.settings import Settings, get_settings

log = logging.getLogger("springboard.jobs")


def run_job(name: str, settings: Settings | None = None) -> JobRun:
    """Run one job now and return its recorded run (result "ok" or "failed")."""
    job = registry.get(name)
    settings = settings or get_settings()
    engine = db.writer(db.engine_for(settings.db_url))
    run = _start(engine, name)
    log.info("job %s started (run %s)", name, run.id)
    context = dict(engine=engine, settings=settings, today=clock.today(), now=clock.utcnow())
    try:
        if job.own_transactions:
            summary = job.run(registry.JobContext(session=None, **context))
        else:
            with db.session_scope(engine) as session:
                summary = job.run(registry.JobContext(session=session, **context))
    except Exception as error:  # the scheduler's thread must survive any job; the run records what failed
        run = _finish(engine, run.id, "failed", f"{type(error).__module__}.{type(error).__name__}")
        log.error("job %s failed (run %s): %s", name, run.id, run.summary)
        _tell_managers(engine, settings, run)
        return run
    run = _finish(engine, run.id, "ok", summary)
    log.info("job %s done (run %s): %s", name, run.id, run.summary)
    return run


def scheduled_run(name: str) -> None:
    """The scheduler's entry point (referenced by name in the job store, so it survives restarts)."""
    run_job(name)


def _start(engine: sa.Engine, name: str) -> JobRun:
    with db.session_scope(engine) as session:
        run = JobRun(job=name, started_at=clock.utcnow())
        session.add(run)
        session.flush()
        return run


def _finish(engine: sa.Engine, run_id: int, result: str, summary: str) -> JobRun:
    with db.session_scope(engine) as session:
        run = session.get(JobRun, run_id)
        run.finished_at, run.result, run.summary = clock.utcnow(), result, summary[:500]
        return run


def _tell_managers(engine: sa.Engine, settings: Settings, run: JobRun) -> None:
    """One notice per manager, job and day however often it fails that day."""
    try:
        with db.session_scope(engine) as session:
            for manager in notifications.active_managers(session):
                notifications.notify(
                    session, key=f"job-failed:{run.job}:{clock.today()}:{manager.id}", kind="job_failed",
                    user=manager, subject=f"Springboard: the scheduled job {run.job} failed",
                    lines=[f"The scheduled job {run.job} failed today. Your technical team can see why with "
                           f"`springboard jobs list`; nothing it was doing was saved, and it can be run again."],
                    url=notifications.link(settings.service_url, "/overview"))
    except Exception:  # a notice that cannot be written must not hide the failure already recorded
        log.exception("could not write the failure notices for job %s (run %s)", run.job, run.id)


def last_runs(session: Session) -> dict[str, JobRun]:
    """The latest run of each job."""
    latest = (sa.select(JobRun.job, sa.func.max(JobRun.id).label("id")).group_by(JobRun.job).subquery())
    query = select(JobRun).join(latest, latest.c.id == JobRun.id)
    return {run.job: run for run in session.exec(query)}
