"""The one clock: fixed by tests and `--today`, still ticking, in London's day, and the only reader of the date."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

from matching import clock
from matching.clock import CLOCK, ZONE

ROOT = Path(__file__).parent.parent
SYSTEM_DATE = re.compile(r"\b(date\.today|datetime\.now|datetime\.utcnow|time\.time)\(")


def test_a_fixed_clock_gives_its_day_and_still_ticks():
    with CLOCK.fixed(date(2030, 2, 28)):
        first, second = clock.utcnow(), clock.utcnow()
        assert clock.today() == date(2030, 2, 28) and second >= first and first.tzinfo is UTC
        assert first.astimezone(ZONE).hour == 12


def test_today_is_the_day_in_london_not_in_utc():
    with CLOCK.fixed(datetime(2026, 6, 30, 23, 30, tzinfo=UTC)):  # 00:30 on 1 July in British Summer Time
        assert clock.today() == date(2026, 7, 1)
    with CLOCK.fixed(datetime(2026, 12, 31, 23, 30, tzinfo=UTC)):  # GMT in winter: still 31 December
        assert clock.today() == date(2026, 12, 31)


def test_fixed_restores_what_was_there():
    with CLOCK.fixed(date(2031, 1, 1)):
        with CLOCK.fixed(date(2032, 1, 1)):
            assert clock.today() == date(2032, 1, 1)
        assert clock.today() == date(2031, 1, 1)


def test_stored_timestamps_come_from_the_clock(session):
    from matching.models import Department

    with CLOCK.fixed(date(2029, 3, 4)):
        department = Department(name="Timed", code="TIME")
        session.add(department)
        session.flush()
        assert department.created_at.astimezone(ZONE).date() == date(2029, 3, 4)


def test_nothing_but_the_clock_asks_the_system_for_the_date():
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for folder in ("src", "fixtures", "notebooks", "bench")
             for path in (ROOT / folder).rglob("*.py") if path.name != "clock.py"
             for number, line in enumerate(path.read_text().splitlines(), 1) if SYSTEM_DATE.search(line)]
    assert found == []


def test_the_day_set_in_the_environment_reaches_every_process():
    """`springboard --today` exports it, so the server's worker processes keep the command's day."""
    import os
    import subprocess
    import sys

    found = subprocess.run([sys.executable, "-c", "from matching import clock; print(clock.today())"],
                           env=os.environ | {clock.TODAY_VARIABLE: "2031-05-06"}, capture_output=True, text=True,
                           check=True)
    assert found.stdout.strip() == "2031-05-06"
