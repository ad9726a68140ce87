"""Daily birthdays: each young person turning 18, 21 or 25 gets the event on their record and the change the
law makes (matching.birthdays), and each adviser with new birthday tasks is told how many (never who).

A day the worker missed is caught up on the next run: the run covers every day since the last run that
finished well (at most CATCH_UP_DAYS back). Running twice on a day writes nothing more: each birthday's
event is written once, and each notice has its key.
"""

from collections import Counter
from datetime import date, timedelta

from sqlmodel import Session, select

from jobs.registry import JobContext, scheduled
from matching import birthdays, notifications
from matching.clock import ZONE
from matching.models import JobRun, User

NAME = "birthdays"
CATCH_UP_DAYS = 31


def first_day(session: Session, today: date) -> date:
    """The day after the last run that finished well (that run covered its own day), or today."""
    last = session.exec(select(JobRun).where(JobRun.job == NAME, JobRun.result == "ok")
                        .order_by(JobRun.started_at.desc(), JobRun.id.desc())).first()
    if last is None:
        return today
    after = last.started_at.astimezone(ZONE).date() + timedelta(days=1)
    return min(today, max(after, today - timedelta(days=CATCH_UP_DAYS)))


@scheduled(NAME, "Write each 18th, 21st and 25th birthday on the record, change the category at 18, and tell "
           "advisers of their new birthday tasks", hour=5, minute=45)
def birthday_events(context: JobContext) -> str:
    session, today = context.session, context.today
    first = first_day(session, today)
    written = birthdays.mark_birthdays(session, first, today)
    told = _tell_advisers(session, context.settings.service_url, first, today)
    return f"{written} birthdays written from {first} to {today}, {told} notices written"


def _tell_advisers(session: Session, base_url: str, first: date, today: date) -> int:
    """One notice per adviser and day with the count of birthdays on their caseload in the days covered."""
    counts: Counter = Counter(adviser_id for person, _, _ in birthdays.turning_between(session, first, today)
                              if (adviser_id := person.personal_adviser_id) is not None)
    if not counts:
        return 0
    advisers = session.exec(select(User).where(User.id.in_(list(counts)), User.role == "adviser", User.active,
                                               User.closed_at.is_(None)).order_by(User.id))
    written = 0
    for adviser in advisers:
        n = counts[adviser.id]
        written += notifications.notify(
            session, key=f"birthdays:{today}:{adviser.id}", kind="birthdays", user=adviser,
            subject="Springboard: birthdays on your caseload",
            lines=[f"{n} young {'person' if n == 1 else 'people'} on your caseload reached 18, 21 or 25. "
                   "Each has a task on your birthdays list."],
            url=notifications.link(base_url, "/caseload"))
    return written
