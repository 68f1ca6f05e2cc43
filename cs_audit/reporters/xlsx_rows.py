"""Sheet rows serialised the way openpyxl serialises them, without openpyxl's per-cell machinery.

openpyxl (3.1, with lxml) spends most of a large sheet's time building, binding and writing a
cell object per cell. Here a row is described by plain values (a bare value, ``Styled`` or
``Marked``) and turned straight into the ``<row>`` XML openpyxl would write for the same cells
(but for characters beyond ASCII, written as UTF-8 instead of character references), with
``ROW`` standing where the row number goes: the row can be made where the conversation was
audited, before anyone knows on which row it will land. ``RowSpool`` keeps a sheet's rows in a
temporary file, numbered and compressed as they are placed; after the workbook is saved,
``splice_rows`` puts them (and their hyperlinks) into the sheets openpyxl wrote with the header
row only.

tests/test_xlsx.py checks that the result is byte-identical to openpyxl writing the same cells, once
openpyxl's character references are read as the characters they stand for.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NamedTuple

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.text import InlineFont
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import SECS_PER_DAY, WINDOWS_EPOCH, to_excel
from openpyxl.workbook import Workbook
from openpyxl.xml.functions import tostring

from cs_audit.reporters.deflate import DeflatedPiece, write_entry
from cs_audit.reporters.xlsx_cells import FORMULA_STARTS, CellCleaning, clean_text, is_plain_text, marked_runs

# Stands for the row number in a row made before its place is known. Never in a cell's XML:
# text is cleaned of control characters before it is written.
ROW = "\x00"
_END_OF_ROWS = b"</sheetData>"
# What follows <hyperlinks> in a worksheet (ECMA-376 CT_Worksheet order) and that openpyxl writes.
_AFTER_HYPERLINKS = (b"<printOptions", b"<pageMargins", b"<pageSetup", b"<headerFooter",
                     b"<rowBreaks", b"<colBreaks", b"<drawing", b"<legacyDrawing", b"<tableParts")
WRAP = Alignment(wrap_text=True, vertical="top")
# Texts up to this long are remembered serialised, by column, up to so many at a time.
REPEATED_TEXT_LENGTH = 40
REPEATED_TEXTS_KEPT = 20_000
# Characters of rows compressed in one go.
_COMPRESSED_AT_ONCE = 1 << 16
# Ints kept serialised by column (message numbers, counts).
_KEPT_INTS = 1000


@dataclass(frozen=True, eq=False)
class Look:
    """How a cell looks: number format, font, fill, wrapping. Compared by identity: the looks
    are module constants, and fonts hash slowly."""

    number_format: str | None = None
    font: Font | None = None
    fill: PatternFill | None = None
    wrap: bool = False

    @property
    def plain(self) -> bool:
        """Whether it only formats numbers (so an empty cell of this look is no cell at all)."""
        return self.font is None and self.fill is None and not self.wrap


NO_LOOK = Look()
_EXACT_INTS = 2 ** 53  # ints a float holds exactly


class Styled(NamedTuple):
    """A value written with a look. Text is always written as text (see ``xlsx_cells``)."""

    value: Any
    look: Look


class Marked(NamedTuple):
    """Text whose ``marks`` ([start, end) ranges with a font) show in their own font."""

    text: str
    marks: Sequence[tuple[int, int, InlineFont]]
    look: Look = NO_LOOK


# The kinds of value a look is made for, each with a sample value: openpyxl gives dates a number
# format of their own, and a text cell ignores the number format, so the array depends on the kind.
_KINDS = {str: None, type(None): None, int: 0, float: 0.0, datetime: datetime(2000, 1, 1)}


def _escape(value: str) -> str:
    """Text content as libxml2 escapes it: markup characters and carriage returns. Characters
    beyond ASCII stay themselves (UTF-8) where openpyxl writes character references: a sheet of
    Chinese chat is then about a fifth smaller, to send, spool and compress."""
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")


def _escape_attribute(value: str) -> str:
    """An attribute value as libxml2 escapes it (double-quoted), UTF-8 as in ``_escape``."""
    return _escape(value).replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")


def _number(value: Any) -> str:
    # openpyxl.compat.safe_string for numbers; "%.16g" writes an int a float holds exactly as str() does.
    if type(value) is int and -_EXACT_INTS < value < _EXACT_INTS:
        return str(value)
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return ""
    return "%.16g" % value


class StyleIds:
    """The workbook style id of each (kind of value, look, quote prefix) a made row can use.

    Registered up front, in a fixed order, in every workbook (the constructor): a row made in a
    worker process then names the same styles as the workbook written later, and as openpyxl
    itself when it writes the same cells (it finds them already registered).
    """

    def __init__(self, workbook: Workbook, looks: Sequence[Look]) -> None:
        self._ids: dict[tuple[type, int, bool], int] = {}
        self.looks = tuple(looks)
        # Style descriptors reach the workbook through cell.parent.parent; no sheet is needed.
        host = SimpleNamespace(parent=workbook)
        for look in (NO_LOOK, *self.looks):
            for kind, sample in _KINDS.items():
                for quoted in ((False, True) if kind is str else (False,)):
                    array = style_array(host, sample, look, quoted)
                    if array is not None:
                        self._ids[(kind, id(look), quoted)] = workbook._cell_styles.add(array)

    def same_as(self, other: StyleIds) -> bool:
        """Whether both name the same styles (registered alike in their workbooks)."""
        return self.looks == other.looks and self._ids == other._ids

    def id_of(self, kind: type, look: Look, quoted: bool = False) -> int | None:
        """The style id, or None for a cell without style."""
        return self._ids.get((kind, id(look), quoted))


def style_array(sheet: Any, sample: Any, look: Look, quoted: bool = False):
    """The style array openpyxl gives a cell holding ``sample`` (None for text or an empty cell)
    with ``look`` set through its public setters, or None when the cell has no style;
    ``quoted`` adds the quote prefix of text that starts like a formula."""
    prototype = WriteOnlyCell(sheet, value=sample)
    if look.number_format and sample is not None:
        prototype.number_format = look.number_format
    if look.font:
        prototype.font = look.font
    if look.fill:
        prototype.fill = look.fill
    if look.wrap:
        prototype.alignment = WRAP
    if quoted:
        prototype.quotePrefix = True
    # _style is openpyxl's private per-cell style array (openpyxl 3.1, pinned); Cell() takes a
    # copy of it as its public style_array argument. test_xlsx reads the styles back and
    # compares with openpyxl's own writing.
    return prototype._style if prototype.has_style else None


class RowMaker:
    """Turns rows of values into ``<row>`` XML with ``ROW`` for the row number.

    ``counts`` adds up what cleaning changed in the texts written; ``epoch`` is the workbook's.
    """

    def __init__(self, styles: StyleIds, counts: CellCleaning, epoch: datetime) -> None:
        self.styles = styles
        self.counts = counts
        self.epoch = epoch
        # openpyxl.utils.datetime.to_excel, worked out from the day number (see _serial).
        self._epoch_day = epoch.toordinal()
        self._windows_epoch = epoch == WINDOWS_EPOCH
        self._letters = [get_column_letter(column) + ROW for column in range(1, 128)]
        self._run_properties: dict[int, tuple[InlineFont, str]] = {}
        # Per column: serialised cells by value (short texts, small ints, empty styled cells).
        self._repeated: list[dict[Any, str]] = [{} for _ in self._letters]
        self._kept = 0

    def row(self, values: Sequence[Any]) -> str:
        """The row holding ``values`` in columns A, B, …"""
        cells = [f'<row r="{ROW}">']
        append = cells.append
        repeated = self._repeated
        for column, value in enumerate(values):
            # Short texts repeat down a column (the conversation id, roles, senders, labels,
            # canned replies), and so do message numbers and empty styled cells: each is
            # serialised once. Only str, int and Styled of text or None are looked up, so that
            # equal values of other types (True == 1 == 1.0) never share an entry.
            kind = type(value)
            if kind is str or kind is int or (kind is Styled and (type(value.value) is str or value.value is None)):
                known = repeated[column].get(value)
                if known is not None:
                    append(known)
                    continue
            elif kind is Marked and len(value.text) <= REPEATED_TEXT_LENGTH:
                # Fonts by identity, as they hash slowly: a font that shapes the XML is kept
                # alive by _run_properties, so its id is not reused while the entry lives.
                key = (value.text, value.look, tuple([(start, end, id(font)) for start, end, font in value.marks]))
                known = repeated[column].get(key)
                if known is None:
                    known = self._cell(column, value, kind, key)
                append(known)
                continue
            append(self._cell(column, value, kind, value))
        append("</row>")
        return "".join(cells)

    def _cell(self, column: int, value: Any, kind: type, key: Any) -> str:
        coordinate = self._letters[column]
        if kind is Marked:
            keep = len(value.text) <= REPEATED_TEXT_LENGTH
        elif kind is Styled:
            inner = value.value
            if type(inner) is datetime and inner.tzinfo is None and value.look.number_format:
                # Every message has its time: the most frequent styled cell, written directly.
                head = self._head(coordinate, datetime, value.look, False, "n")
                return f"{head}<v>{_number(self._serial(inner))}</v></c>"
            keep = inner is None or (type(inner) is str and len(inner) <= REPEATED_TEXT_LENGTH)
        elif kind is str:
            keep = len(value) <= REPEATED_TEXT_LENGTH
        else:
            keep = kind is int and -_KEPT_INTS < value < _KEPT_INTS
        if not keep:
            return self._fresh(coordinate, value, kind)
        cleaned = self.counts.replaced_characters, self.counts.cut_texts
        made = self._fresh(coordinate, value, kind)
        # A text that cleaning changed is counted each time it is written, so it is not kept.
        if cleaned == (self.counts.replaced_characters, self.counts.cut_texts):
            if self._kept >= REPEATED_TEXTS_KEPT:
                for kept in self._repeated:
                    kept.clear()
                self._kept = 0
            self._repeated[column][key] = made
            self._kept += 1
        return made

    def _serial(self, moment: datetime) -> float:
        """``to_excel(moment, epoch)`` for a naive datetime, with the same arithmetic: the
        epoch is a midnight, so whole days since it are the difference of day numbers."""
        days = moment.toordinal() - self._epoch_day
        if 0 < days <= 60 and self._windows_epoch:
            days -= 1
        return days + (moment.hour * 3600 + moment.minute * 60 + moment.second
                       + moment.microsecond / 10**6) / SECS_PER_DAY

    def _fresh(self, coordinate: str, value: Any, kind: type) -> str:
        if kind is str:
            if is_plain_text(value):
                return self._text(f'<c r="{coordinate}" t="inlineStr">', value)
            return self._safe_text(coordinate, value, NO_LOOK)
        if value is None:
            return ""
        if kind is Styled:
            return self._styled(coordinate, value.value, value.look)
        if kind is Marked:
            return self._marked(coordinate, value)
        if kind is int or kind is float:
            return f'<c r="{coordinate}" t="n"><v>{_number(value)}</v></c>'
        if kind is bool:
            return f'<c r="{coordinate}" t="b"><v>{_number(value)}</v></c>'
        # Dates get a number format, hence a look: they always come Styled.
        raise TypeError(f"no row form for a bare {kind.__name__}")

    def _head(self, coordinate: str, kind: type, look: Look, quoted: bool, data_type: str) -> str:
        style = self.styles.id_of(kind, look, quoted)
        if style is None:
            return f'<c r="{coordinate}" t="{data_type}">'
        return f'<c r="{coordinate}" s="{style}" t="{data_type}">'

    @staticmethod
    def _text(head: str, text: str) -> str:
        if not text:
            return head + "</c>"
        space = ' xml:space="preserve"' if text != text.strip() else ""
        return f"{head}<is><t{space}>{_escape(text)}</t></is></c>"

    def _safe_text(self, coordinate: str, text: str, look: Look) -> str:
        cleaned = clean_text(text, self.counts)
        head = self._head(coordinate, str, look, cleaned.startswith(FORMULA_STARTS), "inlineStr")
        return self._text(head, cleaned)

    def _styled(self, coordinate: str, value: Any, look: Look) -> str:
        if isinstance(value, str):
            return self._safe_text(coordinate, value, look)
        if value is None:
            if look.plain:
                return ""
            return self._head(coordinate, type(None), look, False, "n") + "</c>"
        if look.plain and not look.number_format:
            return self._fresh(coordinate, value, type(value))
        kind = type(value)
        if isinstance(value, (datetime, date, time, timedelta)):
            if getattr(value, "tzinfo", None):
                raise TypeError("Excel does not support timezones in datetimes")
            return f"{self._head(coordinate, kind, look, False, 'n')}<v>{_number(to_excel(value, self.epoch))}</v></c>"
        data_type = "b" if kind is bool else "n"
        return f"{self._head(coordinate, kind, look, False, data_type)}<v>{_number(value)}</v></c>"

    def _marked(self, coordinate: str, marked: Marked) -> str:
        cleaned = clean_text(marked.text, self.counts)
        head = self._head(coordinate, str, marked.look, cleaned.startswith(FORMULA_STARTS), "inlineStr")
        if not cleaned or not marked.marks:
            return self._text(head, cleaned)
        parts = [head, "<is>"]
        for start, end, font in marked_runs(len(cleaned), marked.marks):
            text = cleaned[start:end]
            stripped = text.strip()
            space = ' xml:space="preserve"' if stripped and text != stripped else ""
            properties = self._properties(font) if font is not None else ""
            parts.append(f"<r>{properties}<t{space}>{_escape(text)}</t></r>")
        parts.append("</is></c>")
        return "".join(parts)

    def _properties(self, font: InlineFont) -> str:
        # By identity: fonts hash slowly; the font is kept so that its id is not reused.
        known = self._run_properties.get(id(font))
        if known is None:
            known = self._run_properties[id(font)] = (font, tostring(font.to_tree(tagname="rPr")).decode("ascii"))
        return known[1]


class RowSpool:
    """The data rows of one sheet page, compressed as they are placed (``deflate``) into a
    temporary file until the workbook is saved, and the internal hyperlinks of its cells."""

    def __init__(self) -> None:
        self.rows = DeflatedPiece()
        self._waiting: list[str] = []
        self._waiting_length = 0
        self._links: list[str] = []

    def add(self, number: int, row: str) -> None:
        """Place a row made with ``ROW`` as row ``number``."""
        self._waiting.append(row.replace(ROW, str(number)))
        self._waiting_length += len(row)
        if self._waiting_length >= _COMPRESSED_AT_ONCE:
            self._compress_waiting()

    def _compress_waiting(self) -> None:
        # Compressed some rows at a time: a call per row costs more than the compression.
        self.rows.add("".join(self._waiting).encode("utf-8"))
        self._waiting.clear()
        self._waiting_length = 0

    def finish(self) -> DeflatedPiece:
        """The rows, as one piece of the sheet's deflate stream (no more rows can follow)."""
        if self._waiting:
            self._compress_waiting()
        return self.rows

    def link(self, coordinate: str, location: str) -> None:
        """Make the cell at ``coordinate`` link to ``location`` in the workbook (Sheet!A1)."""
        self._links.append(f'<hyperlink ref="{coordinate}" location="{_escape_attribute(location)}"/>')

    def hyperlinks(self) -> bytes:
        """The sheet's ``<hyperlinks>`` element, or nothing."""
        if not self._links:
            return b""
        return ("<hyperlinks>" + "".join(self._links) + "</hyperlinks>").encode("utf-8")

    def close(self) -> None:
        self.rows.close()


def splice_rows(path: Path | str, spools: dict[str, RowSpool]) -> None:
    """Put each sheet's spooled rows (by the sheet's path in the archive) into the saved
    workbook at ``path``, before ``</sheetData>``, and its hyperlinks where they belong.

    The rows are copied as they were compressed; only the other entries and each sheet's own
    head and tail are compressed here."""
    if not spools:
        return
    folder = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=".xlsx.tmp")
    os.close(handle)
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(
                temporary, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as target:
            for info in source.infolist():
                spool = spools.get(info.filename)
                if spool is None:
                    with source.open(info) as reading, target.open(info, "w") as writing:
                        shutil.copyfileobj(reading, writing, 1 << 20)
                    continue
                sheet = source.read(info)
                cut = sheet.rindex(_END_OF_ROWS)
                links = spool.hyperlinks()
                at = len(sheet)
                if links:
                    at = min((place for place in (sheet.find(tag, cut) for tag in _AFTER_HYPERLINKS)
                              if place >= 0), default=sheet.rindex(b"</worksheet>"))
                write_entry(target, info, sheet[:cut], spool.finish(), sheet[cut:at] + links + sheet[at:])
        # mkstemp makes the file private (0600); the workbook keeps the mode it was saved with.
        shutil.copymode(path, temporary)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
