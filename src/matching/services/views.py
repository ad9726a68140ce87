"""The narrow views of a care leaver that mentors and departments get: only what their role needs."""

from dataclasses import dataclass
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
              limit: int | None = None, offset: int = 0, profiles: bool = True) -> list[dict[str, Any]]:
    """A department sees who was referred to its opportunities, at every stage from referral to the outcome,
    with what an employer needs to consider and adjust for, and nothing of the rest of the record.
    `profiles=False` leaves out skills, qualification level and days available, which a list page does not show
    (decoding two JSON columns a row was a sixth of the page's query)."""
    since = _since()
    query = _referrals_of(_as_viewer(viewer), Match.id.label("match_id"), Match.state, Match.version, since,
                          profiles=profiles)
    if stage:
        query = query.where(Match.state == stage)
    if opportunity_id:
        query = query.where(Match.opportunity_id == opportunity_id)
    query = query.order_by(sa.desc(since), Match.id).offset(offset)
    return [_referral(row) for row in session.execute(query.limit(limit) if limit else query)]


# What a department is shown of a referral: columns, not whole records (a care leaver's has some forty).
_LISTED = (CareLeaver.id.label("care_leaver_id"), CareLeaver.first_name, CareLeaver.preferred_name,
           CareLeaver.family_name, CareLeaver.accessibility_needs, Opportunity.id.label("opportunity_id"),
           Opportunity.reference.label("opportunity_reference"), Opportunity.title.label("opportunity_title"),
           Opportunity.kind.label("opportunity_kind"))
_PROFILE = (CareLeaver.skills, CareLeaver.qualification_level, CareLeaver.days_available)
_KEYS = ("match_id", "care_leaver_id", "state", "version", "since", "opportunity_id", "opportunity_reference",
         "opportunity_title", "opportunity_kind", "first_name", "family_name", "skills", "qualification_level",
         "days_available", "accessibility_needs")


def _referrals_of(viewer: Any, *columns: Any, profiles: bool = True) -> sa.Select:
    return (sa.select(*columns, *_LISTED, *(_PROFILE if profiles else ())).select_from(Match)
            .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
            .join(Opportunity, Opportunity.id == Match.opportunity_id)
            .where(*_referral_conditions(viewer), *_own_opportunities(viewer)))


def _own_opportunities(viewer: Any) -> list[Any]:
    """The department's own opportunities again, on the joined table: the scope already implies it, but without
    it PostgreSQL read all 5,000 opportunities by primary key to merge-join them (16 ms against 2 ms at London
    scale for the referrals page, 3.3 ms against 1.7 ms for its summary)."""
    return [Opportunity.department_id == viewer.department_id] if viewer.role == "department" else []


def _referral(row: Any) -> dict[str, Any]:
    fields = row._asdict()
    fields["first_name"] = fields["preferred_name"] or fields["first_name"]
    return {key: fields[key] for key in _KEYS if key in fields}


def referral_counts(session: Session, viewer: Any, *, opportunity_id: int | None = None) -> dict[str, int]:
    """How many of the department's referrals are at each stage (only the stages that have any)."""
    query = (sa.select(Match.state, sa.func.count()).select_from(Match)
             .where(*_referral_conditions(_as_viewer(viewer))).group_by(Match.state))
    if opportunity_id:
        query = query.where(Match.opportunity_id == opportunity_id)
    return dict(session.execute(query).all())


@dataclass(frozen=True)
class ReferralSummary:
    """What the referrals page shows around its list: the opportunities it can be filtered by, and how many
    referrals are at each stage, of all of them or of one."""
    opportunities: dict[int, str]
    by_opportunity: dict[int, dict[str, int]]

    def counts(self, opportunity_id: int | None = None) -> dict[str, int]:
        if opportunity_id:
            return dict(self.by_opportunity.get(opportunity_id, {}))
        total: dict[str, int] = {}
        for stages in self.by_opportunity.values():
            for state, number in stages.items():
                total[state] = total.get(state, 0) + number
        return total


def referral_summary(session: Session, viewer: Any) -> ReferralSummary:
    """The department's opportunities that anyone has been referred to, by title (every opportunity, up to
    hundreds, made a filter nobody could use and a slow page), with its referrals counted by stage. One grouped
    query applies the department's scope once, where a list of opportunities and the counts each applied it."""
    viewer = _as_viewer(viewer)
    job = (Opportunity.id, Opportunity.title, Opportunity.reference)
    query = (sa.select(*job, Match.state, sa.func.count()).join(Opportunity, Opportunity.id == Match.opportunity_id)
             .where(*_referral_conditions(viewer), *_own_opportunities(viewer))
             .group_by(*job, Match.state).order_by(Opportunity.title, Opportunity.id))
    opportunities: dict[int, str] = {}
    by_opportunity: dict[int, dict[str, int]] = {}
    for job_id, title, reference, state, number in session.execute(query):
        opportunities[job_id] = f"{title} ({reference})"
        by_opportunity.setdefault(job_id, {})[state] = number
    return ReferralSummary(opportunities, by_opportunity)


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
