"""Daily overdue reminders: each adviser is told how many of their young people are on each attention
list today, and the managers how many are on nobody's caseload (no adviser, or one who has left). Items of
the lists that must not wait a day for someone to open them (stale matches, live mentoring whose mentor's
checks have lapsed) are also told one by one, once, on the day they become overdue (`ITEM_NOTICES`).

The lists are the domain's own (`matching.cases`), called with the intervals the manager set, so the
reminder says what the adviser's pages say. The notice gives counts and a link, never who.
"""

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from jobs.registry import JobContext, scheduled
from matching import cases, council_settings, mentoring, notifications, pipeline
from matching.dates import in_words
from matching.models import User


@dataclass(frozen=True)
class Reminder:
    listing: Callable[..., list[dict]]
    words: str  # "{n} …", with the interval as {interval}
    counts: Callable[[dict], bool] = lambda item: True  # which of the list's items are overdue


# Each list's interval is the manager's (cases.INTERVALS, shared with the JSON API and the overview).
REMINDERS = (
    Reminder(cases.not_in_touch, "{n} not contacted for over {interval} weeks"),
    Reminder(cases.pathway_reviews, "{n} with a pathway-plan review overdue", counts=lambda item: item["overdue"]),
    Reminder(cases.overdue_check_ins, "{n} follow-up check-ins overdue"),
    Reminder(cases.no_recent_meeting, "{n} mentoring matches with no meeting for over {interval} days"),
    Reminder(cases.waiting, "{n} waiting over {interval} weeks with no approved match"),
    Reminder(pipeline.stale_matches, "{n} matches with no next step or outcome for longer than agreed"),
    Reminder(mentoring.lapsed_vetting, "{n} mentoring matches whose mentor's DBS check or safeguarding training "
                                       "has lapsed"),
)


@dataclass(frozen=True)
class ItemNotice:
    """A list whose items are each told once, when they become overdue: to the young person's adviser (to the
    managers when they have no active adviser) and, with `managers_too`, to every manager as well. The key
    names the item and the day it became overdue, so a second run, or the next day's, adds nothing, and an
    item that is put right and later falls overdue again is told again."""

    name: str
    listing: Callable[..., list[dict]]
    overdue_from: Callable[[dict], date]  # the day the item became overdue
    item: Callable[[dict], str]  # what the item is, for the key: the match and since when
    subject: str
    words: Callable[[dict], str]  # the notice's line: no names, nothing sensitive
    managers_too: bool = False


ITEM_NOTICES = (
    ItemNotice("stale", pipeline.stale_matches, lambda row: row["overdue_from"],
               lambda row: f"{row['kind']}:{row['match_id']}:{row['overdue_from']}",
               "Springboard: a match is waiting for its next step",
               lambda row: f"A young person's match has had {_stale_words(row)} since "
                           f"{in_words(row['since'])}. Please record its next step or outcome."),
    ItemNotice("vetting", mentoring.lapsed_vetting, lambda row: row["lapsed_on"],
               lambda row: f"{row['check']}:{row['match_id']}:{row['lapsed_on']}",
               "Springboard: a mentor's checks have lapsed",
               lambda row: f"A mentor's {row['check_words']} stopped counting on {in_words(row['lapsed_on'])}, "
                           "and their mentoring of a young person is still going on. Please arrange the "
                           "renewal today, or end the mentoring.", managers_too=True),
)


def _stale_words(row: dict) -> str:
    return {"no_next_step": "no next step", "no_outcome": "no outcome recorded",
            "no_meeting": "no meeting logged"}[row["kind"]]


CATCH_UP = timedelta(days=31)  # items that fell overdue while the worker was down are still told, as birthdays are


def tell_items(session: Session, base: str, found: "Overdue", advisers: dict[int, User], today: date) -> int:
    """Each item of ITEM_NOTICES' lists (as `overdue` built them) told once (the outbox key); how many notices
    were written. Only items that became overdue in the last CATCH_UP days are offered to the outbox: older
    ones were told then, and offering the whole backlog every day grew with it."""
    managers = notifications.active_managers(session)
    written = 0
    for told in ITEM_NOTICES:
        for row in found.rows[told.listing]:
            if today - told.overdue_from(row) > CATCH_UP:
                continue
            adviser = advisers.get(row["personal_adviser_id"])
            people = ([adviser] if adviser else []) + (managers if told.managers_too or not adviser else [])
            for person in people:
                written += notifications.notify(
                    session, key=f"overdue-item:{told.name}:{told.item(row)}:{person.id}", kind="overdue_item",
                    user=person, subject=told.subject, lines=[told.words(row)],
                    url=notifications.link(base, f"/matches/{row['match_id']}"))
    return written


@dataclass
class Overdue:
    """Today's overdue counts per adviser id (None: no adviser), by reminder, and the intervals used."""

    counts: dict[int | None, Counter]
    intervals: dict[Reminder, int | None]
    rows: dict[Callable, list[dict]]  # each list as built today, by its domain function

    def lines(self, adviser_ids) -> list[str]:
        """The reminder's lines for these advisers' young people together, in the order of REMINDERS."""
        total = sum((self.counts.get(i, Counter()) for i in adviser_ids), Counter())
        return [f"- {reminder.words.format(n=total[reminder], interval=self.intervals[reminder])}"
                for reminder in REMINDERS if total[reminder]]


def overdue(session: Session, today) -> Overdue:
    follow_up = council_settings.load(session, council_settings.FollowUpSettings)
    counts: dict[int | None, Counter] = defaultdict(Counter)
    intervals, rows = {}, {}
    for reminder in REMINDERS:
        intervals[reminder] = cases.interval_of(reminder.listing, follow_up)
        rows[reminder.listing] = cases.attention(session, reminder.listing, today=today, follow_up=follow_up)
        for item in rows[reminder.listing]:
            if reminder.counts(item):
                counts[item["personal_adviser_id"]][reminder] += 1
    return Overdue(dict(counts), intervals, rows)


@scheduled("overdue_reminders", "Tell each adviser what is overdue on their lists; managers what is on nobody's",
           hour=6, minute=30)
def overdue_reminders(context: JobContext) -> str:
    session, base, day = context.session, context.settings.service_url, context.today
    found = overdue(session, day)
    advisers = {user.id: user for user in session.exec(select(User).where(
        User.id.in_([i for i in found.counts if i is not None]), User.role == "adviser", User.active,
        User.closed_at.is_(None)).order_by(User.id))}
    unallocated = found.lines(i for i in found.counts if i not in advisers)
    written = 0
    for adviser_id, adviser in advisers.items():
        written += notifications.notify(
            session, key=f"overdue:{day}:{adviser_id}", kind="overdue", user=adviser,
            subject="Springboard: things are overdue on your lists",
            lines=["On your lists today:", *found.lines([adviser_id])], url=notifications.link(base, "/caseload"))
    for manager in notifications.active_managers(session) if unallocated else ():
        written += notifications.notify(
            session, key=f"overdue-unallocated:{day}:{manager.id}", kind="overdue", user=manager,
            subject="Springboard: young people on nobody's caseload have things overdue",
            lines=["Young people with no adviser, or one who has left, have things overdue today:", *unallocated],
            url=notifications.link(base, "/overview"))
    written += tell_items(session, base, found, _active_advisers(session), day)
    return f"{written} notices written for {len(advisers)} advisers"


def _active_advisers(session: Session) -> dict[int, User]:
    return {user.id: user for user in session.exec(select(User).where(
        User.role == "adviser", User.active, User.closed_at.is_(None)))}
