"""Sheet rows serialised the way openpyxl serialises them, without openpyxl's per-cell machinery.

openpyxl (3.1, with lxml) spends most of a transcript sheet's time binding and writing each cell
object. This module writes the same ``<row>`` XML from the same values (the cells and bare values
``xlsx._Cells`` builds, so every text-safety rule stays where it is), to a temporary file per
sheet; after the workbook is saved, ``splice_rows`` puts those rows into the sheets' XML, which
openpyxl wrote with the header row only. tests/test_xlsx.py checks that the result is
byte-identical to openpyxl's own writing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import zipfile
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from lxml import etree
from openpyxl.cell.cell import Cell
from openpyxl.cell.rich_text import CellRichText
from openpyxl.compat import safe_string
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook import Workbook
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

_END_OF_ROWS = b"</sheetData>"


def _text(value: str) -> str:
    """Text content as libxml2 writes it in an ASCII document: markup characters and carriage
    returns escaped, everything beyond ASCII as a decimal character reference."""
    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    return escaped.encode("ascii", "xmlcharrefreplace").decode("ascii")


class RawRows:
    """The data rows of one write-only sheet, kept as XML until the workbook is saved."""

    def __init__(self, workbook: Workbook, sheet: WriteOnlyWorksheet) -> None:
        self.workbook = workbook
        self.sheet = sheet
        self._styles: dict[tuple[int, ...], int] = {}
        self._letters = [get_column_letter(column) for column in range(1, 64)]
        self._file = tempfile.TemporaryFile("w+", encoding="ascii", newline="")

    def append(self, row_index: int, values: Iterable[Cell | Any]) -> None:
        """Write one row (what ``sheet.append`` would have written as row ``row_index``)."""
        parts = [f'<row r="{row_index}">']
        for column, value in enumerate(values):
            cell = self._cell(f"{self._letters[column]}{row_index}", value)
            if cell:
                parts.append(cell)
        parts.append("</row>")
        self._file.write("".join(parts))

    def _style_id(self, cell: Cell) -> int:
        key = tuple(cell._style)  # openpyxl's private style array, as Cell.style_id reads it
        known = self._styles.get(key)
        if known is None:
            known = self._styles[key] = self.workbook._cell_styles.add(cell._style)
        return known

    def _cell(self, coordinate: str, value: Any) -> str:
        if isinstance(value, Cell):
            styled = value.has_style
            data_type = value.data_type
            value_ = value._value
            if value_ is None and not styled:
                return ""
            style = f' s="{self._style_id(value)}"' if styled else ""
        else:
            if value is None:
                return ""
            style = ""
            value_ = value
            if isinstance(value, str):
                data_type = "s"  # bare text is plain (xlsx_cells.is_plain_text): never a formula
            elif isinstance(value, bool):
                data_type = "b"
            elif isinstance(value, (int, float)):
                data_type = "n"
            else:
                # Dates get a number format, hence a style: they always come as cells.
                raise TypeError(f"no raw form for a bare {type(value).__name__}")
        if data_type == "f":
            raise TypeError("formulas are never written")
        if data_type == "d":
            if isinstance(value_, (datetime, date, time, timedelta)) and getattr(value_, "tzinfo", None):
                raise TypeError("Excel does not support timezones in datetimes")
            kind, value_ = "n", to_excel(value_, self.workbook.epoch)
        else:
            kind = "inlineStr" if data_type == "s" else data_type
        head = f'<c r="{coordinate}"{style} t="{kind}">'
        if value_ is None or value_ == "":
            return head + "</c>"
        if data_type == "s":
            if isinstance(value_, CellRichText):
                return head + etree.tostring(value_.to_tree()).decode("ascii") + "</c>"
            space = ' xml:space="preserve"' if value_ != value_.strip() else ""
            return f"{head}<is><t{space}>{_text(value_)}</t></is></c>"
        return f"{head}<v>{_text(safe_string(value_))}</v></c>"

    def rows_path(self) -> str:
        """The sheet's path inside the workbook archive."""
        return self.sheet.path.lstrip("/")

    def copy_into(self, target) -> None:
        """Write the rows, as bytes, to ``target``."""
        self._file.flush()
        self._file.seek(0)
        while chunk := self._file.read(1 << 20):
            target.write(chunk.encode("ascii"))

    def close(self) -> None:
        self._file.close()


def splice_rows(path: Path | str, raw: Iterable[RawRows]) -> None:
    """Put each sheet's kept rows into the saved workbook at ``path``, before ``</sheetData>``."""
    by_name = {rows.rows_path(): rows for rows in raw}
    if not by_name:
        return
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".xlsx.tmp")
    os.close(handle)
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(
                temporary, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as target:
            for info in source.infolist():
                rows = by_name.get(info.filename)
                if rows is None:
                    with source.open(info) as reading, target.open(info, "w") as writing:
                        shutil.copyfileobj(reading, writing, 1 << 20)
                    continue
                sheet = source.read(info)
                cut = sheet.rindex(_END_OF_ROWS)
                with target.open(info, "w", force_zip64=True) as writing:
                    writing.write(sheet[:cut])
                    rows.copy_into(writing)
                    writing.write(sheet[cut:])
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
