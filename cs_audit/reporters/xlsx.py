"""The Excel report a supervisor opens: Summary, Agents, Conversations, Findings, Transcripts,
Input problems and Rubric, written in streaming (write-only) mode.

Chinese headers by default, English with ``lang="en"`` (words in ``xlsx_labels``). Every
chat-derived text goes through ``report.show`` (masking) and the safe cells of ``xlsx_cells``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.cell.text import InlineFont
from openpyxl.chart import BarChart, Reference
from openpyxl.formatting.rule import CellIsRule, ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.properties import PageSetupProperties

from cs_audit.aggregate import agent_name
from cs_audit.analysis.kpis import KpiSettings
from cs_audit.model import SEVERITY_RANK, ConversationResult
from cs_audit.reporters import Report
from cs_audit.reporters.xlsx_cells import CellCleaning, display_width, rich_text_cell, text_cell, text_value
from cs_audit.reporters.xlsx_labels import labels_for
from cs_audit.reporters.xlsx_rows import RawRows, splice_rows

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
WRAP = Alignment(wrap_text=True, vertical="top")
# How detected phrases look inside a transcript message.
PROBLEM_MARK = InlineFont(b=True, color="C00000", u="single")
GOOD_MARK = InlineFont(b=True, color="008000")
SECONDS = "0"
PERCENT = "0.0%"
SCORE = "0.0"
SENTIMENT = "0.00"
DATETIME = "yyyy-mm-dd hh:mm:ss"
# Detections that point at a problem (positive tone categories are not findings).
FINDING_CATEGORIES = ("tone.rude", "risk.", "buyer.escalation", "pii.")
# Excel's rows per sheet; a module constant so tests can page with a small one.
ROW_LIMIT = 1_048_576
MAX_COLUMN_WIDTH = 60
CHARTED_AGENTS = 30


def _kpi_format(settings_or_id: KpiSettings | str) -> str:
    kpi_id = settings_or_id if isinstance(settings_or_id, str) else settings_or_id.id
    return SECONDS if kpi_id.endswith("_s") else PERCENT


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
            prototype = WriteOnlyCell(sheet, value=None if text else value)
            if number_format:
                prototype.number_format = number_format
            if font:
                prototype.font = font
            if fill:
                prototype.fill = fill
            if wrap:
                prototype.alignment = WRAP
            # _style is openpyxl's private per-cell style array (openpyxl 3.1); Cell() takes a copy
            # of it as its public style_array argument. test_xlsx reads the styles back.
            known = self._arrays[key] = (prototype._style, font, fill)
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

    def on(self, sheet: WriteOnlyWorksheet) -> _Cells:
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

    def marked_text(self, text: str, marks: Sequence[tuple[int, int, InlineFont]],
                    wrap: bool = False) -> Cell:
        """A text cell whose marked ranges show in their own font (``rich_text_cell``)."""
        look = self.looks.of(self.sheet, text, None, None, None, wrap) if wrap else None
        return rich_text_cell(self.sheet, text, marks, self.counts, look)

    def cells(self, values: Iterable[Cell | Any]) -> list[Cell | Any]:
        cell = self.cell
        return [v if isinstance(v, Cell) else cell(v) for v in values]


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

    ``finish_page(sheet, last_row)`` adds what needs the page's extent (conditional formats).
    """

    def __init__(self, workbook: Workbook, title: str, cells: _Cells,
                 titles: Sequence[str], widths: Sequence[float],
                 finish_page: Callable[[WriteOnlyWorksheet, int], None] | None = None,
                 raw: bool = False):
        self.workbook = workbook
        # Data rows kept as XML for splice_rows (xlsx_rows) instead of appended through openpyxl.
        self.raw = raw
        self.raw_pages: list[RawRows] = []
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
        if self.raw:
            self.raw_pages.append(RawRows(self.workbook, sheet))
        self.last_row = 1
        return sheet

    def _end_page(self) -> None:
        if self.last_row > 1:
            self.sheet.auto_filter.ref = f"A1:{get_column_letter(len(self.titles))}{self.last_row}"
            if self.finish_page:
                self.finish_page(self.sheet, self.last_row)

    def row(self, values: Iterable[Cell | Any]) -> None:
        page, row = self.plan.next()
        if page != self.page:
            self._end_page()
            self.page = page
            self.sheet = self._start_page(page)
        if self.raw:
            self.raw_pages[-1].append(row, self.cells.cells(values))
        else:
            self.sheet.append(self.cells.cells(values))
        self.last_row = row

    def close(self) -> None:
        self._end_page()


def _agents_text(result: ConversationResult, report: Report) -> str:
    return ", ".join(report.show(agent_name(a)) for a in result.agents) or report.show(agent_name("", False))


# --- sheets --------------------------------------------------------------------------------

def _write_summary(workbook: Workbook, report: Report, cells: _Cells, sheets: dict, words: dict,
                   keywords: Sequence[tuple[str, float]]) -> None:
    sheet = workbook.create_sheet(sheets["summary"])
    # Before the first row: write-only mode writes the sheet properties with it.
    _print_landscape(sheet, fit_width=True)
    cells = cells.on(sheet)
    run = report.totals
    summary = run.summary
    starts = [r.start for r in report.results if r.start]
    ends = [r.end for r in report.results if r.end]
    rows: list[tuple[str, Any, str | None]] = [
        (words["rubric"], f"{report.rubric.name} ({report.rubric.source})", None),
        (words["from"], min(starts) if starts else "", DATETIME),
        (words["to"], max(ends) if ends else "", DATETIME),
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
    return min(max([least, *(display_width(text) + 2 for text in texts)]), MAX_COLUMN_WIDTH)


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


def _transcript_positions(report: Report, title: str) -> list[str]:
    """Where each conversation's heading row lands on the transcript sheets, as link targets."""
    plan = _RowPlan(ROW_LIMIT)
    targets = []
    for result in report.results:
        page, row = plan.next()
        targets.append(f"{quote_sheetname(_page_title(title, page))}!A{row}")
        for _ in range(len(result.messages) + 1):  # the messages and a blank separator
            plan.next()
    return targets


def _write_conversations(workbook: Workbook, report: Report, cells: _Cells, sheets: dict,
                         words: dict) -> None:
    kpi_ids = [settings.id for settings in report.rubric.kpis]
    titles = [words["conversation"], words["source"], words["agents"], words["start"], words["end"],
              words["messages"], words["score"], words["grade"], words["passed_flag"], words["critical"],
              words["first_reply"], words["avg_reply"], words["slowest_reply"], words["slow_replies"],
              words["unanswered"], words["turns"], words["sentiment_first"], words["sentiment_last"],
              words["dispute"], *kpi_ids, words["failed_checks"], words["transcript"]]
    kpi_first = 20

    def finish(sheet: WriteOnlyWorksheet, last: int) -> None:
        sheet.conditional_formatting.add(f"G2:G{last}", _score_scale())
        sheet.conditional_formatting.add(f"Q2:R{last}", ColorScaleRule(
            start_type="num", start_value=0, start_color="F8696B",
            mid_type="num", mid_value=0.5, mid_color="FFFFFF",
            end_type="num", end_value=1, end_color="63BE7B"))
        _kpi_formats(sheet, report.rubric.kpis, kpi_first, last)

    paged = _PagedSheet(workbook, sheets["conversations"], cells, titles,
                        [_fit((r.id for r in report.results), 16),
                         _fit((r.source for r in report.results), 24),
                         _fit((_agents_text(r, report) for r in report.results), 20),
                         19, 19, 8, 8, 6, 6, 8, 10, 10, 10, 8, 8, 8, 10, 10, 12,
                         *[24] * len(kpi_ids), 50, 10], finish)
    links = _transcript_positions(report, sheets["transcripts"])
    c = paged.cells
    for result, target in zip(report.results, links):
        r = result.response
        failed = "; ".join(check.rule for check in result.checks if not check.passed)
        dispute = result.dispute.type or ""
        if result.dispute.malicious and result.dispute.type != "malicious":
            dispute += f" ({words['malicious']})"
        link = c.cell(words["open_transcript"], font=LINK_FONT)
        link.hyperlink = Hyperlink(ref="", location=target)
        paged.row([
            result.id, result.source, _agents_text(result, report),
            c.cell(result.start, DATETIME), c.cell(result.end, DATETIME),
            len(result.messages), c.cell(result.score, SCORE), result.grade,
            words["yes"] if result.passed else words["no"],
            c.cell(words["critical_mark"], font=CRITICAL_FONT) if result.critical else "",
            c.cell(r.first_s, SECONDS), c.cell(r.avg_s, SECONDS),
            c.cell(r.max_s, SECONDS), r.slow, r.unanswered, r.turns,
            c.cell(result.sentiment.first, SENTIMENT), c.cell(result.sentiment.last, SENTIMENT),
            dispute, *[c.cell(r.kpis.get(k), _kpi_format(k)) for k in kpi_ids], failed, link,
        ])
    paged.close()


def _finding_rows(report: Report) -> list[tuple[int, str, ConversationResult, int | None, str, str, str]]:
    rows = []
    for result in report.results:
        for check in result.checks:
            if not check.passed:
                rows.append((SEVERITY_RANK[check.severity], check.rule, result, check.message_index,
                             check.severity, check.message, ""))
        for found in result.detections:
            if found.category.startswith(FINDING_CATEGORIES):
                finding = (f"「{report.detection_text(result, found)}」"
                           + (f" ({found.note})" if found.note else ""))
                rows.append((SEVERITY_RANK["info"], found.category, result, found.message_index,
                             "info", finding, found.suggestion))
    # Critical first; within a severity, input order (sorted() is stable).
    return sorted(rows, key=lambda row: row[0])


def _write_findings(workbook: Workbook, report: Report, cells: _Cells, sheets: dict, words: dict,
                    roles: dict, raw: bool = True) -> list[RawRows]:
    titles = [words["severity"], words["rule"], words["conversation"], words["agent"],
              words["message_number"], words["time"], words["role"], words["evidence"],
              words["finding"], words["suggestion"]]
    paged = _PagedSheet(workbook, sheets["findings"], cells, titles,
                        [10, 22, _fit((r.id for r in report.results), 16),
                         _fit((_agents_text(r, report) for r in report.results), 16),
                         8, 19, 6, 60, 50, 40], raw=raw)
    c = paged.cells
    for _, rule, result, index, severity, finding, suggestion in _finding_rows(report):
        message = result.messages[index] if index is not None else None
        paged.row([
            c.cell(severity, font=CRITICAL_FONT if severity == "critical" else None), rule,
            result.id, report.show(agent_name(message.sender)) if message and message.role == "agent"
            else _agents_text(result, report),
            index if index is not None else "",
            c.cell(message.timestamp if message else None, DATETIME),
            roles.get(message.role, message.role) if message else "",
            c.cell(report.show(message.text), wrap=True) if message else "",
            c.cell(report.show(finding), wrap=True), suggestion,
        ])
    paged.close()
    return paged.raw_pages


def _message_marks(result: ConversationResult) -> dict[int, list[tuple[int, int, InlineFont]]]:
    marks: dict[int, list[tuple[int, int, InlineFont]]] = {}
    # Problems first, so where a problem and a polite phrase overlap the problem shows.
    for found in sorted(result.detections, key=lambda d: not d.category.startswith(FINDING_CATEGORIES)):
        font = PROBLEM_MARK if found.category.startswith(FINDING_CATEGORIES) else GOOD_MARK
        marks.setdefault(found.message_index, []).append((*found.span, font))
    return marks


def _write_transcripts(workbook: Workbook, report: Report, cells: _Cells, sheets: dict, words: dict,
                       roles: dict, raw: bool = True) -> list[RawRows]:
    """The transcript sheet(s); its rows are kept as XML (``raw``) to be spliced in after saving:
    one row per message is most of the workbook, and openpyxl's per-cell cost most of its time."""
    titles = [words["conversation"], "#", words["time"], words["role"], words["sender"], words["text"],
              words["detections"]]
    paged = _PagedSheet(workbook, sheets["transcripts"], cells, titles, [16, 5, 19, 8, 14, 80, 40], raw=raw)
    for result in report.results:
        c = paged.cells
        heading = (f"{result.id} · {_agents_text(result, report)} · {words['score']} {result.score:.1f} "
                   f"{result.grade} · {result.source}")
        paged.row([c.cell(heading, font=HEADING_FONT, fill=HEADING_FILL),
                   *[c.cell(None, fill=HEADING_FILL) for _ in titles[1:]]])
        marks = _message_marks(result)
        by_message: dict[int, list[str]] = {}
        for found in result.detections:
            by_message.setdefault(found.message_index, []).append(
                f"{found.category}「{report.detection_text(result, found)}」")
        for message in result.messages:
            c = paged.cells
            shown = report.show(message.text)
            text = c.marked_text(shown, marks.get(message.index, ()), wrap=True)
            paged.row([
                result.id, message.index, c.cell(message.timestamp, DATETIME),
                roles.get(message.role, message.role),
                report.show(message.sender) if message.sender else "",
                text, c.cell("; ".join(by_message.get(message.index, ())), wrap=True),
            ])
        paged.row([])
    paged.close()
    return paged.raw_pages


def _write_problems(workbook: Workbook, report: Report, cells: _Cells, sheets: dict, words: dict) -> None:
    paged = _PagedSheet(workbook, sheets["problems"], cells, [words["file"], words["line"], words["problem"]],
                        [50, 8, 90])
    for summary in report.inputs:
        if summary.error:
            paged.row([summary.path, "", report.show(summary.error)])
        for problem in summary.problems:
            paged.row([summary.path, problem.line, report.show(problem.reason)])
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


def write_xlsx(report: Report, path: Path | str, lang: str = "zh",
               raw_rows: bool = True) -> CellCleaning:
    """Write the workbook in streaming (write-only) mode; return what cleaning changed.

    ``lang`` picks the sheet names and headers: "zh" (Chinese, the default) or "en".
    The findings and transcript rows, most of the workbook, are serialised by xlsx_rows;
    ``raw_rows=False`` writes them through openpyxl too (the tests compare both: the sheets
    must be byte-identical).
    """
    sheets, words, roles = labels_for(lang)
    workbook = Workbook(write_only=True)
    # Fixed metadata, so two workbooks of the same audit differ only where openpyxl stamps the
    # time of saving (docProps/core.xml 'modified' and the zip entries' dates).
    workbook.properties.creator = "cs-audit"
    workbook.properties.created = datetime(2000, 1, 1)
    workbook.properties.modified = datetime(2000, 1, 1)
    cells = _Cells(CellCleaning())
    keywords = report.complaint_words
    _write_summary(workbook, report, cells, sheets, words, keywords)
    _write_agents(workbook, report, cells, sheets, words)
    _write_conversations(workbook, report, cells, sheets, words)
    raw = _write_findings(workbook, report, cells, sheets, words, roles, raw=raw_rows)
    raw += _write_transcripts(workbook, report, cells, sheets, words, roles, raw=raw_rows)
    _write_problems(workbook, report, cells, sheets, words)
    _write_rubric(workbook, report, cells, sheets, words)
    try:
        workbook.save(path)
        splice_rows(path, raw)
    finally:
        for rows in raw:
            rows.close()
    return cells.counts
