"""Vetting expiry warnings: a mentor whose DBS check or safeguarding training stops counting within 30
days is told, and so is every manager, once for each check that is running out.

"Stops counting" is asked of the vetting rules themselves (`mentoring.dbs_current`,
`mentoring.safeguarding_current`, the ones matching and approval apply), day by day, so a change to a rule
(safeguarding training given an expiry, say) changes the warnings with it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from jobs.registry import JobContext, scheduled
from matching import mentoring, notifications
from matching.dates import in_words
from matching.models import Mentor, User

WARN_DAYS = 30
VETTED = ("active", "paused")  # a pending mentor has not been vetted yet; a closed one no longer mentors


@dataclass(frozen=True)
class Check:
    name: str
    words: str
    field: str
    current: Callable[[date | None, date], bool]


CHECKS = (Check("dbs", "DBS check", "dbs_checked_on", mentoring.dbs_current),
          Check("safeguarding", "safeguarding training", "safeguarding_trained_on", mentoring.safeguarding_current))


def lapses_on(check: Check, done_on: date | None, today: date, within: int = WARN_DAYS) -> date | None:
    """The first day in the next `within` days on which a check that counts today stops counting."""
    if not check.current(done_on, today) or check.current(done_on, today + timedelta(days=within)):
        return None
    return next(day for day in (today + timedelta(days=n) for n in range(1, within + 1))
                if not check.current(done_on, day))


def lapsing(session: Session, today: date, within: int = WARN_DAYS) -> list[tuple[Mentor, User, Check, date]]:
    """Vetted mentors with a check that stops counting within `within` days, soonest first."""
    mentors = session.exec(select(Mentor, User).join(User, User.id == Mentor.user_id)
                           .where(Mentor.status.in_(VETTED), Mentor.closed_at.is_(None)).order_by(Mentor.id))
    found = [(mentor, user, check, day) for mentor, user in mentors for check in CHECKS
             if (day := lapses_on(check, getattr(mentor, check.field), today, within))]
    return sorted(found, key=lambda item: item[3])


@scheduled("vetting_warnings", "Tell mentors and managers of DBS checks and training that run out within 30 days",
           hour=6, minute=0)
def vetting_warnings(context: JobContext) -> str:
    session, base = context.session, context.settings.service_url
    managers = notifications.active_managers(session)
    written = 0
    for mentor, user, check, day in lapsing(session, context.today):
        key, when = f"vetting:{check.name}:{mentor.id}:{day}", in_words(day)
        subject = f"Springboard: a {check.words} runs out on {when}"
        if user.active:
            written += notifications.notify(
                session, key=f"{key}:{user.id}", kind="vetting_expiry", user=user, subject=subject,
                lines=[f"Your {check.words} stops counting on {when}. Until it is renewed you will "
                       f"not be matched with a young person. Please speak to your manager about renewing it."],
                url=notifications.link(base, "/profile"))
        for manager in managers:
            written += notifications.notify(
                session, key=f"{key}:{manager.id}", kind="vetting_expiry", user=manager, subject=subject,
                lines=[f"A mentor's {check.words} stops counting on {when}. Record the renewal on "
                       f"their vetting page before then."],
                url=notifications.link(base, f"/mentors/{mentor.id}/vetting"))
    return f"{written} notices written"
