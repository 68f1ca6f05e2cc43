"""Canonical XLSX (SPEC §2): the first sheet, a header row, one message a row."""

from __future__ import annotations

from pathlib import Path

from cs_audit.parsers.canonical_csv import FileUnreadable
from cs_audit.parsers.records import ConversationBuilder, MissingColumns, map_header
from cs_audit.parsers.sheet import cell_at, first_sheet_rows


def parse_xlsx(path: Path, builder: ConversationBuilder, encoding: str = "auto") -> None:
    """Read the first sheet of a workbook into ``builder`` (streaming, read-only).

    Opening (zip-bomb caps first), row numbers and formula cells are as
    :func:`cs_audit.parsers.sheet.first_sheet_rows` describes.
    ``encoding`` is accepted for a uniform signature and ignored: XLSX is always UTF-8 XML.
    """
    with first_sheet_rows(path, builder) as rows:
        positions: dict[int, str] | None = None
        for number, row in rows:
            if positions is None:
                try:
                    positions = map_header(row, builder.column_map)
                except MissingColumns as error:
                    raise FileUnreadable(number, str(error)) from None
                continue
            builder.add(number, {
                column: cell_at(row, position) for position, column in positions.items()
            })
        if positions is None:
            raise FileUnreadable(1, "empty sheet: no header row")
