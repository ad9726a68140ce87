"""The narrow views of a care leaver that mentors and departments get: only what their role needs."""

from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from matching import lifecycle, scopes
from matching.models import CareLeaver, Match, MatchEvent, Mentor, Opportunity

MENTEE_STATES = ("approved", "introduced", "active")


def mentees(session: Session, mentor_user_id: int) -> list[dict[str, Any]]:
    """A mentor sees a first name, interests, goals and agreed contact arrangements. No date of birth,
    support needs, case notes or anything else."""
    rows = session.exec(
        select(Match, CareLeaver)
        .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
        .join(Mentor, Mentor.id == Match.mentor_id)
        .where(Mentor.user_id == mentor_user_id, Match.state.in_(MENTEE_STATES),
               CareLeaver.consent_share_mentors.is_(True))
        .order_by(Match.id)
    ).all()
    return [{"match_id": match.id, "care_leaver_id": person.id, "state": match.state,
             "first_name": person.preferred_name or person.first_name, "interests": person.interests,
             "goals": person.aspirations, "contact_arrangements": match.contact_arrangements}
            for match, person in rows]


def _as_viewer(viewer: Any) -> Any:
    """A department's id stands for a department viewer (the JSON API's /me/referrals passes one)."""
    return SimpleNamespace(role="department", id=None, department_id=viewer) if isinstance(viewer, int) else viewer


def _referral_conditions(viewer: Any) -> list[Any]:
    """What a department may see (scopes.referred_to, the same rule as the JSON API)."""
    return scopes.matches(viewer)


def _since() -> Any:
    """When the match reached its present stage (its last history row into that state)."""
    return sa.func.coalesce(
        sa.select(sa.func.max(MatchEvent.at)).where(MatchEvent.match_id == Match.id,
                                                    MatchEvent.to_state == Match.state)
        .correlate(Match).scalar_subquery(), Match.updated_at).label("since")


def referrals(session: Session, viewer: Any, *, stage: str | None = None, opportunity_id: int | None = None,
              limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """A department sees who was referred to its opportunities, at every stage from referral to the outcome,
    with what an employer needs to consider and adjust for, and nothing of the rest of the record."""
    viewer = _as_viewer(viewer)
    since = _since()
    query = (select(Match, CareLeaver, Opportunity, since)
             .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
             .join(Opportunity, Opportunity.id == Match.opportunity_id)
             .where(*_referral_conditions(viewer)))
    if stage:
        query = query.where(Match.state == stage)
    if opportunity_id:
        query = query.where(Match.opportunity_id == opportunity_id)
    query = query.order_by(sa.desc(since), Match.id).offset(offset)
    rows = session.exec(query.limit(limit) if limit else query).all()
    return [_referral(match, person, job, when) for match, person, job, when in rows]


def _referral(match: Match, person: CareLeaver, job: Opportunity, since: Any) -> dict[str, Any]:
    return {"match_id": match.id, "care_leaver_id": person.id, "state": match.state, "version": match.version,
            "since": since, "opportunity_id": job.id, "opportunity_reference": job.reference,
            "opportunity_title": job.title, "opportunity_kind": job.kind,
            "first_name": person.preferred_name or person.first_name, "family_name": person.family_name,
            "skills": person.skills, "qualification_level": person.qualification_level,
            "days_available": person.days_available, "accessibility_needs": person.accessibility_needs}


def referral_counts(session: Session, viewer: Any, *, opportunity_id: int | None = None) -> dict[str, int]:
    """How many of the department's referrals are at each stage (only the stages that have any)."""
    query = (sa.select(Match.state, sa.func.count()).select_from(Match)
             .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
             .where(*_referral_conditions(_as_viewer(viewer))).group_by(Match.state))
    if opportunity_id:
        query = query.where(Match.opportunity_id == opportunity_id)
    return dict(session.execute(query).all())


def referral(session: Session, viewer: Any, match_id: int) -> tuple[Match, dict[str, Any]] | None:
    """One referral the department may see, with the match itself; None outside its scope."""
    row = session.exec(select(Match, CareLeaver, Opportunity, _since())
                       .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
                       .join(Opportunity, Opportunity.id == Match.opportunity_id)
                       .where(Match.id == match_id, *_referral_conditions(_as_viewer(viewer)))).first()
    return (row[0], _referral(*row)) if row else None


def referral_history(session: Session, match_id: int) -> list[MatchEvent]:
    """The stages a referral has been through since it reached the department (no earlier decisions)."""
    events = list(session.exec(select(MatchEvent).where(MatchEvent.match_id == match_id)
                               .order_by(MatchEvent.at, MatchEvent.id)))
    first = next((i for i, event in enumerate(events) if event.to_state == "referred"), None)
    return events[first:] if first is not None else [e for e in events if e.to_state in lifecycle.REFERRED]
