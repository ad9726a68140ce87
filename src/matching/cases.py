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

from matching import lifecycle, notifications, vocab
from matching.clock import ZONE, utcnow
from matching.coltypes import UTCDateTime
from matching.dates import add_months, birthday, born_by, in_words
from matching.errors import Conflict, InvalidInput, NotFound, StaleVersion
from matching.lifecycle import HOLDING
from matching.models import CareLeaver, CaseEvent, CheckIn, Contact, Match, MatchEvent, Meeting, User
from matching.services import audit

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
                 "support. A case may close only when that support was offered on or after the 21st birthday (give "
                 "the date) and declined.")
RULE_REOPEN = ("Children Act 1989 s.23CZB: a former relevant child may ask for support at any time before "
               "their 25th birthday, even after declining it; the case is then re-opened.")
RULE_OFFER_FROM_21 = ("Children Act 1989 s.23CZB: from 21 to 25 a case may close as declined only when the offer of "
                      "continued personal adviser support was made on or after the 21st birthday ({turns_21}), "
                      "not after today, and not before the young person last asked for support{asked}.")
RULE_REQUEST_21_TO_25 = ("Children Act 1989 s.23CZB: a former relevant child asks for advice and support from "
                         "their 21st birthday until their 25th; before 21 the duties of s.23C continue without a "
                         "request.")
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
    offered = f" (support offered on {in_words(closure.support_offered_on)})" if closure.support_offered_on else ""
    person.closed_reason = f"{CLOSURE_REASONS[closure.reason_code]}{offered}. {closure.note}".strip()
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
    if rule := _closure_breaks(person, closure, today, asked_on=support_requested_on(session, person)):
        raise ClosureRefused(rule)
    return person


def reopen_refusal(person: CareLeaver, today: date) -> str | None:
    """The rule a re-opening would break today, or None when the case may re-open."""
    if person.in_touch == "DIED" or today >= birthday(person.date_of_birth, 25):
        return RULE_REOPEN
    return None


def _closure_breaks(person: CareLeaver, closure: Closure, today: date, asked_on: date | None = None) -> str | None:
    """The rule a closure would break, or None when the law allows it. `asked_on`: when the young person last
    asked for support after 21 (a decline answers an offer made since then, never an older one)."""
    reason = closure.reason_code
    if reason == "died":
        return None
    if today < birthday(person.date_of_birth, 21):
        young_relevant = person.leaving_care_category == "relevant" and today < birthday(person.date_of_birth, 18)
        return None if reason == "returned_home" and young_relevant else RULE_BEFORE_21
    if today < birthday(person.date_of_birth, 25):
        offered = closure.support_offered_on
        if reason != "support_declined" or offered is None:
            return RULE_21_TO_25
        earliest = max(birthday(person.date_of_birth, 21), asked_on or date.min)
        if earliest <= offered <= today:
            return None
        asked = f" (on {in_words(asked_on)})" if asked_on else ""
        return RULE_OFFER_FROM_21.format(turns_21=in_words(birthday(person.date_of_birth, 21)), asked=asked)
    return None


def request_support(session: Session, care_leaver_id: int, *, asked_on: date, today: date, actor_id: int | None,
                    note: str = "") -> CaseEvent:
    """Record that a young person aged 21 to 25 asked for advice and support (s.23CZB), and on which day: the
    event is dated that day, so the record shows when the duty began, and a later "declined" closure must
    answer an offer made since. A closed case is re-opened instead (`reopen_case`, which is the request)."""
    person = session.get(CareLeaver, care_leaver_id)
    if person is None:
        raise NotFound("care leaver", care_leaver_id)
    if asked_on > today:
        raise InvalidInput("asked_on", "cannot be in the future")
    if not birthday(person.date_of_birth, 21) <= asked_on < birthday(person.date_of_birth, 25):
        raise InvalidInput("asked_on", RULE_REQUEST_21_TO_25)
    if person.case_status == "closed":
        raise Conflict(f"case {care_leaver_id} is closed: re-open it at the young person's request instead")
    at = utcnow() if asked_on == today else datetime.combine(asked_on, time(12), ZONE)
    event = CaseEvent(care_leaver_id=person.id, actor_id=actor_id, action="support_requested", at=at,
                      note=note[:1000])
    session.add(event)
    session.flush()
    return event


def support_requested_on(session: Session, person: CareLeaver) -> date | None:
    """The last day, from the 21st birthday, the young person asked for support (a re-opening is a request)."""
    since = datetime.combine(birthday(person.date_of_birth, 21), time(), ZONE)
    last = session.execute(sa.select(sa.func.max(CaseEvent.at)).where(
        CaseEvent.care_leaver_id == person.id, CaseEvent.action.in_(("support_requested", "reopened")),
        CaseEvent.at >= since)).scalar()
    return last.astimezone(ZONE).date() if last else None


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
    """A contact moves the last-contact date; the 903 in-touch status changes only as the adviser says.

    `in_touch`, when given, is the 903 status the adviser records after this contact; it applies when this
    is the newest contact (an older one, entered late, does not overrule what a later contact found). Not
    given, the status stands: a young person recorded NO or REFU stays on the not-in-touch list."""
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
        # The date moves; the 903 status does not: "not in touch" or "refuses contact" stays until the
        # adviser records what they found (a message left is a contact, but not being in touch).
        person.last_contact_on = contact_on
    if in_touch is not None and newest:
        person.in_touch = in_touch
        if in_touch == "RHOM":  # 903 rule 344: returned home means activity and accommodation are 0
            person.current_activity, person.accommodation = "0", "0"
    session.flush()
    return contact


NOT_IN_TOUCH = ("NO", "REFU")  # the 903 statuses that put a young person on the not-in-touch list at once


def not_in_touch(session: Session, *, today: date, weeks: int = 8, adviser_id: int | None = None) -> list[dict]:
    """Open cases still owed contact (under 25) with no contact within `weeks` (a local standard; 8 weeks by
    default), or recorded as not in touch or refusing contact (903 NO, REFU) whatever the last contact's
    date: s.23C(2)(b) asks the council to re-establish contact now. Longest without contact first."""
    cutoff = today - timedelta(weeks=weeks)
    query = _open_cases(CareLeaver.last_contact_on, CareLeaver.in_touch).where(
        owed_contact(today), CareLeaver.last_contact_on.is_(None) | (CareLeaver.last_contact_on < cutoff)
        | CareLeaver.in_touch.in_(NOT_IN_TOUCH))
    return [_named(p) | {"last_contact_on": p.last_contact_on, "in_touch": p.in_touch,
                         "days_since_contact": (today - p.last_contact_on).days if p.last_contact_on else None}
            for p in session.execute(_mine(query, adviser_id)
                                       .order_by(CareLeaver.last_contact_on.asc().nulls_first(), CareLeaver.id))]


def pathway_reviews(session: Session, *, today: date, due_within_days: int = 28,
                    adviser_id: int | None = None) -> list[dict]:
    """Pathway plans are reviewed at least every six months: those overdue, and those due soon."""
    horizon = today + timedelta(days=due_within_days)
    # Only plans reviewed long enough ago can be due (an index scan); the 3 days cover month-end clamping
    # (31 August + 6 months = 28 February). The exact due date is then worked out below.
    latest = add_months(horizon, -6) + timedelta(days=3)
    query = _open_cases(CareLeaver.pathway_plan_reviewed_on).where(owed_contact(today),
        CareLeaver.pathway_plan_reviewed_on.is_(None) | (CareLeaver.pathway_plan_reviewed_on <= latest))
    found = []
    for person in session.execute(_mine(query, adviser_id)):
        due = add_months(person.pathway_plan_reviewed_on, 6) if person.pathway_plan_reviewed_on else today
        if due <= horizon:
            found.append(_named(person) | {"due_on": due, "days_overdue": max((today - due).days, 0),
                                           "overdue": due < today or person.pathway_plan_reviewed_on is None})
    return sorted(found, key=lambda item: (item["due_on"], item["care_leaver_id"]))  # ties: the same order every time


def waiting(session: Session, *, today: date, weeks: int = 8, adviser_id: int | None = None) -> list[dict]:
    """Open cases known for over `weeks` that hold no approved or live match (mentor slot or place)."""
    holding = set().union(*HOLDING.values())
    live = select(Match.care_leaver_id).where(Match.state.in_(holding))
    since = datetime.combine(today - timedelta(weeks=weeks), time(), UTC)
    query = _open_cases().where(CareLeaver.id.notin_(live), CareLeaver.created_at < since)
    return [_named(p) for p in session.execute(_mine(query, adviser_id).order_by(CareLeaver.id))]


def owed_contact(today: date) -> Any:
    """Under 25 today: from the 25th birthday the duties have ended (s.23CZB), so a case still open is a task
    to close it (birthdays.tasks), not someone owed contact or a pathway plan."""
    return CareLeaver.date_of_birth > born_by(today, 25)


def _open_cases(*columns) -> sa.Select:
    """Open cases, reading only the columns a list shows: whole records (free text, JSON lists) cost most
    of a list's time at London scale (the 'waiting' list took 616 ms that way, 19 ms this way)."""
    return sa.select(CareLeaver.id, CareLeaver.case_reference, CareLeaver.personal_adviser_id, *NAME_COLUMNS,
                     *columns).where(CareLeaver.case_status == "open")


NAME_COLUMNS = (CareLeaver.first_name, CareLeaver.preferred_name, CareLeaver.family_name)


def _named(row) -> dict:
    """Who a list's row is about: every attention list names the young person and their adviser's id."""
    return {"care_leaver_id": row.id, "case_reference": row.case_reference, "name": display_name(row),
            "personal_adviser_id": row.personal_adviser_id}


def display_name(row) -> str:
    """The name a list shows: the preferred name, or the first, and the family name."""
    return " ".join(part for part in (row.preferred_name or row.first_name, row.family_name) if part)


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
    # Columns, not whole records: the overview lists every overdue check-in of the council (800 at London
    # scale), and loading each young person's whole record took a quarter of a second.
    query = (sa.select(CheckIn.id.label("check_in_id"), CheckIn.match_id, CheckIn.label, CheckIn.due_on,
                       CareLeaver.id, CareLeaver.case_reference, *NAME_COLUMNS, CareLeaver.personal_adviser_id)
             .join(Match, Match.id == CheckIn.match_id).join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
             .where(CheckIn.done_on.is_(None), CheckIn.due_on < today, Match.state.in_(holding)))
    return [{"check_in_id": row.check_in_id, "match_id": row.match_id, "label": row.label, "due_on": row.due_on,
             "days_overdue": (today - row.due_on).days, **_named(row)}
            for row in session.execute(_mine(query, adviser_id).order_by(CheckIn.due_on, CheckIn.id))]


def no_recent_meeting(session: Session, *, today: date, days: int = 90, adviser_id: int | None = None) -> list[dict]:
    """Mentoring matches under way with no meeting logged for `days` (counted from approval if none yet)."""
    # Looked up for each match under way (from the meetings' and events' match indexes), not grouped over
    # every meeting and event of every match: a tenth of the time at London scale.
    last_met = sa.select(sa.func.max(Meeting.met_on)).where(Meeting.match_id == Match.id).scalar_subquery()
    approved = (sa.select(sa.func.max(MatchEvent.at)).where(MatchEvent.match_id == Match.id,
                                                           MatchEvent.to_state == "approved").scalar_subquery())
    query = (sa.select(Match.id, Match.state, Match.mentor_id, CareLeaver.id.label("care_leaver_id"),
                       CareLeaver.case_reference, *NAME_COLUMNS, CareLeaver.personal_adviser_id,
                       sa.type_coerce(last_met, sa.Date).label("on"), sa.type_coerce(approved, UTCDateTime).label("at"))
             .join(CareLeaver, CareLeaver.id == Match.care_leaver_id)
             .where(Match.kind == "mentoring", Match.state.in_(HOLDING["mentoring"])))
    if adviser_id:
        query = query.where(CareLeaver.personal_adviser_id == adviser_id)
    found = []
    for row in session.execute(query.order_by(Match.id)):
        since = row.on or (row.at.date() if row.at else None)
        if since is None or (today - since).days > days:
            found.append({"match_id": row.id, "state": row.state, "mentor_id": row.mentor_id,
                          "care_leaver_id": row.care_leaver_id, "case_reference": row.case_reference,
                          "name": display_name(row), "personal_adviser_id": row.personal_adviser_id,
                          "last_meeting_on": row.on, "days_since": (today - since).days if since else None})
    return sorted(found, key=lambda item: -(item["days_since"] or 10**6))


def active_adviser() -> Any:
    """The users a young person may be allocated to: advisers whose account is active."""
    return sa.and_(User.role == "adviser", User.active.is_(True), User.closed_at.is_(None))


def release_caseload(session: Session, adviser_id: int, *, actor_id: int | None) -> int:
    """An adviser who leaves (accounts.deactivate, or a change of role) takes nobody with them: each young
    person on their caseload becomes unallocated, for the manager to allocate again, and the record keeps
    whose they were. Each record changed is audited in this unit of work."""
    adviser = session.get(User, adviser_id)
    ids = list(session.execute(sa.select(CareLeaver.id).where(CareLeaver.personal_adviser_id == adviser_id)).scalars())
    name = adviser.full_name if adviser else f"user {adviser_id}"
    for care_leaver_id in ids:
        session.add(CaseEvent(care_leaver_id=care_leaver_id, actor_id=actor_id, action="unallocated",
                              reason_code="adviser_left", note=f"{name} is no longer their personal adviser"))
    if ids:
        session.execute(sa.update(CareLeaver).where(CareLeaver.id.in_(ids)).values(
            personal_adviser_id=None, updated_at=utcnow(), version=CareLeaver.version + 1))
        audit.record_access(session, actor_id=actor_id, action="update", entity="care_leaver", ids=ids,
                            route="adviser left: caseload released")
        notifications.caseload_released(session, adviser_id, len(ids))
    session.flush()
    return len(ids)


def unallocated(session: Session, *, today: date, adviser_id: int | None = None) -> list[dict]:
    """The manager's list: open cases with no personal adviser, or one who is not an active adviser (left,
    deactivated, or never one), since the adviser left or the case was opened; the longest first.
    An adviser asking sees none: this list is the manager's to act on."""
    if adviser_id:
        return []
    released = (sa.select(CaseEvent.care_leaver_id, sa.func.max(CaseEvent.at).label("at"))
                .where(CaseEvent.action == "unallocated").group_by(CaseEvent.care_leaver_id).subquery())
    query = (_open_cases(CareLeaver.created_at, User.closed_at, released.c.at.label("released_at"))
             .outerjoin(User, User.id == CareLeaver.personal_adviser_id)
             .outerjoin(released, released.c.care_leaver_id == CareLeaver.id)
             .where(CareLeaver.personal_adviser_id.is_(None) | ~active_adviser()))
    found = []
    for row in session.execute(query.order_by(CareLeaver.id)):
        since = (row.closed_at or row.released_at or row.created_at).astimezone(ZONE).date()
        found.append(_named(row) | {"unallocated_since": since,
                                    "days_unallocated": (today - since).days})
    return sorted(found, key=lambda item: (-item["days_unallocated"], item["care_leaver_id"]))


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
