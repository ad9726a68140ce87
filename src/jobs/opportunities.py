"""Opportunity closing dates: an open or paused opportunity whose closing date (the last day to be referred)
has passed is closed, through the department's own close (`matching.opportunities.close`: its waiting
proposals are withdrawn, people already referred keep their referral), and the department's contacts
are told how many places went unfilled.

Closing and its notice share the job's one unit of work. A closed opportunity is not picked again, and
the notice key names the opportunity and its closing date, so running the job twice on a day does no harm.
"""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from jobs.registry import JobContext, scheduled
from matching import notifications, opportunities
from matching.dates import in_words
from matching.models import Opportunity


@dataclass(frozen=True)
class ServiceViewer:
    """The service acting on its own: it may close any opportunity, as a manager may (scopes.own_opportunities)."""

    id: int | None = None
    role: str = "manager"
    department_id: int | None = None


SERVICE = ServiceViewer()


def past_closing(session: Session, today: date) -> list[Opportunity]:
    return list(session.exec(select(Opportunity).where(Opportunity.status.in_(opportunities.CLOSABLE),
                                                       Opportunity.closes_on < today).order_by(Opportunity.id)))


def unfilled_words(job: Opportunity) -> str:
    unfilled = max(job.places - job.places_taken, 0)
    if unfilled == 0:
        return f"All {job.places} of its places were filled."
    return f"{unfilled} of its {job.places} places went unfilled."


def tell_department(session: Session, job: Opportunity, base_url: str) -> int:
    when = in_words(job.closes_on)
    written = 0
    for user in notifications.department_contacts(session, job.department_id):
        written += notifications.notify(
            session, key=f"opportunity-closed:{job.id}:{job.closes_on}:{user.id}", kind="opportunity_closed",
            user=user, subject=f"Springboard: {job.title} has closed",
            lines=[f"Your opportunity {job.title} closed after its closing date, {when}. {unfilled_words(job)}",
                   "People already referred keep their referral. You can re-open it with a new closing date."],
            url=notifications.link(base_url, f"/opportunities/{job.id}"))
    return written


@scheduled("close_opportunities", "Close opportunities past their closing date; tell departments of unfilled places",
           hour=0, minute=20)
def close_opportunities(context: JobContext) -> str:
    session, written = context.session, 0
    closing = past_closing(session, context.today)
    for job in closing:
        reason = f"its closing date, {in_words(job.closes_on)}, passed"
        closed = opportunities.close(session, SERVICE, job.id, version=job.version, reason=reason, actor_id=None)
        written += tell_department(session, closed, context.settings.service_url)
    return f"{len(closing)} opportunities closed, {written} notices written"
