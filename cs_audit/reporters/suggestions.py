"""What to say instead: the lexicons' suggestions gathered for a conversation or a failed check.

Shared by the reporters that talk to agents (review, JUnit, GitHub annotations).
"""

from __future__ import annotations

from dataclasses import dataclass

from cs_audit.checks import SHOP_ROLES
from cs_audit.model import ConversationResult
from cs_audit.reporters import Report


def check_categories(report: Report, rule: str) -> frozenset[str]:
    """The detection categories a rubric check is about (its ``category``/``categories``)."""
    spec = next((check for check in report.rubric.checks if check.id == rule), None)
    if spec is None:
        return frozenset()
    found = set(spec.params.get("categories", ()))
    if spec.params.get("category"):
        found.add(spec.params["category"])
    return frozenset(found)


@dataclass(frozen=True)
class Rephrasing:
    """Shop-side words the lexicons suggest replacing, where they were said, and what instead.

    ``words`` is masked (``Report.detection_text``); ``suggestion`` is lexicon text.
    """

    message_indexes: tuple[int, ...]
    words: str
    suggestion: str


def rephrasings(result: ConversationResult, report: Report,
                categories: frozenset[str] | None = None) -> list[Rephrasing]:
    """Every (words, suggestion) pair of the agent's and bot's messages once, in message order.

    With ``categories``, only detections of those categories (e.g. a failed check's, from
    ``check_categories``): a missing greeting is not fixed by rephrasing a rude reply.
    """
    gathered: dict[tuple[str, str], list[int]] = {}
    for detection in sorted(result.detections, key=lambda d: (d.message_index, d.span)):
        if not detection.suggestion or detection.role not in SHOP_ROLES:
            continue
        if categories is not None and detection.category not in categories:
            continue
        words = report.detection_text(result, detection)
        indexes = gathered.setdefault((words, detection.suggestion), [])
        if detection.message_index not in indexes:
            indexes.append(detection.message_index)
    return [Rephrasing(tuple(indexes), words, suggestion)
            for (words, suggestion), indexes in gathered.items()]
