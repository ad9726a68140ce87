"""A department's own opportunities and the young people referred to them: posting, changing, pausing,
closing and re-opening an opportunity, and recording what happened after a referral.

Each rule is a named function, checked wherever the step can happen (the pages, and anything else that
calls these). A viewer (a signed-in person: `role`, `id`, `department_id`) sees only its own
opportunities (scopes.own_opportunities); anything else is "not found".
"""

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from matching import clock, lifecycle, scopes
from matching.errors import Conflict, InvalidInput, NotFound, StaleVersion
from matching.models import Department, Match, Opportunity, OpportunityCreate, OpportunityUpdate
from matching.services import records

# What a department may change on the form; the department, reference and status are the service's.
EDITABLE = ("kind", "title", "description", "skills", "sector", "area", "hours_per_week", "pay_pence_per_hour",
            "places", "min_age", "max_age", "qualification_required", "starts_on", "closes_on", "ring_fenced",
            "guaranteed_interview")
# The order a department's next steps are offered in: the usual path first, then the endings.
STEP_ORDER = ("interviewed", "offered", "started", "sustained_3m", "sustained_6m", "completed", "not_successful",
              "ended_early")
PAUSABLE = frozenset({"open"})
CLOSABLE = frozenset({"open", "paused"})
REOPENABLE = frozenset({"paused", "closed"})


def own(session: Session, viewer: scopes.Viewer, opportunity_id: int) -> Opportunity:
    """One of the viewer's own opportunities; another department's is not found."""
    found = session.exec(select(Opportunity).where(Opportunity.id == opportunity_id,
                                                   *scopes.own_opportunities(viewer))).first()
    if found is None:
        raise NotFound("opportunity", opportunity_id)
    return found


def next_reference(session: Session) -> str:
    """The next free reference in the demo borough's style (OPP-00042)."""
    number = (session.execute(sa.select(sa.func.max(Opportunity.id))).scalar() or 0) + 1
    while session.execute(sa.select(Opportunity.id).where(
            Opportunity.reference == f"OPP-{number:05d}")).first() is not None:
        number += 1
    return f"OPP-{number:05d}"


def post(session: Session, viewer: scopes.Viewer, values: dict[str, Any]) -> Opportunity:
    """A new open opportunity of the viewer's own department, checked as the API checks one."""
    if viewer.department_id is None or session.get(Department, viewer.department_id) is None:
        raise Conflict("your account belongs to no department, so it cannot post opportunities")
    draft = OpportunityCreate.model_validate({name: values[name] for name in EDITABLE if name in values} | {
        "reference": next_reference(session), "department_id": viewer.department_id, "status": "open"})
    return records.create(session, records.OPPORTUNITIES, draft)


def places_cover_those_taken(job: Opportunity, places: int) -> None:
    """An opportunity cannot have fewer places than the people already holding one."""
    if places < job.places_taken:
        raise InvalidInput("places", f"cannot be fewer than the {job.places_taken} already filled")


def change(session: Session, viewer: scopes.Viewer, opportunity_id: int, values: dict[str, Any],
           version: int) -> Opportunity:
    """The department's changes to its own opportunity (version-checked: a stale edit is refused)."""
    job = own(session, viewer, opportunity_id)
    if version != job.version:
        raise StaleVersion("opportunity", opportunity_id, version, job.version)
    patch = {name: values[name] for name in EDITABLE if name in values}
    if "places" in patch:
        places_cover_those_taken(job, patch["places"])
    return records.update(session, records.OPPORTUNITIES, opportunity_id,
                          OpportunityUpdate.model_validate(patch | {"version": version}))


def pause_refusal(job: Opportunity) -> str | None:
    """Why the opportunity cannot be paused, or None."""
    if job.status not in PAUSABLE:
        return f"it is {job.status}; only an open opportunity can be paused"
    return None


def close_refusal(job: Opportunity) -> str | None:
    if job.status not in CLOSABLE:
        return f"it is {job.status}; only an open or paused opportunity can be closed"
    return None


def reopen_refusal(job: Opportunity, today: date, closes_on: date | None = None) -> str | None:
    """Why the opportunity cannot be re-opened (with the closing date it would have), or None. The closing
    date is the last day to be referred, so re-opening on that day is allowed, and the day after is not."""
    if job.status not in REOPENABLE:
        return f"it is {job.status}; only a paused or closed opportunity can be re-opened"
    closing = closes_on or job.closes_on
    if closes_on is not None and closes_on < today:
        return "the new closing date must be today or in the future"
    if closing is not None and closing < today:
        return (f"its closing date, {closing.day} {closing:%B %Y}, has passed; give a new closing date "
                "to re-open it")
    if closes_on is not None and job.starts_on is not None and closes_on > job.starts_on:
        return (f"the new closing date must not be after the start date, "
                f"{job.starts_on.day} {job.starts_on:%B %Y}")
    return None


def _set_status(session: Session, job: Opportunity, version: int, status: str, **more: Any) -> Opportunity:
    return records.update(session, records.OPPORTUNITIES, job.id,
                          OpportunityUpdate.model_validate({"status": status, "version": version, **more}))


def _check_version(job: Opportunity, version: int) -> None:
    if version != job.version:
        raise StaleVersion("opportunity", job.id, version, job.version)


def pause(session: Session, viewer: scopes.Viewer, opportunity_id: int, *, version: int) -> Opportunity:
    """Paused: no new proposals (the engine proposes only open opportunities); referrals carry on."""
    job = own(session, viewer, opportunity_id)
    _check_version(job, version)
    if refusal := pause_refusal(job):
        raise Conflict(f"The opportunity was not paused: {refusal}")
    return _set_status(session, job, version, "paused")


def close(session: Session, viewer: scopes.Viewer, opportunity_id: int, *, version: int, reason: str,
          actor_id: int | None) -> Opportunity:
    """Closed, with who, when and why; people already referred keep their referral. Proposals still waiting
    for a decision are withdrawn (each with its history), so they no longer hold its referrals."""
    job = own(session, viewer, opportunity_id)
    _check_version(job, version)
    if refusal := close_refusal(job):
        raise Conflict(f"The opportunity was not closed: {refusal}")
    if len(reason.strip()) < 3:
        raise InvalidInput("reason", "say why you are closing it")
    lifecycle.withdraw_pending(session, opportunity_id=job.id, actor_id=actor_id,
                               reason=f"the opportunity was closed: {reason.strip()}")  # before the status says why
    job.closed_at, job.closed_by_id, job.closed_reason = clock.utcnow(), actor_id, reason.strip()
    return _set_status(session, job, version, "closed")


def reopen(session: Session, viewer: scopes.Viewer, opportunity_id: int, *, version: int, today: date,
           closes_on: date | None = None) -> Opportunity:
    """Open again, if its closing date (or the new one given) is today or later."""
    job = own(session, viewer, opportunity_id)
    _check_version(job, version)
    if job.status not in REOPENABLE:
        raise Conflict(f"The opportunity was not re-opened: {reopen_refusal(job, today, closes_on)}")
    if refusal := reopen_refusal(job, today, closes_on):
        raise InvalidInput("closes_on", refusal)
    job.closed_at, job.closed_by_id, job.closed_reason = None, None, None
    return _set_status(session, job, version, "open", **({"closes_on": closes_on} if closes_on else {}))


# Referrals: what a department records after a young person is referred to one of its opportunities.

def department_steps(match: Match) -> list[str]:
    """The steps a department may record next on this match, in the order they usually happen."""
    allowed = set(lifecycle.allowed_next(match)) & lifecycle.DEPARTMENT_STEPS
    return [step for step in STEP_ORDER if step in allowed]


def ends_the_match(step: str) -> bool:
    return step in lifecycle.ENDING


def needs_a_reason(step: str) -> bool:
    return step in lifecycle.NEEDS_A_REASON


class NotADepartmentStep(Conflict):
    def __init__(self, match: Match, to: str):
        allowed = department_steps(match)
        label = lifecycle.STATE_LABELS.get(to, to).lower()
        now = lifecycle.STATE_LABELS.get(match.state, match.state).lower()
        super().__init__(f"'{label}' cannot be recorded now: the referral is {now}; "
                         + (f"you can record: {', '.join(lifecycle.STATE_LABELS[s].lower() for s in allowed)}"
                            if allowed else "it has ended, so nothing more can be recorded"))


def record_step(session: Session, match: Match, change: lifecycle.Change, *, actor_id: int | None,
                today: date) -> Match:
    """A department records the next step of a referral it can see (found through scopes.matches)."""
    if change.version != match.version:
        raise StaleVersion("referral", match.id, change.version, match.version)
    if change.to not in department_steps(match):
        raise NotADepartmentStep(match, change.to)
    return lifecycle.transition(session, match.id, change, actor_id=actor_id, today=today)
