"""Moves the system date, as every Python process of a moved-date run sees it, by MOVE_SYSTEM_DATE_DAYS.

`make test-moved-dates` puts this folder on PYTHONPATH, so the test runner, its workers and every process
they start (`springboard serve`, the CLI) start a year ahead or behind. Every test fixes the service's own
clock (matching/clock.py), so a result that changes here means something read the real date. The
monotonic clock is left alone: faketime moves it too, and Python's timed waits on locks then sleep for
the whole shifted year (found when faketime hung the suite).
"""

import os

if days := os.environ.get("MOVE_SYSTEM_DATE_DAYS"):
    from datetime import timedelta

    import time_machine

    time_machine.travel(timedelta(days=int(days)), tick=True).start()  # a timedelta: from the real now
