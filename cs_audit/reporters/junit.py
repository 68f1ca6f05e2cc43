"""The JUnit XML report (``-o report.xml``): a testcase per conversation, a failure per failed check.

Shaped for the JUnit readers of CI servers (Jenkins, GitLab, the GitHub test-report actions) and
valid against the Jenkins ``junit-10.xsd`` schema:

- ``<testsuites name="cs-audit">`` holds one ``<testsuite>`` per input file, named by its path.
- Each conversation is a ``<testcase classname="<file>" name="<conversation id>" time="0">``
  with one ``<failure type="<rule>" message="<severity>: <check message>">`` per failed check
  of severity critical, major or minor, most severe first (most readers show only the first).
  The failure's text gives the rule, the severity and points, the message it points at and
  that message's text as evidence, and for a phrasing check what to say instead of each
  phrase the lexicons have a suggestion for (``instead: #1 「不知道」 → …``).
  Failed ``info`` checks are notes, not failures: they go to the testcase's ``<system-out>``,
  with the score, grade and verdict.
- A file with input problems gets one more testcase, ``name="input problems"``, with one
  ``<error>`` (``type="unreadable"`` when the whole file could not be read, else
  ``type="input-problem"``) whose text lists every problem as ``line N: reason``.
- Counts are of testcases: ``failures`` = testcases with a failure, ``errors`` = testcases with
  an error, ``skipped`` = 0. Times are 0: an audit is not a timed test.

Chat-derived text passes through ``report.show`` (masking), and characters XML 1.0 cannot hold
are replaced by U+FFFD, so the file always parses.
"""

from __future__ import annotations

import io
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import IO, NamedTuple

from cs_audit.model import SEVERITY_RANK, CheckResult, ConversationResult, InputSummary, Message
from cs_audit.reporters import Report, Shown
from cs_audit.reporters.suggestions import check_categories, rephrasings
from cs_audit.reporters.xlsx_cells import REPLACEMENT, XML_ILLEGAL

SUITES_NAME = "cs-audit"
INPUT_PROBLEMS_CASE = "input problems"
NOTE_SEVERITY = "info"
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


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
    """One conversation's testcase, made when its result arrives (a streamed run keeps these,
    not the results), and whether it has a failure."""

    source: str
    element: ET.Element
    failed: bool


def conversation_case(result: ConversationResult, report: Report | Shown) -> ConversationCase:
    """The testcase of one conversation (a ``Shown`` with the rubric will do for ``report``)."""
    # Made on its own; build_junit puts it into its file's suite.
    case = _element(None, "testcase", classname=report.show(result.source), name=report.show(result.id),
                    time="0")
    failed = [check for check in result.checks if not check.passed]
    # Sorted is stable: checks of one severity keep the rubric's order.
    failed.sort(key=lambda check: SEVERITY_RANK[check.severity])
    failures = [check for check in failed if check.severity != NOTE_SEVERITY]
    notes = [check for check in failed if check.severity == NOTE_SEVERITY]
    for check in failures:
        _element(case, "failure", _failure_details(check, result, report), type=check.rule,
                 message=f"{check.severity}: {report.show(check.message)}")
    agents = ", ".join(report.show(agent) for agent in result.agents) or "(none)"
    out = [f"conversation {report.show(result.id)}: {len(result.messages)} messages, agents {agents}",
           _verdict(result, report)]
    out += [f"note: {check.rule} ({check.severity}): {report.show(check.message)}" for check in notes]
    _element(case, "system-out", "\n".join(out) + "\n")
    return ConversationCase(report.show(result.source), case, bool(failures))


def _input_case(suite: ET.Element, summary: InputSummary, report: Report) -> None:
    case = _element(suite, "testcase", classname=report.show(summary.path), name=INPUT_PROBLEMS_CASE,
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


def _suite(parent: ET.Element, name: str, summary: InputSummary | None,
           cases: Iterable[ConversationCase], report: Report) -> tuple[int, int, int]:
    suite = _element(parent, "testsuite", name=name)
    properties = _element(suite, "properties")
    _element(properties, "property", name="rubric", value=report.rubric.name)
    tests = failures = errors = 0
    for case in cases:
        suite.append(case.element)
        tests += 1
        failures += case.failed
    if summary is not None and (summary.problems or summary.error is not None):
        _input_case(suite, summary, report)
        tests += 1
        errors += 1
    for key, value in (("tests", tests), ("failures", failures), ("errors", errors),
                       ("skipped", 0)):
        suite.set(key, str(value))
    suite.set("time", "0")
    return tests, failures, errors


def build_junit(report: Report, cases: Iterable[ConversationCase] | None = None) -> ET.Element:
    """The ``<testsuites>`` element of the report; ``cases``: the conversations' testcases if
    already made (``conversation_case``, in input order), else made from ``report.results``."""
    if cases is None:
        cases = [conversation_case(result, report) for result in report.results]
    root = ET.Element("testsuites", {"name": SUITES_NAME})
    by_source: dict[str, list[ConversationCase]] = {}
    for case in cases:
        by_source.setdefault(case.source, []).append(case)
    summaries = {report.show(summary.path): summary for summary in report.inputs}
    # Input order first; a result whose file is not among the inputs still gets its suite.
    names = list(dict.fromkeys(list(summaries) + list(by_source)))
    totals = [0, 0, 0]
    for name in names:
        counts = _suite(root, name, summaries.get(name), by_source.get(name, ()), report)
        totals = [total + count for total, count in zip(totals, counts)]
    for key, value in zip(("tests", "failures", "errors"), totals):
        root.set(key, str(value))
    root.set("time", "0")
    return root


def render_junit(report: Report, cases: Iterable[ConversationCase] | None = None) -> str:
    """The JUnit XML document as text (UTF-8 declared, indented, ending with a newline;
    ``cases`` as for ``build_junit``)."""
    root = build_junit(report, cases)
    ET.indent(root)
    return XML_DECLARATION + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(report: Report, target: str | os.PathLike[str] | IO[str] | IO[bytes],
                cases: Iterable[ConversationCase] | None = None) -> None:
    """Write the JUnit XML report to a path (UTF-8) or to an open text or binary stream
    (``cases`` as for ``build_junit``)."""
    document = render_junit(report, cases)
    if isinstance(target, (str, os.PathLike)):
        with open(target, "w", encoding="utf-8", newline="\n") as stream:
            stream.write(document)
    elif isinstance(target, (io.RawIOBase, io.BufferedIOBase)):
        target.write(document.encode("utf-8"))
    else:
        target.write(document)  # type: ignore[arg-type]
