"""Daily overdue reminders: each adviser is told how many of their young people are on each attention
list today, and the managers how many are on nobody's caseload (no adviser, or one who has left).

The lists are the domain's own (`matching.cases`), called with the intervals the manager set, so the
reminder says what the adviser's pages say. The notice gives counts and a link, never who.
"""

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session, select

from jobs.registry import JobContext, scheduled
from matching import cases, council_settings, notifications
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
)


@dataclass
class Overdue:
    """Today's overdue counts per adviser id (None: no adviser), by reminder, and the intervals used."""

    counts: dict[int | None, Counter]
    intervals: dict[Reminder, int | None]

    def lines(self, adviser_ids) -> list[str]:
        """The reminder's lines for these advisers' young people together, in the order of REMINDERS."""
        total = sum((self.counts.get(i, Counter()) for i in adviser_ids), Counter())
        return [f"- {reminder.words.format(n=total[reminder], interval=self.intervals[reminder])}"
                for reminder in REMINDERS if total[reminder]]


def overdue(session: Session, today) -> Overdue:
    follow_up = council_settings.load(session, council_settings.FollowUpSettings)
    counts: dict[int | None, Counter] = defaultdict(Counter)
    intervals = {}
    for reminder in REMINDERS:
        intervals[reminder] = cases.interval_of(reminder.listing, follow_up)
        found = cases.attention(session, reminder.listing, today=today, follow_up=follow_up)
        for item in found:
            if reminder.counts(item):
                counts[item["personal_adviser_id"]][reminder] += 1
    return Overdue(dict(counts), intervals)


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
    return f"{written} notices written for {len(advisers)} advisers"
