"""Reading a spreadsheet into numbered rows of text, whatever the file type."""

import csv
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook


@dataclass(frozen=True)
class Row:
    number: int  # as the person sees it in their spreadsheet: the header is row 1
    values: dict[str, str]


def read_rows(path: Path) -> list[Row]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        table = _csv(path)
    elif suffix in {".xlsx", ".xlsm"}:
        table = _xlsx(path)
    else:
        raise ValueError(f"{path.name}: expected a .csv or .xlsx file")
    if not table:
        return []
    header = [_header(cell) for cell in table[0]]
    return [
        Row(number, {name: _text(cell) for name, cell in zip(header, cells, strict=False) if name})
        for number, cells in enumerate(table[1:], start=2)
        if any(_text(cell) for cell in cells)
    ]


def _csv(path: Path) -> list[list[Any]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.reader(handle))


def _xlsx(path: Path) -> list[list[Any]]:
    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def _header(cell: Any) -> str:
    return str(cell or "").strip().lower().replace(" ", "_")


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, datetime):
        return cell.date().isoformat()
    if isinstance(cell, date):
        return cell.isoformat()
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()
