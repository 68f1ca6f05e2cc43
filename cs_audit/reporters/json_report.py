"""The JSON report of SPEC §4 (``-o x.json``, ``--format json``) and its JSONL form."""

from __future__ import annotations

import json
import math
from datetime import datetime
from collections.abc import Callable, Iterable
from typing import IO, Any

from cs_audit.aggregate import GroupTotals, ResponseTotals
from cs_audit.model import STEPS, ConversationResult, DisputeFacts, InputSummary, ResponseMetrics
from cs_audit.reporters import Report, Shown

SCHEMA = "cs-audit/1"


def _number(value: float | None, digits: int = 1) -> float | int | None:
    """A JSON-safe number: never NaN or infinity; whole values written as integers."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return None
    rounded = round(float(value), digits)
    return int(rounded) if rounded.is_integer() else rounded


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat(sep=" ", timespec="seconds") if moment else None


def input_entry(summary: InputSummary, show: Callable[[str], str]) -> dict[str, Any]:
    """One ``inputs[]`` entry; reasons may quote a cell (unknown role '…'), so they are masked."""
    entry: dict[str, Any] = {
        "path": show(summary.path), "format": summary.format, "encoding": summary.encoding,
        "rows": summary.rows, "messages": summary.messages,
        "conversations": summary.conversations,
        "problems": [{"line": p.line, "reason": show(p.reason)} for p in summary.problems],
        "readable": summary.readable,
    }
    return entry


def _response(metrics: ResponseMetrics) -> dict[str, Any]:
    return {
        "first_s": _number(metrics.first_s), "avg_s": _number(metrics.avg_s),
        "max_s": _number(metrics.max_s), "slow": metrics.slow,
        "unanswered": metrics.unanswered, "turns": metrics.turns,
        "kpis": {key: _number(value, 4) for key, value in metrics.kpis.items()},
    }


def _response_totals(totals: ResponseTotals) -> dict[str, Any]:
    return {
        "turns": totals.turns, "answered": totals.answered, "unanswered": totals.unanswered,
        "avg_s": _number(totals.avg_s), "max_s": _number(totals.max_s), "slow": totals.slow,
    }


def _group(group: GroupTotals) -> dict[str, Any]:
    return {
        "conversations": group.conversations, "messages": group.messages,
        "score_mean": _number(group.score_mean, 2), "passed": group.passed,
        "failed": group.failed, "pass_rate": _number(group.pass_rate, 4),
        "critical": group.critical, "grades": group.grades,
        "failed_checks": group.failed_rules, "response": _response_totals(group.response),
        "kpis": {kpi_id: _number(count.value, 4) for kpi_id, count in group.kpis.items()},
    }


def _dispute(dispute: DisputeFacts) -> dict[str, Any]:
    return {
        "type": dispute.type, "types": list(dispute.types), "start_index": dispute.start_index,
        "malicious": dispute.malicious,
        "steps": {step: getattr(dispute.steps, step) for step in STEPS},
    }


def conversation_entry(result: ConversationResult, report: Report | Shown) -> dict[str, Any]:
    """One ``conversations[]`` entry, with chat-derived text passed through ``report.show``."""
    show = report.show
    sentiment = result.sentiment
    return {
        "id": show(result.id), "source": show(result.source),
        "agents": [show(agent) for agent in result.agents],
        "start": _time(result.start), "end": _time(result.end),
        "messages": len(result.messages), "score": _number(result.score),
        "score_before_critical": _number(result.score_before_critical),
        "grade": result.grade, "passed": result.passed, "critical": result.critical,
        "metrics": {
            "response": _response(result.response),
            "sentiment": {
                "first": _number(sentiment.first, 4), "last": _number(sentiment.last, 4),
                "min": _number(sentiment.min, 4), "drop": _number(sentiment.drop, 4),
            },
            "dispute": _dispute(result.dispute),
        },
        "detections": [
            {"category": d.category, "message_index": d.message_index, "role": d.role,
             "span": list(d.span), "text": report.detection_text(result, d), "note": d.note,
             "suggestion": d.suggestion}
            for d in result.detections
        ],
        "checks": [
            {"rule": c.rule, "severity": c.severity, "passed": c.passed,
             "points": _number(c.points, 2), "max_points": _number(c.max_points, 2),
             "message": show(c.message), "message_index": c.message_index}
            for c in result.checks
        ],
    }


def _head(report: Report) -> dict[str, Any]:
    """Every top-level key but ``conversations``: small, whatever the number of conversations."""
    run = report.totals
    summary = _group(run.summary)
    summary["input_problems"] = run.input_problems
    summary["unreadable_files"] = run.unreadable_files
    return {
        "schema": SCHEMA,
        "tool": {"name": "cs-audit", "version": report.tool_version},
        "rubric": {"name": report.rubric.name, "source": report.rubric.source,
                   # added field: which buyer-mood model the sentiment figures come from
                   "sentiment_model": report.rubric.sentiment_model},
        "inputs": [input_entry(summary_, report.show) for summary_ in report.inputs],
        "summary": summary,
        "agents": [{"agent": report.show(a.agent), **_group(a.totals)} for a in run.agents],
        "days": [{"day": d.day.isoformat() if d.day else None, **_group(d.totals)} for d in run.days],
    }


def build_document(report: Report) -> dict[str, Any]:
    """The whole SPEC §4 document as plain Python data (what ``write_json`` writes, parsed)."""
    return {**_head(report),
            "conversations": [conversation_entry(result, report) for result in report.results]}


# Without ``indent`` CPython encodes with its C encoder, several times faster than the
# pure-Python one ``indent`` falls back to; one encoder serves every entry.
_ENTRY_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False)


def entry_line(result: ConversationResult, shown: Report | Shown) -> str:
    """One ``conversations[]`` entry as one line of JSON (also a JSONL line)."""
    return _ENTRY_ENCODER.encode(conversation_entry(result, shown))


def write_json(report: Report, stream: IO[str]) -> None:
    """Write the JSON report (UTF-8 text, Chinese kept readable, stable key order).

    Streamed: the small top-level parts are pretty-printed, then each conversation is
    written on its own line inside the array as soon as it is encoded, so memory stays flat
    at a million messages and ``grep``/``head`` find one conversation a line.
    """
    write_document(report, (entry_line(result, report) for result in report.results), stream)


def write_document(report: Report, entry_lines: Iterable[str], stream: IO[str]) -> None:
    """Write the JSON report from the report's head and already encoded conversation lines
    (``entry_line``), which need not be the report's ``results``: a streamed run encodes
    each conversation as it is audited and keeps only the lines."""
    head = json.dumps(_head(report), ensure_ascii=False, indent=2, allow_nan=False)
    stream.write(head.removesuffix("\n}"))  # reopened to append the last key
    stream.write(',\n  "conversations": [')
    written = 0
    for line in entry_lines:
        stream.write(",\n    " if written else "\n    ")
        stream.write(line)
        written += 1
    stream.write("\n  ]\n}\n" if written else "]\n}\n")


def write_jsonl(report: Report, stream: IO[str]) -> None:
    """Write one conversation entry a line (for streaming consumers)."""
    for result in report.results:
        stream.write(entry_line(result, report))
        stream.write("\n")
