"""The library API: audit files or conversations from Python, one partition at a time.

Every function here is pure and its inputs and outputs are picklable, so Dask, Spark or a
process pool can map ``audit_file`` over the files of a folder on many machines and the
partial results are merged back into exactly the report the CLI writes::

    from cs_audit import api
    partials = [api.audit_file(path, "taobao") for path in api.input_files(["exports/"])]
    document = api.json_document(api.merge(partials), "taobao")
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cs_audit.audit import Auditor
from cs_audit.model import Conversation, ConversationResult, InputSummary
from cs_audit.parsers import collect_paths, parse_file
from cs_audit.parsers.columns import parse_map_option
from cs_audit.reporters import Report
from cs_audit.rubric import Rubric, load_rubric

__all__ = ["AuditPartial", "audit_conversations", "audit_file", "input_files", "json_document",
           "load_rubric", "merge", "report"]


@dataclass(frozen=True)
class AuditPartial:
    """What some inputs yielded: their summaries and audited conversations, in input order."""

    inputs: tuple[InputSummary, ...] = ()
    results: tuple[ConversationResult, ...] = field(default_factory=tuple)


def input_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files ``cs-audit audit PATHS`` would read, in the same (sorted) order."""
    return collect_paths(paths)


def audit_conversations(conversations: Iterable[Conversation],
                        rubric: str | Rubric = "default") -> list[ConversationResult]:
    """Audit conversations you built yourself (``cs_audit.model.Conversation``)."""
    auditor = Auditor(_rubric(rubric))
    return [auditor.audit(conversation) for conversation in conversations]


def audit_file(path: str | Path, rubric: str | Rubric = "default", input_format: str = "auto",
               encoding: str = "auto", column_map: str | None = None) -> AuditPartial:
    """Read and audit one file, as the CLI does (``column_map`` is a ``--map`` value)."""
    parsed = parse_file(Path(path), input_format, encoding,
                        parse_map_option(column_map) if column_map else None)
    return AuditPartial((parsed.summary,), tuple(audit_conversations(parsed.conversations, rubric)))


def merge(partials: Iterable[AuditPartial]) -> AuditPartial:
    """Join partial results in the order given (keep the files' order for the CLI's report)."""
    inputs: list[InputSummary] = []
    results: list[ConversationResult] = []
    for partial in partials:
        inputs.extend(partial.inputs)
        results.extend(partial.results)
    return AuditPartial(tuple(inputs), tuple(results))


def report(partial: AuditPartial, rubric: str | Rubric = "default", mask: bool = True) -> Report:
    """The Report every reporter writes from, totals computed over all merged results."""
    return Report.build(_rubric(rubric), partial.inputs, partial.results, mask)


def json_document(partial: AuditPartial, rubric: str | Rubric = "default",
                  mask: bool = True) -> dict[str, Any]:
    """The SPEC §4 JSON report as Python data."""
    from cs_audit.reporters.json_report import build_document

    return build_document(report(partial, rubric, mask))


def _rubric(rubric: str | Rubric) -> Rubric:
    return rubric if isinstance(rubric, Rubric) else load_rubric(rubric)


