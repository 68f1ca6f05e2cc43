"""Cells that are safe to hand to Excel: text stays text, XML-illegal characters are replaced."""

from __future__ import annotations

import re
from dataclasses import dataclass

from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
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
