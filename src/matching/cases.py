"""A care leaver's case: closure and re-opening under the statutory rules, contacts, and who needs attention.

Rules and sources (../shared/domain.md, section 2): Children Act 1989 s.23C (duties to a former relevant
child continue to 21, including keeping in touch and re-establishing contact), s.23CZB (from 21 to 25,
support on request; the case may close if support is offered and declined, and re-opens on request
before 25), s.23A (a relevant child who returns home for 6 months ceases to be relevant). Every function
takes `today`, so the boundaries are tested on exact days and never with sleeps.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from matching import lifecycle, vocab
from matching.clock import utcnow
from matching.dates import add_months, birthday
from matching.errors import Conflict, InvalidInput, NotFound, StaleVersion
from matching.lifecycle import HOLDING
from matching.models import CareLeaver, CaseEvent, CheckIn, Contact, Match, MatchEvent, Meeting

CLOSURE_REASONS = {
    "died": "The young person has died",
    "returned_home": "A relevant child has returned home to live with their parents for 6 months or more",
    "support_declined": "Aged 21 to 25, offered continued support and declined it",
    "aged_25": "Reached 25: the leaving-care duties have ended",
}
RULE_BEFORE_21 = ("Children Act 1989 s.23C: the duties to a former relevant child, including keeping in touch, "
                  "continue until they are 21. Before the 21st birthday a case may close only if the young "
                  "person has died, or a relevant child (under 18) has returned home for 6 months or more.")
RULE_21_TO_25 = ("Children Act 1989 s.23CZB: from 21 to 25 the council must offer continued personal adviser "
                 "support. A case may close only when that support was offered (give the date) and declined.")
RULE_REOPEN = ("Children Act 1989 s.23CZB: a former relevant child may ask for support at any time before "
               "their 25th birthday, even after declining it; the case is then re-opened.")
RULE_FROM_25 = ("Children Act 1989 s.23CZB: the leaving-care duties end at 25. From the 25th birthday the case "
                "may close.")
# What the in-touch status after a contact may be: a death is recorded by closing the case (903 rule 344).
CONTACT_IN_TOUCH = {code: label for code, label in vocab.IN_TOUCH.items() if code != "DIED"}


class ClosureRefused(Conflict):
    def __init__(self, rule: str):
        super().__init__(f"Not allowed: {rule}")
        self.rule = rule


@dataclass(frozen=True)
class Closure:
    reason_code: str
    version: int
    note: str = ""
    support_offered_on: date | None = None


def close_case(session: Session, care_leaver_id: int, closure: Closure, *, today: date,
               actor_id: int | None) -> CareLeaver:
    person = closure_refusal(session, care_leaver_id, closure, today=today)
    person.case_status, person.closed_at, person.closed_by_id = "closed", utcnow(), actor_id
    person.closed_reason = f"{CLOSURE_REASONS[closure.reason_code]}. {closure.note}".strip()
    if closure.reason_code == "died":
        person.in_touch, person.current_activity, person.accommodation = "DIED", "0", "0"  # 903 rule 344
    session.add(CaseEvent(care_leaver_id=person.id, actor_id=actor_id, action="closed",
                          reason_code=closure.reason_code, note=closure.note[:1000]))
    session.flush()
    # Proposals waiting for a decision would hold a mentor's slot or a place for someone no longer supported.
    lifecycle.withdraw_pending(session, care_leaver_id=person.id, actor_id=actor_id, reason="the case was closed")
    return person


@dataclass(frozen=True)
class ClosureRule:
    """The statutory rule that governs closing this young person's case today, in words, and what it asks."""

    stage: str  # "before_21", "21_to_25" or "from_25"
    rule: str
    allowed: tuple[str, ...]  # the closure reasons the rule allows today
    needs_support_offered_on: bool
    turns_21_on: date
    turns_25_on: date


def closure_rule(person: CareLeaver, today: date) -> ClosureRule:
    """Which of the rules around 18, 21 and 25 applies to closing this case today (as `_closure_breaks` checks)."""
    at_21, at_25 = birthday(person.date_of_birth, 21), birthday(person.date_of_birth, 25)
    if today < at_21:
        young_relevant = person.leaving_care_category == "relevant" and today < birthday(person.date_of_birth, 18)
        allowed = ("died", "returned_home") if young_relevant else ("died",)
        return ClosureRule("before_21", RULE_BEFORE_21, allowed, False, at_21, at_25)
    if today < at_25:
        return ClosureRule("21_to_25", RULE_21_TO_25, ("died", "support_declined"), True, at_21, at_25)
    return ClosureRule("from_25", RULE_FROM_25, tuple(CLOSURE_REASONS), False, at_21, at_25)


def closure_refusal(session: Session, care_leaver_id: int, closure: Closure, *, today: date) -> CareLeaver:
    """Raise what `close_case` would raise, changing nothing (a page asks for confirmation first); the case."""
    person = _current(session, care_leaver_id, closure.version)
    if person.case_status == "closed":
        raise Conflict(f"case {care_leaver_id} is already closed")
    if closure.reason_code not in CLOSURE_REASONS:
        raise InvalidInput("reason_code", f"choose one of: {', '.join(CLOSURE_REASONS)}")
    if rule := _closure_breaks(person, closure, today):
        raise ClosureRefused(rule)
    return person


def reopen_refusal(person: CareLeaver, today: date) -> str | None:
    """The rule a re-opening would break today, or None when the case may re-open."""
    if person.in_touch == "DIED" or today >= birthday(person.date_of_birth, 25):
        return RULE_REOPEN
    return None


def _closure_breaks(person: CareLeaver, closure: Closure, today: date) -> str | None:
    """The rule a closure would break, or None when the law allows it."""
    reason = closure.reason_code
    if reason == "died":
        return None
    if today < birthday(person.date_of_birth, 21):
        young_relevant = person.leaving_care_category == "relevant" and today < birthday(person.date_of_birth, 18)
        return None if reason == "returned_home" and young_relevant else RULE_BEFORE_21
    if today < birthday(person.date_of_birth, 25):
        offered = closure.support_offered_on
        return None if reason == "support_declined" and offered and offered <= today else RULE_21_TO_25
    return None


def reopening_refusal(session: Session, care_leaver_id: int, *, version: int, today: date) -> CareLeaver:
    """Raise what `reopen_case` would raise, changing nothing (the twin of `closure_refusal`)."""
    person = _current(session, care_leaver_id, version)
    if person.case_status != "closed":
        raise Conflict(f"case {care_leaver_id} is open")
    if rule := reopen_refusal(person, today):
        raise ClosureRefused(rule)
    return person


def reopen_case(session: Session, care_leaver_id: int, *, version: int, note: str, today: date,
                actor_id: int | None) -> CareLeaver:
    person = reopening_refusal(session, care_leaver_id, version=version, today=today)
    person.case_status, person.closed_at, person.closed_by_id, person.closed_reason = "open", None, None, None
    session.add(CaseEvent(care_leaver_id=person.id, actor_id=actor_id, action="reopened", note=note[:1000]))
    session.flush()
    return person


def record_refusal(session: Session, care_leaver_id: int, *, action: str, rule: str, reason_code: str,
                   actor_id: int | None) -> None:
    """Refused attempts are kept too (in their own unit of work: the refused request itself fails)."""
    session.add(CaseEvent(care_leaver_id=care_leaver_id, actor_id=actor_id, action=f"{action}_refused",
                          reason_code=reason_code, rule=rule[:500]))


def record_contact(session: Session, care_leaver_id: int, *, contact_on: date, kind: str, note: str,
                   today: date, actor_id: int | None, in_touch: str | None = None) -> Contact:
    """A contact is proof of being in touch: it moves the last-contact date and the 903 in-touch status.

    `in_touch`, when given, is the 903 status the adviser records after this contact; it applies when this
    is the newest contact (an older one, entered late, does not overrule what a later contact found)."""
    person = session.get(CareLeaver, care_leaver_id)
    if person is None:
        raise NotFound("care leaver", care_leaver_id)
    if contact_on > today:
        raise InvalidInput("contact_on", "cannot be in the future")
    if in_touch is not None and in_touch not in CONTACT_IN_TOUCH:
        raise InvalidInput("in_touch", "choose one of: " + ", ".join(CONTACT_IN_TOUCH)
                           + " (a death is recorded by closing the case)")
    contact = Contact(care_leaver_id=care_leaver_id, contact_on=contact_on, kind=kind, note=note, by_id=actor_id)
    session.add(contact)
    newest = person.last_contact_on is None or contact_on >= person.last_contact_on
    if person.last_contact_on is None or contact_on > person.last_contact_on:
        person.last_contact_on = contact_on
        if in_touch is None and person.in_touch in {"NO", "REFU"}:
            person.in_touch = "YES"
    if in_touch is not None and newest:
        person.in_touch = in_touch
        if in_touch == "RHOM":  # 903 rule 344: returned home means activity and accommodation are 0
            person.current_activity, person.accommodation = "0", "0"
    session.flush()
    return contact


def not_in_touch(session: Session, *, today: date, weeks: int = 8, adviser_id: int | None = None) -> list[dict]:
    """Open cases with no contact within `weeks` (a local standard; 8 weeks by default), longest first."""
    cutoff = today - timedelta(weeks=weeks)
    query = select(CareLeaver).where(CareLeaver.case_status == "open",
                                     (CareLeaver.last_contact_on.is_(None)) | (CareLeaver.last_contact_on < cutoff))
    return [{"care_leaver_id": p.id, "case_reference": p.case_reference, "personal_adviser_id": p.personal_adviser_id,
             "last_contact_on": p.last_contact_on,
             "days_since_contact": (today - p.last_contact_on).days if p.last_contact_on else None}
            for p in session.exec(_mine(query, adviser_id).order_by(CareLeaver.last_contact_on.asc().nulls_first()))]


def pathway_reviews(session: Session, *, today: date, due_within_days: int = 28,
                    adviser_id: int | None = None) -> list[dict]:
    """Pathway plans are reviewed at least every six months: those overdue, and those due soon."""
    horizon = today + timedelta(days=due_within_days)
    # Only plans reviewed long enough ago can be due (an index scan); the 3 days cover month-end clamping
    # (31 August + 6 months = 28 February). The exact due date is then worked out below.
    latest = add_months(horizon, -6) + timedelta(days=3)
    query = select(CareLeaver).where(CareLeaver.case_status == "open",
                                     CareLeaver.pathway_plan_reviewed_on.is_(None)
                                     | (CareLeaver.pathway_plan_reviewed_on <= latest))
    found = []
    for person in session.exec(_mine(query, adviser_id)):
        due = add_months(person.pathway_plan_reviewed_on, 6) if person.pathway_plan_reviewed_on else today
        if due <= horizon:
            found.append({"care_leaver_id": person.id, "case_reference": person.case_reference,
                          "personal_adviser_id": person.personal_adviser_id, "due_on": due,
                          "overdue": due < today or person.pathway_plan_reviewed_on is None})
    return sorted(found, key=lambda item: item["due_on"])


def waiting(session: Session, *, today: date, weeks: int = 8, adviser_id: int | None = None) -> list[dict]:
    """Open cases known for over `weeks` that hold no approved or live match (mentor slot or place)."""
    holding = set().union(*HOLDING.values())
    live = select(Match.care_leaver_id).where(Match.state.in_(holding))
    since = datetime.combine(today - timedelta(weeks=weeks), time(), UTC)
    query = select(CareLeaver).where(CareLeaver.case_status == "open", CareLeaver.id.notin_(live),
                                     CareLeaver.created_at < since)
    return [{"care_leaver_id": p.id, "case_reference": p.case_reference, "personal_adviser_id": p.personal_adviser_id}
            for p in session.exec(_mine(query, adviser_id).order_by(CareLeaver.id))]


def _mine(query, adviser_id: int | None):
    return query.where(CareLeaver.personal_adviser_id == adviser_id) if adviser_id else query


def _current(session: Session, care_leaver_id: int, version: int) -> CareLeaver:
    person = session.get(CareLeaver, care_leaver_id)
    if person is None:
        raise NotFound("care leaver", care_leaver_id)
    if person.version != version:
        raise StaleVersion("care leaver", care_leaver_id, version, person.version)
    return person


def overdue_check_ins(session: Session, *, today: date, adviser_id: int | None = None) -> list[dict]:
    """Check-ins past their day, not done, on matches still under way; the longest overdue first."""
    holding = set().union(*HOLDING.values())
    query = (select(CheckIn, Match, CareLeaver).join(Match, Match.id == CheckIn.match_id)
             .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
             .where(CheckIn.done_on.is_(None), CheckIn.due_on < today, Match.state.in_(holding)))
    if adviser_id:
        query = query.where(CareLeaver.personal_adviser_id == adviser_id)
    return [{"check_in_id": check.id, "match_id": match.id, "label": check.label, "due_on": check.due_on,
             "days_overdue": (today - check.due_on).days, "care_leaver_id": person.id,
             "personal_adviser_id": person.personal_adviser_id}
            for check, match, person in session.exec(query.order_by(CheckIn.due_on, CheckIn.id))]


def no_recent_meeting(session: Session, *, today: date, days: int = 90, adviser_id: int | None = None) -> list[dict]:
    """Mentoring matches under way with no meeting logged for `days` (counted from approval if none yet)."""
    last_met = (sa.select(Meeting.match_id, sa.func.max(Meeting.met_on).label("on"))
                .group_by(Meeting.match_id).subquery())
    approved = (sa.select(MatchEvent.match_id, sa.func.max(MatchEvent.at).label("at"))
                .where(MatchEvent.to_state == "approved").group_by(MatchEvent.match_id).subquery())
    query = (sa.select(Match.id, Match.state, Match.mentor_id, CareLeaver.id.label("care_leaver_id"),
                       CareLeaver.personal_adviser_id, last_met.c.on, approved.c.at)
             .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
             .outerjoin(last_met, last_met.c.match_id == Match.id).outerjoin(approved, approved.c.match_id == Match.id)
             .where(Match.kind == "mentoring", Match.state.in_(HOLDING["mentoring"])))
    if adviser_id:
        query = query.where(CareLeaver.personal_adviser_id == adviser_id)
    found = []
    for row in session.execute(query.order_by(Match.id)):
        since = row.on or (row.at.date() if row.at else None)
        if since is None or (today - since).days > days:
            found.append({"match_id": row.id, "state": row.state, "mentor_id": row.mentor_id,
                          "care_leaver_id": row.care_leaver_id, "personal_adviser_id": row.personal_adviser_id,
                          "last_meeting_on": row.on, "days_since": (today - since).days if since else None})
    return sorted(found, key=lambda item: -(item["days_since"] or 10**6))


# Each attention list's interval, by its option and the manager's follow-up setting that decides it
# (council_settings.FollowUpSettings): the one mapping the JSON API, the overview and the reminders share.
INTERVALS = {not_in_touch: ("weeks", "not_in_touch_weeks"), waiting: ("weeks", "waiting_weeks"),
             no_recent_meeting: ("days", "no_meeting_days"),
             pathway_reviews: ("due_within_days", "pathway_due_within_days")}


def attention(session: Session, listing: Callable[..., list[dict]], *, today: date, follow_up: Any,
              adviser_id: int | None = None, interval: int | None = None) -> list[dict]:
    """One attention list by the manager's interval (or `interval`, where the caller gives one)."""
    options = {}
    if listing in INTERVALS:
        option, setting = INTERVALS[listing]
        options[option] = interval or getattr(follow_up, setting)
    return listing(session, today=today, adviser_id=adviser_id, **options)


def interval_of(listing: Callable[..., list[dict]], follow_up: Any) -> int | None:
    return getattr(follow_up, INTERVALS[listing][1]) if listing in INTERVALS else None
