"""The detectors of an audit, built once per process (before any worker forks)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cs_audit.analysis.escalation import EscalationDetector
from cs_audit.analysis.phrases import ToneDetector
from cs_audit.analysis.pii import PiiDetector
from cs_audit.analysis.questions import QuestionDetector
from cs_audit.analysis.risk import RiskDetector
from cs_audit.lexicon import ProblemList
from cs_audit.model import Conversation, Detection


class Detector(Protocol):
    """Anything that finds detections in a conversation."""

    def detect(self, conversation: Conversation) -> list[Detection]: ...


@dataclass(frozen=True)
class Detectors:
    """Every detector, each having loaded and compiled its lexicons; ``risk`` also judges refusals."""

    risk: RiskDetector
    others: tuple[Detector, ...]

    @classmethod
    def build(cls, lexicon_dir: Path | str | None = None) -> Detectors:
        """Every detector, compiled from the lexicons of ``lexicon_dir`` (default: bundled).

        Raises LexiconError listing the problems of every detector's files, not only the first.
        """
        problems = ProblemList()
        with problems.gathered():
            risk = RiskDetector(lexicon_dir)
        with problems.gathered():
            tone = ToneDetector(lexicon_dir)
        with problems.gathered():
            escalation = EscalationDetector(lexicon_dir)
        problems.raise_if_any()
        questions = QuestionDetector(lexicon_dir, tone)
        return cls(risk, (tone, escalation, questions, PiiDetector()))

    def load_everything(self) -> None:
        """Load now what a detector would load on first use (jieba's dictionary), so that
        worker processes forked afterwards share it instead of each loading its own."""
        for detector in self.others:
            if isinstance(detector, ToneDetector):
                detector.segmenter.load()

    @property
    def all(self) -> tuple[Detector, ...]:
        return (self.risk, *self.others)

    def refusals(self, conversation: Conversation, detections: Sequence[Detection]) -> frozenset[int]:
        """Shop messages that turn down a buyer's off-platform request made before them."""
        return self.risk.refusals(conversation, detections)


def detect_all(detectors: Sequence[Detector], conversation: Conversation) -> tuple[Detection, ...]:
    """All detections of a conversation, in message order, then position, then category."""
    return tuple(sorted(
        (found for detector in detectors for found in detector.detect(conversation)),
        key=lambda d: (d.message_index, d.span[0], d.span[1], d.category),
    ))
