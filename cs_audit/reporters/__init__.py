"""Output formats: one module per format, each taking a finished Report and writing it."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cs_audit import __version__
from cs_audit.aggregate import RunTotals
from cs_audit.model import ConversationResult, Detection, InputSummary
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

    @classmethod
    def build(cls, rubric: Rubric, inputs: Sequence[InputSummary],
              results: Sequence[ConversationResult], mask: bool = True) -> Report:
        """The report of some audited conversations: totals computed once, personal data
        masked in everything shown unless ``mask`` is False."""
        from cs_audit.aggregate import totals

        grade_order = tuple(grade for _, grade in rubric.grades)
        return cls(rubric, inputs, results,
                   totals(results, inputs, rubric.slow_after_s, grade_order), masker(mask))

    @functools.cached_property
    def complaint_words(self) -> list[tuple[str, float]]:
        """The words buyers complained about most (computed once, when a reporter asks)."""
        from cs_audit.analysis.keywords import complaint_keywords, complaint_texts

        return complaint_keywords(complaint_texts(self.results, self.show))

    def detection_text(self, result: ConversationResult, detection: Detection) -> str:
        """A detection's evidence as it may be shown (see :func:`shown_evidence`)."""
        return shown_evidence(self.show, result, detection)


@dataclass(frozen=True)
class Shown:
    """What showing one conversation needs before the run's totals exist (streamed reports):
    the ``show`` function and the evidence of detections, as a Report gives them, and the
    rubric (for the checks' categories) when a reporter needs it."""

    show: Callable[[str], str]
    rubric: Rubric | None = None

    def detection_text(self, result: ConversationResult, detection: Detection) -> str:
        """A detection's evidence as it may be shown (see :func:`shown_evidence`)."""
        return shown_evidence(self.show, result, detection)


def shown_evidence(show: Callable[[str], str], result: ConversationResult, detection: Detection) -> str:
    """A detection's evidence passed through ``show``.

    Masked through the whole message, then cut to the span: a card number alone has lost
    the context (卡号, 银行卡) that identified it. Masking keeps the length of the text, so
    the span still points at the same characters.
    """
    message = result.messages[detection.message_index].text
    start, end = detection.span
    return show(message)[start:end]


def _unmasked(text: str) -> str:
    return text


def masker(mask: bool) -> Callable[[str], str]:
    """What every shown text passes through: personal data masked, or (``--no-mask``) nothing."""
    if not mask:
        return _unmasked
    from cs_audit.analysis.pii import mask_text

    return mask_text


def output_format(path: str) -> str | None:
    """Report format named by an output file's extension, or None if unsupported."""
    lowered = path.lower()
    for extension, name in ((".jsonl", "jsonl"), (".json", "json"), (".xlsx", "xlsx"),
                            (".xml", "junit"), (".sarif", "sarif")):
        if lowered.endswith(extension):
            return name
    return None
