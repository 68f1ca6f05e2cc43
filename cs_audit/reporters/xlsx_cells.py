"""Cells that are safe to hand to Excel: text stays text, XML-illegal characters are replaced."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from unicodedata import east_asian_width

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.cell.rich_text import CellRichText, TextBlock
from openpyxl.cell.text import InlineFont
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# XML 1.0 cannot hold C0 controls other than tab/LF/CR, lone surrogates, U+FFFE and U+FFFF.
XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
REPLACEMENT = "\ufffd"
EXCEL_CELL_LIMIT = 32_767
CUT_MARKER = "…[cut]"
# Text starting with these is read by Excel/WPS as a formula or DDE payload when retyped or
# exported to CSV; quotePrefix keeps it literal in the cell the user sees.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


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


def text_cell(sheet: WriteOnlyWorksheet, text: str, counts: CellCleaning | None = None) -> Cell:
    """A cell holding ``text`` as a string, never a formula, error value or hyperlink."""
    cell = WriteOnlyCell(sheet)
    cleaned = clean_text(text, counts)
    cell.value = cleaned
    # openpyxl turns "=…" into a formula and "#N/A" into an error; chat text is neither.
    cell.data_type = "s"
    if cleaned.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


def rich_text_cell(sheet: WriteOnlyWorksheet, text: str,
                   marks: Sequence[tuple[int, int, InlineFont]],
                   counts: CellCleaning | None = None) -> Cell:
    """A text cell whose ``marks`` ([start, end) ranges of ``text``) show in their own font.

    Cleaning replaces characters one for one, so the ranges still point at the same characters;
    past a cut they are clipped. Overlapping ranges: the earlier mark wins.
    """
    cleaned = clean_text(text, counts)
    if not cleaned or not marks:
        return text_cell(sheet, text)
    fonts: list[InlineFont | None] = [None] * len(cleaned)
    for start, end, font in marks:
        for position in range(max(start, 0), min(end, len(cleaned))):
            if fonts[position] is None:
                fonts[position] = font
    parts: list[str | TextBlock] = []
    run_start = 0
    for position in range(1, len(cleaned) + 1):
        if position == len(cleaned) or fonts[position] is not fonts[run_start]:
            piece = cleaned[run_start:position]
            font = fonts[run_start]
            parts.append(piece if font is None else TextBlock(font, piece))
            run_start = position
    cell = WriteOnlyCell(sheet)
    cell.value = CellRichText(*parts)
    cell.data_type = "s"
    if cleaned.startswith(FORMULA_STARTS):
        cell.quotePrefix = True
    return cell


def display_width(text: str) -> int:
    """Columns ``text`` takes in a spreadsheet: East Asian wide and fullwidth characters count 2."""
    return sum(2 if east_asian_width(char) in ("W", "F") else 1 for char in text)
