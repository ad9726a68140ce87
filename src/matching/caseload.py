"""An adviser's caseload and one young person's record, as the pages show them.

Plain functions taking a session and a viewer (anything with `role`, `id` and `department_id`); who may see
which care leaver is `scopes.caseload(viewer)`, and outside it a record is "not found". The caseload is
filtered, sorted, counted and paged in SQL: a page reads its twenty rows, their matches under way in one
more statement, and never the whole table, so it stays fast at London scale.
"""

from datetime import date, datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlmodel import Session, select

from matching import cases, council_settings, offer, scopes, vocab
from matching.clock import ZONE
from matching.dates import add_months, birthday
from matching.errors import NotFound
from matching.lifecycle import HOLDING
from matching.models import (
    CareLeaver,
    CaseEvent,
    CheckIn,
    Contact,
    Match,
    MatchEvent,
    Mentor,
    Opportunity,
    User,
)
from matching.paging import Page

PER_PAGE = 20
REVIEW_EVERY_MONTHS = 6  # pathway plans are reviewed at least every six months
UNDER_WAY = frozenset().union(*HOLDING.values())  # a match holding a mentor's slot or an opportunity's place

# 903 ACTIV codes grouped as an adviser filters by them.
ACTIVITY_GROUPS: dict[str, tuple[str, frozenset[str | None]]] = {
    "education": ("Education", frozenset({"F1", "P1", "F2", "P2"})),
    "employment": ("Employment (or training that is not an apprenticeship)", frozenset({"F5", "P5"})),
    "training": ("Apprenticeship", frozenset({"F4", "P4"})),
    "neet": ("Not in education, employment or training (NEET)", vocab.NEET_ACTIVITIES),
    "unknown": ("Not known", frozenset({"0", None})),
}
AGE_BANDS = {"16-17": ("16 to 17", 16, 18), "18-20": ("18 to 20", 18, 21), "21-25": ("21 to 25", 21, 26)}
REVIEWS = {"overdue": "Overdue", "due": "Due soon or overdue"}
SORTS = {"last_contact": "Longest without contact first", "review_due": "Pathway review due soonest first",
         "name": "Name (A to Z)", "age": "Oldest first"}
STATUSES = {"open": "Open cases", "closed": "Closed cases"}


class CaseloadQuery(BaseModel):
    """The caseload's filters, search, sort and page, as the filter panel sends them (a GET form)."""

    status: Literal["open", "closed"] = Field("open", title="Cases")
    in_touch: list[vocab.InTouch] = Field(default_factory=list, title="In touch")
    activity: list[Literal["education", "employment", "training", "neet", "unknown"]] = Field(
        default_factory=list, title="Activity")
    age_band: list[Literal["16-17", "18-20", "21-25"]] = Field(default_factory=list, title="Age")
    has_match: Literal["yes", "no"] | None = Field(None, title="Match under way")
    review: Literal["overdue", "due"] | None = Field(None, title="Pathway plan review")
    q: str = Field("", max_length=100, title="Name or case reference")
    sort: Literal["last_contact", "review_due", "name", "age"] = Field("last_contact", title="Sort by")
    page: int = Field(1, ge=1, le=100_000, title="Page")


CaseloadPage = Page  # the caseload's page of young people


def born_by(today: date, years: int) -> date:
    """The latest date of birth of someone who is at least `years` old today (birthday() turned around)."""
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # today is 29 February: someone born on 1 March that year is not yet that age
        return date(today.year - years, 2, 28)


def review_due_on(reviewed_on: date | None, today: date) -> date:
    """A pathway plan's next review: six months after the last; due now if there has been none."""
    return add_months(reviewed_on, REVIEW_EVERY_MONTHS) if reviewed_on else today


def _reviewed_on_or_before(due_before: date) -> date:
    """The latest last-review date whose next review falls before `due_before` (month ends clamp, so search)."""
    candidate = add_months(due_before, -REVIEW_EVERY_MONTHS) + timedelta(days=4)
    while add_months(candidate, REVIEW_EVERY_MONTHS) >= due_before:
        candidate -= timedelta(days=1)
    return candidate


def _conditions(session: Session, viewer: Any, query: CaseloadQuery, today: date) -> list[Any]:
    found = [*scopes.caseload(viewer), CareLeaver.case_status == query.status]
    if query.in_touch:
        found.append(CareLeaver.in_touch.in_(query.in_touch))
    if query.activity:
        codes = set().union(*(ACTIVITY_GROUPS[group][1] for group in query.activity))
        known = sorted(code for code in codes if code is not None)
        either = [CareLeaver.current_activity.in_(known)] if known else []
        found.append(sa.or_(*either, *([CareLeaver.current_activity.is_(None)] if None in codes else [])))
    if query.age_band:
        bands = [AGE_BANDS[band] for band in query.age_band]
        # at least `low` years old and not yet `high`: born on or before one day, and after another
        found.append(sa.or_(*(sa.and_(CareLeaver.date_of_birth <= born_by(today, low),
                                      CareLeaver.date_of_birth > born_by(today, high)) for _, low, high in bands)))
    if query.has_match:
        under_way = sa.exists().where(Match.care_leaver_id == CareLeaver.id, Match.state.in_(sorted(UNDER_WAY)))
        found.append(under_way if query.has_match == "yes" else ~under_way)
    if query.review:
        within = 0
        if query.review == "due":
            follow_up = council_settings.load(session, council_settings.FollowUpSettings)
            within = follow_up.pathway_due_within_days + 1
        latest = _reviewed_on_or_before(today + timedelta(days=within))
        found.append(CareLeaver.pathway_plan_reviewed_on.is_(None) | (CareLeaver.pathway_plan_reviewed_on <= latest))
    for word in query.q.split()[:4]:
        found.append(_text_matches(session, word))
    return found


def _text_matches(session: Session, word: str) -> Any:
    """The word anywhere in the name or case reference, case aside (within the caseload's own rows)."""
    pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    columns = (CareLeaver.case_reference, CareLeaver.first_name, CareLeaver.preferred_name, CareLeaver.family_name)
    sqlite = session.get_bind().dialect.name == "sqlite"  # SQLite's LIKE already ignores (ASCII) case
    return sa.or_(*((column.like if sqlite else column.ilike)(pattern, escape="\\") for column in columns))


def _order(sort: str) -> list[Any]:
    return {
        "last_contact": [CareLeaver.last_contact_on.asc().nulls_first(), CareLeaver.id],
        "review_due": [CareLeaver.pathway_plan_reviewed_on.asc().nulls_first(), CareLeaver.id],
        "name": [sa.func.lower(sa.func.coalesce(CareLeaver.family_name, "")),
                 sa.func.lower(sa.func.coalesce(CareLeaver.preferred_name, CareLeaver.first_name)), CareLeaver.id],
        "age": [CareLeaver.date_of_birth.asc(), CareLeaver.id],
    }[sort]


ROW_COLUMNS = (CareLeaver.id, CareLeaver.case_reference, CareLeaver.first_name, CareLeaver.preferred_name,
               CareLeaver.family_name, CareLeaver.date_of_birth, CareLeaver.in_touch, CareLeaver.current_activity,
               CareLeaver.last_contact_on, CareLeaver.pathway_plan_reviewed_on, CareLeaver.case_status)


def search(session: Session, viewer: Any, query: CaseloadQuery, *, today: date,
           per_page: int = PER_PAGE) -> CaseloadPage:
    """One page of the viewer's caseload: the filters, search and sort in SQL, a count, and each row's
    matches under way (one statement for the page). A page past the end gives the last page."""
    conditions = _conditions(session, viewer, query, today)
    total = session.execute(sa.select(sa.func.count()).select_from(CareLeaver).where(*conditions)).scalar_one()
    pages = max(1, -(-total // per_page))
    page = min(query.page, pages)
    rows = session.execute(sa.select(*ROW_COLUMNS).where(*conditions).order_by(*_order(query.sort))
                           .limit(per_page).offset((page - 1) * per_page)).all()
    ids = [row.id for row in rows]
    under_way: dict[int, list[str]] = {}
    if ids:
        for person_id, state in session.execute(sa.select(Match.care_leaver_id, Match.state).where(
                Match.care_leaver_id.in_(ids), Match.state.in_(sorted(UNDER_WAY))).order_by(Match.id)):
            under_way.setdefault(person_id, []).append(state)
    follow_up = council_settings.load(session, council_settings.FollowUpSettings)
    quiet_before = today - timedelta(weeks=follow_up.not_in_touch_weeks)
    found = []
    for row in rows:
        due = review_due_on(row.pathway_plan_reviewed_on, today)
        found.append({
            "id": row.id, "case_reference": row.case_reference, "name": full_name(row),
            "age": age(row.date_of_birth, today), "in_touch": row.in_touch, "activity": row.current_activity,
            "neet": row.current_activity in vocab.NEET_ACTIVITIES, "last_contact_on": row.last_contact_on,
            "days_since_contact": (today - row.last_contact_on).days if row.last_contact_on else None,
            "quiet": row.last_contact_on is None or row.last_contact_on < quiet_before,
            "review_due_on": due, "review_overdue": row.pathway_plan_reviewed_on is None or due < today,
            "matches_under_way": under_way.get(row.id, []), "case_status": row.case_status,
        })
    return CaseloadPage(found, total, page, per_page)


def full_name(person: Any) -> str:
    return " ".join(part for part in (person.preferred_name or person.first_name, person.family_name) if part)


def age(born: date, today: date) -> int:
    years = today.year - born.year
    return years if birthday(born, years) <= today else years - 1


def in_scope(session: Session, viewer: Any, care_leaver_id: int) -> CareLeaver:
    """The care leaver, if the viewer may see them; otherwise NotFound (ids cannot be probed)."""
    person = session.exec(select(CareLeaver).where(CareLeaver.id == care_leaver_id,
                                                   *scopes.caseload(viewer))).first()
    if person is None:
        raise NotFound("care leaver", care_leaver_id)
    return person


# The record's statements, built once: building a select costs more CPU than SQLite takes to answer it, and
# the young person's page runs these five on every view.
_PERSON_ID, _MATCH_IDS = sa.bindparam("person_id"), sa.bindparam("match_ids", expanding=True)
_MATCHES = (sa.select(Match, Mentor.job_title, User.full_name, Opportunity.title, Opportunity.reference)
            .outerjoin(Mentor, Mentor.id == Match.mentor_id).outerjoin(User, User.id == Mentor.user_id)
            .outerjoin(Opportunity, Opportunity.id == Match.opportunity_id)
            .where(Match.care_leaver_id == _PERSON_ID).order_by(Match.created_at.desc(), Match.id.desc()))
_MATCH_EVENTS = (sa.select(MatchEvent).where(MatchEvent.match_id.in_(_MATCH_IDS))
                 .order_by(MatchEvent.at, MatchEvent.id))
_CHECK_INS = sa.select(CheckIn).where(CheckIn.match_id.in_(_MATCH_IDS)).order_by(CheckIn.due_on, CheckIn.id)
# Who recorded each contact and case event, joined to it rather than looked up after.
_CONTACTS = (sa.select(Contact, User.full_name).outerjoin(User, User.id == Contact.by_id)
             .where(Contact.care_leaver_id == _PERSON_ID)
             .order_by(Contact.contact_on.desc(), Contact.id.desc()).limit(50))
_CASE_EVENTS = (sa.select(CaseEvent, User.full_name).outerjoin(User, User.id == CaseEvent.actor_id)
                .where(CaseEvent.care_leaver_id == _PERSON_ID).order_by(CaseEvent.at.desc(), CaseEvent.id.desc()))


def record(session: Session, viewer: Any, care_leaver_id: int, *, today: date) -> dict[str, Any]:
    """Everything an adviser (or manager) may see of one young person, besides the engine's alternatives:
    nine statements at most, none per row and none for names alone (each name is joined to what shows it)."""
    found = session.execute(sa.select(CareLeaver, User.full_name)
                            .outerjoin(User, User.id == CareLeaver.personal_adviser_id)
                            .where(CareLeaver.id == care_leaver_id, *scopes.caseload(viewer))).first()
    if found is None:
        raise NotFound("care leaver", care_leaver_id)
    person, adviser = found
    matches, check_ins = _matches(session, person.id)
    contacts, contact_names = _named(session.execute(_CONTACTS, {"person_id": person.id}).all())
    case_events, actor_names = _named(session.execute(_CASE_EVENTS, {"person_id": person.id}).all())
    due = review_due_on(person.pathway_plan_reviewed_on, today)
    follow_up = council_settings.load(session, council_settings.FollowUpSettings)
    return {
        "person": person, "name": full_name(person), "age": age(person.date_of_birth, today),
        "adviser": adviser,
        "suitable": vocab.accommodation_suitable(person.accommodation),
        "matches": matches, "contacts": contacts, "case_events": case_events,
        "names": {**contact_names, **actor_names},
        "check_ins": [(m, check) for m in matches for check in check_ins.get(m["match"].id, [])],
        "review": {"reviewed_on": person.pathway_plan_reviewed_on, "due_on": due,
                   "overdue": person.pathway_plan_reviewed_on is None or due < today,
                   "due_soon": due <= today + timedelta(days=follow_up.pathway_due_within_days)},
        "days_since_contact": (today - person.last_contact_on).days if person.last_contact_on else None,
        "entitlements": offer.standing(session, person, today),
        "closure": cases.closure_rule(person, today),
        "reopen_refusal": cases.reopen_refusal(person, today) if person.case_status == "closed" else None,
    }


def _matches(session: Session, care_leaver_id: int) -> tuple[list[dict[str, Any]], dict[int, list[CheckIn]]]:
    """The young person's matches, newest first, each with what it is and its history; and their check-ins."""
    rows = session.execute(_MATCHES, {"person_id": care_leaver_id}).all()
    match_ids = [row.Match.id for row in rows]
    events: dict[int, list[MatchEvent]] = {}
    check_ins: dict[int, list[CheckIn]] = {}
    if match_ids:
        for event in session.execute(_MATCH_EVENTS, {"match_ids": match_ids}).scalars():
            events.setdefault(event.match_id, []).append(event)
        for check in session.execute(_CHECK_INS, {"match_ids": match_ids}).scalars():
            check_ins.setdefault(check.match_id, []).append(check)
    matches = []
    for row in rows:
        match = row.Match
        what = (f"Mentor: {row.full_name or row.job_title}, {row.job_title}" if match.mentor_id
                else f"{row.title} ({row.reference})")
        history = events.get(match.id, [])
        changed = history[-1].at if history else match.updated_at
        matches.append({"match": match, "what": what, "under_way": match.state in UNDER_WAY,
                        "proposed_on": _local_day(match.created_at), "changed_on": _local_day(changed),
                        "events": history})
    return matches, check_ins


def _named(rows: list[Any]) -> tuple[list[Any], dict[int, str]]:
    """Rows of (a contact or case event, the full name of who recorded it): the records, and id -> name."""
    return [row for row, _ in rows], {_recorded_by(row): name for row, name in rows if name is not None}


def _recorded_by(row: Any) -> int | None:
    return row.by_id if isinstance(row, Contact) else row.actor_id


def _local_day(moment: datetime) -> date:
    return moment.astimezone(ZONE).date()


def alternatives(session: Session, care_leaver_id: int, *, today: date, limit: int = 5) -> dict[str, Any]:
    """The engine's ranked alternatives of each kind, with reasons and the rules that excluded the rest.
    The engine is imported here, not at the top: it is slow to import and only this page needs it."""
    from matching import engine

    return engine.alternatives(session, care_leaver_id, today=today, limit=limit)
