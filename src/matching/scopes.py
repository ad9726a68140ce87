"""Who may see which rows: one place, used by the JSON API, the pages and the reports alike.

Each function returns SQL conditions for a viewer (anything with `role`, `id` and `department_id`, such
as the API's Principal or a signed-in page user). Outside their scope a record is "not found".
"""

from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import select

from matching.lifecycle import REFERRED
from matching.models import CareLeaver, Match, Mentor, Opportunity


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
        theirs = select(Opportunity.id).where(Opportunity.department_id == viewer.department_id)
        return [Match.opportunity_id.in_(theirs), Match.state.in_(sorted(REFERRED))]
    if viewer.role == "mentor":
        return [Match.mentor_id.in_(select(Mentor.id).where(Mentor.user_id == viewer.id)),
                Match.state.notin_(["proposed", "rejected"])]
    return [sa.false()]


def own_opportunities(viewer: Viewer) -> list[Any]:
    """Opportunities a person may change: a department its own, a manager all."""
    if viewer.role == "manager":
        return []
    if viewer.role == "department":
        return [Opportunity.department_id == viewer.department_id]
    return [sa.false()]


def own_mentor_profile(viewer: Viewer) -> list[Any]:
    return [Mentor.user_id == viewer.id]
