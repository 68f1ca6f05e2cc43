"""The calibration of ``cs-audit calibrate`` as a small workbook (one sheet), through openpyxl."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Font

from cs_audit.calibrate import TABLE_HEADERS, Calibration, table_rows
from cs_audit.reporters.xlsx_cells import clean_text

SHEET_TITLE = "校准 Calibration"
# A font named in every style, so WPS and LibreOffice do not fall back to a serif.
FONT_NAME = "Microsoft YaHei"


def write_calibration_workbook(calibration: Calibration, path: Path) -> None:
    """Write the summary lines and the per-check table; every text cell is text, never a formula."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_TITLE
    plain, bold = Font(name=FONT_NAME), Font(name=FONT_NAME, bold=True)
    interval = calibration.spearman_interval
    summary = [
        ("rated conversations", calibration.conversations),
        ("rating scale", calibration.scale),
        ("Spearman(score, rating)", calibration.spearman),
        ("95% interval (bootstrap)", f"{interval[0]:.2f} – {interval[1]:.2f}" if interval else "—"),
    ]
    for label, value in summary:
        sheet.append([label, value])
    sheet.append([])
    sheet.append(TABLE_HEADERS)
    header_row = sheet.max_row
    for row in table_rows(calibration):
        sheet.append([_number_or_text(value) for value in row])
    for row in sheet.iter_rows():
        for cell in row:
            cell.font = bold if cell.row == header_row or cell.column == 1 and cell.row <= len(summary) else plain
            if isinstance(cell.value, str):
                cell.value = clean_text(cell.value)
                cell.data_type = "s"  # never a formula, whatever the check id holds
    sheet.column_dimensions["A"].width = 28
    for letter in "BCDEFGHIJK":
        sheet.column_dimensions[letter].width = 14
    workbook.save(path)


def _number_or_text(value: str) -> float | str:
    try:
        return float(value)
    except ValueError:
        return value
