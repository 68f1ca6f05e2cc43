"""Find buyers threatening to escalate: complaints, bad reviews, regulators, chargebacks, managers.

The phrases are data in ``lexicons/escalation.txt``, in the one lexicon format of the rule
engine (:mod:`cs_audit.analysis.engine`): ``phrase | phrase | as=KIND [| option …]``, the kind
one of ``KINDS``. A phrase counts unless its context rules (``rules.txt``) say otherwise, in the
same message:

- it lies inside a ``@benign`` phrase (工商银行 is not 工商);
- ``after=`` words are given and none ends at most four characters before it in its clause
  (找你们主管 is a demand, 你们主管说 is not);
- ``@mentioned_before`` / ``@mentioned_after`` words stand right before or after it: the buyer
  talks about reviews or complaints that exist (你们有差评吗, 差评多吗);
- a ``@negated`` word stands before it with only ``@filler`` words in between (我不会给差评的);
- a ``@resolved`` word follows in the same sentence, not turned into a question (上次投诉的问题
  解决了谢谢; 解决了没 still fires). A past complaint left unresolved still fires: the
  relationship has already escalated;
- the threat is waved off in its sentence (``@waved_off``: 随口说说, 别当真), aimed at the
  courier (``@aimed_elsewhere``: 投诉这个快递员), praise sent through the complaint channel
  (``@praise``: 通过投诉渠道表扬), the word in another sense (``@other_sense``: 相机的曝光), or a
  past complaint told as a point in time (``@told_after``: 我投诉后客服让我等);
- a complaint already made is told (``@told_past`` before it: 刚才投诉; ``@told_past_after``: 投诉过,
  投诉到现在也没有回复), or followed by what the company answered when no threat word stands in
  the message (``@told_reply``: 电话投诉，却被告知…).

A context word's ``for=KIND,…`` limits it to phrases of those kinds; ``contiguous`` marks a
number (12315) that must be written without a gap. Only buyer messages are searched; spans
point at the original text.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

from cs_audit.analysis.engine import FAMILY_LABELS, Hit, load_engine
from cs_audit.lexicon import bundled_lexicon_dir
from cs_audit.model import Conversation, Detection

CATEGORY = "buyer.escalation"
FAMILY = "escalation"
ESCALATION_LEXICON = "escalation"
KINDS = FAMILY_LABELS[FAMILY]

_KIND_NOTES = {
    "complaint": "buyer threatens a complaint to the platform",
    "review": "buyer threatens a bad review or public exposure",
    "regulator": "buyer threatens to go to a consumer authority",
    "chargeback": "buyer threatens a chargeback through the bank",
    "manager": "buyer demands a manager",
    "legal": "buyer threatens legal action",
}

# Distinct buyer texts whose threats are remembered (emptied when full: bounded memory).
_FOUND_CACHE_SIZE = 65_536


@dataclass(frozen=True, slots=True)
class EscalationMatch:
    """One escalation threat: [start, end) in the original text, and its kind (complaint, review…)."""

    start: int
    end: int
    kind: str


class EscalationDetector:
    """Report escalation threats in buyer messages, using the lexicons of one folder."""

    category = CATEGORY

    def __init__(self, lexicon_dir: Path | str | None = None) -> None:
        """Load the rule engine of ``lexicon_dir`` (default: the bundled lexicons).

        Raises ``LexiconError`` naming file and line for an unknown kind or option.
        """
        folder = Path(lexicon_dir) if lexicon_dir is not None else bundled_lexicon_dir()
        self.engine = load_engine(folder)
        self._found: dict[str, tuple[EscalationMatch, ...]] = {}

    def detect(self, conversation: Conversation) -> list[Detection]:
        """Return one detection per escalation threat in the conversation's buyer messages."""
        detections: list[Detection] = []
        for message in conversation.messages:
            if message.role != "buyer":
                continue
            for match in self.find(message.text):
                detections.append(
                    Detection(
                        category=CATEGORY,
                        message_index=message.index,
                        role=message.role,
                        span=(match.start, match.end),
                        text=message.text[match.start:match.end],
                        note=_KIND_NOTES[match.kind],
                    )
                )
        return detections

    def find(self, text: str) -> list[EscalationMatch]:
        """Return the escalation threats in one message text, in text order."""
        # Buyers repeat themselves (催单, 差评 threats): each distinct text is read once.
        found = self._found.get(text)
        if found is None:
            if len(self._found) >= _FOUND_CACHE_SIZE:
                self._found.clear()
            found = self._found[text] = tuple(self._find_uncached(text))
        return list(found)

    def _find_uncached(self, text: str) -> list[EscalationMatch]:
        scan = self.engine.scan(text)
        # Overlaps are settled before context: in 不会给中差评 the negation governs 中差评, and
        # the 差评 inside it must not escape by being judged on its own.
        matches = []
        for hit in _longest_first(scan.triggers(FAMILY)):
            if scan.decide(hit).counts:
                start, end = scan.original_span(hit.start, hit.end)
                matches.append(EscalationMatch(start, end, hit.entry.label))
        matches.sort(key=lambda match: match.start)
        return matches


def _longest_first(hits: list[Hit]) -> list[Hit]:
    """The longest hits that do not overlap one already chosen, longest first.

    The chosen hits never overlap, so sorted by start their ends rise too: the one chosen hit
    that could overlap a new one is the last to start before the new one ends (a bisect, so a
    long message costs n log n).
    """
    chosen: list[Hit] = []
    starts: list[int] = []
    ends: list[int] = []
    for hit in sorted(hits, key=lambda hit: (hit.start - hit.end, hit.start)):
        before = bisect_left(starts, hit.end) - 1
        if before >= 0 and ends[before] > hit.start:
            continue
        place = before + 1
        starts.insert(place, hit.start)
        ends.insert(place, hit.end)
        chosen.append(hit)
    return chosen
