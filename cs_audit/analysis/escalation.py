"""Find buyers threatening to escalate: complaints, bad reviews, regulators, chargebacks, managers.

The phrases and the context rules that silence them are data in ``lexicons/escalation.txt``
(its header documents the format). A trigger phrase fires unless, in the same message:

- it lies inside a ``@benign`` phrase (工商银行 is not 工商);
- an ``after=`` list is given and none of its words ends at most ``AFTER_WINDOW`` characters
  before it with no punctuation between (找你们主管 is a demand, 你们主管说 is not);
- a ``@ref_before`` word ends right where it starts, or a ``@ref_after`` word starts right
  where it ends (你们有差评吗, 差评多吗: talk about existing reviews);
- a ``@negation`` comes before it with only ``@filler`` words (at most ``NEGATION_REACH``
  characters) in between (我不会给差评的, 已经撤销投诉了);
- a ``@resolved`` phrase follows within ``RESOLVED_WINDOW`` characters of the same sentence and
  is not turned into a question by a ``@question`` word (上次投诉的问题解决了谢谢). A complaint
  mentioned as past but unresolved still fires: the relationship has already escalated.

A context rule with ``for=kind,…`` only applies to triggers of those kinds.

Only buyer messages are searched. Text is read half-width, and spaces and the filler marks
``· * _ ~`` are skipped so 差 评 and 投*诉 match; spans point at the original text.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from cs_audit.analysis.textnorm import to_halfwidth
from cs_audit.lexicon import (
    LexiconEntry,
    LexiconError,
    ProblemList,
    did_you_mean,
    lexicon_path,
    read_lexicon,
)
from cs_audit.model import Conversation, Detection

CATEGORY = "buyer.escalation"
ESCALATION_LEXICON = "escalation"
KINDS = ("complaint", "review", "regulator", "chargeback", "manager", "legal")
CONTEXT_ROLES = (
    "@negation", "@filler", "@benign", "@ref_before", "@ref_after", "@resolved", "@question",
)

AFTER_WINDOW = 4
NEGATION_REACH = 6
RESOLVED_WINDOW = 12

_SKIPPED = frozenset(" \t\r\n\u00a0·*_~")
_SENTENCE_ENDS = frozenset("。!?！？\n")

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


@dataclass(frozen=True, slots=True)
class _Rule:
    role: str  # an escalation kind, or a context role such as "@negation"
    length: int
    after: tuple[str, ...] = ()
    kinds: tuple[str, ...] = KINDS  # context rules: the trigger kinds they apply to


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    rule: _Rule


class EscalationDetector:
    """Report escalation threats in buyer messages, using a lexicon loaded once."""

    category = CATEGORY

    def __init__(self, lexicon: Path | str | None = None) -> None:
        """Load and compile ``lexicon`` (default: the bundled ``escalation.txt``).

        Raises ``LexiconError`` naming file and line for an unknown role or field.
        """
        path = Path(lexicon) if lexicon is not None else lexicon_path(ESCALATION_LEXICON)
        self._automaton = ahocorasick.Automaton()
        rules_by_phrase: dict[str, list[_Rule]] = {}
        # Every line is read even after a bad one, so one run lists every bad line.
        problems = ProblemList()
        for entry in read_lexicon(path, problems):
            phrase = _compact(to_halfwidth(entry.phrase))[0]
            with problems.gathered():
                if not phrase:
                    raise LexiconError.at(path, entry.line,
                                          f"{entry.phrase!r} is only spaces or filler marks")
                rules_by_phrase.setdefault(phrase, []).append(_parse_rule(path, entry, len(phrase)))
        problems.raise_if_any()
        self._fillers = {phrase for phrase, rules in rules_by_phrase.items()
                         if any(rule.role == "@filler" for rule in rules)}
        for phrase, rules in rules_by_phrase.items():
            self._automaton.add_word(phrase, tuple(rules))
        self._automaton.make_automaton()
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
        compact, origin = _compact(to_halfwidth(text))
        if not compact:
            return []
        hits: dict[str, list[_Hit]] = {}
        for last, rules in self._automaton.iter(compact):
            for rule in rules:
                hits.setdefault(rule.role, []).append(_Hit(last + 1 - rule.length, last + 1, rule))
        # Overlaps are settled before context: in 不会给中差评 the negation governs 中差评, and
        # the 差评 inside it must not escape by being judged on its own.
        triggers = _longest_first([hit for kind in KINDS for hit in hits.get(kind, ())])
        matches = []
        for hit in triggers:
            if self._counts(hit, compact, origin, text, hits):
                matches.append(EscalationMatch(origin[hit.start], origin[hit.end - 1] + 1, hit.rule.role))
        matches.sort(key=lambda match: match.start)
        return matches

    def _counts(self, trigger: _Hit, compact: str, origin: list[int], text: str,
                hits: dict[str, list[_Hit]]) -> bool:
        start, end = trigger.start, trigger.end
        kind = trigger.rule.role
        hits = {role: [hit for hit in found if kind in hit.rule.kinds] for role, found in hits.items()}
        if not _stands_alone(trigger, compact, origin, text):
            return False
        if any(hit.start <= start and end <= hit.end for hit in hits.get("@benign", ())):
            return False
        if trigger.rule.after and not _preceded_by(compact, start, trigger.rule.after):
            return False
        if any(hit.end == start for hit in hits.get("@ref_before", ())):
            return False
        if any(hit.start == end for hit in hits.get("@ref_after", ())):
            return False
        for negation in hits.get("@negation", ()):
            gap = compact[negation.end:start] if negation.end <= start else None
            if gap is not None and len(gap) <= NEGATION_REACH and self._only_fillers(gap):
                return False
        questions = {hit.start for hit in hits.get("@question", ())}
        for resolved in hits.get("@resolved", ()):
            between = compact[end:resolved.start]
            if (resolved.start >= end and len(between) <= RESOLVED_WINDOW
                    and not _SENTENCE_ENDS.intersection(between) and resolved.end not in questions):
                return False
        return True

    def _only_fillers(self, gap: str) -> bool:
        # covered[k]: gap[:k] can be written as a sequence of filler words.
        covered = [True] + [False] * len(gap)
        for k in range(1, len(gap) + 1):
            covered[k] = any(covered[k - len(word)] and gap.endswith(word, 0, k)
                             for word in self._fillers if len(word) <= k)
        return covered[len(gap)]


def _parse_rule(path: Path, entry: LexiconEntry, length: int) -> _Rule:
    role = entry.fields[0] if entry.fields else ""
    if role not in KINDS and role not in CONTEXT_ROLES:
        known = ", ".join(KINDS + CONTEXT_ROLES)
        hint = did_you_mean(role, KINDS + CONTEXT_ROLES) if role else ""
        raise LexiconError.at(path, entry.line,
                              f"unknown role {role!r} for {entry.phrase!r}{hint}; use one of {known}")
    after: tuple[str, ...] = ()
    kinds: tuple[str, ...] = KINDS
    for field in entry.fields[1:]:
        key, _, value = (part.strip() for part in field.partition("="))
        words = tuple(word.strip() for word in value.split(",") if word.strip())
        if key == "after" and role in KINDS and words:
            after = words
        elif key == "for" and role in CONTEXT_ROLES and words and set(words) <= set(KINDS):
            kinds = words
        else:
            raise LexiconError.at(
                path, entry.line, f"unexpected field {field!r}; triggers take after=word,word "
                f"and context rules take for=kind,kind (kinds: {', '.join(KINDS)})"
            )
    return _Rule(role, length, after, kinds)


def _compact(normalised: str) -> tuple[str, list[int]]:
    """Drop spaces and filler marks; return the compact text and each character's original offset."""
    kept = [(offset, char) for offset, char in enumerate(normalised) if char not in _SKIPPED]
    return "".join(char for _, char in kept), [offset for offset, _ in kept]


def _stands_alone(trigger: _Hit, compact: str, origin: list[int], text: str) -> bool:
    """A digit or Latin trigger (12315) is not part of a longer number or word in the original text."""
    phrase = compact[trigger.start:trigger.end]
    if not (phrase.isascii() and phrase.isalnum()):
        return True
    normalised = to_halfwidth(text)
    before = origin[trigger.start] - 1
    after = origin[trigger.end - 1] + 1
    if before >= 0 and normalised[before].isascii() and normalised[before].isalnum():
        return False
    if after < len(normalised) and normalised[after].isascii() and normalised[after].isalnum():
        return False
    # "123 15" became "12315" only by dropping a space: that is two numbers, not a hotline.
    return origin[trigger.end - 1] - origin[trigger.start] == len(phrase) - 1


def _preceded_by(compact: str, start: int, words: tuple[str, ...]) -> bool:
    for word in words:
        window = compact[max(0, start - AFTER_WINDOW - len(word)):start]
        position = window.rfind(word)
        if position >= 0 and not any(_is_punctuation(char) for char in window[position + len(word):]):
            return True
    return False


def _is_punctuation(char: str) -> bool:
    return unicodedata.category(char)[0] in "PS"


def _longest_first(hits: list[_Hit]) -> list[_Hit]:
    chosen: list[_Hit] = []
    for hit in sorted(hits, key=lambda hit: (hit.start - hit.end, hit.start)):
        if all(hit.end <= other.start or other.end <= hit.start for other in chosen):
            chosen.append(hit)
    return chosen
