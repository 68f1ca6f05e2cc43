"""Canonical XLSX (SPEC §2): the first sheet, a header row, one message a row."""

from __future__ import annotations

import zipfile
from pathlib import Path

from openpyxl import load_workbook

from cs_audit.parsers.canonical_csv import FileUnreadable
from cs_audit.parsers.records import ConversationBuilder, MissingColumns, map_header
from cs_audit.parsers.zipsafety import UnsafeArchive, check_archive


def parse_xlsx(path: Path, builder: ConversationBuilder, encoding: str = "auto") -> None:
    """Read the first sheet of a workbook into ``builder`` (streaming, read-only).

    Row numbers are the sheet's own, so a problem points at the row a user sees in Excel.
    Formula cells are read as their formula text: in a chat export, "=…" is what somebody
    typed and Excel took for a formula, and it has no cached value to read anyway.
    ``encoding`` is accepted for a uniform signature and ignored: XLSX is always UTF-8 XML.
    """
    try:
        check_archive(path)
        # openpyxl parses the XML with defusedxml when it is installed (it is a dependency).
        workbook = load_workbook(path, read_only=True, data_only=False)
    except UnsafeArchive as error:
        raise FileUnreadable(1, str(error)) from None
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise FileUnreadable(1, f"not a readable XLSX workbook: {error}") from None
    try:
        sheet = workbook.worksheets[0]
        positions: dict[int, str] | None = None
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            if all(value is None or str(value).strip() == "" for value in row):
                continue
            if positions is None:
                try:
                    positions = map_header(row, builder.column_map)
                except MissingColumns as error:
                    raise FileUnreadable(number, str(error)) from None
                continue
            builder.add(number, {
                column: row[position] if position < len(row) else None
                for position, column in positions.items()
            })
        if positions is None:
            raise FileUnreadable(1, "empty sheet: no header row")
    finally:
        workbook.close()
