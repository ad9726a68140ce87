"""Every report that downloads as a table: its name (the page's path and the command's), its title, whether it
is for a year (1 April to 31 March), and its rows (header first), so the pages' CSV and XLSX downloads and
`springboard report NAME` are made from one list. The statutory return (reports/oc3.py) is not here: its file
is produced only once its rows pass the return's checks.

The reports are imported when their rows are asked for, so `springboard --help` stays quick."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class TableReport:
    name: str
    title: str
    yearly: bool
    rows: Callable[[Any, int | None, date], list[list[object]]]  # (session, year or None, today)

    @property
    def audit_name(self) -> str:
        return self.name.replace("-", "_")


def _cohort(session, _year, today: date) -> list[list[object]]:
    from matching.reports import cohort
    return cohort.flat_rows(cohort.cohort(session, today=today))


def _outcomes(session, year, _today: date) -> list[list[object]]:
    from matching.reports import outcomes
    return outcomes.flat_rows(outcomes.outcomes(session, year))


def _keeping_in_touch(session, _year, today: date) -> list[list[object]]:
    from matching.reports import keeping_in_touch
    return keeping_in_touch.flat_rows(keeping_in_touch.keeping_in_touch(session, today))


def _local_offer(session, _year, today: date) -> list[list[object]]:
    from matching.reports import local_offer
    return local_offer.flat_rows(local_offer.local_offer(session, today=today))


def _housing(session, year, today: date) -> list[list[object]]:
    from matching.reports import housing
    return housing.flat_rows(housing.housing(session, year, today=today))


REPORTS = {report.name: report for report in (
    TableReport("cohort", "Cohort", False, _cohort),
    TableReport("outcomes", "Outcomes", True, _outcomes),
    TableReport("keeping-in-touch", "Keeping in touch", False, _keeping_in_touch),
    TableReport("local-offer", "Local offer", False, _local_offer),
    TableReport("housing", "Housing", True, _housing),
)}


def file_name(report: TableReport, year: int | None, today: date, extension: str) -> str:
    period = f"{year - 1}-{year}" if report.yearly and year else today.isoformat()
    return f"{report.name}-{period}.{extension}"
