"""The managers' overview: how many young people are on each attention list (each count a link to the named
list behind it), and the charts of the last twelve months read from the history tables.

Counting means building every list (tens of thousands of rows at London scale, over a second), so the lists
and charts are kept for a minute in each process, and the pages say when they were made. A count's link opens
the kept list it counted: the two agree, and a page of it costs only that page's names (read fresh).

Every figure is made by one set-based query per chart (per series: every month end at once), never one per
row: the history is 40,000 match events and 25,000 contacts for a London borough.
"""

import statistics
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from threading import RLock
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session

from matching import cases, clock, council_settings, mentoring, offer, pipeline, vocab
from matching.caseload import CaseloadPage, full_name
from matching.coltypes import UTCDateTime, days_between
from matching.dates import add_months
from matching.lifecycle import HOLDING, STATE_LABELS
from matching.models import (
    CareLeaver,
    CheckIn,
    Contact,
    Department,
    Match,
    MatchEvent,
    Mentor,
    OfferItem,
    Opportunity,
    Outcome,
    User,
)

KEPT_FOR = timedelta(minutes=1)
MONTHS = 12
PER_PAGE = 50


# The named lists behind the counts -------------------------------------------------------------------------

@dataclass(frozen=True)
class Listing:
    """One attention list as the overview names it: its address, its title (given the manager's settings),
    the domain function that builds it, and what its "days" and "date" columns mean."""

    slug: str
    title: Callable[[Any], str]
    rows: Callable[[Session, date, Any], list[dict]]
    days_heading: str | None  # None: the list has no days or date column (entitlements)
    on_heading: str | None


def _attention(listing: Callable[..., list[dict]]) -> Callable[[Session, date, Any], list[dict]]:
    return lambda session, today, follow_up: cases.attention(session, listing, today=today, follow_up=follow_up)


def _entitlements(session: Session, today: date, _follow_up: Any) -> list[dict]:
    return offer.missed(session, today=today)


LISTINGS = [
    Listing("not-in-touch", lambda _: "Not in touch", _attention(cases.not_in_touch),
            "Days since contact", "Last contact"),
    Listing("reviews", lambda _: "Pathway reviews due or overdue", _attention(cases.pathway_reviews),
            "Days overdue", "Review due"),
    Listing("check-ins", lambda _: "Check-ins overdue", _attention(cases.overdue_check_ins),
            "Days overdue", "Check-in due"),
    Listing("no-meetings", lambda f: f"Mentoring with no meeting for {f.no_meeting_days} days",
            _attention(cases.no_recent_meeting), "Days since meeting", "Last meeting"),
    Listing("waiting", lambda _: "Waiting with no approved match", _attention(cases.waiting),
            "Days since the case opened", "Case opened"),
    Listing("entitlements", lambda _: "Entitlements not told or not applied", _entitlements, None, None),
    Listing("stale-matches", lambda _: "Matches with no next step or outcome", _attention(pipeline.stale_matches),
            "Days overdue", "Since"),
    Listing("lapsed-vetting", lambda _: "Mentoring whose mentor's checks have lapsed",
            _attention(mentoring.lapsed_vetting), "Days overdue", "Lapsed on"),
    Listing("unallocated", lambda _: "With no personal adviser", _attention(cases.unallocated),
            "Days with no adviser", "Since"),
]
BY_SLUG = {listing.slug: listing for listing in LISTINGS}


def _days_and_date(slug: str, row: dict, person: Any, today: date,
                   labels: dict[str, str]) -> tuple[int | None, date | None, str]:
    """A list row's days overdue or since, the date they count from, and what else it says, in words
    (`labels`: the local offer's entitlements by code)."""
    if slug == "not-in-touch":
        return row["days_since_contact"], row["last_contact_on"], "" if row["last_contact_on"] else "No contact"
    if slug == "reviews":
        late = (today - row["due_on"]).days
        return max(late, 0), row["due_on"], "Overdue" if row["overdue"] else f"Due in {-late} days"
    if slug == "check-ins":
        return row["days_overdue"], row["due_on"], f"{row['label']} check-in"
    if slug == "no-meetings":
        return row["days_since"], row["last_meeting_on"], "" if row["last_meeting_on"] else "No meeting logged"
    if slug == "waiting":
        opened = person.created_at.astimezone(clock.ZONE).date() if person else None  # the London day
        return ((today - opened).days if opened else None), opened, ""
    if slug == "unallocated":
        return row["days_unallocated"], row["unallocated_since"], ""
    if slug == "stale-matches":
        return row["days_overdue"], row["since"], row["title"]
    if slug == "lapsed-vetting":
        return row["days_overdue"], row["lapsed_on"], f"{row['check_words'].capitalize()} of {row['mentor']}"
    return None, None, f"{labels.get(row['code'], row['code'])}: {row['missing']}"


@dataclass(frozen=True)
class NamedRow:
    care_leaver_id: int
    name: str
    case_reference: str
    adviser: str
    days: int | None
    on: date | None
    detail: str


@dataclass(frozen=True)
class NamedList:
    listing: Listing
    title: str
    found: CaseloadPage  # rows, total, page and per page (the caseload's own paging)
    counted_at: datetime | None = None  # when the rows were made, for a kept list


def named_list(session: Session, slug: str, today: date, *, page: int | None = 1, per_page: int = PER_PAGE,
               rows: list[dict] | None = None) -> NamedList | None:
    """The list behind one overview count, with each young person's and adviser's name (None: no such list).
    `page=None` gives every row (the CSV download); a page past the end gives the last page. `rows`: the list
    as already built (`recent_lists`), so the list is the one the overview counted; built here when not given."""
    listing = BY_SLUG.get(slug)
    if listing is None:
        return None
    follow_up = council_settings.load(session, council_settings.FollowUpSettings)
    rows = listing.rows(session, today, follow_up) if rows is None else rows
    labels = dict(session.execute(sa.select(OfferItem.code, OfferItem.label)).all()) if slug == "entitlements" else {}
    return NamedList(listing, listing.title(follow_up), _named_page(
        session, rows, page, per_page, lambda row, person: _days_and_date(slug, row, person, today, labels)))


def _named_page(session: Session, rows: list[dict], page: int | None, per_page: int,
                described: Callable[[dict, Any], tuple[int | None, date | None, str]]) -> CaseloadPage:
    """One page of `rows` (every row when `page` is None; a page past the end is the last), each named with
    the young person's and adviser's names; `described(row, person)` gives its days, date and notes."""
    if page is None:
        number, shown, size = 1, rows, max(len(rows), 1)
    else:
        number = min(max(page, 1), max(1, -(-len(rows) // per_page)))
        shown, size = rows[(number - 1) * per_page:number * per_page], per_page
    people = _people(session, {row["care_leaver_id"] for row in shown})
    named = []
    for row in shown:
        person = people.get(row["care_leaver_id"])
        days, on, detail = described(row, person)
        named.append(NamedRow(row["care_leaver_id"], full_name(person) if person else "Unknown",
                              person.case_reference if person else "",
                              (person.adviser if person else None) or "No adviser", days, on, detail))
    return CaseloadPage(named, len(rows), number, size)


_ADVISER = aliased(User, name="adviser")
# Built once, so its cache key is worked out once, not on every list page (the ids are bound at each call).
_PEOPLE = (sa.select(CareLeaver.id, CareLeaver.first_name, CareLeaver.preferred_name, CareLeaver.family_name,
                     CareLeaver.case_reference, CareLeaver.created_at, _ADVISER.full_name.label("adviser"))
           .outerjoin(_ADVISER, _ADVISER.id == CareLeaver.personal_adviser_id)
           .where(CareLeaver.id.in_(sa.bindparam("ids", expanding=True))))


def _people(session: Session, ids: set[int]) -> dict[int, Any]:
    """Names, case references, when each case opened and the adviser's name: a few queries of 1,000 ids."""
    wanted, found = sorted(ids), {}
    for start in range(0, len(wanted), 1000):
        found |= {row.id: row for row in session.execute(_PEOPLE, {"ids": wanted[start:start + 1000]})}
    return found


def csv_rows(found: NamedList) -> list[list[object]]:
    """The list as a file: a heading row, then one row per young person (dates as 2026-11-23)."""
    listing = found.listing
    days, dated = listing.days_heading is not None, listing.on_heading is not None
    head = ["Name", "Case reference", "Personal adviser", *([listing.days_heading] if days else []),
            *([listing.on_heading] if dated else []), "Notes"]
    return [head] + [[row.name, row.case_reference, row.adviser, *([row.days] if days else []),
                      *([row.on.isoformat() if row.on else ""] if dated else []), row.detail]
                     for row in found.found.rows]


# The counts ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Count:
    slug: str
    label: str
    count: int


def attention_counts(session: Session, today: date) -> list[Count]:
    """Each list's length (the entitlements counted in the database: 25,000 rows are not needed for a number)."""
    follow_up = council_settings.load(session, council_settings.FollowUpSettings)
    return [Count(listing.slug, listing.title(follow_up),
                  offer.missed_count(session, today=today) if listing.slug == "entitlements"
                  else len(listing.rows(session, today, follow_up))) for listing in LISTINGS]


# The charts: the last twelve months ------------------------------------------------------------------------

def months(today: date, count: int = MONTHS) -> list[date]:
    """The first day of each of the last `count` months, this one last."""
    this_month = today.replace(day=1)
    return [add_months(this_month, offset) for offset in range(1 - count, 1)]


def midnight(day: date) -> datetime:
    """The start of a London day: months begin at London's midnight, an hour before UTC's in summer."""
    return datetime.combine(day, time(), clock.ZONE)


def month_of(column: Any, starts: list[Any]) -> Any:
    """The index of the month a date or time falls in (the same CASE on SQLite and PostgreSQL)."""
    return sa.case(*[(column >= start, index) for index, start in reversed(list(enumerate(starts)))])


@dataclass(frozen=True)
class Monthly:
    """Figures by month: `months` (first days) and, per series name, one value per month."""

    months: list[date]
    series: dict[str, list[int | float | None]] = field(default_factory=dict)


# The states a match reached, grouped as a manager reads them.
STAGES = {"Proposed": {"proposed"}, "Approved": {"approved"}, "Started": {"introduced", "started"},
          "Turned down or withdrawn": {"rejected", "withdrawn", "not_successful"},
          "Finished or ended": {"completed", "sustained_6m", "ended_early"}}


def _reached(today: date) -> tuple[Any, tuple]:
    """The match events of the twelve months: the expression giving each one's month, and the conditions. The
    by-state chart counts these events and a figure's list names them, so the two cannot disagree."""
    starts = months(today)
    bounds = [midnight(start) for start in starts]
    return month_of(MatchEvent.at, bounds), (MatchEvent.at >= bounds[0],
                                             MatchEvent.at < midnight(add_months(starts[-1], 1)))


def matches_by_state(session: Session, today: date) -> Monthly:
    """How many matches reached each stage in each month (from the match history)."""
    month, where = _reached(today)
    query = (sa.select(month.label("month"), MatchEvent.to_state, sa.func.count()).where(*where)
             .group_by(month, MatchEvent.to_state))
    counted = {(index, state): number for index, state, number in session.execute(query)}
    return Monthly(months(today), {stage: [sum(counted.get((index, state), 0) for state in states)
                                           for index in range(MONTHS)] for stage, states in STAGES.items()})


START_STATES = {"introduced", "started"}  # a mentor and mentee introduced; a job or placement started


def _days_between(session: Session, today: date, *, to_states: set[str], from_state: str | None,
                  since_state: str) -> list[list[float]]:
    """For each month, the days from the latest `since_state` event to each event into `to_states` that month."""
    starts = months(today)
    bounds = [midnight(start) for start in starts]
    earlier = aliased(MatchEvent)
    since = (sa.select(sa.func.max(earlier.at)).where(earlier.match_id == MatchEvent.match_id,
                                                      earlier.to_state == since_state, earlier.at <= MatchEvent.at)
             .scalar_subquery())
    month = month_of(MatchEvent.at, bounds)
    query = sa.select(month, days_between(MatchEvent.at, since)).where(
        MatchEvent.to_state.in_(to_states), MatchEvent.at >= bounds[0],
        MatchEvent.at < midnight(add_months(starts[-1], 1)))
    if from_state:
        query = query.where(MatchEvent.from_state == from_state)
    found: list[list[float]] = [[] for _ in starts]
    for index, days in session.execute(query):
        if days is not None:  # no earlier `since_state` event
            found[index].append(days)
    return found


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def decision_times(session: Session, today: date) -> Monthly:
    """Median days from a proposal to its decision (approved or rejected), and from approval to the start (an
    introduction or a job started), by the month of the decision or the start."""
    decided = _days_between(session, today, to_states={"approved", "rejected"}, from_state="proposed",
                            since_state="proposed")
    started = _days_between(session, today, to_states=START_STATES, from_state=None, since_state="approved")
    return Monthly(months(today), {"Proposal to decision": [_median(days) for days in decided],
                                   "Approval to start": [_median(days) for days in started]})


@dataclass(frozen=True)
class DepartmentPlaces:
    department: str
    offered: int
    filled: int
    department_id: int | None = None  # what a figure's link asks for


FILLED = {"started"}  # a place is filled when someone starts in it


def _filled_places() -> Any:
    """Each match that filled a place (someone started in it), with its department, young person, when they
    first started and the opportunity's title: the chart counts these rows by department, a figure lists them."""
    started = (sa.select(MatchEvent.match_id, sa.func.min(MatchEvent.at).label("started_at"))
               .where(MatchEvent.to_state.in_(FILLED)).group_by(MatchEvent.match_id).subquery())
    return (sa.select(Opportunity.department_id, Match.care_leaver_id, started.c.started_at, Opportunity.title)
            .select_from(Match).join(started, started.c.match_id == Match.id)
            .join(Opportunity, Opportunity.id == Match.opportunity_id))


def places_by_department(session: Session, today: date) -> list[DepartmentPlaces]:
    """Places offered (every opportunity published, not drafts) and filled (a young person started), by
    department, largest first."""
    offered = dict(session.execute(
        sa.select(Opportunity.department_id, sa.func.sum(Opportunity.places))
        .where(Opportunity.status != "draft").group_by(Opportunity.department_id)).all())
    filling = _filled_places().subquery()
    filled = dict(session.execute(sa.select(filling.c.department_id, sa.func.count())
                                  .group_by(filling.c.department_id)).all())
    names = dict(session.execute(sa.select(Department.id, Department.name)).all())
    found = [DepartmentPlaces(names.get(key, "Unknown"), int(offered.get(key) or 0), int(filled.get(key) or 0), key)
             for key in set(offered) | set(filled)]
    return sorted(found, key=lambda row: (-row.offered, row.department))


def _outcomes_recorded(today: date) -> tuple:
    """The outcomes of the last twelve months: what the chart counts by kind and a figure's list names."""
    return Outcome.recorded_on >= months(today)[0], Outcome.recorded_on <= today


def outcomes_by_kind(session: Session, today: date) -> dict[str, int]:
    """Outcomes recorded in the last twelve months, by kind (the codes, as matching.vocab.OUTCOME_KINDS)."""
    query = (sa.select(Outcome.kind, sa.func.count()).where(*_outcomes_recorded(today))
             .group_by(Outcome.kind).order_by(Outcome.kind))
    return dict(session.execute(query).all())


def month_ends(today: date, count: int = MONTHS) -> list[date]:
    """The last day of each of the last `count` months; today for this month."""
    return [min(add_months(start, 1) - timedelta(days=1), today) for start in months(today, count)]


def attention_over_time(session: Session, today: date, *, count: int = MONTHS) -> Monthly:
    """At the end of each of the last `count` months: how many open cases were not in touch (no contact in the
    manager's number of weeks before that day), and how many check-ins were overdue on matches then under way.
    One grouped query per series for all the month ends."""
    weeks = council_settings.load(session, council_settings.FollowUpSettings).not_in_touch_weeks
    ends = month_ends(today, count)
    return Monthly(months(today, count), {"Not in touch": _by_month(session, _not_in_touch(ends, weeks), ends),
                                          "Check-ins overdue": _by_month(session, _overdue_check_ins(ends), ends)})


def _by_month(session: Session, rows: Any, ends: list[date]) -> list[int]:
    """How many of `rows` (a query with a `month` column: the index of its day in `ends`) fall on each day."""
    found = rows.subquery()
    counted = dict(session.execute(sa.select(found.c.month, sa.func.count()).group_by(found.c.month)).all())
    return [counted.get(index, 0) for index in range(len(ends))]


def _month_end_days(ends: list[date]) -> Any:
    """The days of `ends` as a table: `month` (the index), `day` and `after` (the London midnight that ends it)."""
    return sa.union_all(*[sa.select(sa.literal(index).label("month"), sa.literal(day, sa.Date).label("day"),
                                    sa.literal(midnight(day + timedelta(days=1)), UTCDateTime).label("after"))
                          for index, day in enumerate(ends)]).subquery()


def _not_in_touch(ends: list[date], weeks: int) -> Any:
    """For each day in `ends` (its index: `month`): the cases open at its end with no contact from `weeks` before
    it up to it. A case closed with no date counts as closed throughout; the last-contact date stands in for
    contacts imported without a row. One query for every month end, a branch per day with that day's bounds as
    constants and the contacts of its weeks as one uncorrelated set (on SQLite a table of the days joined to the
    people, with a lookup per person and day, cost half as much again). The chart counts these rows by month;
    a month's figure lists them."""
    last_contact = CareLeaver.last_contact_on

    def on(index: int, day: date) -> Any:
        after, cutoff = midnight(day + timedelta(days=1)), day - timedelta(weeks=weeks)
        contacted = sa.select(Contact.care_leaver_id).where(Contact.contact_on >= cutoff, Contact.contact_on <= day)
        return (sa.select(sa.literal(index).label("month"), CareLeaver.id.label("care_leaver_id"), last_contact)
                .where(CareLeaver.created_at < after,
                       (CareLeaver.case_status == "open") | (CareLeaver.closed_at >= after),
                       CareLeaver.id.not_in(contacted),
                       # "none, or not in the window" as one condition: SQLite then reads the people once,
                       # not through three index searches (one per alternative) joined.
                       ~sa.func.coalesce(last_contact, date.min).between(cutoff, day)))
    return sa.union_all(*[on(index, day) for index, day in enumerate(ends)])


def _overdue_check_ins(ends: list[date]) -> Any:
    """For each day in `ends` (its index: `month`): the check-ins due before it and not done by its end, on
    matches whose state at its end held a slot or place. One query: each match's states as periods (from one
    event to the next), those holding a place at some month end kept, joined to the month ends (a query per
    month, with a subquery per check-in, took half a second). The chart counts these rows by month; a month's
    figure lists them."""
    # A check-in is overdue on some day of `ends` only if it was still not done on the first of them after it
    # was due: most are done within days, between two month ends, and are never read further.
    first_day_after = sa.case(*[(CheckIn.due_on < day, sa.literal(day, sa.Date)) for day in ends])
    candidates = (CheckIn.due_on < ends[-1], CheckIn.done_on.is_(None) | (CheckIn.done_on > first_day_after))
    # Only the matches with a check-in that could be overdue on one of the days (every event of each, so that
    # each period ends where it did).
    periods = (sa.select(MatchEvent.match_id, MatchEvent.to_state, MatchEvent.at.label("since"), sa.func.lead(
        MatchEvent.at).over(partition_by=MatchEvent.match_id, order_by=(MatchEvent.at, MatchEvent.id)).label(
        "until")).where(MatchEvent.match_id.in_(sa.select(CheckIn.match_id).where(*candidates)))).subquery()
    first_after, last_after = (midnight(day + timedelta(days=1)) for day in (ends[0], ends[-1]))
    # Filtered before the join (the window function has already seen every event): about a third of them.
    held = (sa.select(periods).where(periods.c.to_state.in_(set().union(*HOLDING.values())),
                                     periods.c.since < last_after,
                                     periods.c.until.is_(None) | (periods.c.until >= first_after))).subquery()
    days = _month_end_days(ends)
    return (sa.select(days.c.month, CheckIn.id.label("check_in_id"), CheckIn.match_id, CheckIn.due_on,
                      CheckIn.label)
            .select_from(held)
            # A check-in due after its period ended is never overdue in it (until >= a day's end > due_on): said
            # before the days are joined, it drops the check-ins left behind by ended matches.
            .join(CheckIn, (CheckIn.match_id == held.c.match_id)
                  & (held.c.until.is_(None) | (held.c.until > CheckIn.due_on)))
            .join(days, (held.c.since < days.c.after) & (held.c.until.is_(None) | (held.c.until >= days.c.after))
                  & (CheckIn.due_on < days.c.day) & (CheckIn.done_on.is_(None) | (CheckIn.done_on > days.c.day)))
            .where(*candidates))


# Chart drill-downs: the list behind each figure of a chart's table ----------------------------------------
# Each list is read with the very conditions its chart counted with (the `_reached`, `_filled_places`,
# `_outcomes_recorded`, `_not_in_touch` and `_overdue_check_ins` above), so a figure and its list agree.

@dataclass(frozen=True)
class Figure:
    """One figure of a chart's table, as its link names it: the chart, and its month (the first day), series
    (by name), department or outcome kind, whichever the chart has."""

    chart: str
    month: date | None = None
    series: str | None = None
    department_id: int | None = None
    kind: str | None = None

    def query(self) -> dict[str, str]:
        """The figure as its link's query (`?month=2026-05&series=approved`)."""
        asked = {"month": f"{self.month:%Y-%m}" if self.month else None,
                 "series": series_slug(self.series) if self.series else None,
                 "department": str(self.department_id) if self.department_id is not None else None,
                 "kind": self.kind}
        return {key: value for key, value in asked.items() if value is not None}


def series_slug(name: str) -> str:
    return name.lower().replace(" ", "-")


@dataclass(frozen=True)
class ChartListing:
    """What a chart's figures list: which of month, series, department and kind a figure names, the series
    its links may ask for, the list's days and date headings (by series; None: any series) and the function
    reading a figure's rows."""

    chart: str
    asks: tuple[str, ...]
    series: tuple[str, ...]
    headings: dict[str | None, tuple[str | None, str | None]]
    rows: Callable[[Session, date, Figure], list[dict]]
    title: Callable[[Session, Figure], str]


def _match_title() -> tuple[Any, Any]:
    """What a match is, in words ("Parks job", "Mentoring with Sam Patel"), and the outer joins it needs."""
    mentor_user = aliased(User)
    title = sa.case((Match.opportunity_id.is_not(None), Opportunity.title),
                    else_=sa.literal("Mentoring with ") + sa.func.coalesce(mentor_user.full_name, "a mentor"))

    def joined(query: Any) -> Any:
        return (query.outerjoin(Opportunity, Opportunity.id == Match.opportunity_id)
                .outerjoin(Mentor, Mentor.id == Match.mentor_id)
                .outerjoin(mentor_user, mentor_user.id == Mentor.user_id))
    return title.label("title"), joined


def _london_day(moment: Any) -> date:
    moment = datetime.fromisoformat(moment) if isinstance(moment, str) else moment  # MIN() on SQLite: text
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(clock.ZONE).date()


def _stage_rows(session: Session, today: date, figure: Figure) -> list[dict]:
    """The events counted in one month's figure of a stage: who, when and which match."""
    month, where = _reached(today)
    title, joined = _match_title()
    query = joined(sa.select(Match.care_leaver_id, MatchEvent.at, MatchEvent.to_state, title).select_from(MatchEvent)
                   .join(Match, Match.id == MatchEvent.match_id))
    query = query.where(*where, month == months(today).index(figure.month),
                        MatchEvent.to_state.in_(STAGES[figure.series])).order_by(MatchEvent.at, MatchEvent.id)
    return [{"care_leaver_id": row.care_leaver_id, "days": None, "on": _london_day(row.at),
             "detail": f"{STATE_LABELS.get(row.to_state, row.to_state)}: {row.title}"}
            for row in session.execute(query)]


def _filled_rows(session: Session, today: date, figure: Figure) -> list[dict]:
    """The matches counted as a department's places filled."""
    filling = _filled_places().subquery()
    query = (sa.select(filling).where(filling.c.department_id == figure.department_id)
             .order_by(filling.c.started_at, filling.c.care_leaver_id))
    return [{"care_leaver_id": row.care_leaver_id, "days": None, "on": _london_day(row.started_at),
             "detail": row.title} for row in session.execute(query)]


def _outcome_rows(session: Session, today: date, figure: Figure) -> list[dict]:
    """The outcomes of one kind counted in the twelve months."""
    title, joined = _match_title()
    query = joined(sa.select(Match.care_leaver_id, Outcome.recorded_on, title).select_from(Outcome)
                   .join(Match, Match.id == Outcome.match_id))
    query = query.where(*_outcomes_recorded(today), Outcome.kind == figure.kind).order_by(Outcome.recorded_on,
                                                                                          Outcome.id)
    return [{"care_leaver_id": row.care_leaver_id, "days": None, "on": row.recorded_on, "detail": row.title}
            for row in session.execute(query)]


def _month_end(today: date, figure: Figure) -> date:
    return month_ends(today)[months(today).index(figure.month)]


def _not_in_touch_rows(session: Session, today: date, figure: Figure) -> list[dict]:
    """Who was not in touch at the end of the month (the chart's query for that one month end), each with their
    last contact by then and the days since: the contacts' latest by person in one grouped query, not one
    subquery per person."""
    day = _month_end(today, figure)
    weeks = council_settings.load(session, council_settings.FollowUpSettings).not_in_touch_weeks
    absent = _not_in_touch([day], weeks).subquery()
    last_rows = (sa.select(Contact.care_leaver_id, sa.func.max(Contact.contact_on).label("last_row"))
                 .where(Contact.contact_on <= day).group_by(Contact.care_leaver_id).subquery())
    query = (sa.select(absent.c.care_leaver_id, absent.c.last_contact_on,
                       sa.type_coerce(last_rows.c.last_row, sa.Date).label("last_row"))
             .outerjoin(last_rows, last_rows.c.care_leaver_id == absent.c.care_leaver_id)
             .order_by(absent.c.care_leaver_id))
    found = []
    for row in session.execute(query):
        seen = [on if isinstance(on, date) else date.fromisoformat(on) for on in (row.last_row, row.last_contact_on)
                if on is not None]
        last = max((on for on in seen if on <= day), default=None)
        found.append({"care_leaver_id": row.care_leaver_id, "days": (day - last).days if last else None,
                      "on": last, "detail": "" if last else "No contact by then"})
    return sorted(found, key=lambda row: (row["on"] is not None, row["on"] or date.min))


def _overdue_rows(session: Session, today: date, figure: Figure) -> list[dict]:
    """The check-ins overdue at the end of the month, with the days each was overdue on that day (the chart's
    query for that one month end: a list need not join every month's)."""
    day = _month_end(today, figure)
    overdue = _overdue_check_ins([day]).subquery()
    title, joined = _match_title()
    query = joined(sa.select(overdue.c.due_on, overdue.c.label, Match.care_leaver_id, title).select_from(overdue)
                   .join(Match, Match.id == overdue.c.match_id)).order_by(overdue.c.due_on, overdue.c.check_in_id)
    return [{"care_leaver_id": row.care_leaver_id, "days": (day - row.due_on).days, "on": row.due_on,
             "detail": f"{row.label or 'A'} check-in: {row.title}"} for row in session.execute(query)]


def _attention_rows(session: Session, today: date, figure: Figure) -> list[dict]:
    return (_not_in_touch_rows if figure.series == "Not in touch" else _overdue_rows)(session, today, figure)


def _department_name(session: Session, figure: Figure) -> str:
    return session.get(Department, figure.department_id).name


ATTENTION_SERIES = ("Not in touch", "Check-ins overdue")
CHART_LISTINGS = {listing.chart: listing for listing in [
    ChartListing("by-state", ("month", "series"), tuple(STAGES), {None: (None, "Date")}, _stage_rows,
                 lambda _, f: f"{f.series}: matches in {f.month:%B %Y}"),
    ChartListing("places", ("department", "series"), ("Filled",), {None: (None, "Started on")}, _filled_rows,
                 lambda session, f: f"Places filled: {_department_name(session, f)}"),
    ChartListing("outcomes", ("kind",), (), {None: (None, "Recorded on")}, _outcome_rows,
                 lambda _, f: f"Outcomes in the last 12 months: {vocab.OUTCOME_KINDS[f.kind].lower()}"),
    ChartListing("attention", ("month", "series"), ATTENTION_SERIES,
                 {"Not in touch": ("Days since contact", "Last contact"),
                  "Check-ins overdue": ("Days overdue at the month's end", "Check-in due")}, _attention_rows,
                 lambda _, f: f"{f.series} at the end of {f.month:%B %Y}"),
]}


def read_figure(session: Session, chart: str, asked: dict[str, str], today: date) -> tuple[Figure | None, dict]:
    """The figure a link asks for, or the problems with it by field (`month`, `series`, `department`, `kind`),
    in words. (None, {}): no such chart."""
    listing = CHART_LISTINGS.get(chart)
    if listing is None:
        return None, {}
    errors, found = {}, {}
    shown = months(today)
    if "month" in listing.asks:
        by_month = {f"{start:%Y-%m}": start for start in shown}
        found["month"] = by_month.get(asked.get("month", "").strip())
        if found["month"] is None:
            errors["month"] = (f"Month must be one of the chart's 12 months, written as {shown[0]:%Y-%m} to "
                               f"{shown[-1]:%Y-%m}")
    if "series" in listing.asks:
        by_slug = {series_slug(name): name for name in listing.series}
        found["series"] = by_slug.get(asked.get("series", "").strip().lower())
        if found["series"] is None:
            errors["series"] = f"Series must be one of: {', '.join(by_slug)}"
    if "department" in listing.asks:
        raw = asked.get("department", "").strip()
        department = session.get(Department, int(raw)) if raw.isdigit() and len(raw) < 10 else None
        found["department_id"] = department.id if department else None
        if department is None:
            errors["department"] = "Department must be the number of one of the council's departments"
    if "kind" in listing.asks:
        found["kind"] = asked.get("kind", "").strip()
        if found["kind"] not in vocab.OUTCOME_KINDS:
            errors["kind"] = f"Kind must be one of the outcome kinds: {', '.join(vocab.OUTCOME_KINDS)}"
    return (None, errors) if errors else (Figure(chart, **found), {})


def chart_list(session: Session, figure: Figure, today: date, *, page: int | None = 1,
               per_page: int = PER_PAGE) -> NamedList:
    """The young people behind one figure of a chart's table (one row per event, match, outcome or check-in the
    figure counted), paged as the attention lists are; `page=None` gives every row (the CSV). The figure's rows
    are kept for a minute, as the attention lists are: working them out takes up to a second at London scale,
    and its pages, its CSV and the next manager's click then cost a page of names."""
    chart = CHART_LISTINGS[figure.chart]
    title = chart.title(session, figure)
    days_heading, on_heading = chart.headings.get(figure.series) or chart.headings[None]
    listing = Listing(f"charts/{figure.chart}", lambda _: title, lambda *_: [], days_heading, on_heading)
    rows, counted_at = _kept(session, ("chart", figure), today,
                             lambda: (chart.rows(session, today, figure), clock.utcnow()))
    return NamedList(listing, title, _named_page(session, rows, page, per_page,
                                                 lambda row, _person: (row["days"], row["on"], row["detail"])),
                     counted_at)


# Kept for a minute ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class KeptLists:
    """Every attention list, by slug, as built at `counted_at`."""

    lists: dict[str, list[dict]]
    counted_at: datetime


@dataclass(frozen=True)
class Overview:
    counts: list[Count]
    by_state: Monthly
    times: Monthly
    places: list[DepartmentPlaces]
    outcomes: dict[str, int]
    attention: Monthly
    counted_at: datetime

    @property
    def rows(self) -> dict[str, int]:
        return {count.label: count.count for count in self.counts}


_KEPT: dict[tuple, tuple[datetime, Any]] = {}
# One request counts while the others wait for its answer, rather than all counting at once (re-entrant:
# the overview is made from the kept lists).
_COUNTING = RLock()


def _kept(session: Session, what: Hashable, today: date, make: Callable[[], Any]) -> Any:
    """`make()`, made at most a minute ago for this database, day and follow-up settings (a change to the
    settings is a new key, so it is made again at once)."""
    key = (what, str(session.get_bind().url), today,
           council_settings.version_of(session, council_settings.FollowUpSettings))
    with _COUNTING:
        now = clock.utcnow()
        for old in [k for k, (made, _) in _KEPT.items() if now - made >= KEPT_FOR or made > now]:
            del _KEPT[old]
        if key not in _KEPT:
            _KEPT[key] = (now, make())
        return _KEPT[key][1]


def forget_kept() -> None:
    """Nothing kept: the next overview and lists are made from the database (benchmarks time that)."""
    with _COUNTING:
        _KEPT.clear()


def recent_lists(session: Session, today: date) -> KeptLists:
    """Every attention list, built at most a minute ago: the overview counts them, and a count's link opens the
    same list (so the two agree, and a list page costs a page of names, not the whole list again)."""
    def build() -> KeptLists:
        follow_up = council_settings.load(session, council_settings.FollowUpSettings)
        return KeptLists({listing.slug: listing.rows(session, today, follow_up) for listing in LISTINGS},
                         clock.utcnow())
    return _kept(session, "lists", today, build)


def recent_counts(session: Session, today: date) -> Overview:
    """The overview: each kept list's length, and the charts, made at most a minute ago."""
    def build() -> Overview:
        kept = recent_lists(session, today)
        follow_up = council_settings.load(session, council_settings.FollowUpSettings)
        counts = [Count(listing.slug, listing.title(follow_up), len(kept.lists[listing.slug])) for listing in LISTINGS]
        return Overview(counts, matches_by_state(session, today), decision_times(session, today),
                        places_by_department(session, today), outcomes_by_kind(session, today),
                        attention_over_time(session, today), kept.counted_at)
    return _kept(session, "overview", today, build)
