"""The SARIF 2.1.0 report (``-o report.sarif``) for code-scanning UIs (GitHub code scanning,
GitLab, Azure DevOps, VS Code's SARIF viewer).

- One run of the tool ``cs-audit``; its rules are the rubric's checks (id, title, severity as
  the default level, and ``help`` pointing at ``cs-audit explain ID``).
- One result per finding that fails the gate (:class:`cs_audit.gate.GateRule`, as
  ``--format github``), or per failed check with ``--findings all``: ``ruleId``, ``level``
  (``error`` for critical and major and for what ``--fail-on`` counts, ``warning`` for minor,
  ``note`` for info), the finding as the message, and the location: the input file as given
  (a relative URI, so a repository's code-scanning UI can open it) and, where the input has
  lines, the line of the message the check points at (else the conversation's first line).
  ``partialFingerprints`` hold the conversation id and rule, so an alert stays one alert from
  one run to the next.
- Input problems are ``toolExecutionNotifications`` of the run's invocation, with the file and
  line; an unreadable file is an ``error`` notification.

Chat-derived text (ids, file names, evidence) passes through ``show`` (masking), and control
characters in it are written as JSON escapes, never obeyed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import PurePath
from typing import IO, Any
from urllib.parse import quote

from cs_audit import __version__
from cs_audit.gate import GateRule
from cs_audit.model import ConversationResult
from cs_audit.reporters import Report, Shown
from cs_audit.reporters.spool import RecordSpool

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVEL_BY_SEVERITY = {"critical": "error", "major": "error", "minor": "warning", "info": "note"}
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _uri(path: str) -> str:
    """A path as a URI: relative paths as relative references (what code-scanning UIs resolve
    against the repository), absolute ones as ``file://`` URIs; other characters
    percent-encoded."""
    pure = PurePath(path)
    if pure.is_absolute():
        return pure.as_uri()
    return quote(pure.as_posix(), safe="/@!$&'()*+,;=-._~")


def _location(uri: str, line: int) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if line > 0:
        physical["region"] = {"startLine": line}
    return {"physicalLocation": physical}


def conversation_results(result: ConversationResult, shown: Shown | Report,
                         rule: GateRule | None) -> list[dict[str, Any]]:
    """The SARIF results of one conversation: its checks that fail ``rule``, or every failed
    check when ``rule`` is None; kept by a streamed run instead of the result."""
    checks = rule.failing_checks(result) if rule is not None else [c for c in result.checks if not c.passed]
    lines = [message.line for message in result.messages if message.line > 0]
    first_line = min(lines) if lines else 0
    conversation_id = shown.show(result.id)
    found = []
    for check in checks:
        index = check.message_index
        message = (result.messages[index] if index is not None and 0 <= index < len(result.messages)
                   else None)
        text = f"{conversation_id}: {check.severity}: {shown.show(check.message)}"
        if message is not None:
            who = f"{message.role} {shown.show(message.sender)}".rstrip()
            text += f"\nmessage #{message.index} ({who}): {shown.show(message.text)}"
        level = ("error" if rule is not None and rule.counted_by_fail_on(result, check)
                 else LEVEL_BY_SEVERITY[check.severity])
        found.append({
            "ruleId": check.rule,
            "level": level,
            "message": {"text": text},
            "locations": [_location(_uri(shown.show(result.source)),
                                    (message.line if message is not None else 0) or first_line)],
            "partialFingerprints": {"conversation/v1": f"{conversation_id}:{check.rule}"},
            "properties": {"conversation": conversation_id, "severity": check.severity,
                           "score": round(result.score, 1)},
        })
    return found


def _rules(report: Report) -> list[dict[str, Any]]:
    return [{
        "id": check.id,
        "name": check.id,
        "shortDescription": {"text": check.title},
        "fullDescription": {"text": check.why or check.title},
        "help": {"text": f"cs-audit explain {check.id}"},
        "defaultConfiguration": {"level": LEVEL_BY_SEVERITY[check.severity]},
        "properties": {"severity": check.severity, "points": check.points},
    } for check in report.rubric.checks]


def _notifications(report: Report) -> list[dict[str, Any]]:
    notes = []
    for summary in report.inputs:
        uri = _uri(report.show(summary.path))
        for problem in summary.problems:
            notes.append({
                "level": "error" if summary.error is not None else "warning",
                "message": {"text": report.show(problem.reason)},
                "locations": [_location(uri, problem.line)],
                "descriptor": {"id": "unreadable-file" if summary.error is not None else "input-problem"},
            })
    return notes


def spool_results(spool: RecordSpool, result: ConversationResult, report: Report | Shown,
                  rule: GateRule | None = None) -> None:
    """Keep a conversation's SARIF results in ``spool`` until the run is over."""
    for found in conversation_results(result, report, rule):
        spool.add(found)


def sarif_document(report: Report, results: Iterable[dict[str, Any]] | None = None,
                   rule: GateRule | None = None) -> dict[str, Any]:
    """The SARIF log as a dict; ``results``: those of the conversations if already made
    (``conversation_results``), else made from ``report.results`` with ``rule``."""
    if results is None:
        results = [found for result in report.results for found in conversation_results(result, report, rule)]
    rules = _rules(report)
    index = {rule_entry["id"]: number for number, rule_entry in enumerate(rules)}
    listed = []
    for found in results:
        if found["ruleId"] in index:
            found = {**found, "ruleIndex": index[found["ruleId"]]}
        listed.append(found)
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [{
            "tool": {"driver": {"name": "cs-audit", "version": __version__,
                                "semanticVersion": __version__, "rules": rules}},
            "invocations": [{"executionSuccessful": True,
                             "toolExecutionNotifications": _notifications(report)}],
            "results": listed,
            "properties": {"rubric": report.rubric.name},
        }],
    }


def write_sarif(report: Report, target: str | IO[str], results: Iterable[dict[str, Any]] | None = None,
                rule: GateRule | None = None) -> None:
    """Write the SARIF log (UTF-8 JSON) to a path or an open text stream; ``results`` (a spool
    of them on a CLI run) are written one by one as they are read, never all held at once."""
    if isinstance(target, str) or hasattr(target, "__fspath__"):
        with open(target, "w", encoding="utf-8", newline="\n") as stream:  # type: ignore[arg-type]
            _write_sarif(report, stream, results, rule)
    else:
        _write_sarif(report, target, results, rule)


def _write_sarif(report: Report, stream: IO[str], results: Iterable[dict[str, Any]] | None,
                 rule: GateRule | None) -> None:
    if results is None:
        results = (found for result in report.results for found in conversation_results(result, report, rule))
    # The document around an empty results list, split where the results go.
    document = sarif_document(report, [], rule)
    head, tail = _dumps(document).split('"results": []', 1)
    index = {entry["id"]: number for number, entry in enumerate(document["runs"][0]["tool"]["driver"]["rules"])}
    stream.write(head + '"results": [')
    written = 0
    for found in results:
        if found["ruleId"] in index:
            found = {**found, "ruleIndex": index[found["ruleId"]]}
        # Laid out as json.dumps(indent=2) lays out an item of runs[0].results.
        item = json.dumps(found, ensure_ascii=False, indent=2).replace("\n", "\n" + _ITEM_INDENT)
        stream.write(("," if written else "") + "\n" + _ITEM_INDENT + _LONE_SURROGATE.sub("\ufffd", item))
        written += 1
    stream.write(("\n" + _RESULTS_INDENT + "]" if written else "]") + tail)


_RESULTS_INDENT = " " * 6  # "results" is a key of runs[0], three levels deep
_ITEM_INDENT = " " * 8


def _dumps(document: dict[str, Any]) -> str:
    # A lone surrogate (a broken escape in a JSON input) could not be written as UTF-8.
    return _LONE_SURROGATE.sub("\ufffd", json.dumps(document, ensure_ascii=False, indent=2) + "\n")
