"""Spreadsheet input shared by every XLSX format: open a workbook, stream its first sheet's rows."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

from cs_audit.parsers.canonical_csv import FileUnreadable, ProblemSink
from cs_audit.parsers.zipsafety import UnsafeArchive, check_archive

SheetRow = tuple[Any, ...]
# Text a workbook's cells may hold per byte of its unpacked XML, with a floor for small ones. Each
# cell costs XML ("<c r="E5" t="s"><v>0</v></c>"), so real exports hold about one character per
# byte; a shared string of a million characters named by every cell holds millions per byte.
TEXT_PER_BYTE = 16
MIN_TEXT_BUDGET = 64 << 20


def is_blank_row(row: Sequence[Any]) -> bool:
    """True when no cell of ``row`` holds anything but whitespace (such rows are not records)."""
    return all(value is None or str(value).strip() == "" for value in row)


def cell_at(row: Sequence[Any], position: int) -> Any:
    """The value at ``position``; None past the end (read-only rows stop at their last cell)."""
    return row[position] if position < len(row) else None


@contextmanager
def first_sheet_rows(path: Path, problems: ProblemSink | None = None
                     ) -> Iterator[Iterator[tuple[int, SheetRow]]]:
    """Open a workbook read-only and yield ``(row_number, values)`` for the first sheet's non-blank rows.

    Row numbers are the sheet's own, so a problem points at the row a user sees in Excel.
    Every row the sheet holds is read, whatever its ``<dimension>`` claims (exports that
    declare less than they hold are common, and a claim of A1:XFD1048576 must not make every
    row 16,384 cells wide). Formula cells are read as their formula text: in a chat export,
    "=…" is what somebody typed and Excel took for a formula, and it has no cached value to
    read anyway. Raises FileUnreadable when the archive is refused as a possible zip bomb
    (checked before opening), is not a workbook openpyxl can read, or its sheet breaks before
    the first row. A sheet that breaks later (malformed XML, a date cell out of range) ends
    there: the rows before it are yielded and the break is reported to ``problems`` as a
    problem at the row after the last one read; without ``problems`` it raises FileUnreadable.
    """
    try:
        unpacked = check_archive(path)
    except UnsafeArchive as error:
        raise FileUnreadable(1, str(error)) from None
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise FileUnreadable(1, f"not a readable XLSX workbook: {error}") from None
    # openpyxl parses the XML with defusedxml when it is installed (it is a dependency).
    from openpyxl import load_workbook  # deferred: 0.2 s, and most inputs are CSV

    with path.open("rb") as handle:
        # A handle, not the path: openpyxl refuses a path whose extension is not .xlsx, and a
        # workbook saved as chats.csv is still a workbook.
        try:
            workbook = load_workbook(handle, read_only=True, data_only=False)
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()
        # openpyxl raises whatever its XML parser, zipfile or converters raise on a damaged
        # part (SyntaxError, KeyError, IndexError, TypeError…): all mean "not a readable workbook".
        except Exception as error:  # noqa: BLE001
            raise FileUnreadable(1, f"not a readable XLSX workbook: {_described(error)}") from None
        try:
            yield _rows_until_damage(sheet.iter_rows(values_only=True), problems,
                                     max(MIN_TEXT_BUDGET, TEXT_PER_BYTE * unpacked))
        finally:
            workbook.close()


def _rows_until_damage(rows: Iterator[SheetRow], problems: ProblemSink | None,
                       text_budget: int) -> Iterator[tuple[int, SheetRow]]:
    number = text = 0
    while True:
        if text > text_budget:
            reason = (f"the sheet's cells hold more than {text_budget:,} characters of text, far more "
                      "than the workbook's XML: one shared string repeated in many cells; refused "
                      f"after row {number} as a possible amplification attack")
            if problems is None:
                raise FileUnreadable(number + 1, reason)
            problems.problem(number + 1, reason)
            return
        try:
            row = next(rows)
        except StopIteration:
            return
        except Exception as error:  # noqa: BLE001  (as in first_sheet_rows: a damaged sheet)
            reason = (f"the sheet cannot be read after row {number}: {_described(error)}; "
                      "the rows before it are read, the rest is not (re-save the workbook in Excel "
                      "or export it again)")
            if problems is None or number == 0:
                raise FileUnreadable(number + 1, reason) from None
            problems.problem(number + 1, reason)
            return
        number += 1
        text += sum(len(value) for value in row if type(value) is str)
        if not is_blank_row(row):
            yield number, row


def _described(error: Exception) -> str:
    return f"{type(error).__name__}: {error}" if str(error) else type(error).__name__


def first_sheet_head(path: Path, limit: int) -> list[SheetRow]:
    """Up to ``limit`` first non-blank rows of the first sheet, for sniffing; [] if unreadable."""
    try:
        with first_sheet_rows(path) as rows:
            return [row for _, row in islice(rows, limit)]
    # Sniffing must never crash the run: a damaged workbook is reported by the parser that
    # reads it, and openpyxl raises many unrelated exception types on broken archives.
    except Exception:  # noqa: BLE001
        return []
