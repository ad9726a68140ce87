"""Nightly matching: the engine's run, through the same queue as a run asked for from a page
(`matching.match_runs`), then a notice to each adviser who has new proposals waiting for a decision; and
`run_queued_matching`, which carries out the runs the pages and the API queue.

The run keeps its own transaction (one run at a time, all of it or nothing), so the notices are written
in a second one after it commits. "New" means proposed since the adviser was last told of proposals (by
this run or any other: one started from a page in the day is told of that night), so a rerun after the
notices failed still tells the advisers, and the notice key (adviser and day) tells each once a day.
Running the job twice on a day does no harm: the engine tops each young person up to the number of
proposals they may have waiting, which the first run already did.
"""

import logging
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session, select

from jobs import worker
from jobs.registry import JobContext, scheduled
from matching import db, match_runs, notifications
from matching.models import CareLeaver, Match, Notification, User

log = logging.getLogger("springboard.jobs")
KIND = "proposals"


@dataclass(frozen=True)
class Waiting:
    total: int  # every proposal waiting for the adviser's decision (what /proposals shows them)
    new: int  # of which made since the adviser was last told of proposals (or ever, if never told)


def waiting_by_adviser(session: Session) -> dict[int, Waiting]:
    """Proposals waiting for a decision, by the young person's adviser, with how many are new to them."""
    told = (sa.select(Notification.user_id, sa.func.max(Notification.created_at).label("at"))
            .where(Notification.kind == KIND).group_by(Notification.user_id).subquery())
    new = sa.case((told.c.at.is_(None) | (Match.created_at > told.c.at), 1), else_=0)
    rows = session.execute(sa.select(CareLeaver.personal_adviser_id, sa.func.count(Match.id), sa.func.sum(new))
                           .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
                           .outerjoin(told, told.c.user_id == CareLeaver.personal_adviser_id)
                           .where(Match.state == "proposed", CareLeaver.personal_adviser_id.is_not(None))
                           .group_by(CareLeaver.personal_adviser_id))
    return {adviser_id: Waiting(total, int(fresh or 0)) for adviser_id, total, fresh in rows}


def tell_advisers(session: Session, today: date, base_url: str) -> int:
    """One notice per active adviser with proposals made since they were last told waiting for them; how
    many notices were written."""
    waiting = {i: w for i, w in waiting_by_adviser(session).items() if w.new}
    advisers = session.exec(select(User).where(User.id.in_(waiting), User.role == "adviser", User.active,
                                               User.closed_at.is_(None)).order_by(User.id))
    written = 0
    for adviser in advisers:
        total = waiting[adviser.id].total
        written += notifications.notify(
            session, key=f"proposals:{today}:{adviser.id}", kind=KIND, user=adviser,
            subject="Springboard: new proposals are waiting for you",
            lines=[f"{total} {'proposal is' if total == 1 else 'proposals are'} waiting for you to approve or "
                   "turn down."],
            url=notifications.link(base_url, "/proposals"))
    return written


@scheduled("nightly_matching", "Run the matching engine, then tell each adviser of new proposals waiting for them",
           own_transactions=True, hour=2, minute=30)
def nightly_matching(context: JobContext) -> str:
    """Through the same queue as a run asked for from a page, so the night's run shows on the runs' pages the
    same way. A run a manager queued and the worker has not started yet is the night's run; one already
    under way is left to finish (running the engine twice in a night does no harm, and nothing more)."""
    with db.session_scope(context.engine) as session:  # a read: a run under way holds SQLite's only writer
        waiting = match_runs.pending(session)
        if waiting is not None and waiting.status == "running" and match_runs.refusal(session):
            return f"run {waiting.id} was already under way; no second run started"
    with db.session_scope(db.writer(context.engine)) as session:
        waiting = match_runs.pending(session)
        run_id = waiting.id if waiting is not None and waiting.status == "queued" else \
            match_runs.queue(session, actor_id=None, source="job").id
    run = match_runs.carry_out(context.engine, run_id, context.today)
    if run is None:
        return f"run {run_id} was started by another worker; no second run started"
    with db.session_scope(db.writer(context.engine)) as session:
        written = tell_advisers(session, context.today, context.settings.service_url)
    proposed = sum(run.counts[kind]["proposals"] for kind in ("mentoring", "opportunity"))
    return f"run {run.id}: {proposed} proposals; {written} notices written"


QUEUED_JOB = "run_queued_matching"


@scheduled(QUEUED_JOB, "Carry out the matching runs asked for from the pages or the API; mark as failed any run "
           "whose worker stopped", own_transactions=True, minute=40)
def run_queued_matching(context: JobContext) -> str:
    """Asked for at once by `ask_worker` when a run is queued; the hourly schedule is the safety net for a
    request the worker never heard of. Each queued run in turn, oldest first."""
    with db.session_scope(db.writer(context.engine)) as session:
        recovered = match_runs.recover_stale(session)
    carried = []
    while (run_id := match_runs.next_queued(context.engine)) is not None:
        run = match_runs.carry_out(context.engine, run_id, context.today)
        if run is not None:
            carried.append(f"run {run.id}: {sum(run.counts[k]['proposals'] for k in match_runs.KINDS)} proposals")
    said = "; ".join(carried) or "no run was waiting"
    return said + (f"; {len(recovered)} run(s) whose worker stopped marked failed" if recovered else "")


def ask_worker(db_url: str, run_id: int) -> bool:
    """Ask the leading worker to carry out the queued runs now (within its retry interval). False if it could
    not be asked: the run still waits in the queue, for the worker's hourly look (or the nightly run)."""
    try:
        worker.queue_now(db_url, QUEUED_JOB)
    except Exception:  # the queued run is kept; the caller says it starts later
        log.exception("could not ask the worker to start matching run %s", run_id)
        return False
    return True
