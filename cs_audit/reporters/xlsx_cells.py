"""Cells that are safe to hand to Excel: text stays text, XML-illegal characters are replaced."""

from __future__ import annotations

import re
from collections.abc import Sequence
from copy import deepcopy
from dataclasses import dataclass
from unicodedata import east_asian_width

from openpyxl.cell.cell import Cell
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.styles.cell_style import StyleArray
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.xml.functions import Element, SubElement, whitespace

# XML 1.0 cannot hold C0 controls other than tab/LF/CR, lone surrogates, U+FFFE and U+FFFF.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"
EXCEL_CELL_LIMIT = 32_767
CUT_MARKER = "…[cut]"
# Text starting with these is read by Excel/WPS as a formula or DDE payload when retyped or
# exported to CSV; quotePrefix keeps it literal in the cell the user sees.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")
# A bare str that starts otherwise is stored by openpyxl as the string it is. "#" covers the error
# values ("#N/A", "#DIV/0!"…) openpyxl would type as errors.
NOT_PLAIN_STARTS = (*FORMULA_STARTS, "#")


@dataclass
class CellCleaning:
    """Counts of what cleaning changed, so the report can say so instead of hiding it."""

    replaced_characters: int = 0
    cut_texts: int = 0


def clean_text(text: str, counts: CellCleaning | None = None) -> str:
    """Replace XML-illegal characters and cut text longer than a cell holds, with a marker."""
    cleaned, replaced = XML_ILLEGAL.subn(REPLACEMENT, text)
    if len(cleaned) > EXCEL_CELL_LIMIT:
        cleaned = cleaned[:EXCEL_CELL_LIMIT - len(CUT_MARKER)] + CUT_MARKER
        if counts is not None:
            counts.cut_texts += 1
    if counts is not None:
        counts.replaced_characters += replaced
    return cleaned


def is_plain_text(text: str) -> bool:
    """Whether openpyxl, given ``text`` as a bare value, stores exactly what ``text_cell`` would:
    nothing to clean, and no start that makes a formula, an error value or a quote-prefixed cell."""
    return (len(text) <= EXCEL_CELL_LIMIT and not text.startswith(NOT_PLAIN_STARTS)
            and XML_ILLEGAL.search(text) is None)


def text_value(sheet: WriteOnlyWorksheet, text: str, counts: CellCleaning | None = None) -> str | Cell:
    """``text`` as a value to append to ``sheet``: the str itself when it is plain (a bare value
    costs openpyxl less than a cell), otherwise a ``text_cell``."""
    if is_plain_text(text):
        return text
    return text_cell(sheet, text, counts)


def _safe_cell(sheet: WriteOnlyWorksheet, value: str | CellRichText, plain: str,
               look: StyleArray | None) -> Cell:
    # What WriteOnlyCell builds, with a ready style array (see xlsx._Looks) instead of styles
    # looked up one by one.
    cell = Cell(sheet, row=1, column=1, value=value, style_array=look)
    # openpyxl turns "=…" into a formula and "#N/A" into an error; chat text is neither.
    cell.data_type = "s"
    if plain.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


def text_cell(sheet: WriteOnlyWorksheet, text: str, counts: CellCleaning | None = None,
              look: StyleArray | None = None) -> Cell:
    """A cell holding ``text`` as a string, never a formula, error value or hyperlink.

    ``look``: the cell's style array (font, fill, alignment…), if it has one.
    """
    cleaned = clean_text(text, counts)
    return _safe_cell(sheet, cleaned, cleaned, look)


# The serialised <rPr> of each mark font, by identity (fonts are hashed by value, which is slow);
# the font is kept with its tree so that its id cannot be reused while the entry lives.
_RUN_PROPERTIES: dict[int, tuple[InlineFont, object]] = {}
_RUN_PROPERTIES_KEPT = 64


def _run_properties(font: InlineFont):
    known = _RUN_PROPERTIES.get(id(font))
    if known is None:
        if len(_RUN_PROPERTIES) >= _RUN_PROPERTIES_KEPT:
            _RUN_PROPERTIES.clear()
        known = _RUN_PROPERTIES[id(font)] = (font, font.to_tree(tagname="rPr"))
    return known[1]


class MarkedText(CellRichText):
    """Rich text that writes the XML openpyxl's CellRichText writes, with each font serialised
    once instead of once per run: openpyxl's generic serialiser walks every attribute of an
    InlineFont, which dominated writing a transcript whose messages carry marks."""

    def to_tree(self):
        container = Element("is")
        for part in self:
            run = SubElement(container, "r")
            if isinstance(part, TextBlock):
                run.append(deepcopy(_run_properties(part.font)))
                part = part.text
            text = SubElement(run, "t")
            text.text = part
            whitespace(text)
        return container


def marked_runs(length: int, marks: Sequence[tuple[int, int, InlineFont]]
                ) -> list[tuple[int, int, InlineFont | None]]:
    """``[0, length)`` cut into runs ``(start, end, font)``: the font of the first mark covering
    the run, or None; neighbouring runs with the same font are merged. Marks are clipped to
    ``[0, length)``."""
    clipped = [(max(start, 0), min(end, length), font) for start, end, font in marks]
    bounds = sorted({0, length, *(s for s, e, _ in clipped if s < e), *(e for s, e, _ in clipped if s < e)})
    runs: list[tuple[int, int, InlineFont | None]] = []
    for start, end in zip(bounds, bounds[1:]):
        # Every mark begins and ends on a bound, so a mark covers a whole run or none of it.
        font = next((f for s, e, f in clipped if s <= start and end <= e), None)
        if runs and runs[-1][2] is font:
            runs[-1] = (runs[-1][0], end, font)
        else:
            runs.append((start, end, font))
    return runs


def rich_text_cell(sheet: WriteOnlyWorksheet, text: str,
                   marks: Sequence[tuple[int, int, InlineFont]],
                   counts: CellCleaning | None = None, look: StyleArray | None = None) -> Cell:
    """A text cell whose ``marks`` ([start, end) ranges of ``text``) show in their own font.

    Cleaning replaces characters one for one, so the ranges still point at the same characters;
    past a cut they are clipped. Overlapping ranges: the earlier mark wins.
    """
    cleaned = clean_text(text, counts)
    if not cleaned or not marks:
        return _safe_cell(sheet, cleaned, cleaned, look)
    parts: list[str | TextBlock] = [
        cleaned[start:end] if font is None else TextBlock(font, cleaned[start:end])
        for start, end, font in marked_runs(len(cleaned), marks)]
    return _safe_cell(sheet, MarkedText(parts), cleaned, look)


def display_width(text: str) -> int:
    """Columns ``text`` takes in a spreadsheet: East Asian wide and fullwidth characters count 2."""
    return sum(2 if east_asian_width(char) in ("W", "F") else 1 for char in text)
