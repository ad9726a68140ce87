"""Who may see which rows: one place, used by the JSON API, the pages and the reports alike.

Each function returns SQL conditions for a viewer (anything with `role`, `id` and `department_id`, such
as the API's Principal or a signed-in page user). Outside their scope a record is "not found".
"""

from typing import Any, Protocol

import sqlalchemy as sa
import sqlalchemy.orm
from sqlmodel import select

from matching.lifecycle import REFERRED
from matching.models import CareLeaver, Match, MatchEvent, Mentor, Opportunity


class Viewer(Protocol):
    id: int
    role: str
    department_id: int | None


def caseload(viewer: Viewer) -> list[Any]:
    """Care leavers: an adviser's own caseload; a manager sees every case; nobody else any."""
    if viewer.role == "manager":
        return []
    if viewer.role == "adviser":
        return [CareLeaver.personal_adviser_id == viewer.id]
    return [sa.false()]


def matches(viewer: Viewer) -> list[Any]:
    """Matches: a manager all, an adviser their caseload's, a department only what was referred to its own
    opportunities, a mentor their own mentoring matches once approved."""
    if viewer.role == "manager":
        return []
    if viewer.role == "adviser":
        return [Match.care_leaver_id.in_(select(CareLeaver.id).where(CareLeaver.personal_adviser_id == viewer.id))]
    if viewer.role == "department":
        return referred_to(viewer.department_id)
    if viewer.role == "mentor":
        return [Match.mentor_id.in_(select(Mentor.id).where(Mentor.user_id == viewer.id)),
                Match.state.notin_(["proposed", "rejected"])]
    return [sa.false()]


_PERSON = sa.orm.aliased(CareLeaver)  # for a condition inside a query that may join CareLeaver itself


def referred_to(department_id: int | None) -> list[Any]:
    """What a department sees: matches referred to its own opportunities, of young people who agreed to share
    their profile with employers, and a withdrawn match only if it had been referred before it was
    withdrawn (never one withdrawn while still a proposal or an approval)."""
    theirs = select(Opportunity.id).where(Opportunity.department_id == department_id)
    # Consent as a correlated EXISTS, not `IN (every consenting care leaver)`: with the IN list SQLite drove the
    # query from all 10,000 care leavers instead of the department's few opportunities (34 ms against 1 ms).
    sharing = (sa.exists().where(_PERSON.id == Match.care_leaver_id, _PERSON.consent_share_employers.is_(True))
               .correlate(Match))
    was_referred = sa.exists().where(MatchEvent.match_id == Match.id,
                                     MatchEvent.to_state.in_(sorted(REFERRED - {"withdrawn"})))
    return [Match.opportunity_id.in_(theirs), sharing, Match.state.in_(sorted(REFERRED)),
            sa.or_(Match.state != "withdrawn", was_referred)]


def own_opportunities(viewer: Viewer) -> list[Any]:
    """Opportunities a person may change: a department its own, a manager all."""
    if viewer.role == "manager":
        return []
    if viewer.role == "department":
        return [Opportunity.department_id == viewer.department_id]
    return [sa.false()]


def own_mentor_profile(viewer: Viewer) -> list[Any]:
    return [Mentor.user_id == viewer.id]
