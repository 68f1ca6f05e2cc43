"""The Excel report for supervisors: Summary, Agents, Conversations, Findings, Input problems."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from cs_audit.aggregate import agent_name
from cs_audit.model import SEVERITY_RANK, ConversationResult
from cs_audit.reporters import Report
from cs_audit.reporters.xlsx_cells import CellCleaning, text_cell

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="305496")
FAIL_FILL = PatternFill("solid", fgColor="F8CBAD")
CRITICAL_FONT = Font(bold=True, color="C00000")
WRAP = Alignment(wrap_text=True, vertical="top")
SECONDS = "0"
PERCENT = "0.0%"
SCORE = "0.0"
DATETIME = "yyyy-mm-dd hh:mm:ss"
# Detections that point at a problem (positive tone categories are not findings).
FINDING_CATEGORIES = ("tone.rude", "risk.", "buyer.escalation", "pii.")


def _kpi_format(kpi_id: str) -> str:
    return SECONDS if kpi_id.endswith("_s") else PERCENT


class _SheetWriter:
    """Appends typed rows to a write-only sheet; text goes through the safe text cell."""

    def __init__(self, sheet: WriteOnlyWorksheet, counts: CellCleaning):
        self.sheet = sheet
        self.counts = counts

    def cell(self, value: Any, number_format: str | None = None, font: Font | None = None,
             fill: PatternFill | None = None, wrap: bool = False) -> Cell:
        if isinstance(value, str):
            cell = text_cell(self.sheet, value, self.counts)
        else:
            cell = WriteOnlyCell(self.sheet, value=value)
            if number_format and value is not None:
                cell.number_format = number_format
        if font:
            cell.font = font
        if fill:
            cell.fill = fill
        if wrap:
            cell.alignment = WRAP
        return cell

    def header(self, titles: Sequence[str], widths: Sequence[float]) -> None:
        for position, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[get_column_letter(position)].width = width
        self.sheet.freeze_panes = "A2"
        self.sheet.append([self.cell(title, font=HEADER_FONT, fill=HEADER_FILL) for title in titles])

    def row(self, cells: Iterable[Cell | Any]) -> None:
        self.sheet.append([c if isinstance(c, Cell) else self.cell(c) for c in cells])


def _agents_text(result: ConversationResult, report: Report) -> str:
    return ", ".join(report.show(agent_name(a)) for a in result.agents) or report.show(agent_name("", False))


def _write_summary(writer: _SheetWriter, report: Report) -> None:
    run = report.totals
    summary = run.summary
    starts = [r.start for r in report.results if r.start]
    ends = [r.end for r in report.results if r.end]
    writer.sheet.column_dimensions["A"].width = 24
    writer.sheet.column_dimensions["B"].width = 60
    rows: list[tuple[str, Any, str | None]] = [
        ("Rubric", f"{report.rubric.name} ({report.rubric.source})", None),
        ("From", min(starts) if starts else "", DATETIME),
        ("To", max(ends) if ends else "", DATETIME),
        ("Files", len(report.inputs), None),
        ("Unreadable files", run.unreadable_files, None),
        ("Input problems", run.input_problems, None),
        ("Conversations", summary.conversations, None),
        ("Messages", summary.messages, None),
        ("Mean score", summary.score_mean if summary.score_mean is not None else "", SCORE),
        ("Passed", summary.passed, None),
        ("Pass rate", summary.pass_rate if summary.pass_rate is not None else "", PERCENT),
        ("Critical conversations", summary.critical, None),
        ("Buyer turns", summary.response.turns, None),
        ("Unanswered turns", summary.response.unanswered, None),
        ("Average reply (s)", summary.response.avg_s if summary.response.avg_s is not None else "", SECONDS),
        (f"Replies slower than {report.rubric.slow_after_s:g} s", summary.response.slow, None),
    ]
    writer.row([writer.cell("cs-audit report", font=Font(bold=True, size=14))])
    for label, value, number_format in rows:
        writer.row([writer.cell(label, font=Font(bold=True)), writer.cell(value, number_format)])
    if report.rubric.kpis:
        writer.row([])
        writer.row([writer.cell("Platform KPI", font=Font(bold=True)),
                    writer.cell("Value", font=Font(bold=True)),
                    writer.cell("Target", font=Font(bold=True))])
        for settings in report.rubric.kpis:
            count = summary.kpis.get(settings.id)
            value = count.value if count else None
            writer.row([settings.id, writer.cell(value, _kpi_format(settings.id)),
                        writer.cell(settings.target, _kpi_format(settings.id))])
    if summary.failed_rules:
        writer.row([])
        writer.row([writer.cell("Most failed checks", font=Font(bold=True)),
                    writer.cell("Conversations", font=Font(bold=True))])
        for rule, count in list(summary.failed_rules.items())[:10]:
            writer.row([rule, count])


def _write_agents(writer: _SheetWriter, report: Report) -> None:
    kpi_ids = [settings.id for settings in report.rubric.kpis]
    writer.header(
        ["Agent", "Conversations", "Messages sent", "Mean score", "Passed", "Pass rate",
         "Critical", "Turns", "Unanswered", "Average reply (s)", "Slowest reply (s)", "Slow replies",
         *kpi_ids, "Most failed checks"],
        [28, 14, 14, 12, 10, 11, 10, 10, 12, 16, 16, 12, *[24] * len(kpi_ids), 50],
    )
    # Worst first: the agent a supervisor should look at is at the top.
    ordered = sorted(report.totals.agents,
                     key=lambda a: (a.totals.score_mean if a.totals.score_mean is not None else 101, a.agent))
    for agent in ordered:
        t = agent.totals
        top = ", ".join(f"{rule} ×{count}" for rule, count in list(t.failed_rules.items())[:3])
        writer.row([
            report.show(agent.agent), t.conversations, t.messages,
            writer.cell(t.score_mean, SCORE), t.passed, writer.cell(t.pass_rate, PERCENT),
            t.critical, t.response.turns, t.response.unanswered,
            writer.cell(t.response.avg_s, SECONDS), writer.cell(t.response.max_s, SECONDS),
            t.response.slow,
            *[writer.cell(t.kpis[k].value if k in t.kpis else None, _kpi_format(k)) for k in kpi_ids],
            top,
        ])


def _write_conversations(writer: _SheetWriter, report: Report) -> None:
    kpi_ids = [settings.id for settings in report.rubric.kpis]
    titles = ["Conversation", "Source", "Agents", "Start", "End", "Messages", "Score", "Grade",
              "Passed", "Critical", "First reply (s)", "Average reply (s)", "Slowest reply (s)",
              "Slow replies", "Unanswered", "Turns", "Sentiment first", "Sentiment last",
              "Dispute", *kpi_ids, "Failed checks"]
    writer.header(titles, [16, 28, 26, 19, 19, 10, 8, 7, 8, 9, 14, 16, 16, 12, 12, 8, 14, 14, 14,
                           *[24] * len(kpi_ids), 60])
    for result in report.results:
        r = result.response
        failed = "; ".join(c.rule for c in result.checks if not c.passed)
        fill = None if result.passed else FAIL_FILL
        writer.row([
            result.id, result.source, _agents_text(result, report),
            writer.cell(result.start, DATETIME), writer.cell(result.end, DATETIME),
            len(result.messages), writer.cell(result.score, SCORE, fill=fill), result.grade,
            "yes" if result.passed else "no",
            writer.cell("CRITICAL", font=CRITICAL_FONT) if result.critical else "",
            writer.cell(r.first_s, SECONDS), writer.cell(r.avg_s, SECONDS),
            writer.cell(r.max_s, SECONDS), r.slow, r.unanswered, r.turns,
            writer.cell(result.sentiment.first, "0.00"), writer.cell(result.sentiment.last, "0.00"),
            (result.dispute.type or "") + (" (malicious)" if result.dispute.malicious
                                           and result.dispute.type != "malicious" else ""),
            *[writer.cell(r.kpis.get(k), _kpi_format(k)) for k in kpi_ids], failed,
        ])
    if report.results:
        writer.sheet.auto_filter.ref = f"A1:{get_column_letter(len(titles))}{len(report.results) + 1}"


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


def _write_findings(writer: _SheetWriter, report: Report) -> None:
    titles = ["Severity", "Rule", "Conversation", "Agent", "Message #", "Time", "Role",
              "Evidence", "Finding", "Suggestion"]
    writer.header(titles, [10, 22, 16, 24, 10, 19, 8, 60, 50, 40])
    rows = _finding_rows(report)
    for _, rule, result, index, severity, finding, suggestion in rows:
        message = result.messages[index] if index is not None else None
        writer.row([
            writer.cell(severity, font=CRITICAL_FONT if severity == "critical" else None), rule,
            result.id, report.show(agent_name(message.sender)) if message and message.role == "agent"
            else _agents_text(result, report),
            index if index is not None else "",
            writer.cell(message.timestamp if message else None, DATETIME),
            message.role if message else "",
            writer.cell(report.show(message.text), wrap=True) if message else "",
            report.show(finding), suggestion,
        ])
    if rows:
        writer.sheet.auto_filter.ref = f"A1:{get_column_letter(len(titles))}{len(rows) + 1}"


def _write_problems(writer: _SheetWriter, report: Report) -> None:
    writer.header(["File", "Line", "Problem"], [50, 8, 90])
    for summary in report.inputs:
        for problem in summary.problems:
            writer.row([summary.path, problem.line, report.show(problem.reason)])


def write_xlsx(report: Report, path: Path | str) -> CellCleaning:
    """Write the workbook in streaming (write-only) mode; return what cleaning changed."""
    workbook = Workbook(write_only=True)
    # Fixed metadata so the same audit writes the same workbook.
    workbook.properties.creator = "cs-audit"
    workbook.properties.created = datetime(2000, 1, 1)
    workbook.properties.modified = datetime(2000, 1, 1)
    counts = CellCleaning()
    for title, write in (("Summary", _write_summary), ("Agents", _write_agents),
                         ("Conversations", _write_conversations), ("Findings", _write_findings),
                         ("Input problems", _write_problems)):
        write(_SheetWriter(workbook.create_sheet(title), counts), report)
    workbook.save(path)
    return counts
