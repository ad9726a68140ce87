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
    since = _since()
    query = _referrals_of(_as_viewer(viewer), Match.id.label("match_id"), Match.state, Match.version, since)
    if stage:
        query = query.where(Match.state == stage)
    if opportunity_id:
        query = query.where(Match.opportunity_id == opportunity_id)
    query = query.order_by(sa.desc(since), Match.id).offset(offset)
    return [_referral(row) for row in session.execute(query.limit(limit) if limit else query)]


# What a department is shown of a referral: columns, not whole records (a care leaver's has some forty).
_SHOWN = (CareLeaver.id.label("care_leaver_id"), CareLeaver.first_name, CareLeaver.preferred_name,
          CareLeaver.family_name, CareLeaver.skills, CareLeaver.qualification_level, CareLeaver.days_available,
          CareLeaver.accessibility_needs, Opportunity.id.label("opportunity_id"),
          Opportunity.reference.label("opportunity_reference"), Opportunity.title.label("opportunity_title"),
          Opportunity.kind.label("opportunity_kind"))


def _referrals_of(viewer: Any, *columns: Any) -> sa.Select:
    return (sa.select(*columns, *_SHOWN).select_from(Match)
            .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
            .join(Opportunity, Opportunity.id == Match.opportunity_id)
            .where(*_referral_conditions(viewer)))


def _referral(row: Any) -> dict[str, Any]:
    return {"match_id": row.match_id, "care_leaver_id": row.care_leaver_id, "state": row.state,
            "version": row.version, "since": row.since, "opportunity_id": row.opportunity_id,
            "opportunity_reference": row.opportunity_reference, "opportunity_title": row.opportunity_title,
            "opportunity_kind": row.opportunity_kind, "first_name": row.preferred_name or row.first_name,
            "family_name": row.family_name, "skills": row.skills, "qualification_level": row.qualification_level,
            "days_available": row.days_available, "accessibility_needs": row.accessibility_needs}


def referral_counts(session: Session, viewer: Any, *, opportunity_id: int | None = None) -> dict[str, int]:
    """How many of the department's referrals are at each stage (only the stages that have any)."""
    query = (sa.select(Match.state, sa.func.count()).select_from(Match)
             .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
             .where(*_referral_conditions(_as_viewer(viewer))).group_by(Match.state))
    if opportunity_id:
        query = query.where(Match.opportunity_id == opportunity_id)
    return dict(session.execute(query).all())


def referred_opportunities(session: Session, viewer: Any) -> dict[int, str]:
    """The department's opportunities that anyone has been referred to, by title: what its list can be
    filtered by (every opportunity, up to hundreds, made a list nobody could use and a slow page)."""
    query = (sa.select(Opportunity.id, Opportunity.title, Opportunity.reference).distinct()
             .join(Match, Match.opportunity_id == Opportunity.id)
             .where(*_referral_conditions(_as_viewer(viewer))).order_by(Opportunity.title, Opportunity.id))
    return {job_id: f"{title} ({reference})" for job_id, title, reference in session.execute(query)}


def referral(session: Session, viewer: Any, match_id: int) -> tuple[Match, dict[str, Any]] | None:
    """One referral the department may see, with the match itself; None outside its scope."""
    query = _referrals_of(_as_viewer(viewer), Match, Match.id.label("match_id"), Match.state, Match.version, _since())
    row = session.execute(query.where(Match.id == match_id)).first()
    return (row.Match, _referral(row)) if row else None


def referral_history(session: Session, match_id: int) -> list[MatchEvent]:
    """The stages a referral has been through since it reached the department (no earlier decisions)."""
    events = list(session.exec(select(MatchEvent).where(MatchEvent.match_id == match_id)
                               .order_by(MatchEvent.at, MatchEvent.id)))
    first = next((i for i, event in enumerate(events) if event.to_state == "referred"), None)
    return events[first:] if first is not None else [e for e in events if e.to_state in lifecycle.REFERRED]
