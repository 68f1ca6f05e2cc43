"""The terminal table (``--format table``): one row per conversation, then a totals row."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import IO

from tabulate import tabulate

from cs_audit.aggregate import agent_name
from cs_audit.model import ConversationResult
from cs_audit.reporters import Report
from cs_audit.reporters.terminal import terminal_text

HEADERS = ["conversation", "agents", "msgs", "score", "grade", "pass", "first_s", "avg_s",
           "slow", "unans", "failed checks"]
MAX_FAILED_SHOWN = 3


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _kpi_text(kpi_id: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} s" if kpi_id.endswith("_s") else f"{value:.1%}"


def conversation_row(result: ConversationResult, show: Callable[[str], str]) -> list:
    """One conversation's row: all the table keeps of a result, so a run need not keep it."""
    r = result.response
    failed = [c.rule for c in result.checks if not c.passed]
    shown = ", ".join(failed[:MAX_FAILED_SHOWN]) + (f" +{len(failed) - MAX_FAILED_SHOWN}"
                                                    if len(failed) > MAX_FAILED_SHOWN else "")
    agents = ", ".join(agent_name(a).split(":")[-1] for a in result.agents) or "-"
    return [
        terminal_text(show(result.id)), terminal_text(show(agents)), len(result.messages),
        f"{result.score:.1f}", result.grade,
        "CRIT" if result.critical else ("yes" if result.passed else "no"),
        _seconds(r.first_s), _seconds(r.avg_s), "-" if r.slow is None else r.slow,
        r.unanswered, shown,
    ]


def render_table(report: Report, rows: Sequence[list] | None = None) -> str:
    """The table as text; ``rows``: the conversations' rows if already made
    (``conversation_row``), else made from ``report.results``."""
    if rows is None:
        rows = [conversation_row(result, report.show) for result in report.results]
    rows = list(rows)
    summary = report.totals.summary
    mean = "-" if summary.score_mean is None else f"{summary.score_mean:.1f}"
    rows.append([
        f"TOTAL {summary.conversations}", f"{len(report.totals.agents)} agents", summary.messages,
        mean, "", f"{summary.passed}/{summary.conversations}", "",
        _seconds(summary.response.avg_s), summary.response.slow, summary.response.unanswered,
        f"{summary.critical} critical",
    ])
    return tabulate(rows, headers=HEADERS, tablefmt="simple", disable_numparse=True)


def write_table(report: Report, stream: IO[str], rows: Sequence[list] | None = None) -> None:
    """Print the table, followed by a line on input problems when there were any (``rows`` as
    for ``render_table``)."""
    stream.write(render_table(report, rows) + "\n")
    run = report.totals
    for settings in report.rubric.kpis:
        count = run.summary.kpis.get(settings.id)
        value = count.value if count else None
        stream.write(f"\n{settings.id}: {_kpi_text(settings.id, value)}"
                     + (f" (target {_kpi_text(settings.id, settings.target)})"
                        if settings.target is not None else ""))
    if report.rubric.kpis:
        stream.write("\n")
    if run.input_problems:
        stream.write(f"\n{run.input_problems} input problem(s) in "
                     f"{sum(1 for i in report.inputs if i.problems)} file(s); see the JSON or Excel report.\n")
