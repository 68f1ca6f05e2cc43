"""The Excel report a supervisor opens: Summary, Agents, Conversations, Findings, Transcripts,
Input problems and Rubric, written in streaming (write-only) mode.

Chinese headers by default, English with ``lang="en"`` (words in ``xlsx_labels``). Every
chat-derived text goes through ``show`` (masking) and the text-safety rules of ``xlsx_cells``.
The rows of the three large sheets are described once per conversation (``_conversation_row``,
``_finding_rows``, ``_transcript_rows``) and either serialised by ``xlsx_rows`` where the
conversation was audited (``RowRenderer``, ``WorkbookRows``) or, for the tests, written cell by
cell through openpyxl.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.properties import PageSetupProperties

from cs_audit.aggregate import agent_name
from cs_audit.analysis.keywords import complaint_candidates, complaint_keywords, sample_complaints
from cs_audit.analysis.kpis import KpiSettings
from cs_audit.model import SEVERITY_RANK, ConversationResult
from cs_audit.rubric import Rubric
from cs_audit.reporters import Report, Shown
from cs_audit.reporters.xlsx_cells import CellCleaning, display_width, rich_text_cell, text_cell, text_value
from cs_audit.reporters.xlsx_labels import labels_for
from cs_audit.reporters.deflate import DeflatedText
from cs_audit.reporters.xlsx_rows import (Look, Marked, RowMaker, RowSpool, StyleIds, Styled, splice_rows,
                                          style_array)

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
HEADING_FONT = Font(bold=True, color="1F3864")
HEADING_FILL = PatternFill("solid", fgColor="D9E1F2")
FAIL_FILL = PatternFill("solid", fgColor="F8CBAD")
GOOD_FILL = PatternFill("solid", fgColor="C6EFCE")
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
CRITICAL_FONT = Font(bold=True, color="C00000")
LINK_FONT = Font(color="0563C1", underline="single")
BOLD = Font(bold=True)
TITLE_FONT = Font(bold=True, size=14)
# How detected phrases look inside a transcript message.
PROBLEM_MARK = InlineFont(b=True, color="C00000", u="single")
GOOD_MARK = InlineFont(b=True, color="008000")
SECONDS = "0"
PERCENT = "0.0%"
SCORE = "0.0"
SENTIMENT = "0.00"
DATETIME = "yyyy-mm-dd hh:mm:ss"
# The looks of the large sheets' cells, registered first in every workbook (xlsx_rows.StyleIds).
HEADING = Look(font=HEADING_FONT, fill=HEADING_FILL)
HEADING_BLANK = Look(fill=HEADING_FILL)
WRAPPED = Look(wrap=True)
AT = Look(DATETIME)
CRITICAL = Look(font=CRITICAL_FONT)
LINK = Look(font=LINK_FONT)
IN_SECONDS = Look(SECONDS)
AS_PERCENT = Look(PERCENT)
AS_SCORE = Look(SCORE)
AS_SENTIMENT = Look(SENTIMENT)
ROW_LOOKS = (HEADING, HEADING_BLANK, WRAPPED, AT, CRITICAL, LINK, IN_SECONDS, AS_PERCENT, AS_SCORE,
             AS_SENTIMENT)
TRANSCRIPT_COLUMNS = 7
# Detections that point at a problem (positive tone categories are not findings).
FINDING_CATEGORIES = ("tone.rude", "risk.", "buyer.escalation", "buyer.ignored_question", "pii.")
# Excel's rows per sheet; a module constant so tests can page with a small one.
ROW_LIMIT = 1_048_576
MAX_COLUMN_WIDTH = 60
CHARTED_AGENTS = 30


def _kpi_format(settings_or_id: KpiSettings | str) -> str:
    kpi_id = settings_or_id if isinstance(settings_or_id, str) else settings_or_id.id
    return SECONDS if kpi_id.endswith("_s") else PERCENT


def _kpi_look(kpi_id: str) -> Look:
    return IN_SECONDS if _kpi_format(kpi_id) == SECONDS else AS_PERCENT


def _kpi_lower_is_better(settings: KpiSettings) -> bool:
    return settings.measure != "rate"


def _kpi_met(settings: KpiSettings, value: float | None) -> bool | None:
    if value is None or settings.target is None:
        return None
    return value <= settings.target if _kpi_lower_is_better(settings) else value >= settings.target


class _Looks:
    """The style array of each look (number format, font, fill, wrapping) a cell can have, made
    once per workbook.

    Setting ``cell.font`` (or fill, alignment, number format) looks the style up in the workbook by
    hashing it, for every cell: one of the largest costs of a transcript sheet. A look is made once,
    on a prototype cell through openpyxl's public setters, and every later cell of that look is
    created with a copy of the prototype's array.
    """

    def __init__(self) -> None:
        # By identity, because style objects hash slowly; each entry keeps its font and fill
        # alive so that their ids are not reused while the entry exists.
        self._arrays: dict[tuple, tuple[StyleArray | None, Font | None, PatternFill | None]] = {}

    def of(self, sheet: WriteOnlyWorksheet, value: Any, number_format: str | None, font: Font | None,
           fill: PatternFill | None, wrap: bool) -> StyleArray | None:
        """The array of a cell holding ``value`` with this look; None for an unstyled cell.

        Text ignores ``number_format``; so does an empty cell. The kind of other values is part of
        the look, because openpyxl gives dates and times a number format of its own.
        """
        text = isinstance(value, str)
        if text or value is None or not number_format:
            number_format = None
        key = (str if text else type(value), number_format, id(font), id(fill), wrap)
        known = self._arrays.get(key)
        if known is None:
            array = style_array(sheet, None if text else value, Look(number_format, font, fill, wrap))
            known = self._arrays[key] = (array, font, fill)
        return known[0]


class _Cells:
    """Builds what a row of ``sheet`` holds: text goes through the safe text cell (or stays a bare
    str when it is plain), styled values become cells with a ready style array.

    One per workbook (``on`` gives the same builder for another sheet): the looks and the
    cleaning counts are the workbook's.
    """

    def __init__(self, counts: CellCleaning, looks: _Looks | None = None,
                 sheet: WriteOnlyWorksheet | None = None):
        self.counts = counts
        self.looks = looks or _Looks()
        self.sheet = sheet

    def on(self, sheet: WriteOnlyWorksheet | None) -> _Cells:
        return _Cells(self.counts, self.looks, sheet)

    def cell(self, value: Any, number_format: str | None = None, font: Font | None = None,
             fill: PatternFill | None = None, wrap: bool = False) -> Cell | Any:
        """A cell for ``value``, or ``value`` itself where openpyxl writes a bare value the same."""
        if isinstance(value, str):
            if font is None and fill is None and not wrap:
                return text_value(self.sheet, value, self.counts)
            look = self.looks.of(self.sheet, value, None, font, fill, wrap)
            return text_cell(self.sheet, value, self.counts, look)
        if font is None and fill is None and not wrap and (not number_format or value is None):
            return value
        look = self.looks.of(self.sheet, value, number_format, font, fill, wrap)
        # What WriteOnlyCell builds, with the look's array.
        return Cell(self.sheet, row=1, column=1, value=value, style_array=look)

    def cells(self, values: Iterable[Any]) -> list[Cell | Any]:
        """The cells of a row described as xlsx_rows describes it (bare values, Styled, Marked)."""
        return [self._of(value) for value in values]

    def _of(self, value: Any) -> Cell | Any:
        if isinstance(value, Styled):
            look = value.look
            return self.cell(value.value, look.number_format, look.font, look.fill, look.wrap)
        if isinstance(value, Marked):
            look = value.look
            array = (self.looks.of(self.sheet, value.text, None, look.font, look.fill, look.wrap)
                     if not look.plain else None)
            return rich_text_cell(self.sheet, value.text, value.marks, self.counts, array)
        if isinstance(value, Cell):
            return value
        return self.cell(value)


class _RowPlan:
    """Where the next data row lands: (page, row); a page holds ROW_LIMIT rows, header included."""

    def __init__(self, limit: int):
        self.limit = limit
        self.page = 0
        self.row = 1  # the header

    def next(self) -> tuple[int, int]:
        if self.row >= self.limit:
            self.page += 1
            self.row = 1
        self.row += 1
        return self.page, self.row


def _page_title(title: str, page: int) -> str:
    return title if page == 0 else f"{title} {page + 1}"


class _PagedSheet:
    """A table sheet with a frozen header and autofilter that continues on "<title> 2", "… 3"
    when it passes Excel's row limit.

    Rows come either through openpyxl (``row``), or already serialised in a ``_SpooledTable``
    (``spooled_pages``: the pages get their header and finish, the rows are spliced in later).
    ``finish_page(sheet, last_row)`` adds what needs the page's extent (conditional formats).
    """

    def __init__(self, workbook: Workbook, title: str, cells: _Cells,
                 titles: Sequence[str], widths: Sequence[float],
                 finish_page: Callable[[WriteOnlyWorksheet, int], None] | None = None):
        self.workbook = workbook
        self.title = title
        self.titles = list(titles)
        self.widths = [min(max(width, display_width(t) + 3), MAX_COLUMN_WIDTH)
                       for width, t in zip(widths, titles)]
        self.finish_page = finish_page
        self.plan = _RowPlan(ROW_LIMIT)
        self.page = 0
        self.cells = cells.on(None)
        self.sheet = self._start_page(0)

    def _start_page(self, page: int) -> WriteOnlyWorksheet:
        sheet = self.workbook.create_sheet(_page_title(self.title, page))
        for position, width in enumerate(self.widths, start=1):
            sheet.column_dimensions[get_column_letter(position)].width = width
        sheet.freeze_panes = "A2"
        _print_landscape(sheet, fit_width=True)
        self.cells.sheet = sheet
        sheet.append([self.cells.cell(title, font=HEADER_FONT, fill=HEADER_FILL) for title in self.titles])
        self.last_row = 1
        return sheet

    def _end_page(self) -> None:
        if self.last_row > 1:
            self.sheet.auto_filter.ref = f"A1:{get_column_letter(len(self.titles))}{self.last_row}"
            if self.finish_page:
                self.finish_page(self.sheet, self.last_row)

    def _turn_to(self, page: int) -> None:
        if page != self.page:
            self._end_page()
            self.page = page
            self.sheet = self._start_page(page)

    def row(self, values: Iterable[Any], link: str | None = None) -> None:
        """Append a row (values as ``_Cells.cells`` takes them); ``link``: where its last cell
        links to in the workbook."""
        page, row = self.plan.next()
        self._turn_to(page)
        cells = self.cells.cells(values)
        if link is not None:
            cells[-1].hyperlink = Hyperlink(ref="", location=link)
        self.sheet.append(cells)
        self.last_row = row

    def spooled_pages(self, table: _SpooledTable) -> list[tuple[WriteOnlyWorksheet, RowSpool]]:
        """Give each page of ``table`` its sheet; returns the pages' sheets with their spools."""
        pages = []
        for page, (spool, last_row) in enumerate(zip(table.spools, table.last_rows)):
            self._turn_to(page)
            self.last_row = last_row
            pages.append((self.sheet, spool))
        self._end_page()
        return pages

    def close(self) -> None:
        self._end_page()


class _SpooledTable:
    """Rows made with ``xlsx_rows.ROW``, numbered and placed on pages as they come."""

    def __init__(self) -> None:
        self.plan = _RowPlan(ROW_LIMIT)
        self.spools: list[RowSpool] = []
        self.last_rows: list[int] = []

    def place(self, row: str) -> tuple[int, int]:
        """Put ``row`` on the next line; returns (page, row number)."""
        page, number = self.plan.next()
        if page == len(self.spools):
            self.spools.append(RowSpool())
            self.last_rows.append(1)
        self.spools[page].add(number, row)
        self.last_rows[page] = number
        return page, number

    def close(self) -> None:
        for spool in self.spools:
            spool.close()


# --- sheets --------------------------------------------------------------------------------

def _write_summary(workbook: Workbook, report: Report, cells: _Cells, sheets: dict, words: dict,
                   keywords: Sequence[tuple[str, float]],
                   period: tuple[datetime | None, datetime | None]) -> None:
    sheet = workbook.create_sheet(sheets["summary"])
    # Before the first row: write-only mode writes the sheet properties with it.
    _print_landscape(sheet, fit_width=True)
    cells = cells.on(sheet)
    run = report.totals
    summary = run.summary
    first, last = period
    rows: list[tuple[str, Any, str | None]] = [
        (words["rubric"], f"{report.rubric.name} ({report.rubric.source})", None),
        (words["from"], first or "", DATETIME),
        (words["to"], last or "", DATETIME),
        (words["files"], len(report.inputs), None),
        (words["unreadable_files"], run.unreadable_files, None),
        (words["input_problems"], run.input_problems, None),
        (words["conversations"], summary.conversations, None),
        (words["messages"], summary.messages, None),
        (words["score_mean"], summary.score_mean if summary.score_mean is not None else "", SCORE),
        (words["passed"], summary.passed, None),
        (words["pass_rate"], summary.pass_rate if summary.pass_rate is not None else "", PERCENT),
        (words["critical_conversations"], summary.critical, None),
        (words["buyer_turns"], summary.response.turns, None),
        (words["unanswered_turns"], summary.response.unanswered, None),
        (words["avg_reply"], summary.response.avg_s if summary.response.avg_s is not None else "", SECONDS),
        (words["slow_replies_over"].format(seconds=f"{report.rubric.slow_after_s:g}"),
         summary.response.slow, None),
    ]
    label_width = max(display_width(label) for label, _, _ in rows)
    for column, width in zip("ABCD", (max(label_width + 2, 24), 22, 12, 8)):
        sheet.column_dimensions[column].width = width
    row_number = 0

    def append(values: list) -> int:
        nonlocal row_number
        sheet.append(values)
        row_number += 1
        return row_number

    def heading(*titles: str) -> int:
        return append([cells.cell(title, font=HEADER_FONT, fill=HEADER_FILL) for title in titles])

    append([cells.cell(words["title"], font=TITLE_FONT)])
    for label, value, number_format in rows:
        append([cells.cell(label, font=BOLD), cells.cell(value, number_format)])
    if report.rubric.kpis:
        append([])
        heading(words["kpi"], words["value"], words["target"], words["met"])
        for settings in report.rubric.kpis:
            count = summary.kpis.get(settings.id)
            value = count.value if count else None
            met = _kpi_met(settings, value)
            fill = None if met is None else GOOD_FILL if met else BAD_FILL
            append([cells.cell(settings.id), cells.cell(value, _kpi_format(settings), fill=fill),
                    cells.cell(settings.target, _kpi_format(settings)),
                    cells.cell("" if met is None else words["yes"] if met else words["no"], fill=fill)])
    charts: list[BarChart] = []
    grades = [grade for _, grade in report.rubric.grades] or list(run.grade_order)
    if summary.conversations:
        append([])
        first = heading(words["grade"], words["conversations"]) + 1
        for grade in grades:
            append([cells.cell(grade), summary.grades.get(grade, 0)])
        charts.append(_bar_chart(sheet, words["grade_distribution"], first, row_number, None))
    scored = [a for a in run.agents if a.totals.score_mean is not None]
    scored.sort(key=lambda a: (a.totals.score_mean, a.agent))
    if scored:
        append([])
        first = heading(words["agent"], words["score_mean"]) + 1
        for agent in scored[:CHARTED_AGENTS]:
            append([cells.cell(report.show(agent.agent)), cells.cell(agent.totals.score_mean, SCORE)])
        charts.append(_bar_chart(sheet, words["agent_scores"], first, row_number, (0, 100)))
    if summary.failed_rules:
        titles = {check.id: check.title for check in report.rubric.checks}
        append([])
        heading(words["top_failed"], words["conversations"], words["check_title"])
        for rule, count in list(summary.failed_rules.items())[:10]:
            append([cells.cell(rule), count, cells.cell(titles.get(rule, ""))])
    if keywords:
        append([])
        heading(words["complaint_words"], words["weight"])
        append([cells.cell(words["complaint_note"], font=Font(italic=True, color="7F7F7F"))])
        for word, weight in keywords:
            append([cells.cell(word), cells.cell(weight, "0.000")])
    for position, chart in enumerate(charts):
        sheet.add_chart(chart, f"F{2 + position * 18}")
    # The charts sit right of the tables; the printed page must reach them.
    sheet.print_area = f"A1:N{max(row_number, 2 + 18 * len(charts))}"


def _print_landscape(sheet: WriteOnlyWorksheet, fit_width: bool = False) -> None:
    """Supervisors print these sheets: landscape, one page wide (the Summary with its charts)."""
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = "9"  # A4
    if fit_width:
        sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        sheet.page_setup.fitToWidth = 1
        sheet.page_setup.fitToHeight = 0


def _bar_chart(sheet: WriteOnlyWorksheet, title: str, first: int, last: int,
               limits: tuple[float, float] | None) -> BarChart:
    chart = BarChart()
    chart.type = "col"
    chart.title = title
    chart.title.overlay = False
    chart.legend = None
    chart.height = 8
    chart.width = 16
    chart.add_data(Reference(sheet, min_col=2, min_row=first, max_row=last), titles_from_data=False)
    chart.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
    if limits:
        chart.y_axis.scaling.min, chart.y_axis.scaling.max = limits
    # openpyxl 3.1 hides axes unless told otherwise; LibreOffice and Excel then draw no labels.
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    return chart


def _fit(texts: Iterable[str], least: float) -> float:
    """A column width that fits the widest text (Chinese counts double), within bounds."""
    return _fit_width(max((display_width(text) for text in texts), default=0), least)


def _fit_width(widest: int, least: float) -> float:
    """A column width for a widest text of ``widest`` display columns, within bounds."""
    return min(max(least, widest + 2), MAX_COLUMN_WIDTH)


def _write_agents(workbook: Workbook, report: Report, cells: _Cells, sheets: dict, words: dict) -> None:
    kpi_ids = [settings.id for settings in report.rubric.kpis]
    titles = [words["agent"], words["conversations"], words["messages_sent"], words["score_mean"],
              words["passed"], words["pass_rate"], words["critical"], words["turns"], words["unanswered"],
              words["avg_reply"], words["slowest_reply"], words["slow_replies"], *kpi_ids,
              words["most_failed"]]
    score_column = get_column_letter(4)

    def finish(sheet: WriteOnlyWorksheet, last: int) -> None:
        sheet.conditional_formatting.add(f"{score_column}2:{score_column}{last}", _score_scale())
        _kpi_formats(sheet, report.rubric.kpis, 13, last)

    paged = _PagedSheet(workbook, sheets["agents"], cells, titles,
                        [_fit((report.show(a.agent) for a in report.totals.agents), 20),
                         10, 12, 10, 10, 10, 8, 10, 10, 14, 14, 10, *[24] * len(kpi_ids), 50], finish)
    # Worst first: the agent a supervisor should look at is at the top.
    ordered = sorted(report.totals.agents,
                     key=lambda a: (a.totals.score_mean if a.totals.score_mean is not None else 101, a.agent))
    c = paged.cells
    for agent in ordered:
        t = agent.totals
        top = ", ".join(f"{rule} ×{count}" for rule, count in list(t.failed_rules.items())[:3])
        paged.row([
            report.show(agent.agent), t.conversations, t.messages,
            c.cell(t.score_mean, SCORE), t.passed, c.cell(t.pass_rate, PERCENT),
            t.critical, t.response.turns, t.response.unanswered,
            c.cell(t.response.avg_s, SECONDS), c.cell(t.response.max_s, SECONDS),
            t.response.slow,
            *[c.cell(t.kpis[k].value if k in t.kpis else None, _kpi_format(k)) for k in kpi_ids],
            top,
        ])
    paged.close()


def _score_scale() -> ColorScaleRule:
    return ColorScaleRule(start_type="num", start_value=0, start_color="F8696B",
                          mid_type="num", mid_value=70, mid_color="FFEB84",
                          end_type="num", end_value=100, end_color="63BE7B")


def _kpi_formats(sheet: WriteOnlyWorksheet, kpis: Sequence[KpiSettings], first_column: int, last: int) -> None:
    """Green where a KPI cell meets the rubric's target, red where it misses it."""
    for offset, settings in enumerate(kpis):
        if settings.target is None:
            continue
        column = get_column_letter(first_column + offset)
        cells = f"{column}2:{column}{last}"
        good, bad = ("lessThanOrEqual", "greaterThan") if _kpi_lower_is_better(settings) \
            else ("greaterThanOrEqual", "lessThan")
        # A blank cell reads as 0 in a CellIs rule; only numbers are coloured.
        sheet.conditional_formatting.add(cells, CellIsRule(operator=good, formula=[str(settings.target)],
                                                           fill=GOOD_FILL))
        sheet.conditional_formatting.add(cells, CellIsRule(operator=bad, formula=[str(settings.target)],
                                                           fill=BAD_FILL))


# --- the rows of each conversation: Conversations, Findings, Transcripts --------------------

class _Showing(NamedTuple):
    """What the rows of a conversation need besides the result."""

    words: dict
    roles: dict
    shown: Report | Shown
    kpi_ids: tuple[str, ...]


def _agents_cell(result: ConversationResult, show: Callable[[str], str]) -> str:
    return ", ".join(show(agent_name(a)) for a in result.agents) or show(agent_name("", False))


def _conversation_row(result: ConversationResult, showing: _Showing) -> list:
    """The result's row of the Conversations sheet; its last cell links to the transcript."""
    words = showing.words
    r = result.response
    failed = "; ".join(check.rule for check in result.checks if not check.passed)
    dispute = result.dispute.type or ""
    if result.dispute.malicious and result.dispute.type != "malicious":
        dispute += f" ({words['malicious']})"
    show = showing.shown.show
    return [
        show(result.id), show(result.source), _agents_cell(result, show),
        Styled(result.start, AT), Styled(result.end, AT),
        len(result.messages), Styled(result.score, AS_SCORE), result.grade,
        words["yes"] if result.passed else words["no"],
        Styled(words["critical_mark"], CRITICAL) if result.critical else "",
        Styled(r.first_s, IN_SECONDS), Styled(r.avg_s, IN_SECONDS),
        Styled(r.max_s, IN_SECONDS), r.slow, r.unanswered, r.turns,
        Styled(result.sentiment.first, AS_SENTIMENT), Styled(result.sentiment.last, AS_SENTIMENT),
        dispute, *[Styled(r.kpis.get(k), _kpi_look(k)) for k in showing.kpi_ids], failed,
        Styled(words["open_transcript"], LINK),
    ]


def _finding_rows(result: ConversationResult, showing: _Showing) -> list[tuple[int, list]]:
    """The result's rows of the Findings sheet, each with its severity rank: failed checks,
    then the detections that point at a problem."""
    findings = []
    for check in result.checks:
        if not check.passed:
            findings.append((check.severity, check.rule, check.message_index, check.message, ""))
    for found in result.detections:
        if found.category.startswith(FINDING_CATEGORIES):
            finding = (f"「{showing.shown.detection_text(result, found)}」"
                       + (f" ({found.note})" if found.note else ""))
            findings.append(("info", found.category, found.message_index, finding, found.suggestion))
    show = showing.shown.show
    rows = []
    for severity, rule, index, finding, suggestion in findings:
        message = result.messages[index] if index is not None else None
        rows.append((SEVERITY_RANK[severity], [
            Styled(severity, CRITICAL) if severity == "critical" else severity, rule,
            show(result.id), show(agent_name(message.sender)) if message and message.role == "agent"
            else _agents_cell(result, show),
            index if index is not None else "",
            Styled(message.timestamp if message else None, AT),
            showing.roles.get(message.role, message.role) if message else "",
            Styled(show(message.text), WRAPPED) if message else "",
            Styled(show(finding), WRAPPED), suggestion,
        ]))
    return rows


def _message_marks(result: ConversationResult) -> dict[int, list[tuple[int, int, InlineFont]]]:
    marks: dict[int, list[tuple[int, int, InlineFont]]] = {}
    # Problems first, so where a problem and a polite phrase overlap the problem shows.
    for found in sorted(result.detections, key=lambda d: not d.category.startswith(FINDING_CATEGORIES)):
        font = PROBLEM_MARK if found.category.startswith(FINDING_CATEGORIES) else GOOD_MARK
        marks.setdefault(found.message_index, []).append((*found.span, font))
    return marks


def _transcript_rows(result: ConversationResult, showing: _Showing) -> list[list]:
    """The result's rows of the Transcripts sheet: a heading, the messages, a blank line."""
    words, show = showing.words, showing.shown.show
    shown_id = show(result.id)
    heading = (f"{shown_id} · {_agents_cell(result, show)} · {words['score']} {result.score:.1f} "
               f"{result.grade} · {show(result.source)}")
    rows: list[list] = [[Styled(heading, HEADING), *[Styled(None, HEADING_BLANK)] * (TRANSCRIPT_COLUMNS - 1)]]
    marks = _message_marks(result)
    by_message: dict[int, list[str]] = {}
    for found in result.detections:
        by_message.setdefault(found.message_index, []).append(
            f"{found.category}「{showing.shown.detection_text(result, found)}」")
    senders: dict[str, str] = {}
    for message in result.messages:
        sender = senders.get(message.sender)
        if sender is None:
            sender = senders[message.sender] = show(message.sender) if message.sender else ""
        rows.append([
            shown_id, message.index, Styled(message.timestamp, AT),
            showing.roles.get(message.role, message.role), sender,
            Marked(show(message.text), marks.get(message.index, ()), WRAPPED),
            Styled("; ".join(by_message.get(message.index, ())), WRAPPED),
        ])
    rows.append([])
    return rows


class ConversationRows(NamedTuple):
    """What one conversation adds to the workbook's large sheets, serialised (xlsx_rows) where
    it was audited: small to send back, and no per-cell work left for the process writing."""

    conversation: str
    findings: tuple[tuple[int, str], ...]  # (severity rank, row)
    transcript: tuple[str, ...]
    # Display widths of the id, the source and the agents, for the columns' widths.
    widths: tuple[int, int, int]
    replaced_characters: int
    cut_texts: int
    # For the Summary: when the conversation started and ended, what its buyer complained of.
    start: datetime | None
    end: datetime | None
    complaints: tuple[str, ...]


class RowRenderer:
    """Makes the ``ConversationRows`` of each result, for a workbook in ``lang`` of a run with
    this rubric and ``show`` (masking). Made before workers fork; its style ids are those every
    workbook of the run registers first (``xlsx_rows.StyleIds``)."""

    def __init__(self, lang: str, rubric: Rubric, show: Callable[[str], str]) -> None:
        _, words, roles = labels_for(lang)
        self.lang = lang
        # Canned replies repeat: each distinct text is masked once (masking is pure).
        self.showing = _Showing(words, roles, Shown(functools.lru_cache(maxsize=8192)(show)),
                                tuple(settings.id for settings in rubric.kpis))
        workbook = Workbook(write_only=True)
        self.styles = StyleIds(workbook, ROW_LOOKS)
        self._counts = CellCleaning()
        self._maker = RowMaker(self.styles, self._counts, workbook.epoch)

    def __call__(self, result: ConversationResult) -> ConversationRows:
        counts, showing, row = self._counts, self.showing, self._maker.row
        counts.replaced_characters = counts.cut_texts = 0
        show = showing.shown.show
        return ConversationRows(
            row(_conversation_row(result, showing)),
            tuple((rank, row(cells)) for rank, cells in _finding_rows(result, showing)),
            tuple(row(cells) for cells in _transcript_rows(result, showing)),
            (display_width(show(result.id)), display_width(show(result.source)),
             display_width(_agents_cell(result, show))),
            counts.replaced_characters, counts.cut_texts,
            result.start, result.end, tuple(complaint_candidates(result)))


class WorkbookRows:
    """The large sheets' rows of a run, placed as each conversation's rows arrive (in input
    order), kept in temporary files until ``write_xlsx`` splices them into the workbook.

    Findings are sorted by severity (critical first, then input order), so they wait per
    severity and are placed when the workbook is written.
    """

    def __init__(self, renderer: RowRenderer) -> None:
        self.renderer = renderer
        sheets, _, _ = labels_for(renderer.lang)
        self._transcripts_title = sheets["transcripts"]
        self.conversations = _SpooledTable()
        self.transcripts = _SpooledTable()
        self._findings = [DeflatedText() for _ in SEVERITY_RANK]
        self._placed_findings: _SpooledTable | None = None
        self._link_column = get_column_letter(len(_conversation_columns(renderer.showing.words,
                                                                        renderer.showing.kpi_ids)))
        self.widest = [0, 0, 0]
        self.counts = CellCleaning()
        self.first: datetime | None = None
        self.last: datetime | None = None
        self._complaints: list[str] = []

    def add(self, rows: ConversationRows) -> None:
        """Place one conversation's rows after those of the conversations before it."""
        transcript = self.transcripts
        page, heading = transcript.place(rows.transcript[0])
        for row in rows.transcript[1:]:
            transcript.place(row)
        target = f"{quote_sheetname(_page_title(self._transcripts_title, page))}!A{heading}"
        page, number = self.conversations.place(rows.conversation)
        self.conversations.spools[page].link(f"{self._link_column}{number}", target)
        for rank, row in rows.findings:
            # \x01 cannot occur in a row: cleaned text has no control characters.
            self._findings[rank].write(row + "\x01")
        self.widest = [max(pair) for pair in zip(self.widest, rows.widths)]
        self.counts.replaced_characters += rows.replaced_characters
        self.counts.cut_texts += rows.cut_texts
        if rows.start and (self.first is None or rows.start < self.first):
            self.first = rows.start
        if rows.end and (self.last is None or rows.end > self.last):
            self.last = rows.end
        self._complaints.extend(rows.complaints)

    def complaint_words(self) -> list[tuple[str, float]]:
        """The words buyers complained about most in the run (as ``Report.complaint_words``)."""
        show = self.renderer.showing.shown.show
        return complaint_keywords(sample_complaints(self._complaints, show))

    def findings(self) -> _SpooledTable:
        """The findings, placed by severity (once; the waiting files are then closed)."""
        if self._placed_findings is None:
            table = _SpooledTable()
            for waiting in self._findings:
                for row in waiting.split("\x01"):
                    table.place(row)
                waiting.close()
            self._placed_findings = table
        return self._placed_findings

    def fit(self, which: int, least: float) -> float:
        """A width for the id (0), source (1) or agents (2) column: the widest text, bounded."""
        return _fit_width(self.widest[which], least)

    def close(self) -> None:
        self.conversations.close()
        self.transcripts.close()
        if self._placed_findings is not None:
            self._placed_findings.close()
        for waiting in self._findings:
            waiting.close()


def _conversation_columns(words: dict, kpi_ids: Sequence[str]) -> list[str]:
    return [words["conversation"], words["source"], words["agents"], words["start"], words["end"],
            words["messages"], words["score"], words["grade"], words["passed_flag"], words["critical"],
            words["first_reply"], words["avg_reply"], words["slowest_reply"], words["slow_replies"],
            words["unanswered"], words["turns"], words["sentiment_first"], words["sentiment_last"],
            words["dispute"], *kpi_ids, words["failed_checks"], words["transcript"]]


def _conversations_sheet(workbook: Workbook, report: Report, cells: _Cells, sheets: dict, words: dict,
                         widths: Callable[[int, float], float]) -> _PagedSheet:
    kpi_ids = [settings.id for settings in report.rubric.kpis]
    kpi_first = 20

    def finish(sheet: WriteOnlyWorksheet, last: int) -> None:
        sheet.conditional_formatting.add(f"G2:G{last}", _score_scale())
        sheet.conditional_formatting.add(f"Q2:R{last}", ColorScaleRule(
            start_type="num", start_value=0, start_color="F8696B",
            mid_type="num", mid_value=0.5, mid_color="FFFFFF",
            end_type="num", end_value=1, end_color="63BE7B"))
        _kpi_formats(sheet, report.rubric.kpis, kpi_first, last)

    return _PagedSheet(workbook, sheets["conversations"], cells, _conversation_columns(words, kpi_ids),
                       [widths(0, 16), widths(1, 24), widths(2, 20),
                        19, 19, 8, 8, 6, 6, 8, 10, 10, 10, 8, 8, 8, 10, 10, 12,
                        *[24] * len(kpi_ids), 50, 10], finish)


def _findings_sheet(workbook: Workbook, cells: _Cells, sheets: dict, words: dict,
                    widths: Callable[[int, float], float]) -> _PagedSheet:
    titles = [words["severity"], words["rule"], words["conversation"], words["agent"],
              words["message_number"], words["time"], words["role"], words["evidence"],
              words["finding"], words["suggestion"]]
    return _PagedSheet(workbook, sheets["findings"], cells, titles,
                       [10, 22, widths(0, 16), widths(2, 16), 8, 19, 6, 60, 50, 40])


def _transcripts_sheet(workbook: Workbook, cells: _Cells, sheets: dict, words: dict) -> _PagedSheet:
    titles = [words["conversation"], "#", words["time"], words["role"], words["sender"], words["text"],
              words["detections"]]
    return _PagedSheet(workbook, sheets["transcripts"], cells, titles, [16, 5, 19, 8, 14, 80, 40])


def _write_large_sheets(workbook: Workbook, report: Report, cells: _Cells, sheets: dict, words: dict,
                        rows: WorkbookRows) -> list[tuple[WriteOnlyWorksheet, RowSpool]]:
    """The Conversations, Findings and Transcripts sheets of spooled rows: header and page
    settings written now, the rows spliced in after saving."""
    return [*_conversations_sheet(workbook, report, cells, sheets, words, rows.fit).spooled_pages(
                rows.conversations),
            *_findings_sheet(workbook, cells, sheets, words, rows.fit).spooled_pages(rows.findings()),
            *_transcripts_sheet(workbook, cells, sheets, words).spooled_pages(rows.transcripts)]


def _write_large_sheets_through_openpyxl(workbook: Workbook, report: Report, cells: _Cells, sheets: dict,
                                         words: dict, roles: dict) -> None:
    """The same sheets, every cell written by openpyxl: what the spliced rows are tested against."""
    showing = _Showing(words, roles, report, tuple(settings.id for settings in report.rubric.kpis))
    show = report.show
    columns = ([r.id for r in report.results], [r.source for r in report.results],
               [_agents_cell(r, show) for r in report.results])

    def widths(which: int, least: float) -> float:
        return _fit(columns[which], least)

    conversations = _conversations_sheet(workbook, report, cells, sheets, words, widths)
    plan = _RowPlan(ROW_LIMIT)
    for result in report.results:
        page, heading = plan.next()
        for _ in range(len(result.messages) + 1):  # the messages and a blank separator
            plan.next()
        target = f"{quote_sheetname(_page_title(sheets['transcripts'], page))}!A{heading}"
        conversations.row(_conversation_row(result, showing), link=target)
    conversations.close()
    findings = _findings_sheet(workbook, cells, sheets, words, widths)
    ranked = [finding for result in report.results for finding in _finding_rows(result, showing)]
    for _, row in sorted(ranked, key=lambda finding: finding[0]):
        findings.row(row)
    findings.close()
    transcripts = _transcripts_sheet(workbook, cells, sheets, words)
    for result in report.results:
        for row in _transcript_rows(result, showing):
            transcripts.row(row)
    transcripts.close()


def _write_problems(workbook: Workbook, report: Report, cells: _Cells, sheets: dict, words: dict) -> None:
    paged = _PagedSheet(workbook, sheets["problems"], cells, [words["file"], words["line"], words["problem"]],
                        [50, 8, 90])
    for summary in report.inputs:
        if summary.error:
            paged.row([report.show(summary.path), "", report.show(summary.error)])
        for problem in summary.problems:
            paged.row([report.show(summary.path), problem.line, report.show(problem.reason)])
    paged.close()


def _write_rubric(workbook: Workbook, report: Report, cells: _Cells, sheets: dict, words: dict) -> None:
    rubric = report.rubric
    sheet = workbook.create_sheet(sheets["rubric"])
    cells = cells.on(sheet)
    for column, width in zip("ABCDEF", (24, 14, 10, 8, 50, 60)):
        sheet.column_dimensions[column].width = width
    settings = [
        (words["rubric"], rubric.name), (words["source"], rubric.source),
        (words["description"], rubric.description), (words["pass_score"], rubric.pass_score),
        (words["grades"], ", ".join(f"{grade} ≥ {lowest:g}" for lowest, grade in rubric.grades)),
        (words["service_hours"], rubric.service_hours_text or ""),
        (words["slow_after"], rubric.slow_after_s),
    ]
    for label, value in settings:
        sheet.append([cells.cell(label, font=BOLD), cells.cell(value)])
    if rubric.kpis:
        sheet.append([])
        sheet.append([cells.cell(t, font=HEADER_FONT, fill=HEADER_FILL)
                      for t in (words["kpi"], words["target"], words["kpi_source"])])
        for kpi in rubric.kpis:
            sheet.append(cells.cells([kpi.id, cells.cell(kpi.target, _kpi_format(kpi)), kpi.source]))
    sheet.append([])
    sheet.append([cells.cell(t, font=HEADER_FONT, fill=HEADER_FILL)
                  for t in (words["check"], words["kind"], words["severity"], words["points"],
                            words["check_title"], words["parameters"])])
    for check in rubric.checks:
        parameters = ", ".join(f"{key}={value}" for key, value in sorted(check.params.items()))
        sheet.append(cells.cells([check.id, check.kind, check.severity, check.points, check.title,
                                  cells.cell(parameters, wrap=True)]))


def _abandon(workbook: Workbook) -> None:
    # A write-only sheet streams into a temporary file through a generator; one left open when
    # saving fails is finished by the garbage collector, which prints a traceback per sheet.
    for sheet in workbook.worksheets:
        if not sheet.closed:
            with contextlib.suppress(Exception):
                sheet.close()


def write_xlsx(report: Report, path: Path | str, lang: str = "zh", rows: WorkbookRows | None = None,
               raw_rows: bool = True) -> CellCleaning:
    """Write the workbook in streaming (write-only) mode; return what cleaning changed.

    ``lang`` picks the sheet names and headers: "zh" (Chinese, the default) or "en".
    ``rows``: the large sheets' rows, made while the conversations were audited (a
    ``WorkbookRows`` of a ``RowRenderer`` in the same ``lang``); made here when not given.
    With ``rows``, ``report.results`` is not read: a streamed run leaves it empty.
    ``raw_rows=False`` writes every cell through openpyxl instead (the tests compare both: the
    sheets must be byte-identical).
    """
    sheets, words, roles = labels_for(lang)
    workbook = Workbook(write_only=True)
    # Fixed metadata, so two workbooks of the same audit differ only where openpyxl stamps the
    # time of saving (docProps/core.xml 'modified' and the zip entries' dates).
    workbook.properties.creator = "cs-audit"
    workbook.properties.created = datetime(2000, 1, 1)
    workbook.properties.modified = datetime(2000, 1, 1)
    styles = StyleIds(workbook, ROW_LOOKS)
    own_rows = None
    if raw_rows and rows is None:
        renderer = RowRenderer(lang, report.rubric, report.show)
        rows = own_rows = WorkbookRows(renderer)
        for result in report.results:
            rows.add(renderer(result))
    if rows is not None and (rows.renderer.lang != lang or not rows.renderer.styles.same_as(styles)):
        raise ValueError("the rows were made for another kind of workbook")
    cells = _Cells(CellCleaning())
    if rows is None:
        starts = [r.start for r in report.results if r.start]
        ends = [r.end for r in report.results if r.end]
        period = (min(starts, default=None), max(ends, default=None))
        keywords = report.complaint_words
    else:
        period = (rows.first, rows.last)
        keywords = rows.complaint_words()
    _write_summary(workbook, report, cells, sheets, words, keywords, period)
    _write_agents(workbook, report, cells, sheets, words)
    spools: list[tuple[WriteOnlyWorksheet, RowSpool]] = []
    try:
        if rows is None:
            _write_large_sheets_through_openpyxl(workbook, report, cells, sheets, words, roles)
        else:
            spools = _write_large_sheets(workbook, report, cells, sheets, words, rows)
            cells.counts.replaced_characters += rows.counts.replaced_characters
            cells.counts.cut_texts += rows.counts.cut_texts
        _write_problems(workbook, report, cells, sheets, words)
        _write_rubric(workbook, report, cells, sheets, words)
        try:
            workbook.save(path)
        except BaseException:
            _abandon(workbook)
            raise
        # A sheet's path in the archive is known once the workbook is saved.
        splice_rows(path, {sheet.path.lstrip("/"): spool for sheet, spool in spools})
    finally:
        if own_rows is not None:
            own_rows.close()
    return cells.counts
