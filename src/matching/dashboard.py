"""The managers' overview: how many young people are on each attention list, by the intervals the manager set.

Counting means building every list (tens of thousands of rows at London scale, over a second), so the counts
are kept for a minute in each process and the page says when they were made. The lists themselves, which
advisers act on, are always read fresh.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from threading import Lock

from sqlmodel import Session

from matching import cases, clock, council_settings, offer

KEPT_FOR = timedelta(minutes=1)


@dataclass(frozen=True)
class Counts:
    rows: dict[str, int]
    counted_at: datetime


def attention_counts(session: Session, today: date) -> dict[str, int]:
    follow_up = council_settings.load(session, council_settings.FollowUpSettings)

    def count(listing) -> int:
        return len(cases.attention(session, listing, today=today, follow_up=follow_up))

    return {
        "Not in touch": count(cases.not_in_touch),
        "Pathway reviews due or overdue": count(cases.pathway_reviews),
        "Check-ins overdue": count(cases.overdue_check_ins),
        f"Mentoring with no meeting for {follow_up.no_meeting_days} days": count(cases.no_recent_meeting),
        "Waiting with no approved match": count(cases.waiting),
        "Entitlements not told or not applied": offer.missed_count(session, today=today),
    }


_KEPT: dict[tuple, Counts] = {}
_COUNTING = Lock()  # one request counts while the others wait for its answer, rather than all counting at once


def recent_counts(session: Session, today: date) -> Counts:
    """`attention_counts`, made at most a minute ago for this database, day and follow-up settings."""
    key = (str(session.get_bind().url), today,
           council_settings.version_of(session, council_settings.FollowUpSettings))
    with _COUNTING:
        kept = _KEPT.get(key)
        if kept is None or clock.utcnow() - kept.counted_at >= KEPT_FOR or kept.counted_at > clock.utcnow():
            _KEPT.clear()
            kept = _KEPT[key] = Counts(attention_counts(session, today), clock.utcnow())
        return kept
