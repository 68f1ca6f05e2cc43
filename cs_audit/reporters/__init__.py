"""Output formats: one module per format, each taking a finished Report and writing it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cs_audit import __version__
from cs_audit.aggregate import RunTotals
from cs_audit.model import ConversationResult, InputSummary
from cs_audit.rubric import Rubric


@dataclass(frozen=True)
class Report:
    """Everything a reporter may show; ``show`` is applied to every chat-derived text that leaves.

    ``show`` masks personal data unless the user asked for ``--no-mask``; reporters never
    decide that themselves, so no output can forget it.
    """

    rubric: Rubric
    inputs: Sequence[InputSummary]
    results: Sequence[ConversationResult]
    totals: RunTotals
    show: Callable[[str], str]
    tool_version: str = __version__


def output_format(path: str) -> str | None:
    """Report format named by an output file's extension, or None if unsupported."""
    lowered = path.lower()
    for extension, name in ((".jsonl", "jsonl"), (".json", "json"), (".xlsx", "xlsx")):
        if lowered.endswith(extension):
            return name
    return None
