"""Importing council spreadsheets (CSV, XLSX, and the SSD care-leaver extract): all rows or none."""

from matching.imports.load import KINDS, ImportFailed, ImportReport, RowError, import_file

__all__ = ["KINDS", "ImportFailed", "ImportReport", "RowError", "import_file"]
