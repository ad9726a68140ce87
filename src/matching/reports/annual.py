"""The annual report: one printable page for a year (1 April to 31 March) in plain words, built from the other
reports (so every figure in it is theirs, suppressed the same way): the cohort, matching and outcomes, the local
offer, keeping in touch."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from matching.reports import cohort, keeping_in_touch, local_offer, outcomes
from matching.reports.oc3 import CollectionYear
from matching.reports.suppression import Cell


@dataclass(frozen=True)
class AnnualReport:
    on: date
    year: CollectionYear
    steps: outcomes.CountTable  # the matching and outcomes report's first table: matches reaching each step
    cohort: cohort.CohortReport
    offer: local_offer.OfferReport
    in_touch: keeping_in_touch.KeepingInTouch  # its last month only: the page gives the last month's end

    def step_total(self, step: str) -> Cell:
        """All kinds' count of matches reaching a step in the year."""
        index = [key for key, _, _ in outcomes.STEPS].index(step)
        return self.steps.table.row_totals[index]

    def cohort_total(self) -> Cell:
        return self.cohort.tables[0].totals[-1]


def annual(session: Session, ending: int, *, today: date) -> AnnualReport:
    year = CollectionYear(ending)
    # The page shows of matching and outcomes only the steps by kind (the rest of that report, times, groups and
    # departments, was a quarter of this page's time at London scale), of the cohort only today's total (not its
    # trend by quarter), and of keeping in touch only the last month's end.
    return AnnualReport(on=today, year=year, steps=outcomes.steps(session, ending),
                        cohort=cohort.cohort(session, today=today, trend=False),
                        offer=local_offer.local_offer(session, today=today),
                        in_touch=keeping_in_touch.keeping_in_touch(session, today, months=1))


def in_words(cell: Cell, one: str, many: str) -> str:
    """'1 match', '240 matches', or 'fewer than 5 matches' / 'a withheld number of matches'."""
    shown = cell.shown
    if isinstance(shown, int):
        return f"{shown:,} {one if shown == 1 else many}"
    return f"{shown} {many}" if shown.startswith("fewer") else f"a withheld number of {many}"
