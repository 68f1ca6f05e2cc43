"""Spreadsheet input shared by every XLSX format: open a workbook, stream its first sheet's rows."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from cs_audit.parsers.canonical_csv import FileUnreadable
from cs_audit.parsers.zipsafety import UnsafeArchive, check_archive

SheetRow = tuple[Any, ...]


def is_blank_row(row: Sequence[Any]) -> bool:
    """True when no cell of ``row`` holds anything but whitespace (such rows are not records)."""
    return all(value is None or str(value).strip() == "" for value in row)


def cell_at(row: Sequence[Any], position: int) -> Any:
    """The value at ``position``; None past the end (read-only rows stop at their last cell)."""
    return row[position] if position < len(row) else None


@contextmanager
def first_sheet_rows(path: Path) -> Iterator[Iterator[tuple[int, SheetRow]]]:
    """Open a workbook read-only and yield ``(row_number, values)`` for the first sheet's non-blank rows.

    Row numbers are the sheet's own, so a problem points at the row a user sees in Excel.
    Formula cells are read as their formula text: in a chat export, "=…" is what somebody
    typed and Excel took for a formula, and it has no cached value to read anyway.
    Raises FileUnreadable when the archive is refused as a possible zip bomb (checked before
    opening) or is not a workbook openpyxl can read.
    """
    try:
        check_archive(path)
        # openpyxl parses the XML with defusedxml when it is installed (it is a dependency).
        from openpyxl import load_workbook  # deferred: 0.2 s, and most inputs are CSV

        workbook = load_workbook(path, read_only=True, data_only=False)
    except UnsafeArchive as error:
        raise FileUnreadable(1, str(error)) from None
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise FileUnreadable(1, f"not a readable XLSX workbook: {error}") from None
    try:
        rows = workbook.worksheets[0].iter_rows(values_only=True)
        yield ((number, row) for number, row in enumerate(rows, start=1) if not is_blank_row(row))
    finally:
        workbook.close()


def first_sheet_head(path: Path, limit: int) -> list[SheetRow]:
    """Up to ``limit`` first non-blank rows of the first sheet, for sniffing; [] if unreadable."""
    try:
        with first_sheet_rows(path) as rows:
            return [row for _, row in islice(rows, limit)]
    # Sniffing must never crash the run: a damaged workbook is reported by the parser that
    # reads it, and openpyxl raises many unrelated exception types on broken archives.
    except Exception:  # noqa: BLE001
        return []
