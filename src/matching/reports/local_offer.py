"""The local offer, item by item: of the young people (open cases) eligible for it today, how many have not been
told of it, been told, applied, taken it up, or been checked and found not eligible. The columns do not overlap,
so each row adds up to those eligible, and the table goes through `suppression.suppress` like any other: no small
count can be read off the others and the total.

The council tax exemption is also split by where the young people live (care leavers are exempt wherever they
live, and councils report both): inside the borough (its postcode districts, `council_settings.CouncilSettings`),
outside it, and not known (no home area recorded). That split is a table of its own whose totals line is the
exemption's row of the main table, so the two are suppressed as one: the main table's row takes the split
table's totals, cell for cell, and nothing it shows can be set against the split to recover a small count.
"""

from dataclasses import dataclass, replace
from datetime import date

import sqlalchemy as sa
from sqlmodel import Session

from matching import council_settings, offer
from matching.models import CareLeaver, Entitlement
from matching.reports.suppression import SuppressedTable, suppress

COLUMNS = (("not_told", "Not told yet"), ("told", "Told, not applied"), ("applied", "Applied, not yet taken up"),
           ("taken_up", "Taken up"), ("not_eligible", "Checked: not eligible"))
SPLIT_BY_PLACE = "council_tax_exemption"  # exempt wherever they live: reported inside and outside the borough
PLACES = (("inside", "Living in the borough"), ("outside", "Living outside the borough"),
          ("not_known", "Where they live is not known"))


@dataclass(frozen=True)
class PlaceSplit:
    """One item's eligible young people by where they live (rows: PLACES) and where they stand (COLUMNS)."""

    item: str
    places: list[str]
    districts: list[str]  # the borough's postcode districts
    table: SuppressedTable  # column totals: the item's row of the main table

    def share(self, row: int, column: int) -> int | None:
        return _share(self.table, row, column)

    def shown_rows(self) -> list[list[str]]:
        """Each place's row, then the totals line: the item's row of the main table."""
        totals = [str(cell.shown) for cell in self.table.column_totals]
        return [*_shown_rows(self.places, self.table), ["Wherever they live", *totals, str(self.table.total.shown)]]


@dataclass(frozen=True)
class OfferReport:
    on: date
    items: list[str]  # the items' words, in the offer's order
    columns: list[str]
    table: SuppressedTable  # a row per item: its eligible young people by where they stand; row totals: eligible
    by_place: PlaceSplit | None = None  # the council tax exemption by where they live, when it is in the offer

    def share(self, row: int, column: int) -> int | None:
        """A column's share of the item's eligible young people, when both counts are shown."""
        return _share(self.table, row, column)

    def shown_rows(self) -> list[list[str]]:
        return _shown_rows(self.items, self.table)


def _shown_rows(labels: list[str], table: SuppressedTable) -> list[list[str]]:
    """Each row as the page shows it: its label, each count with its share of the row's eligible ("12 (40%)"),
    and the eligible."""
    return [[label, *(f"{cell.shown} ({share}%)" if (share := _share(table, row, column)) is not None
                      else str(cell.shown) for column, cell in enumerate(table.cells[row])),
             str(table.row_totals[row].shown)] for row, label in enumerate(labels)]


def _share(table: SuppressedTable, row: int, column: int) -> int | None:
    cell, total = table.cells[row][column], table.row_totals[row]
    return round(100 * cell.count / total.count) if cell.visible and total.visible and total.count else None


def local_offer(session: Session, *, today: date) -> OfferReport:
    items = offer.active_items(session)
    table = suppress([_standing_counts(session, item, today) for item in items])
    split_at = next((index for index, item in enumerate(items) if item.code == SPLIT_BY_PLACE), None)
    if split_at is None:
        return OfferReport(today, [item.label for item in items], [words for _, words in COLUMNS], table)
    districts = council_settings.load(session, council_settings.CouncilSettings).borough_districts
    split = suppress([_standing_counts(session, items[split_at], today, place)
                      for place in _place_conditions(districts)])
    # The exemption's row is the split's totals line, with the split's marks (see the module's note).
    cells = [*table.cells[:split_at], split.column_totals, *table.cells[split_at + 1:]]
    row_totals = [*table.row_totals[:split_at], split.total, *table.row_totals[split_at + 1:]]
    return OfferReport(today, [item.label for item in items], [words for _, words in COLUMNS],
                       replace(table, cells=cells, row_totals=row_totals),
                       PlaceSplit(items[split_at].label, [words for _, words in PLACES], list(districts), split))


def _place_conditions(districts: list[str]) -> list:
    """Inside the borough, outside it, not known: in PLACES' order (a blank home area is not known)."""
    area = sa.func.coalesce(CareLeaver.home_area, "")
    inside = CareLeaver.home_area.in_(districts) if districts else sa.false()
    return [inside, (area != "") & ~inside, area == ""]


def _standing_counts(session: Session, item, today: date, *where) -> list[int]:
    after, by = offer.age_window(item, today)
    status = sa.func.coalesce(Entitlement.status, "not_told")
    query = (sa.select(status, sa.func.count()).select_from(CareLeaver)
             .outerjoin(Entitlement, (Entitlement.care_leaver_id == CareLeaver.id)
                        & (Entitlement.offer_code == item.code))
             .where(CareLeaver.case_status == "open", CareLeaver.date_of_birth > after,
                    CareLeaver.date_of_birth <= by, *where)
             .group_by(status))
    if item.code in offer.CONDITIONS:
        query = query.where(offer.CONDITIONS[item.code].sql())
    counted = dict(session.execute(query).all())
    return [counted.get(key, 0) for key, _ in COLUMNS]


def flat_rows(report: OfferReport) -> list[list[object]]:
    lines: list[list[object]] = [["Entitlement", *report.columns, "Eligible"]]
    for item, cells, total in zip(report.items, report.table.cells, report.table.row_totals, strict=True):
        lines.append([item, *(cell.shown for cell in cells), total.shown])
    if split := report.by_place:
        for place, cells, total in zip(split.places, split.table.cells, split.table.row_totals, strict=True):
            lines.append([f"{split.item}: {place.lower()}", *(cell.shown for cell in cells), total.shown])
    return lines
