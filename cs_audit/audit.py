"""The audit pipeline for one process: conversation → analysis facts → scored result."""

from __future__ import annotations

import dataclasses
import functools

from cs_audit.analysis.response import AcknowledgementMatcher, response_metrics, timed_turns, turn_records
from cs_audit.analysis.detectors import Detectors, detect_all
from cs_audit.analysis.dispute import DisputeAnalyzer
from cs_audit.analysis.kpis import kpi_counts
from cs_audit.analysis.response import buyer_turns
from cs_audit.analysis.sentiment import SentimentModel
from cs_audit.checks import ConversationFacts
from cs_audit.model import Conversation, ConversationResult
from cs_audit.rubric import Rubric
from cs_audit.scoring import score_conversation


@functools.cache
def _shared_models() -> tuple[AcknowledgementMatcher, Detectors, SentimentModel, DisputeAnalyzer]:
    # Lexicons and models are immutable once loaded and cost seconds (snownlp's model alone
    # ~3 s): one copy per process, whatever the number of rubrics or audits.
    detectors = Detectors.build()
    detectors.load_everything()
    return AcknowledgementMatcher(), detectors, SentimentModel(), DisputeAnalyzer()


class Auditor:
    """Holds what is loaded once (lexicons, models, the rubric) and audits conversations."""

    def __init__(self, rubric: Rubric):
        self.rubric = rubric
        self.acknowledgements, self.detectors, self.sentiment, self.disputes = _shared_models()

    def audit(self, conversation: Conversation) -> ConversationResult:
        """Analyse and score one conversation."""
        rubric = self.rubric
        messages = conversation.messages
        turns = tuple(timed_turns(messages, self.acknowledgements, rubric.service_hours))
        stamps = [m.timestamp for m in messages if m.timestamp is not None]
        records = turn_records(messages, turns)
        kpis = kpi_counts(records, min(stamps) if stamps else None, rubric.kpis)
        response = dataclasses.replace(
            response_metrics(turns, bool(stamps), rubric.slow_after_s),
            kpis={kpi_id: count.value for kpi_id, count in kpis.items()},
        )
        detections = detect_all(self.detectors.all, conversation)
        sentiment = self.sentiment.trajectory(
            [[m.text for m in turn.messages] for turn in buyer_turns(messages)])
        dispute = self.disputes.analyse(conversation, detections)
        facts = ConversationFacts(conversation, turns, response, detections, rubric.slow_after_s,
                                  sentiment, self.detectors.refusals(conversation, detections),
                                  dispute)
        card = score_conversation(facts, rubric)
        return ConversationResult(
            id=conversation.id, source=conversation.source, agents=conversation.agents,
            start=min(stamps) if stamps else None, end=max(stamps) if stamps else None,
            messages=messages, response=response,
            turns=records, kpi_counts=kpis, sentiment=sentiment, dispute=dispute,
            detections=detections, checks=card.checks, score=card.score, grade=card.grade,
            passed=card.passed, critical=card.critical,
        )
