"""Keeping in touch and following up, month by month over the last twelve: young people not in touch and
check-ins overdue at each month's end (the figures the managers' overview charts, `dashboard.attention_over_time`),
with the contacts made and the cases closed and re-opened in each month. Each count under the threshold is
withheld; no totals across months are published (a month's "not in touch" is a state, not a sum), so no
secondary suppression is needed.
"""

from dataclasses import dataclass
from datetime import date

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


def keeping_in_touch(session: Session, today: date) -> KeepingInTouch:
    attention = dashboard.attention_over_time(session, today)
    starts = attention.months
    counted = {
        SERIES[0]: attention.series["Not in touch"], SERIES[1]: attention.series["Check-ins overdue"],
        SERIES[2]: _counted_by_month(session, starts, Contact.contact_on),
        **{name: _counted_by_month(session, starts, CaseEvent.at, CaseEvent.action == action, at_midnight=True)
           for name, action in ((SERIES[3], "closed"), (SERIES[4], "reopened"))},
    }
    return KeepingInTouch(starts, {name: [primary(int(value or 0)) for value in values]
                                   for name, values in counted.items()})


def _counted_by_month(session: Session, starts: list[date], column, *where, at_midnight: bool = False) -> list[int]:
    """How many rows fall in each month, by a date column (or, `at_midnight`, a time column: from London's
    midnight)."""
    bounds = [dashboard.midnight(day) if at_midnight else day for day in [*starts, add_months(starts[-1], 1)]]
    month = dashboard.month_of(column, bounds[:-1]).label("month")
    query = (sa.select(month, sa.func.count()).where(column >= bounds[0], column < bounds[-1], *where)
             .group_by(month))
    found = dict(session.execute(query).all())
    return [found.get(index, 0) for index in range(len(starts))]


def flat_rows(report: KeepingInTouch) -> list[list[object]]:
    return [["Measure", *(start.strftime("%B %Y") for start in report.months)],
            *([name, *(cell.shown for cell in cells)] for name, cells in report.rows.items())]
