"""The birthdays the leaving-care rules turn on (18, 21 and 25): each one an event on the young person's
record, a change where the law makes one, and a task on their adviser's list until it is done.

- 18: an eligible or relevant child becomes a former relevant child (CA 1989 s.23C(1)); the category
  changes on the day. A qualifying young person stays qualifying (s.24). The task: review the pathway plan.
- 21: the s.23C duties end; from now the council offers continued support to 25 (s.23CZB). The task: offer
  it, until the young person asks for support (cases.request_support) or the case closes as declined.
- 25: the duties end. The case leaves the contact lists (cases.owed_contact, by date of birth); the task:
  close the case, or record the reason it stays open (`keep_open`).

Plain functions of a session and a day, so the job (`jobs/birthdays.py`) and the tests run them on exact
days; each birthday's event is written once (a second run, or a run catching up, finds it there).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from matching.cases import RULE_FROM_25, _named, display_name
from matching.clock import ZONE, utcnow
from matching.dates import birthday, born_by, in_words
from matching.errors import Conflict, InvalidInput, NotFound
from matching.models import CareLeaver, CaseEvent

BECOMES_FORMER_RELEVANT = ("eligible", "relevant")  # s.23C(1)(a) and (b): the categories that change at 18


@dataclass(frozen=True)
class Milestone:
    age: int
    task: str
    done_by: tuple[str, ...]  # case events, on or after the birthday, that finish the task

    @property
    def action(self) -> str:
        return f"birthday_{self.age}"


MILESTONES = (
    Milestone(18, "Turned 18: check the leaving-care category and review the pathway plan", ()),
    Milestone(21, "Turned 21: offer continued personal adviser support to 25 (s.23CZB)",
              ("support_requested", "reopened")),
    Milestone(25, "Turned 25: close the case, or record the reason it stays open", ("kept_open",)),
)
BY_AGE = {milestone.age: milestone for milestone in MILESTONES}


def turning_between(session: Session, first: date, last: date) -> list[tuple[CareLeaver, Milestone, date]]:
    """Open cases with an 18th, 21st or 25th birthday from `first` to `last` (a date-of-birth range per age:
    born_by is exact, 29 February included), in birthday order."""
    found = []
    for milestone in MILESTONES:
        people = session.scalars(sa.select(CareLeaver).where(
            CareLeaver.case_status == "open",
            CareLeaver.date_of_birth > born_by(first - timedelta(days=1), milestone.age),
            CareLeaver.date_of_birth <= born_by(last, milestone.age)))
        found += [(person, milestone, birthday(person.date_of_birth, milestone.age)) for person in people]
    return sorted(found, key=lambda item: (item[2], item[1].age, item[0].id))


def mark_birthdays(session: Session, first: date, last: date) -> int:
    """Write each birthday from `first` to `last` on the young person's record, once, and make the change
    the law makes on it; how many were written (none the second time)."""
    turning = turning_between(session, first, last)
    done = _marked(session, [person.id for person, _, _ in turning])
    written = 0
    for person, milestone, day in turning:
        if (person.id, milestone.action) in done:
            continue
        note = milestone.task
        if milestone.age == 18 and person.leaving_care_category in BECOMES_FORMER_RELEVANT:
            note = f"Leaving-care category: {person.leaving_care_category} to former_relevant (s.23C(1)). {note}"
            person.leaving_care_category = "former_relevant"
        session.add(CaseEvent(care_leaver_id=person.id, action=milestone.action, reason_code="birthday",
                              note=note, at=_dated(day)))
        written += 1
    session.flush()
    return written


def tasks(session: Session, *, today: date, adviser_id: int | None = None) -> list[dict]:
    """Each adviser's birthday tasks not yet done: who, whose caseload, since which birthday and for how
    many days; the oldest first. A task ends when the case closes, or (18) the pathway plan is reviewed on
    or after the birthday, (21) the young person asks for support, (25) the reason to keep it open is kept."""
    kinds = [m.action for m in MILESTONES] + [action for m in MILESTONES for action in m.done_by]
    query = (sa.select(CaseEvent.action, CaseEvent.at, CareLeaver.id, CareLeaver.case_reference,
                       CareLeaver.personal_adviser_id, CareLeaver.first_name, CareLeaver.preferred_name,
                       CareLeaver.family_name, CareLeaver.date_of_birth, CareLeaver.pathway_plan_reviewed_on)
             .join(CareLeaver, CareLeaver.id == CaseEvent.care_leaver_id)
             .where(CareLeaver.case_status == "open", CaseEvent.action.in_(kinds)))
    if adviser_id:
        query = query.where(CareLeaver.personal_adviser_id == adviser_id)
    people, happened = {}, {}
    for row in session.execute(query):
        people[row.id] = row
        happened.setdefault(row.id, {}).setdefault(row.action, []).append(row.at.astimezone(ZONE).date())
    found = []
    for person_id, seen in happened.items():
        person = people[person_id]
        for milestone in MILESTONES:
            day = birthday(person.date_of_birth, milestone.age)
            if milestone.action not in seen or day > today or _done(milestone, person, seen, day):
                continue
            found.append(_named(person) | {"name": display_name(person), "age": milestone.age,
                                           "task": milestone.task, "birthday_on": day,
                                           "days_overdue": (today - day).days})
    return sorted(found, key=lambda item: (-item["days_overdue"], item["care_leaver_id"], item["age"]))


def keep_open(session: Session, care_leaver_id: int, *, reason: str, today: date, actor_id: int | None) -> CaseEvent:
    """From the 25th birthday, the adviser's reason to keep a case open (the duties have ended: s.23CZB)."""
    person = session.get(CareLeaver, care_leaver_id)
    if person is None:
        raise NotFound("care leaver", care_leaver_id)
    if person.case_status != "open":
        raise Conflict(f"case {care_leaver_id} is closed")
    if today < birthday(person.date_of_birth, 25):
        raise InvalidInput("reason", f"only from the 25th birthday ({in_words(birthday(person.date_of_birth, 25))}). "
                                     f"{RULE_FROM_25}")
    if len(reason.strip()) < 3:
        raise InvalidInput("reason", "give the reason the case stays open")
    event = CaseEvent(care_leaver_id=person.id, actor_id=actor_id, action="kept_open", note=reason.strip()[:1000])
    session.add(event)
    session.flush()
    return event


def _done(milestone: Milestone, person: Any, seen: dict[str, list[date]], day: date) -> bool:
    if milestone.age == 18:
        return person.pathway_plan_reviewed_on is not None and person.pathway_plan_reviewed_on >= day
    return any(on >= day for action in milestone.done_by for on in seen.get(action, []))


def _marked(session: Session, ids: list[int]) -> set[tuple[int, str]]:
    if not ids:
        return set()
    return set(session.execute(sa.select(CaseEvent.care_leaver_id, CaseEvent.action).where(
        CaseEvent.care_leaver_id.in_(ids), CaseEvent.action.like("birthday_%"))).all())


def _dated(day: date) -> datetime:
    """An event on its birthday (a caught-up one too), never later than now."""
    return min(utcnow(), datetime.combine(day, time(), ZONE))
