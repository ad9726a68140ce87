"""The statutory care-leaver return: SSDA903 table OC3, one row per care leaver whose 17th, 18th, 19th, 20th
or 21st birthday falls in the collection year (1 April to 31 March), with the DfE's validation rules for
these columns checked on every row before the file is produced.

Layout, source and rules: docs/reports.md. The column list is the validator's own
(data-to-insight/csc-validator-be-903 `lac_validator/config.py`: OC3 = CHILD, DOB, IN_TOUCH, ACTIV, ACCOM);
each rule below carries that repository's code and words (`lac_validator/rules/lac2022_23/rule_NNN.py`
unless another year is named).

What the service knows of each birthday: contacts are kept with their dates (`contacts`), closures and
re-openings with theirs (`case_events`), and every value of the category, IN_TOUCH, ACTIV and ACCOM from the
day it was recorded (`care_leaver_statuses`, written by triggers since migration 0016). Each row is taken
from the record as it stood on the birthday; where the history begins after the birthday's window (records
older than that migration), today's values are used and the row's notes say so.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session

from matching.clock import london_day
from matching.dates import add_months, birthday
from matching.models import CareLeaver, CareLeaverStatus, CaseEvent, Contact

COLUMNS = ("CHILD", "DOB", "IN_TOUCH", "ACTIV", "ACCOM")
AGES = (17, 18, 19, 20, 21)
# "In touch" means a contact in this window around the birthday. The DfE guide's exact window is not
# verified (../shared/domain.md 3(d), [U]): 3 months before to 1 month after, kept here in one place.
WINDOW_MONTHS_BEFORE, WINDOW_MONTHS_AFTER = 3, 1
FIRST_YEAR = 2016  # 17- and 18-year-olds were first collected for the year ending 31 March 2016
OC3_CATEGORIES = ("relevant", "former_relevant")  # those who were eligible children: the OC3 cohort

NOTE_CURRENT_ACTIVITY = ("ACTIV and ACCOM are the record's values today: its history begins after this "
                         "birthday's window")
NOTE_CURRENT_IN_TOUCH = ("IN_TOUCH is the record's value today (no contact in the birthday window, and the "
                         "record's history begins after it)")
NOTE_CURRENT_CATEGORY = "The leaving-care category is today's: the record's history begins after this birthday"
NOTE_DEATH_UNDATED = "Recorded as died with no date of death: taken as before this birthday"
NOTE_WINDOW_OPEN = "The birthday window is still open: a contact before {end} would make this row YES"

# The validator's own lists (rules 131, 132, 133); tests keep them equal to matching/vocab.py's.
IN_TOUCH_CODES = ("YES", "NO", "DIED", "REFU", "NREQ", "RHOM")
ACTIV_CODES = ("F1", "P1", "F2", "P2", "F4", "P4", "F5", "P5", "G4", "G5", "G6", "0")
ACCOM_CODES = ("B1", "B2", "C1", "C2", "D1", "D2", "E1", "E2", "G1", "G2", "H1", "H2", "K1", "K2", "R1", "R2",
               "S2", "T1", "T2", "U1", "U2", "V1", "V2", "W1", "W2", "X2", "Y1", "Y2", "Z1", "Z2", "0")


@dataclass(frozen=True)
class CollectionYear:
    """The year ending 31 March `ending` (the 903 collection named, e.g., 2025 to 2026)."""

    ending: int

    @property
    def start(self) -> date:
        return date(self.ending - 1, 4, 1)

    @property
    def end(self) -> date:
        return date(self.ending, 3, 31)

    @property
    def label(self) -> str:
        return f"1 April {self.ending - 1} to 31 March {self.ending}"

    @property
    def short(self) -> str:
        return f"{self.ending - 1} to {self.ending}"


def latest_complete_year(today: date) -> int:
    return today.year if today >= date(today.year, 4, 1) else today.year - 1


def years_offered(today: date) -> list[int]:
    """Every collection year the return can be made for, the one in progress first."""
    return list(range(latest_complete_year(today) + 1, FIRST_YEAR - 1, -1))


@dataclass(frozen=True)
class Oc3Row:
    care_leaver_id: int
    name: str
    child: str
    dob: date
    birthday: date
    age: int
    in_touch: str | None
    activ: str | None
    accom: str | None
    looked_after: bool = False  # still looked after on the birthday (an eligible child)
    notes: tuple[str, ...] = ()

    def columns(self) -> dict[str, str]:
        """The row as the return's file holds it: dates as DD/MM/YYYY, a blank for nothing recorded."""
        return {"CHILD": self.child, "DOB": self.dob.strftime("%d/%m/%Y"), "IN_TOUCH": self.in_touch or "",
                "ACTIV": self.activ or "", "ACCOM": self.accom or ""}


@dataclass(frozen=True)
class Rule:
    code: str
    message: str
    fields: tuple[str, ...]
    fails: Callable[["Oc3Row", CollectionYear, dict[str, str]], bool]
    source: str = "lac2022_23"


@dataclass(frozen=True)
class Failure:
    row: Oc3Row
    rule: Rule


@dataclass
class Oc3Return:
    year: CollectionYear
    rows: list[Oc3Row]
    failures: list[Failure]
    left_out: dict[str, int] = field(default_factory=dict)

    @cached_property  # the page asks three times
    def failing_rows(self) -> list[tuple[Oc3Row, list[Rule]]]:
        by_row: dict[int, list[Rule]] = defaultdict(list)
        for failure in self.failures:
            by_row[failure.row.care_leaver_id].append(failure.rule)
        return [(row, by_row[row.care_leaver_id]) for row in self.rows if row.care_leaver_id in by_row]

    @property
    def rows_with_notes(self) -> int:
        return sum(1 for row in self.rows if row.notes)


# The rules ------------------------------------------------------------------------------------------------

def _provided(row: Oc3Row) -> bool:
    return any(value is not None for value in (row.in_touch, row.activ, row.accom))


def _age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _not_17_to_21_in_year(row: Oc3Row, year: CollectionYear, _last: dict[str, str]) -> bool:
    # The validator's code checks the lower bound (under 17 at the collection end); its words name the upper
    # one too, so a young person 22 or over for the whole year fails here as well.
    too_young = birthday(row.dob, 17) > year.end
    too_old = birthday(row.dob, 22) <= year.start
    return (too_young or too_old) and _provided(row)


def _still_looked_after_at_17_or_18(row: Oc3Row, year: CollectionYear, _last: dict[str, str]) -> bool:
    return 17 <= _age_on(row.dob, year.end) < 19 and row.looked_after and _provided(row)


RULES: tuple[Rule, ...] = (
    Rule("131", "Data entry for being in touch after leaving care is invalid.", ("IN_TOUCH",),
         lambda row, _y, _l: row.in_touch not in IN_TOUCH_CODES),
    Rule("132", "Data entry for activity after leaving care is invalid.", ("ACTIV",),
         lambda row, _y, _l: row.activ not in ACTIV_CODES),
    Rule("133", "Data entry for accommodation after leaving care is invalid. If reporting on a childs "
                "accommodation after leaving care the data entry must be valid", ("ACCOM",),
         lambda row, _y, _l: row.accom not in ACCOM_CODES),
    Rule("153", "All data items relating to a child's activity or accommodation after leaving care must be "
                "coded or left blank.", ("IN_TOUCH", "ACTIV", "ACCOM"),
         lambda row, _y, _l: len({v is None for v in (row.in_touch, row.activ, row.accom)}) > 1),
    Rule("344", "The record shows the young person has died or returned home to live with parent(s) or someone "
                "with parental responsibility for a continuous period of 6 months or more, but activity and/or "
                "accommodation on leaving care have been completed.", ("IN_TOUCH", "ACTIV", "ACCOM"),
         lambda row, _y, _l: row.in_touch in {"DIED", "RHOM"} and (row.activ != "0" or row.accom != "0")),
    Rule("345", "The data collection record shows the local authority is in touch with this young person, but "
                "activity and/or accommodation data items are zero.", ("IN_TOUCH", "ACTIV", "ACCOM"),
         lambda row, _y, _l: row.in_touch == "YES" and (row.activ == "0" or row.accom == "0")),
    Rule("391", "Young person was not 17, 18, 19, 20 or 21 during the current collection year.",
         ("DOB", "IN_TOUCH", "ACTIV", "ACCOM"), _not_17_to_21_in_year),
    Rule("1007", "Care leaver information is not required for 17- or 18-year olds who are still looked after "
                 "[on their 17th or 18th birthday.]", ("IN_TOUCH", "ACTIV", "ACCOM"),
         _still_looked_after_at_17_or_18),
    Rule("3001", "Where care leavers information is being returned for a young person around their 17th "
                 "birthday, the accommodation cannot be with their former foster carer(s).", ("ACCOM",),
         lambda row, year, _l: year.start <= birthday(row.dob, 17) <= year.end and row.accom in {"Z1", "Z2"}),
    # The validator compares ACCOM with "T" itself, which no valid code equals; the rule means a Foyer (T1, T2).
    Rule("347", "Care leavers aged under 18 years, can not be accommodated in a Foyer.", ("ACCOM", "DOB"),
         lambda row, year, _l: (row.accom or "").startswith("T") and birthday(row.dob, 18) > year.start,
         source="lac2023_24"),
    Rule("348", "Care leaver has previously been reported as having died.", ("IN_TOUCH",),
         lambda row, _y, last: last.get(row.child) == "DIED" and row.in_touch != "DIED", source="lac2025_26"),
)
RULES_BY_CODE = {rule.code: rule for rule in RULES}


def validate(rows: list[Oc3Row], year: CollectionYear, last_year: dict[str, str] | None = None) -> list[Failure]:
    """Every rule on every row. `last_year` is the previous return's IN_TOUCH by CHILD (rule 348)."""
    last = last_year or {}
    return [Failure(row, rule) for row in rows for rule in RULES if rule.fails(row, year, last)]


# Building the rows -----------------------------------------------------------------------------------------

def build_return(session: Session, ending: int, *, today: date) -> Oc3Return:
    """The year's rows, checked, with what was left out and why. Everything is read once, for this year and the
    last (whose DIED rows rule 348 compares with): the people, their history, contacts and closures, in four
    set-based queries; the rows are then worked out in memory."""
    year, last_year = CollectionYear(ending), CollectionYear(ending - 1)
    known = _read(session, last_year, year)
    rows, left_out = _rows(known, year, today)
    # Only someone recorded as died can have been DIED in last year's return (`_row`), so only they are built.
    died, _ = _rows(known.only(known.died), last_year, today)
    failures = validate(rows, year, {row.child: row.in_touch for row in died})
    return Oc3Return(year=year, rows=rows, failures=failures, left_out=left_out)


def _turning_in_year(born: date, year: CollectionYear) -> tuple[int, date] | None:
    for age in AGES:
        day = birthday(born, age)
        if year.start <= day <= year.end:
            return age, day
    return None


class Recorded(NamedTuple):
    """One row of `care_leaver_statuses` as the reports read it, with the London day it was recorded."""

    care_leaver_id: int
    valid_from: datetime
    recorded_on: date
    leaving_care_category: str | None
    in_touch: str | None
    current_activity: str | None
    accommodation: str | None


@dataclass(frozen=True)
class _Known:
    """What the return reads, by person: the records (by case reference), their history, their contact dates
    within reach of the years' windows and their closures and re-openings, oldest first."""

    people: list[Any]
    statuses: dict[int, list[Recorded]]
    contacts: dict[int, list[date]]
    events: dict[int, list[tuple[date, str, str]]]

    @property
    def died(self) -> set[int]:
        """Everyone recorded as died: by a closure, or by the record's in-touch code."""
        closed = {person_id for person_id, events in self.events.items()
                  if any(action == "closed" and code == "died" for _, action, code in events)}
        return closed | {person.id for person in self.people if person.in_touch == "DIED"}

    def only(self, ids: set[int]) -> "_Known":
        return _Known([person for person in self.people if person.id in ids], self.statuses, self.contacts,
                      self.events)


def _read(session: Session, first: CollectionYear, last: CollectionYear) -> _Known:
    """Everyone who can turn 17 to 21 in the years `first` to `last`, with their history: one query a table."""
    born_in_reach = (CareLeaver.date_of_birth > date(first.start.year - 22, 1, 1),
                     CareLeaver.date_of_birth <= date(last.end.year - 17, 3, 31))
    in_reach = sa.select(CareLeaver.id).where(*born_in_reach)
    people = session.execute(
        sa.select(CareLeaver.id, CareLeaver.case_reference, CareLeaver.first_name, CareLeaver.family_name,
                  CareLeaver.date_of_birth, CareLeaver.leaving_care_category, CareLeaver.in_touch,
                  CareLeaver.current_activity, CareLeaver.accommodation, CareLeaver.closed_at)
        .where(*born_in_reach).order_by(CareLeaver.case_reference)).all()
    contacts: dict[int, list[date]] = defaultdict(list)
    for person_id, day in session.execute(
            sa.select(Contact.care_leaver_id, Contact.contact_on)
            .where(Contact.contact_on >= add_months(first.start, -WINDOW_MONTHS_BEFORE),
                   Contact.contact_on <= add_months(last.end, WINDOW_MONTHS_AFTER),
                   Contact.care_leaver_id.in_(in_reach))):
        contacts[person_id].append(day)
    events: dict[int, list[tuple[date, str, str]]] = defaultdict(list)
    for person_id, at, action, reason in session.execute(
            sa.select(CaseEvent.care_leaver_id, CaseEvent.at, CaseEvent.action, CaseEvent.reason_code)
            .where(CaseEvent.action.in_(("closed", "reopened")), CaseEvent.care_leaver_id.in_(in_reach))
            .order_by(CaseEvent.at, CaseEvent.id)):
        events[person_id].append((london_day(at), action, reason))
    return _Known(people, status_history(session, in_reach), contacts, events)


def _rows(known: _Known, year: CollectionYear, today: date) -> tuple[list[Oc3Row], dict[str, int]]:
    left_out: dict[str, int] = defaultdict(int)
    rows = []
    for person in known.people:
        turning = _turning_in_year(person.date_of_birth, year)
        if turning is None:
            continue
        age, day = turning
        then = as_of(known.statuses.get(person.id, []), day, add_months(day, WINDOW_MONTHS_AFTER))
        category = then.leaving_care_category if then else person.leaving_care_category
        if day > today:
            left_out["Birthday still to come this year"] += 1
        elif category == "eligible":
            left_out["Still looked after (eligible children): not required, rule 1007"] += 1
        elif category not in OC3_CATEGORIES:
            left_out["Qualifying care leavers (s.24): not in the OC3 cohort"] += 1
        else:
            rows.append(_row(person, age, day, then, known.contacts.get(person.id, []),
                             known.events.get(person.id, []), today))
    return rows, dict(left_out)


def status_history(session: Session, people: sa.Select) -> dict[int, list[Recorded]]:
    """Each person's recorded values, oldest first, for the people `people` selects (their ids): plain rows
    with the London day each was recorded (ORM objects cost a third of the return's time at London scale)."""
    found: dict[int, list[Recorded]] = defaultdict(list)
    query = (sa.select(CareLeaverStatus.care_leaver_id, CareLeaverStatus.valid_from,
                       CareLeaverStatus.leaving_care_category, CareLeaverStatus.in_touch,
                       CareLeaverStatus.current_activity, CareLeaverStatus.accommodation)
             .where(CareLeaverStatus.care_leaver_id.in_(people))
             .order_by(CareLeaverStatus.care_leaver_id, CareLeaverStatus.valid_from, CareLeaverStatus.id))
    for person_id, valid_from, category, in_touch, activity, accommodation in session.execute(query):
        found[person_id].append(Recorded(person_id, valid_from, london_day(valid_from), category, in_touch,
                                         activity, accommodation))
    return found


def as_of(statuses: list[Recorded], day: date, window_end: date) -> Recorded | None:
    """The values that stood on `day`; if the history begins later but within the window, its first values
    (recorded around the birthday, as the return asks); None when nothing was recorded by the window's end."""
    standing = None
    for status in statuses:
        recorded = status.recorded_on
        if recorded > window_end or (standing is not None and recorded > day):
            break
        standing = status
    return standing


def _closure_on(events: list[tuple[date, str, str]], day: date) -> str | None:
    """Why the case stood closed on `day` (the closure's reason code), or None if it was open."""
    reason = None
    for when, action, code in events:
        if when > day:
            break
        reason = code if action == "closed" else None
    return reason


def _row(person, age: int, day: date, then: Recorded | None, contacts: list[date], events: list,
         today: date) -> Oc3Row:
    begin, end = add_months(day, -WINDOW_MONTHS_BEFORE), add_months(day, WINDOW_MONTHS_AFTER)
    notes: list[str] = [] if then else [NOTE_CURRENT_CATEGORY]
    stood = then or person  # the birthday's values when recorded, else today's
    died_on = next((when for when, action, code in events if action == "closed" and code == "died"), None)
    if died_on is None and person.in_touch == "DIED":
        died_on = london_day(person.closed_at) if person.closed_at else date.min
        if not person.closed_at:
            notes.append(NOTE_DEATH_UNDATED)
    closure = _closure_on(events, end)
    if died_on is not None and died_on <= end:
        in_touch, activ, accom = "DIED", "0", "0"
    elif closure == "returned_home":
        in_touch, activ, accom = "RHOM", "0", "0"
    elif any(begin <= contact <= end for contact in contacts):
        in_touch, activ, accom = "YES", stood.current_activity, stood.accommodation
        if not then:
            notes.append(NOTE_CURRENT_ACTIVITY)
    elif closure == "support_declined":
        in_touch, activ, accom = "NREQ", "0", "0"
    elif stood.in_touch in {"REFU", "NREQ", "RHOM"}:
        in_touch, activ, accom = stood.in_touch, "0", "0"
        if not then:
            notes.append(NOTE_CURRENT_IN_TOUCH)
    else:
        in_touch, activ, accom = "NO", "0", "0"
    if end > today and in_touch == "NO":
        notes.append(NOTE_WINDOW_OPEN.format(end=end.strftime("%d/%m/%Y")))
    name = " ".join(part for part in (person.first_name, person.family_name) if part)
    return Oc3Row(care_leaver_id=person.id, name=name, child=person.case_reference, dob=person.date_of_birth,
                  birthday=day, age=age, in_touch=in_touch, activ=activ, accom=accom,
                  looked_after=stood.leaving_care_category == "eligible", notes=tuple(notes))


def file_rows(result: Oc3Return) -> list[list[str]]:
    """The return's file: the header, then each row's columns in the return's order."""
    return [list(COLUMNS), *([row.columns()[column] for column in COLUMNS] for row in result.rows)]

