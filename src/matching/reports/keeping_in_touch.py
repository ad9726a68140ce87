"""Keeping in touch and following up, month by month over the last twelve (or fewer: `months`): young people
not in touch and check-ins overdue at each month's end (the figures the managers' overview charts,
`dashboard.attention_over_time`), with the contacts made and the cases closed and re-opened in each month. Each
count under the threshold is withheld; no totals across months are published (a month's "not in touch" is a
state, not a sum), so no secondary suppression is needed.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session

from matching import dashboard
from matching.dates import add_months
from matching.models import CaseEvent, Contact
from matching.reports.suppression import Cell, primary

SERIES = ("Not in touch at the month's end", "Check-ins overdue at the month's end", "Contacts made",
          "Cases closed", "Cases re-opened")


@dataclass(frozen=True)
class KeepingInTouch:
    months: list[date]
    rows: dict[str, list[Cell]]  # per series, one cell per month


def keeping_in_touch(session: Session, today: date, *, months: int = dashboard.MONTHS) -> KeepingInTouch:
    """The last `months` months, this one last (the annual report asks for one: the last month's end). Each
    series is one grouped query for all the months."""
    attention = dashboard.attention_over_time(session, today, count=months)
    starts = attention.months
    events = _counted_by_month(session, starts, CaseEvent.at, CaseEvent.action.in_(("closed", "reopened")),
                               by=CaseEvent.action, at_midnight=True)
    counted = {SERIES[0]: attention.series["Not in touch"], SERIES[1]: attention.series["Check-ins overdue"],
               SERIES[2]: _counted_by_month(session, starts, Contact.contact_on)[None],
               SERIES[3]: events["closed"], SERIES[4]: events["reopened"]}
    return KeepingInTouch(starts, {name: [primary(int(value or 0)) for value in values]
                                   for name, values in counted.items()})


def _counted_by_month(session: Session, starts: list[date], column, *where, by=None,
                      at_midnight: bool = False) -> dict[Any, list[int]]:
    """How many rows fall in each month, by a date column (or, `at_midnight`, a time column: from London's
    midnight), per value of `by` (every row under None when no `by`; a value with no rows: zeros)."""
    bounds = [dashboard.midnight(day) if at_midnight else day for day in [*starts, add_months(starts[-1], 1)]]
    month = dashboard.month_of(column, bounds[:-1]).label("month")
    keys = [] if by is None else [by]
    query = (sa.select(month, *keys, sa.func.count()).where(column >= bounds[0], column < bounds[-1], *where)
             .group_by(month, *keys))
    found: dict[Any, list[int]] = defaultdict(lambda: [0] * len(starts))
    for index, *key, number in session.execute(query):
        found[key[0] if key else None][index] = number
    return found


def flat_rows(report: KeepingInTouch) -> list[list[object]]:
    return [["Measure", *(start.strftime("%B %Y") for start in report.months)],
            *([name, *(cell.shown for cell in cells)] for name, cells in report.rows.items())]
