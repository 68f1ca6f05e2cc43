"""The JUnit XML report (``-o report.xml``): a testcase per conversation, a failure per failed check.

Shaped for the JUnit readers of CI servers (Jenkins, GitLab, the GitHub test-report actions) and
valid against the Jenkins ``junit-10.xsd`` schema:

- ``<testsuites name="cs-audit">`` holds one ``<testsuite>`` per input file, named by its path.
- Each conversation is a ``<testcase classname="<file>" name="<conversation id>" time="0">``
  that fails by the same rule as the gate (:class:`cs_audit.gate.GateRule`): with ``--fail-on``,
  one ``<failure type="<rule>" message="<severity>: <check message>">`` per failed check at or
  above that severity (not in the baseline); with ``--fail-under``, a conversation scoring below
  it, or with no gate a conversation the rubric fails, has one failure per failed check of
  severity critical, major or minor. Most severe first (most readers show only the first).
  A passing conversation's minor findings are notes, never failures.
  The failure's text gives the rule, the severity and points, the message it points at and
  that message's text as evidence, and for a phrasing check what to say instead of each
  phrase the lexicons have a suggestion for (``instead: #1 「不知道」 → …``).
  Every other failed check (``info`` ones always) is a note, not a failure: it goes to the
  testcase's ``<system-out>``, with the score, grade and verdict.
- A file with input problems gets one more testcase, ``name="input problems"``, with one
  ``<error>`` (``type="unreadable"`` when the whole file could not be read, else
  ``type="input-problem"``) whose text lists every problem as ``line N: reason``.
- Counts are of testcases: ``failures`` = testcases with a failure, ``errors`` = testcases with
  an error, ``skipped`` = 0. Times are 0: an audit is not a timed test.

Chat-derived text passes through ``report.show`` (masking), and characters XML 1.0 cannot hold
are replaced by U+FFFD, so the file always parses. Testcases are written to a compressed
temporary file as results arrive (``JUnitCases``), so a run of any size holds none in memory.
"""

from __future__ import annotations

import io
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import IO, NamedTuple

from cs_audit.gate import GateRule
from cs_audit.model import SEVERITY_RANK, CheckResult, ConversationResult, InputSummary, Message
from cs_audit.reporters import Report, Shown
from cs_audit.reporters.deflate import DeflatedText
from cs_audit.reporters.suggestions import check_categories, rephrasings
from cs_audit.reporters.xlsx_cells import REPLACEMENT, XML_ILLEGAL

SUITES_NAME = "cs-audit"
INPUT_PROBLEMS_CASE = "input problems"
NO_GATE = GateRule()
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
INDENT = "  "
SUITE_LEVEL, CASE_LEVEL = 1, 2
# Between two spooled testcases: a character XML 1.0 cannot hold, so never in a testcase.
CASE_SEPARATOR = "\0"


def _xml_text(text: str) -> str:
    """Text XML 1.0 can hold; line ends normalised as a parser would read them back."""
    return XML_ILLEGAL.sub(REPLACEMENT, text.replace("\r\n", "\n").replace("\r", "\n"))


def _element(parent: ET.Element | None, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    cleaned = {key: _xml_text(value) for key, value in attributes.items()}
    element = ET.Element(tag, cleaned) if parent is None else ET.SubElement(parent, tag, cleaned)
    if text is not None:
        element.text = _xml_text(text)
    return element


def _points(value: float) -> str:
    return f"{value:g}"


def _message_place(message: Message, report: Report) -> str:
    parts = [f"#{message.index}"]
    if message.line:
        parts.append(f"line {message.line}")
    parts.append(f"{message.role} {report.show(message.sender)}".rstrip())
    if message.timestamp is not None:
        parts.append(message.timestamp.isoformat(sep=" ", timespec="seconds"))
    return ", ".join(parts)


def _failure_details(check: CheckResult, result: ConversationResult, report: Report) -> str:
    lines = [f"rule: {check.rule}",
             f"severity: {check.severity} ({_points(check.points)} of {_points(check.max_points)} points)",
             f"finding: {report.show(check.message)}"]
    index = check.message_index
    if index is not None and 0 <= index < len(result.messages):
        message = result.messages[index]
        lines.append(f"message: {_message_place(message, report)}")
        lines.append(f"evidence: {report.show(message.text)}")
    for item in rephrasings(result, report, check_categories(report, check.rule)):
        where = ", ".join(f"#{index}" for index in item.message_indexes)
        lines.append(f"instead: {where} 「{item.words}」 → {item.suggestion}")
    return "\n".join(lines) + "\n"


def _verdict(result: ConversationResult, report: Report) -> str:
    if result.critical:
        verdict = "failed: critical"
    else:
        verdict = "passed" if result.passed else "failed"
    return (f"score {result.score:.1f}, grade {result.grade}, {verdict} "
            f"(pass mark {report.rubric.pass_score:g})")


class ConversationCase(NamedTuple):
    """One conversation's testcase, made when its result arrives, as the XML text it is written
    as (indented for its place in the document), and whether it has a failure."""

    source: str
    xml: str
    failed: bool


def conversation_case(result: ConversationResult, report: Report | Shown,
                      rule: GateRule = NO_GATE) -> ConversationCase:
    """The testcase of one conversation (a ``Shown`` with the rubric will do for ``report``).

    Its failures are the checks that fail ``rule`` (the gate: see :class:`GateRule`); every
    other failed check is a note in ``<system-out>``.
    """
    case = _element(None, "testcase", classname=report.show(result.source), name=report.show(result.id),
                    time="0")
    gate_failures = rule.failing_checks(result)
    failed = [check for check in result.checks if not check.passed]
    # Sorted is stable: checks of one severity keep the rubric's order.
    failed.sort(key=lambda check: SEVERITY_RANK[check.severity])
    failures = [check for check in failed if check in gate_failures]
    notes = [check for check in failed if check not in gate_failures]
    for check in failures:
        _element(case, "failure", _failure_details(check, result, report), type=check.rule,
                 message=f"{check.severity}: {report.show(check.message)}")
    red = bool(failures) or rule.fails(result)
    if red and not failures:
        # Failed by its score or verdict with only notes among its failed checks.
        _element(case, "failure", _verdict(result, report), type="verdict",
                 message=_verdict(result, report))
    agents = ", ".join(report.show(agent) for agent in result.agents) or "(none)"
    out = [f"conversation {report.show(result.id)}: {len(result.messages)} messages, agents {agents}",
           _verdict(result, report)]
    out += [f"note: {check.rule} ({check.severity}): {report.show(check.message)}" for check in notes]
    _element(case, "system-out", "\n".join(out) + "\n")
    return ConversationCase(report.show(result.source), _indented(case, CASE_LEVEL), red)


def _indented(element: ET.Element, level: int) -> str:
    """The element as text, indented as ``ET.indent`` indents it at ``level`` of the document."""
    ET.indent(element, INDENT, level)
    return INDENT * level + ET.tostring(element, encoding="unicode") + "\n"


def _start_tag(tag: str, **attributes: str) -> str:
    # ElementTree's own escaping of attribute values, on an element with no content.
    empty = ET.tostring(_element(None, tag, **attributes), encoding="unicode")
    return empty.removesuffix(" />") + ">"


class JUnitCases:
    """The testcases of a run, written as results arrive to a compressed temporary file (not
    held in memory), with each input file's counts; read back once the run is over."""

    def __init__(self) -> None:
        self._spool = DeflatedText()
        # [source, tests, failures] of each run of consecutive testcases from one file.
        self.runs: list[list] = []

    def add(self, case: ConversationCase) -> None:
        self._spool.write(case.xml + CASE_SEPARATOR)
        if not self.runs or self.runs[-1][0] != case.source:
            self.runs.append([case.source, 0, 0])
        self.runs[-1][1] += 1
        self.runs[-1][2] += case.failed

    def texts(self) -> Iterator[str]:
        """The testcases' XML text, in the order they were added."""
        return self._spool.split(CASE_SEPARATOR)

    def close(self) -> None:
        self._spool.close()

    def __enter__(self) -> JUnitCases:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _input_case(summary: InputSummary, report: Report) -> ET.Element:
    case = _element(None, "testcase", classname=report.show(summary.path), name=INPUT_PROBLEMS_CASE,
                    time="0")
    listing = "".join(f"line {problem.line}: {report.show(problem.reason)}\n"
                      for problem in summary.problems)
    if summary.error is not None:
        _element(case, "error", listing, type="unreadable",
                 message=f"file could not be read: {report.show(summary.error)}")
    else:
        count = len(summary.problems)
        _element(case, "error", listing, type="input-problem",
                 message=f"{count} record{'s' if count != 1 else ''} could not be read")
    return case


def _has_input_case(summary: InputSummary | None) -> bool:
    return summary is not None and (bool(summary.problems) or summary.error is not None)


def _suites(report: Report, cases: JUnitCases) -> list[tuple[str, int, list[int], InputSummary | None]]:
    """Each suite's name, its number of conversation testcases, its [tests, failures, errors]
    and its file's summary, in input order (a result whose file is not among the inputs still
    gets its suite)."""
    summaries = {report.show(summary.path): summary for summary in report.inputs}
    counts: dict[str, list[int]] = {}
    for source, tests, failures in cases.runs:
        total = counts.setdefault(source, [0, 0])
        total[0] += tests
        total[1] += failures
    suites = []
    for name in dict.fromkeys(list(summaries) + list(counts)):
        summary = summaries.get(name)
        conversations, failures = counts.get(name, [0, 0])
        errors = int(_has_input_case(summary))
        suites.append((name, conversations, [conversations + errors, failures, errors], summary))
    return suites


def _document(report: Report, cases: JUnitCases) -> Iterator[str]:
    """The document's text, piece by piece: each testcase read back as it is written."""
    suites = _suites(report, cases)
    totals = [sum(counts[i] for _, _, counts, _ in suites) for i in range(3)]
    yield XML_DECLARATION
    yield _start_tag("testsuites", name=SUITES_NAME, tests=str(totals[0]), failures=str(totals[1]),
                     errors=str(totals[2]), time="0") + "\n"
    texts = cases.texts()
    runs = iter(cases.runs)
    # Testcases arrive file after file. Only a file given twice sends its testcases in two runs
    # with another file's between them: those wait here for their suite.
    waiting: dict[str, list[str]] = {}
    for name, conversations, (tests, failures, errors), summary in suites:
        yield INDENT + _start_tag("testsuite", name=name, tests=str(tests), failures=str(failures),
                                  errors=str(errors), skipped="0", time="0") + "\n"
        properties = _element(None, "properties")
        _element(properties, "property", name="rubric", value=report.rubric.name)
        yield _indented(properties, SUITE_LEVEL + 1)
        mine = waiting.pop(name, [])
        written = len(mine)
        yield from mine
        while written < conversations:
            source, count, _ = next(runs)
            run = (next(texts) for _ in range(count))
            if source == name:
                yield from run
                written += count
            else:
                waiting.setdefault(source, []).extend(run)
        if _has_input_case(summary):
            yield _indented(_input_case(summary, report), CASE_LEVEL)
        yield INDENT + "</testsuite>\n"
    yield "</testsuites>\n"


def _cases_of(report: Report, rule: GateRule) -> JUnitCases:
    cases = JUnitCases()
    for result in report.results:
        cases.add(conversation_case(result, report, rule))
    return cases


def render_junit(report: Report, cases: JUnitCases | None = None, rule: GateRule = NO_GATE) -> str:
    """The JUnit XML document as text (UTF-8 declared, indented, ending with a newline).

    ``cases``: the conversations' testcases if already made (``conversation_case`` added to a
    ``JUnitCases`` as results arrived), else made from ``report.results`` with ``rule``.
    """
    buffer = io.StringIO()
    write_junit(report, buffer, cases, rule)
    return buffer.getvalue()


def write_junit(report: Report, target: str | os.PathLike[str] | IO[str] | IO[bytes],
                cases: JUnitCases | None = None, rule: GateRule = NO_GATE) -> None:
    """Write the JUnit XML report to a path (UTF-8) or to an open text or binary stream
    (``cases`` and ``rule`` as for ``render_junit``), testcase after testcase."""
    made = cases is None
    spool = _cases_of(report, rule) if cases is None else cases
    try:
        if isinstance(target, (str, os.PathLike)):
            with open(target, "w", encoding="utf-8", newline="\n") as stream:
                stream.writelines(_document(report, spool))
        elif isinstance(target, (io.RawIOBase, io.BufferedIOBase)):
            for piece in _document(report, spool):
                target.write(piece.encode("utf-8"))
        else:
            target.writelines(_document(report, spool))  # type: ignore[arg-type]
    finally:
        if made:
            spool.close()
