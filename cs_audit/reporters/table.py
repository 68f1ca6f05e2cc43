"""The terminal table (``--format table``): one row per conversation, then a totals row.

It fits the terminal: when it is wider, the least useful columns are dropped (``DROP_ORDER``)
and then the failed checks wrap. Failed and critical conversations are coloured when colour is
on (``terminal.use_colour``). ``--only-failed`` and ``--top N`` keep it short on big audits;
the totals row always counts every conversation.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, NamedTuple

from tabulate import tabulate
from wcwidth import wcswidth

from cs_audit.aggregate import agent_name
from cs_audit.model import ConversationResult
from cs_audit.reporters import Report
from cs_audit.reporters.terminal import terminal_text

HEADERS = ["conversation", "file", "agents", "msgs", "score", "grade", "pass", "first_s", "avg_s",
           "slow", "unans", "failed checks"]
# Dropped one after another, first to last, while the table is wider than the terminal; the
# conversation, its score, verdict and failed checks always stay.
DROP_ORDER = ("unans", "slow", "msgs", "first_s", "grade", "avg_s", "agents", "file")
FAILED_CHECKS = "failed checks"
# The narrowest the failed checks are wrapped to, however narrow the terminal.
MIN_WRAP_WIDTH = 12
MAX_FAILED_SHOWN = 3
# SGR sequences: bold red for a critical conversation, red for a failed one.
CRITICAL_STYLE, FAILED_STYLE, RESET = "\x1b[1;31m", "\x1b[31m", "\x1b[0m"
_SGR = re.compile("\x1b\\[[0-9;]*m")


class TableRow(NamedTuple):
    """What the table keeps of one conversation, so a run need not keep the result."""

    cells: list
    failed: bool
    critical: bool
    score: float


@dataclass(frozen=True)
class TableView:
    """How the table is shown: which rows, in colour or not, how wide at most (None: any)."""

    only_failed: bool = False
    top: int | None = None
    colour: bool = False
    width: int | None = None


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def _kpi_text(kpi_id: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.0f} s" if kpi_id.endswith("_s") else f"{value:.1%}"


def shown_file(source: str) -> str:
    """An input file as the table shows it: relative to the working folder when inside it (as
    ruff shows paths), else as given."""
    path = Path(source)
    if not path.is_absolute():
        return source
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return source


def conversation_row(result: ConversationResult, show: Callable[[str], str]) -> TableRow:
    """One conversation's row: all the table keeps of a result, so a run need not keep it."""
    r = result.response
    failed = [c.rule for c in result.checks if not c.passed]
    shown = ", ".join(failed[:MAX_FAILED_SHOWN]) + (f" +{len(failed) - MAX_FAILED_SHOWN}"
                                                    if len(failed) > MAX_FAILED_SHOWN else "")
    agents = ", ".join(agent_name(a).split(":")[-1] for a in result.agents) or "-"
    cells = [
        terminal_text(show(result.id)), terminal_text(show(shown_file(result.source))), terminal_text(show(agents)),
        len(result.messages), f"{result.score:.1f}", result.grade,
        "CRIT" if result.critical else ("yes" if result.passed else "no"),
        _seconds(r.first_s), _seconds(r.avg_s), "-" if r.slow is None else r.slow,
        r.unanswered, shown,
    ]
    return TableRow(cells, not result.passed or result.critical, result.critical, result.score)


class TableRows:
    """The rows a run keeps for the table: every row, the failed ones (``only_failed``) or the
    ``top`` worst (critical first, then by score; ties in input order), never more than that."""

    def __init__(self, only_failed: bool = False, top: int | None = None) -> None:
        self.only_failed = only_failed
        self.top = top
        self.seen = 0
        self._rows: list[TableRow] = []
        self._worst: list[tuple[tuple[int, float, int], TableRow]] = []

    def add(self, row: TableRow) -> None:
        self.seen += 1
        if self.only_failed and not row.failed:
            return
        if self.top is None:
            self._rows.append(row)
            return
        # A max-heap (keys negated) of the worst so far: the best of them leaves first.
        heapq.heappush(self._worst, ((-(not row.critical), -row.score, -self.seen), row))
        if len(self._worst) > self.top:
            heapq.heappop(self._worst)

    def rows(self) -> list[TableRow]:
        if self.top is None:
            return list(self._rows)
        return [row for _, row in sorted(self._worst, reverse=True)]

    @property
    def filtered(self) -> bool:
        return self.only_failed or self.top is not None


def _coloured(row: TableRow) -> list:
    style = CRITICAL_STYLE if row.critical else FAILED_STYLE if row.failed else None
    if style is None:
        return list(row.cells)
    cells = list(row.cells)
    for column in ("conversation", "score", "pass"):
        at = HEADERS.index(column)
        cells[at] = f"{style}{cells[at]}{RESET}"
    return cells


def _display_width(text: str) -> int:
    plain = _SGR.sub("", text)
    width = wcswidth(plain)
    return width if width >= 0 else len(plain)


def _render(rows: list[list], columns: list[str], wrap: int | None = None) -> str:
    keep = [HEADERS.index(column) for column in columns]
    widths = [wrap if column == FAILED_CHECKS else None for column in columns] if wrap else None
    return tabulate([[row[i] for i in keep] for row in rows], headers=columns, tablefmt="simple",
                    disable_numparse=True, maxcolwidths=widths)


def _widest(text: str) -> int:
    return max((_display_width(line) for line in text.splitlines()), default=0)


def _fitted(rows: list[list], width: int | None) -> str:
    """The table with as many columns as fit in ``width``, the failed checks wrapped if need be."""
    columns = list(HEADERS)
    text = _render(rows, columns)
    if width is None:
        return text
    for column in DROP_ORDER:
        if _widest(text) <= width:
            return text
        columns.remove(column)
        text = _render(rows, columns)
    if _widest(text) <= width:
        return text
    others = _widest(_render(rows, columns[:-1]))
    return _render(rows, columns, wrap=max(MIN_WRAP_WIDTH, width - others - 2))


def render_table(report: Report, rows: Sequence[TableRow] | TableRows | None = None,
                 view: TableView = TableView()) -> str:
    """The table as text; ``rows``: the conversations' rows if already made
    (``conversation_row``, gathered in a ``TableRows``), else made from ``report.results``
    and chosen as ``view`` says."""
    if rows is None:
        rows = _kept_rows((conversation_row(result, report.show) for result in report.results), view)
    kept = rows.rows() if isinstance(rows, TableRows) else list(rows)
    shown = [_coloured(row) if view.colour else list(row.cells) for row in kept]
    summary = report.totals.summary
    mean = "-" if summary.score_mean is None else f"{summary.score_mean:.1f}"
    shown.append([
        f"TOTAL {summary.conversations}", f"{len(report.inputs)} files" if len(report.inputs) != 1 else "1 file",
        f"{len(report.totals.agents)} agents", summary.messages,
        mean, "", f"{summary.passed}/{summary.conversations}", "",
        _seconds(summary.response.avg_s), summary.response.slow, summary.response.unanswered,
        f"{summary.critical} critical",
    ])
    text = _fitted(shown, view.width)
    if isinstance(rows, TableRows) and rows.filtered:
        which = (f"the {len(kept)} worst" if rows.top is not None else f"{len(kept)} failed")
        text += f"\nshowing {which} of {summary.conversations} conversation(s)"
    return text


def _kept_rows(rows: Iterable[TableRow], view: TableView) -> TableRows:
    kept = TableRows(view.only_failed, view.top)
    for row in rows:
        kept.add(row)
    return kept


def write_table(report: Report, stream: IO[str], rows: Sequence[TableRow] | TableRows | None = None,
                view: TableView = TableView()) -> None:
    """Print the table, followed by a line on input problems when there were any (``rows`` and
    ``view`` as for ``render_table``)."""
    stream.write(render_table(report, rows, view) + "\n")
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
