"""The local offer, item by item: of the young people (open cases) eligible for it today, how many have not been
told of it, been told, applied, taken it up, or been checked and found not eligible. The columns do not overlap,
so each row adds up to those eligible, and the table goes through `suppression.suppress` like any other: no small
count can be read off the others and the total.
"""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session

from matching import offer
from matching.models import CareLeaver, Entitlement
from matching.reports.suppression import SuppressedTable, suppress

COLUMNS = (("not_told", "Not told yet"), ("told", "Told, not applied"), ("applied", "Applied, not yet taken up"),
           ("taken_up", "Taken up"), ("not_eligible", "Checked: not eligible"))


@dataclass(frozen=True)
class OfferReport:
    on: date
    items: list[str]  # the items' words, in the offer's order
    columns: list[str]
    table: SuppressedTable  # a row per item: its eligible young people by where they stand; row totals: eligible

    def share(self, row: int, column: int) -> int | None:
        """A column's share of the item's eligible young people, when both counts are shown."""
        cell, total = self.table.cells[row][column], self.table.row_totals[row]
        return round(100 * cell.count / total.count) if cell.visible and total.visible and total.count else None


def local_offer(session: Session, *, today: date) -> OfferReport:
    items = offer.active_items(session)
    return OfferReport(today, [item.label for item in items], [words for _, words in COLUMNS],
                       suppress([_standing_counts(session, item, today) for item in items]))


def _standing_counts(session: Session, item, today: date) -> list[int]:
    after, by = offer.age_window(item, today)
    status = sa.func.coalesce(Entitlement.status, "not_told")
    query = (sa.select(status, sa.func.count()).select_from(CareLeaver)
             .outerjoin(Entitlement, (Entitlement.care_leaver_id == CareLeaver.id)
                        & (Entitlement.offer_code == item.code))
             .where(CareLeaver.case_status == "open", CareLeaver.date_of_birth > after,
                    CareLeaver.date_of_birth <= by)
             .group_by(status))
    if item.code in offer.CONDITIONS:
        query = query.where(offer.CONDITIONS[item.code].sql())
    counted = dict(session.execute(query).all())
    return [counted.get(key, 0) for key, _ in COLUMNS]


def flat_rows(report: OfferReport) -> list[list[object]]:
    lines: list[list[object]] = [["Entitlement", *report.columns, "Eligible"]]
    for item, cells, total in zip(report.items, report.table.cells, report.table.row_totals, strict=True):
        lines.append([item, *(cell.shown for cell in cells), total.shown])
    return lines
