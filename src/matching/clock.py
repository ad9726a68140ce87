"""The service's one clock: "now" (aware UTC) and "today" (in Europe/London) for the API, the pages, the
CLI, the engine, the jobs and every stored timestamp a rule reads.

Nothing else in the service asks the system for the date. Tests, notebooks and `springboard --today`
(or SPRINGBOARD_TODAY=YYYY-MM-DD in the environment) fix the clock to a day; a fixed clock still ticks
(from noon in London on that day), so timestamps keep their order and a test or a command run of a few
minutes stays on its day.
"""

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Europe/London")


class Clock:
    def __init__(self) -> None:
        self._anchor: tuple[datetime, float] | None = None  # (fixed moment, monotonic reading then)

    def now(self) -> datetime:
        if self._anchor is None:
            return datetime.now(UTC)
        moment, reading = self._anchor
        return moment + timedelta(seconds=time.monotonic() - reading)

    def today(self) -> date:
        return self.now().astimezone(ZONE).date()

    def fix(self, day: date | datetime | None) -> None:
        """From now on, `day` (noon in London, or the moment given); None goes back to the system clock."""
        if day is None:
            self._anchor = None
            return
        moment = day if isinstance(day, datetime) else datetime(day.year, day.month, day.day, 12, tzinfo=ZONE)
        if moment.tzinfo is None:
            raise ValueError("naive datetime: give the clock an aware moment")
        self._anchor = (moment.astimezone(UTC), time.monotonic())

    @contextmanager
    def fixed(self, day: date | datetime) -> Iterator[None]:
        before = self._anchor
        self.fix(day)
        try:
            yield
        finally:
            self._anchor = before


CLOCK = Clock()
# `springboard --today DAY` sets this, so the server's worker processes, started apart from the command,
# keep the same day; tests set it for the services they start.
TODAY_VARIABLE = "SPRINGBOARD_TODAY"
if os.environ.get(TODAY_VARIABLE):
    CLOCK.fix(date.fromisoformat(os.environ[TODAY_VARIABLE]))


def utcnow() -> datetime:
    return CLOCK.now()


def today() -> date:
    return CLOCK.today()


def london_day(at: datetime) -> date:
    """The day a stored moment fell on in London (stored times are UTC)."""
    return at.astimezone(ZONE).date()
