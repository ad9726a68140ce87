"""The narrow views of a care leaver that mentors and departments get: only what their role needs."""

from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from matching.models import CareLeaver, Match, Mentor, Opportunity

MENTEE_STATES = ("approved", "introduced", "active")
REFERRAL_STATES = ("referred", "interviewed", "offered", "started")


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


def referrals(session: Session, department_id: int) -> list[dict[str, Any]]:
    """A department sees who was referred to its opportunities, with what an employer needs to consider
    and adjust for, and nothing of the rest of the record."""
    rows = session.exec(
        select(Match, CareLeaver, Opportunity)
        .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
        .join(Opportunity, Opportunity.id == Match.opportunity_id)
        .where(Opportunity.department_id == department_id, Match.state.in_(REFERRAL_STATES),
               CareLeaver.consent_share_employers.is_(True))
        .order_by(sa.desc(Match.updated_at), Match.id)
    ).all()
    return [{"match_id": match.id, "care_leaver_id": person.id, "state": match.state,
             "opportunity_reference": job.reference, "opportunity_title": job.title,
             "first_name": person.preferred_name or person.first_name, "family_name": person.family_name,
             "skills": person.skills, "qualification_level": person.qualification_level,
             "days_available": person.days_available, "accessibility_needs": person.accessibility_needs}
            for match, person, job in rows]
