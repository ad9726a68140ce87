"""Reading a spreadsheet into numbered rows of text, whatever the file type, one row at a time.

A file is never read whole: CSV rows come from a csv reader over the open file and XLSX rows from
openpyxl's read-only (streaming) mode, so an import's memory does not grow with the file. Rows and
columns are capped, so a sheet that claims A1:XFD1048576 cannot make anything that size."""

import codecs
import csv
import itertools
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROW_LIMIT = 200_000  # data rows in one file; a bigger export is split (the limit keeps one import bounded)
COLUMN_LIMIT = 300  # columns read; the widest layout has 32
CELL_LIMIT = 128 * 1024  # characters in a CSV cell (the csv module's own limit): no column holds more
_CHUNK = 1 << 20
_SEPARATORS = re.compile(r"[\s\-_\u2010-\u2015]+")  # spaces (any), hyphens and dashes, underscores


class FileProblem(ValueError):
    """Something that stops the file being read (at `row`, 0 for the file itself), worded for whoever
    exported it."""

    def __init__(self, reason: str, row: int = 0, column: str = "file"):
        super().__init__(reason)
        self.row, self.column = row, column


@dataclass(frozen=True)
class Line:
    number: int  # as the person sees it in their spreadsheet: the header is row 1
    cells: list[str]
    problems: list[tuple[int, str]] = field(default_factory=list)  # (0-based column, reason)


@dataclass(frozen=True)
class Row:
    number: int
    values: dict[str, str]
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, reason) found while reading


@contextmanager
def open_sheet(path: Path, *, formulas: bool = True) -> Iterator[tuple[list[str], Iterator[Line]]]:
    """The header's cells, and an iterator over the non-empty rows below it (read as they are asked for).
    Raises FileProblem (a ValueError) for a file that cannot be read at all. `formulas`: look for formulas
    with no saved value (a second reading of a workbook; not needed again once a file is checked)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        opened = _csv(path)
    elif suffix in {".xlsx", ".xlsm"}:
        opened = _xlsx(path, formulas)
    else:
        raise FileProblem(f"{path.name} is not a .csv or .xlsx file: save it from Excel as one of those")
    with opened as lines:
        first = next(lines, None)
        header = first.cells if first else []
        yield header, _data(lines)


def read_rows(path: Path) -> list[Row]:
    """Every data row at once, keyed by the header as written (for small files and tests)."""
    with open_sheet(path) as (header, lines):
        names = [normal_header(cell) for cell in header]
        return [Row(line.number, {n: c for n, c in zip(names, line.cells, strict=False) if n}) for line in lines]


def normal_header(text: str) -> str:
    """'Case  Reference', 'Case-Reference', 'case reference' (a non-breaking space) all read case_reference."""
    text = text.replace("\ufeff", "").replace("\u00a0", " ").replace("\u2011", "-").strip().lower()
    return "_".join(part for part in _SEPARATORS.split(text) if part)


def _data(lines: Iterator[Line]) -> Iterator[Line]:
    count = 0
    for line in lines:
        if not any(line.cells) and not line.problems:
            continue
        count += 1
        if count > ROW_LIMIT:
            raise FileProblem(f"the file has more than {ROW_LIMIT:,} rows, more than one import takes: split it "
                              f"into files of up to {ROW_LIMIT:,} rows", row=line.number)
        yield line


# --- CSV --------------------------------------------------------------------------------------------------

@contextmanager
def _csv(path: Path) -> Iterator[Iterator[Line]]:
    encoding = _encoding(path)
    with path.open(newline="", encoding=encoding) as handle:
        yield _csv_lines(csv.reader(handle))


def _csv_lines(reader) -> Iterator[Line]:
    number = 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field larger" in str(error):
                raise FileProblem(f"a cell is longer than {CELL_LIMIT // 1024} KiB ({CELL_LIMIT:,} characters), "
                                  "more than any column holds: is a closing quote (\") missing?",
                                  row=number) from None
            raise FileProblem(f"the row cannot be read as CSV ({error})", row=number) from None
        if len(cells) > COLUMN_LIMIT:
            cells = cells[:COLUMN_LIMIT + 1]  # one past the limit, so the width is still reported
        text = [cell.strip() for cell in cells]
        yield Line(number, text, _control_characters(text))
        number += 1


def _encoding(path: Path) -> str:
    """UTF-8 (with or without Excel's byte-order mark), else Windows-1252 (Excel's plain "CSV" on Windows).
    Decoded chunk by chunk, so detecting costs no memory."""
    with path.open("rb") as handle:
        start = handle.read(4)
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise FileProblem(f"{path.name} is saved as Unicode text (UTF-16): in Excel choose Save As, "
                          "then \"CSV UTF-8 (Comma delimited)\"")
    if start.startswith(b"PK\x03\x04"):
        raise FileProblem(f"{path.name} is an Excel workbook named .csv: rename it to .xlsx, or save it as CSV")
    for encoding in ("utf-8-sig", "cp1252"):
        if _decodes(path, encoding):
            return encoding
    raise FileProblem(f"{path.name} is not readable text (neither UTF-8 nor Windows-1252): in Excel choose "
                      "Save As, then \"CSV UTF-8 (Comma delimited)\"")


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(_CHUNK):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


# --- XLSX -------------------------------------------------------------------------------------------------

@contextmanager
def _xlsx(path: Path, check_formulas: bool) -> Iterator[Iterator[Line]]:
    from openpyxl import load_workbook  # only when a workbook is read

    try:
        values = load_workbook(path, read_only=True, data_only=True)
        formulas = load_workbook(path, read_only=True, data_only=False) if check_formulas else None
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:  # a workbook is a zip archive
        if isinstance(error, FileNotFoundError):
            raise FileProblem(f"{path.name} does not exist") from None
        raise FileProblem(f"{path.name} is not an Excel workbook: save it again as .xlsx or .csv") from None
    try:
        if not values.worksheets:
            raise FileProblem(f"{path.name} has no worksheet: put the rows on the first sheet")
        yield _damage_reported(path, _xlsx_lines(values.worksheets[0], formulas and formulas.worksheets[0]))
    finally:
        values.close()
        if formulas:
            formulas.close()


def _damage_reported(path: Path, lines: Iterator[Line]) -> Iterator[Line]:
    """A workbook damaged part-way (a broken archive member, malformed XML) is a problem with the file."""
    number = 0
    try:
        for line in lines:
            number = line.number
            yield line
    except (zipfile.BadZipFile, SyntaxError, KeyError, ValueError, OSError) as error:
        if isinstance(error, FileProblem):
            raise
        raise FileProblem(f"{path.name} is damaged after row {number} and cannot be read: open it in Excel and "
                          "save it again", row=number + 1) from None


def _xlsx_lines(sheet, formula_sheet) -> Iterator[Line]:
    # The sheet's claimed size is ignored (it may say A1:XFD1048576): each row is as wide as its last cell.
    sheet.reset_dimensions()
    rows = sheet.iter_rows(values_only=True)
    written = itertools.repeat(())
    if formula_sheet is not None:
        formula_sheet.reset_dimensions()
        written = formula_sheet.iter_rows(values_only=True)
    for number, (cells, as_written) in enumerate(zip(rows, written, strict=False), start=1):
        cells = cells[:COLUMN_LIMIT + 1]
        text = [_text(cell) for cell in cells]
        problems = _control_characters(text) + [
            (index, f"cell {column_letter(index)}{number} is a formula with no saved value ({formula[:60]}): open the "
                    "file in Excel, let it calculate and save it, or paste the values")
            for index, (cell, formula) in enumerate(zip(cells, as_written, strict=False))
            if cell is None and isinstance(formula, str) and formula.startswith("=")]
        yield Line(number, text, problems)


def _control_characters(cells: list[str]) -> list[tuple[int, str]]:
    return [(index, "holds a NUL character (an invisible control code, often from a damaged export), which "
                    "cannot be stored: retype the cell") for index, cell in enumerate(cells) if "\x00" in cell]


def column_letter(index: int) -> str:
    """A 0-based column index as a spreadsheet names it: 0 → A, 26 → AA."""
    name = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        name = chr(65 + rest) + name
    return name



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

