"""The annual report: one printable page for a year (1 April to 31 March) in plain words, built from the other
reports (so every figure in it is theirs, suppressed the same way): the cohort, matching and outcomes, the local
offer, keeping in touch."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from matching.reports import cohort, keeping_in_touch, local_offer, outcomes
from matching.reports.suppression import Cell


@dataclass(frozen=True)
class AnnualReport:
    on: date
    outcomes: outcomes.OutcomesReport
    cohort: cohort.CohortReport
    offer: local_offer.OfferReport
    in_touch: keeping_in_touch.KeepingInTouch

    def step_total(self, step: str) -> Cell:
        """All kinds' count of matches reaching a step in the year."""
        index = [key for key, _, _ in outcomes.STEPS].index(step)
        return self.outcomes.steps.table.row_totals[index]

    def cohort_total(self) -> Cell:
        return self.cohort.tables[0].totals[-1]


def annual(session: Session, ending: int, *, today: date) -> AnnualReport:
    return AnnualReport(on=today, outcomes=outcomes.outcomes(session, ending),
                        cohort=cohort.cohort(session, today=today),
                        offer=local_offer.local_offer(session, today=today),
                        in_touch=keeping_in_touch.keeping_in_touch(session, today))


def in_words(cell: Cell, one: str, many: str) -> str:
    """'1 match', '240 matches', or 'fewer than 5 matches' / 'a withheld number of matches'."""
    shown = cell.shown
    if isinstance(shown, int):
        return f"{shown:,} {one if shown == 1 else many}"
    return f"{shown} {many}" if shown.startswith("fewer") else f"a withheld number of {many}"
