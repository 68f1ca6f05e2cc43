"""GitHub Actions workflow commands (``--format github``): an annotation per failed check.

Each failed check that fails the gate (:class:`cs_audit.gate.GateRule`; every failed check when
the CLI is given ``--findings all``) becomes ``::error`` (critical, major, and any check
``--fail-on`` counts), ``::warning`` (minor) or ``::notice`` (info) with ``file=`` the input file as given on the command line (run from the repository root
with relative paths so GitHub can attach it to the file), ``line=`` the file line of the message
the check points at (else the conversation's first line) and ``title=`` the rule id. The text
names the conversation, the severity and the finding, quotes the message and adds the
lexicons' "what to say instead". Input problems are ``::warning`` lines.

GitHub shows only the first few annotations of each level per step, so the most severe come
first: critical, major, input problems, minor, info; within a level, input order. The last
line is a plain summary, not a command.

Escaping follows the Actions toolkit: in the text ``%``, CR and LF become ``%25``, ``%0D``,
``%0A``; in properties also ``:`` and ``,`` become ``%3A`` and ``%2C``. Other control
characters (terminal escapes, bells) are shown as ``\\x1b``, ``\\t`` … so a log viewer never
obeys them.
"""

from __future__ import annotations

import dataclasses
import heapq
import io
import re
from dataclasses import dataclass
from collections.abc import Iterable
from typing import IO

from cs_audit.gate import GateRule
from cs_audit.model import SEVERITY_RANK, CheckResult, ConversationResult
from cs_audit.reporters.terminal import terminal_text
from cs_audit.reporters import Report, Shown
from cs_audit.reporters.spool import RecordSpool
from cs_audit.reporters.suggestions import check_categories, rephrasings

LEVEL_BY_SEVERITY = {"critical": "error", "major": "error", "minor": "warning", "info": "notice"}
# Input problems rank between major and minor findings (see the module docstring).
INPUT_PROBLEM_RANK = SEVERITY_RANK["major"] + 0.5
INPUT_PROBLEM_LEVEL = "warning"
# C0/C1 controls other than CR and LF (which the escaping below encodes), DEL, and lone
# surrogates (possible from JSON input), which standard output could not even encode.
_CONTROL = re.compile("[\x00-\x09\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


@dataclass(frozen=True)
class Annotation:
    """One workflow command before it is written."""

    level: str
    file: str
    line: int
    title: str
    text: str
    rank: float


def _visible_controls(text: str) -> str:
    return _CONTROL.sub(lambda found: repr(found.group())[1:-1], text)


def escape_data(text: str) -> str:
    """Escape a command's message the way the Actions runner unescapes it."""
    return (_visible_controls(text).replace("%", "%25")
            .replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(text: str) -> str:
    """Escape a command property value (file, title): data escaping plus ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _first_line(result: ConversationResult) -> int:
    lines = [message.line for message in result.messages if message.line > 0]
    return min(lines) if lines else 0


def _check_text(check: CheckResult, result: ConversationResult, report: Report) -> str:
    finding = report.show(check.message)
    lines = [f"{report.show(result.id)}: {check.severity}: {finding}"]
    index = check.message_index
    if index is not None and 0 <= index < len(result.messages):
        message = result.messages[index]
        who = f"{message.role} {report.show(message.sender)}".rstrip()
        lines.append(f"message #{index} ({who}): {report.show(message.text)}")
    for item in rephrasings(result, report, check_categories(report, check.rule)):
        where = ", ".join(f"#{index}" for index in item.message_indexes)
        lines.append(f"{where} {item.words} → 建议: {item.suggestion}")
    return "\n".join(lines)


def conversation_annotations(result: ConversationResult, report: Report | Shown,
                             rule: GateRule | None = None) -> list[Annotation]:
    """The annotations of one conversation's failed checks, in the rubric's order (a ``Shown``
    with the rubric will do for ``report``: a streamed run keeps these, not the result).

    With ``rule``, only the checks that fail that gate; without, every failed check.
    """
    found: list[Annotation] = []
    shown = rule.failing_checks(result) if rule is not None else result.checks
    for check in shown:
        if check.passed:
            continue
        index = check.message_index
        line = (result.messages[index].line if index is not None
                and 0 <= index < len(result.messages) else 0) or _first_line(result)
        level = ("error" if rule is not None and rule.counted_by_fail_on(result, check)
                 else LEVEL_BY_SEVERITY[check.severity])
        found.append(Annotation(level, report.show(result.source), line,
                                check.rule, _check_text(check, result, report),
                                SEVERITY_RANK[check.severity]))
    return found


def annotations(report: Report, of_conversations: Iterable[Annotation] | None = None) -> list[Annotation]:
    """Every annotation of the report, most severe first; ``of_conversations``: those of the
    conversations if already made (``conversation_annotations``), else made from
    ``report.results``."""
    if of_conversations is None:
        of_conversations = [a for result in report.results for a in conversation_annotations(result, report)]
    found = list(of_conversations)
    for summary in report.inputs:
        title = "unreadable file" if summary.error is not None else "input problem"
        for problem in summary.problems:
            found.append(Annotation(INPUT_PROBLEM_LEVEL, report.show(summary.path), problem.line, title,
                                    report.show(problem.reason), INPUT_PROBLEM_RANK))
    found.sort(key=lambda annotation: annotation.rank)  # stable: input order within a rank
    return found


def format_command(annotation: Annotation) -> str:
    """One ``::level file=…,line=…,title=…::text`` line."""
    properties = [f"file={escape_property(annotation.file)}"]
    if annotation.line > 0:
        properties.append(f"line={annotation.line}")
    properties.append(f"title={escape_property(annotation.title)}")
    return f"::{annotation.level} {','.join(properties)}::{escape_data(annotation.text)}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _summary_line(report: Report, levels: dict[str, int]) -> str:
    summary = report.totals.summary
    mean = "-" if summary.score_mean is None else f"{summary.score_mean:.1f}"
    line = (f"cs-audit: {_count(summary.conversations, 'conversation')}, {summary.passed} passed, "
            f"{summary.critical} critical, mean score {mean} (rubric {report.rubric.name}); "
            f"{_count(levels['error'], 'error')}, {_count(levels['warning'], 'warning')}, "
            f"{_count(levels['notice'], 'notice')}")
    run = report.totals
    if run.input_problems or run.unreadable_files:
        line += (f"; {_count(run.input_problems, 'input problem')}, "
                 f"{_count(run.unreadable_files, 'unreadable file')}")
    return terminal_text(line)  # a plain log line: a newline in a name must not start a command


def render_github(report: Report, of_conversations: Iterable[Annotation] | None = None) -> str:
    """All workflow commands, then the summary line, each ending with a newline
    (``of_conversations`` as for ``annotations``)."""
    stream = io.StringIO()
    write_github(report, stream, of_conversations)
    return stream.getvalue()


def write_github(report: Report, stream: IO[str], of_conversations: Iterable[Annotation] | None = None) -> None:
    """Write the workflow commands and the summary line to ``stream`` (standard output in CI)."""
    _write_commands(report, stream, annotations(report, of_conversations))


def spool_annotations(spool: RecordSpool, result: ConversationResult, report: Report | Shown,
                      rule: GateRule | None = None) -> None:
    """Keep a conversation's annotations in ``spool`` (by rank) until the run is over."""
    for annotation in conversation_annotations(result, report, rule):
        spool.add(dataclasses.astuple(annotation), annotation.rank)


def write_spooled_github(report: Report, stream: IO[str], spool: RecordSpool) -> None:
    """As :func:`write_github`, the conversations' annotations read from ``spool`` as they are
    written (most severe first), never all held at once."""
    from_spool = (Annotation(*fields) for fields in spool)
    _write_commands(report, stream, heapq.merge(from_spool, annotations(report, ()),
                                                 key=lambda annotation: annotation.rank))


def _write_commands(report: Report, stream: IO[str], ordered: Iterable[Annotation]) -> None:
    """Each annotation of ``ordered`` (already most severe first) as a command, then the summary."""
    levels = {"error": 0, "warning": 0, "notice": 0}
    for annotation in ordered:
        stream.write(format_command(annotation) + "\n")
        levels[annotation.level] += 1
    stream.write(_summary_line(report, levels) + "\n")
