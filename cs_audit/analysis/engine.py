"""The one rule engine every phrase-and-context detector runs on, in the manner of Vale.

Tone, off-platform risk, escalation and the dispute readers all ask the same question: does
this phrase, here, mean what it seems to mean? They share one answer:

- **one normaliser**: each message is normalised once (:func:`cs_audit.analysis.normalize.
  normalize`: half-width, simplified, lower case, decoration removed, a map back to the
  original characters) and every phrase is matched on that text;
- **one pass**: every lexicon of the folder is compiled into one Aho-Corasick automaton, so a
  message is scanned once for the triggers and context words of every detector (plus one pass
  on a "sounds like" copy for the few phrases marked ``pinyin``);
- **one clause and one sentence**: a clause ends at ``, : ; . ! ? 。 …`` or a line break, a
  sentence at ``; . ! ? 。 …`` or a line break (``、`` separates list items and ends neither);
- **one lexicon format**: ``phrase | kind [| option …]`` in every file, where the kind is
  ``phrase`` (a trigger that fires on its own), ``channel`` or ``intent`` (triggers that fire
  as a pair), or ``@rule`` (a context word of a rule declared in ``rules.txt``);
- **a handful of rule kinds**, declared once in ``lexicons/rules.txt`` (``name | effect |
  where | note [| option …]``): a context rule *excuses* a trigger when one of its words stands
  at its place (negated, hypothetical, asked, quoted, legitimate surroundings…) or *requires*
  one there; ``class`` rules are word classes other rules read (fillers a negation reaches
  across, question endings, words that stop a negation).

A context word applies to the triggers of the lexicons it is listed with (one detector's
family of files); ``context.txt`` is read with every family, so a fact such as "吗 ends a
question" is written once. ``lexicons/README.md`` is the trainer's guide to the format.
"""

from __future__ import annotations

import functools
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

import ahocorasick

from cs_audit.analysis.normalize import NormalizedText, normalize
from cs_audit.analysis.recent import RecentResults
from cs_audit.analysis.sounds import SoundTable, read_lookalikes, usual_readings
from cs_audit.analysis.textnorm import to_halfwidth
from cs_audit.lexicon import (
    LexiconEntry,
    LexiconError,
    ProblemList,
    did_you_mean,
    lexicon_fingerprint,
    read_lexicon,
)

# A clause ends at these (normalised: full-width marks are half-width already); a sentence at
# the subset below. 、 separates list items inside a clause (禁止通过微信、QQ私下联系).
CLAUSE_MARKS = frozenset(",:;.!?。…\n")
SENTENCE_MARKS = frozenset(";.!?。…\n")

EFFECTS = ("excuse", "require", "class")
PLACES = (
    "before", "after", "near", "clause", "clause_before", "clause_after", "sentence", "later",
    "next_clauses", "message", "around", "clause_start", "inside_quotes", "question", "alone",
)
TRIGGER_KINDS = ("phrase", "channel", "intent")

# Word classes the engine itself reads (declared in rules.txt with effect `class`).
FILLER = "filler"
QUESTION_END = "question_end"
QUESTION_WORD = "question_word"
BENIGN = "benign"

# Which detector family each lexicon file belongs to, and the category of its triggers (None:
# the file holds context words only). context.txt belongs to every family.
SHARED_FILE = "context.txt"
RULES_FILE = "rules.txt"
LOOKALIKE_FILE = "risk_lookalike.txt"
FAMILY_FILES: dict[str, dict[str, str | None]] = {
    "tone": {
        "tone_greeting.txt": "tone.greeting", "tone_thanks.txt": "tone.thanks",
        "tone_apology.txt": "tone.apology", "tone_empathy.txt": "tone.empathy",
        "tone_wait.txt": "tone.wait", "tone_closing.txt": "tone.closing",
        "tone_rude.txt": "tone.rude", "tone_context.txt": None,
    },
    "risk": {
        "risk_contact.txt": "risk.contact", "risk_payment.txt": "risk.payment",
        "risk_review.txt": "risk.review", "risk_refusal.txt": "risk.refusal",
        "risk_safe.txt": None,
    },
    "escalation": {"escalation.txt": "buyer.escalation"},
    "questions": {"questions.txt": "buyer.ignored_question"},
    "dispute.type": {"dispute_types.txt": "dispute.type"},
    "dispute.steps": {"dispute_steps.txt": "dispute.steps"},
}
FAMILIES = tuple(FAMILY_FILES)

# What a phrase of a family must say with `as=` (stable ids of SPEC §4 and the reports), and
# which `needs=` it may leave to its detector; families not listed take any label.
FAMILY_LABELS = {
    "escalation": ("complaint", "review", "regulator", "chargeback", "manager", "legal"),
    "dispute.type": ("logistics", "quality", "after_sales", "price", "attitude", "malicious"),
    "dispute.steps": ("ask_evidence", "explain", "remedy", "follow_up"),
}
FAMILY_NEEDS = {"dispute.type": ("complaint", "threat"), "dispute.steps": ("remedy",)}
FAMILY_KINDS = {"risk": TRIGGER_KINDS}  # every other family lists phrases only
# Labels the risk detector gives the channels it finds by pattern (numbers, addresses).
BUILT_IN_LABELS = frozenset({"phone number", "e-mail", "link", "amount"})

# Options a trigger line may carry, by kind; flags stand alone, the rest are key=value.
_TRIGGER_FLAGS = {
    "phrase": ("whole_word", "pinyin", "edge", "contiguous", "asks", "conditional"),
    "channel": ("pinyin", "edge", "strict"),
    "intent": ("strong", "question", "pinyin", "edge"),
}
_TRIGGER_VALUES = {
    "phrase": ("as", "say", "with", "without", "sentence_with", "after", "needs"),
    "channel": ("as",),
    "intent": ("reach", "side", "for"),
}
_WORD_VALUES = ("for", "reach")
_RULE_FLAGS = ("fillers", "sentence", "negation", "refusal")
_RULE_VALUES = ("reach", "for", "except", "unless", "stops", "unless_asked")
_SIDES = ("before", "after", "any")
NEEDS = ("complaint", "threat", "remedy")
# How far before a trigger an `after=` word may end (找你们主管: 你们 within 4 of 主管).
AFTER_WORD_REACH = 4
# Distinct texts whose scan is kept: enough for every detector to share the scans of one
# conversation (each detector keeps its own verdicts per distinct text for longer).
_SCAN_CACHE_SIZE = 1_024


@dataclass(frozen=True, slots=True)
class ContextRule:
    """One rule of rules.txt: where its words must (or must not) stand around a trigger."""

    name: str
    effect: str
    where: str
    note: str
    reach: int | None = None
    fillers: bool = False
    sentence: bool = False
    negation: bool = False
    refusal: bool = False
    applies_to: frozenset[str] = frozenset()  # categories (or families) that get it unnamed
    except_labels: frozenset[str] = frozenset()
    unless: str = ""  # a class: the rule is off when a word of it is anywhere in the message
    stops: str = ""  # a class: a word of it between word and trigger ends the rule's reach
    unless_asked: int | None = None
    source: str = ""

    def applies_by_default(self, family: str, category: str) -> bool:
        return bool(self.applies_to & {"*", family, category})


@dataclass(frozen=True, slots=True)
class Trigger:
    """A phrase a detector looks for: its category, kind, label and context rules."""

    category: str
    family: str
    kind: str
    phrase: str
    key: str
    label: str = ""
    rules: tuple[ContextRule, ...] = ()
    options: Mapping[str, object] = field(default_factory=dict)
    source: str = ""
    names: frozenset[str] = frozenset()  # category, its short name and label: what for= matches

    def __post_init__(self) -> None:
        if not self.names:
            names = {self.category, self.category.split(".")[-1]} | ({self.label} if self.label else set())
            object.__setattr__(self, "names", frozenset(names))

    @property
    def suggestion(self) -> str:
        """What to say instead (``say=``), for rude phrasing."""
        return str(self.options.get("say", ""))

    def flag(self, name: str) -> bool:
        return bool(self.options.get(name))

    def value(self, name: str, default=None):
        return self.options.get(name, default)


@dataclass(frozen=True, slots=True)
class ContextWord:
    """A word of a context rule, scoped to one family (or every family: ``family`` "*")."""

    rule: str
    family: str
    key: str
    phrase: str = ""
    scope: frozenset[str] = frozenset()  # categories or labels it applies to; empty: all
    reach: int | None = None
    source: str = ""

    def applies_to(self, target: Target) -> bool:
        return not self.scope or bool(self.scope & target.names)


class Hit(NamedTuple):
    """Where an entry was found in a normalised text ([start, end) of that text).

    (A named tuple: a message gives dozens of hits, most of them light context words.)
    """

    start: int
    end: int
    entry: Trigger | ContextWord
    via: str = ""  # for a hit made by sound: how it was recognised


@dataclass(frozen=True, slots=True)
class Target:
    """What context is judged around: a trigger hit, or a pair of them (channel + intent)."""

    start: int
    end: int
    category: str
    family: str
    names: frozenset[str]  # the category, its short name and every label of its parts
    rules: tuple[ContextRule, ...]

    @classmethod
    def of(cls, hit: Hit) -> Target:
        trigger = hit.entry
        return cls(hit.start, hit.end, trigger.category, trigger.family, trigger.names, trigger.rules)


@dataclass(frozen=True, slots=True)
class Decision:
    """Whether a target counts, and the rule that decided (with its note)."""

    counts: bool
    rule: ContextRule | None = None

    @property
    def note(self) -> str:
        return self.rule.note if self.rule is not None else ""


COUNTS = Decision(True)

# The word lists a trigger line may carry itself, as rules with a note (for `explain`).
INLINE_RULES = {
    "with": ContextRule("with", "require", "clause", "needs one of its with= words in its clause"),
    "without": ContextRule("without", "excuse", "clause", "one of its without= words is in its clause"),
    "sentence_with": ContextRule("sentence_with", "require", "sentence",
                                 "needs one of its sentence_with= words in its sentence"),
    "after": ContextRule("after", "require", "before",
                         f"needs one of its after= words at most {AFTER_WORD_REACH} characters before it"),
}


class _OrderedWords(NamedTuple):
    """One rule's words in a message by start, with the longest word and the widest reach."""

    hits: list[Hit]
    starts: list[int]
    longest: int
    reach: int


class Scan:
    """One message read against every lexicon: its normalised text, triggers and context words."""

    __slots__ = ("normalized", "text", "_matches", "_triggers", "_sounds", "_sounded",
                 "_word_automaton", "_words", "_raw", "_benign", "_halfwidth", "_quotes", "_by_start", "_marks",
                 "_quotes_at")

    def __init__(self, normalized: NormalizedText, matches: list, benign: list[Hit],
                 sounds: SoundPass | None, word_automaton: ahocorasick.Automaton | None,
                 quotes: Mapping[tuple[str, str], tuple[str, ...]]) -> None:
        """``matches`` are the trigger automaton's (end, payload) pairs; a family's hits are made
        from them when the family is first asked for, and context words are looked for with
        ``word_automaton`` only when a rule first asks: most messages need few of either."""
        self.normalized = normalized
        self.text = normalized.text
        self._matches = matches
        self._benign = benign
        self._sounds = sounds
        self._sounded: list[Hit] | None = None
        self._quotes = quotes
        self._triggers: dict[str, list[Hit]] = {}
        self._word_automaton = word_automaton
        self._words: dict[str, dict[str, list[Hit]]] | None = None
        self._raw: list = []
        self._by_start: dict[tuple[str, str], _OrderedWords] = {}
        self._marks: dict[frozenset[str], list[int]] = {}
        self._halfwidth: str | None = None
        self._quotes_at: dict[str, list[int]] = {}

    # --- what was found -------------------------------------------------------------------

    def triggers(self, family: str) -> list[Hit]:
        """The trigger hits of one family, benign-masked, in text order."""
        found = self._triggers.get(family)
        if found is None:
            normalized = self.normalized
            found = []
            for end, (length, by_family, checked, _masks) in self._matches:
                entries = by_family.get(family)
                if not entries:
                    continue
                start = end + 1 - length
                for trigger in entries:
                    hit = Hit(start, end + 1, trigger)
                    if not checked or _fits_boundaries(normalized, hit):
                        found.append(hit)
            if self._sounds is not None:
                if self._sounded is None:
                    self._sounded = [hit for hit in self._sounds.hits(self.text)
                                     if _fits_boundaries(normalized, hit)]
                found += [hit for hit in self._sounded if hit.entry.family == family]
            benign = [hit for hit in self._benign if hit.entry.family in (family, "*")]
            if benign and found:
                found = [hit for hit in _unmasked(found + benign) if isinstance(hit.entry, Trigger)]
            self._triggers[family] = found
        return found

    def _family_words(self, family: str) -> dict[str, list[Hit]]:
        """The context words of one family (shared ones included), by rule."""
        words = self._words
        if words is None:
            automaton = self._word_automaton
            self._raw = list(automaton.iter(self.text)) if automaton is not None and self.text else []
            words = self._words = {}
        by_rule = words.get(family)
        if by_rule is None:
            by_rule = words[family] = {}
            normalized = self.normalized
            found = []
            for end, (length, by_family, checked) in self._raw:
                entries = by_family.get(family)
                if not entries:
                    continue
                start = end + 1 - length
                for entry in entries:
                    hit = Hit(start, end + 1, entry)
                    if checked and not _fits_boundaries(normalized, hit):
                        continue
                    found.append(hit)
            benign = [hit for hit in self._benign if hit.entry.family in (family, "*")]
            if benign and found:
                # 不好意思 holds a 不 that negates nothing: a word inside a benign word is no word.
                found = [hit for hit in _unmasked(found + benign) if hit.entry.rule != BENIGN]
            for hit in found:
                by_rule.setdefault(hit.entry.rule, []).append(hit)
        return by_rule

    def words(self, family: str, rule: str, target: Target | None = None) -> list[Hit]:
        """The words of ``rule`` that apply to ``family`` (shared ones included)."""
        found = self._family_words(family).get(rule, [])
        if target is None:
            return found
        return [hit for hit in found if hit.entry.applies_to(target)]

    def between(self, family: str, rule: str, low: int, high: int,
                target: Target | None = None) -> list[Hit]:
        """The words of ``rule`` starting at ``low``..``high`` (a long message is searched by
        position, not word by word: time stays linear in its length)."""
        ordered = self._ordered(family, rule)
        found = ordered.hits[bisect_left(ordered.starts, max(low, 0)):bisect_right(ordered.starts, high)]
        if target is None:
            return found
        return [hit for hit in found if hit.entry.applies_to(target)]

    def _ordered(self, family: str, rule: str) -> _OrderedWords:
        key = (family, rule)
        ordered = self._by_start.get(key)
        if ordered is None:
            hits = sorted(self._family_words(family).get(rule, []), key=lambda hit: hit.start)
            ordered = self._by_start[key] = _OrderedWords(
                hits, [hit.start for hit in hits],
                longest=max((hit.end - hit.start for hit in hits), default=0),
                reach=max((hit.entry.reach or 0 for hit in hits), default=0))
        return ordered

    def unmasked(self, hits: list[Hit], family: str) -> list[Hit]:
        """``hits`` a detector made itself, less those inside a benign word of ``family``."""
        benign = [hit for hit in self._benign if hit.entry.family in (family, "*")]
        if not benign or not hits:
            return hits
        return [hit for hit in _unmasked(hits + benign) if isinstance(hit.entry, Trigger)]

    def has(self, family: str, rule: str) -> bool:
        return bool(self._family_words(family).get(rule))

    # --- structure --------------------------------------------------------------------------

    def clause(self, start: int, end: int) -> tuple[int, int]:
        return self._bounds(start, end, CLAUSE_MARKS)

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        return self._bounds(start, end, SENTENCE_MARKS)

    def _bounds(self, start: int, end: int, marks: frozenset[str]) -> tuple[int, int]:
        positions = self._mark_positions(marks)
        # The clause runs from just after the last mark before ``start`` to the first mark at
        # or after ``end`` (found by position: a long message costs no walk per phrase).
        before = bisect_left(positions, start)
        left = positions[before - 1] + 1 if before else 0
        after = bisect_left(positions, end)
        right = positions[after] if after < len(positions) else len(self.text)
        return left, right

    def _mark_positions(self, marks: frozenset[str]) -> list[int]:
        positions = self._marks.get(marks)
        if positions is None:
            positions = self._marks[marks] = [index for index, character in enumerate(self.text)
                                              if character in marks]
        return positions

    def crosses(self, start: int, end: int, marks: frozenset[str]) -> bool:
        return not marks.isdisjoint(self.text[start:end])

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        return self.normalized.original_span(start, end)

    def halfwidth_source(self) -> str:
        if self._halfwidth is None:
            self._halfwidth = to_halfwidth(self.normalized.source)
        return self._halfwidth

    def space_between(self, start: int, end: int) -> bool:
        """Whether the original has whitespace between normalised positions start and end."""
        origin = self.normalized.origin
        original_start = origin[start - 1] + 1 if start > 0 else 0
        original_end = origin[end] if end < len(origin) else len(self.normalized.source)
        return any(character.isspace()
                   for character in self.normalized.source[original_start:original_end])

    def asked_after(self, family: str, position: int, reach: int) -> bool:
        """A question ending (吗, ?) follows ``position`` within ``reach``, in the same clause."""
        _, clause_end = self.clause(position, position)
        limit = min(clause_end, position + reach)
        if clause_end < len(self.text) and self.text[clause_end] == "?" and clause_end <= position + reach:
            return True
        return bool(self.between(family, QUESTION_END, position, limit))

    # --- judging ----------------------------------------------------------------------------

    def decide(self, hit: Hit) -> Decision:
        """Whether one trigger hit counts: its own word lists, then its context rules."""
        failed = self.inline_failure(hit)
        if failed is not None:
            return Decision(False, failed)
        return self.judge(Target.of(hit))

    def inline_failure(self, hit: Hit) -> ContextRule | None:
        """The first of the trigger's own word lists (with=, without=…) that rules it out."""
        trigger = hit.entry
        options = trigger.options
        if not options:
            return None
        text = self.text
        if "with" in options or "without" in options:
            low, high = self.clause(hit.start, hit.end)
            clause = text[low:high]
            if "with" in options and not any(word in clause for word in options["with"]):
                return INLINE_RULES["with"]
            if any(word in clause for word in options.get("without", ())):
                return INLINE_RULES["without"]
        if "sentence_with" in options:
            low, high = self.sentence(hit.start, hit.end)
            if not any(word in text[low:high] for word in options["sentence_with"]):
                return INLINE_RULES["sentence_with"]
        if "after" in options and not self._preceded_by(hit.start, options["after"]):
            return INLINE_RULES["after"]
        return None

    def _preceded_by(self, start: int, words: Sequence[str]) -> bool:
        text = self.text
        for word in words:
            window_start = max(0, start - AFTER_WORD_REACH - len(word))
            position = text.rfind(word, window_start, start)
            if position >= 0 and not self.crosses(position + len(word), start, CLAUSE_MARKS):
                return True
        return False

    def judge(self, target: Target) -> Decision:
        """Whether ``target`` counts: no excusing rule holds and every required one does."""
        required = []
        for rule in target.rules:
            if rule.effect == "excuse":
                if self.holds(rule, target):
                    return Decision(False, rule)
            elif rule.effect == "require":
                required.append(rule)
        for rule in required:
            if not self.holds(rule, target):
                return Decision(False, rule)
        if required:
            return Decision(True, required[0])
        return COUNTS

    def excused_by(self, target: Target) -> list[ContextRule]:
        """Every excusing rule that holds for ``target`` (risk tells a refusal from context)."""
        return [rule for rule in target.rules if rule.effect == "excuse" and self.holds(rule, target)]

    def holds(self, rule: ContextRule, target: Target) -> bool:
        """Whether one of ``rule``'s words stands at its place around ``target``."""
        family = target.family
        if rule.except_labels & target.names:
            return rule.effect == "require"  # the rule is off: neither excuse nor demand
        if rule.unless and self.has(family, rule.unless):
            return rule.effect == "require"
        where = rule.where
        start, end = target.start, target.end
        if where == "clause_start":
            clause_start, _ = self.clause(start, end)
            opening = self.text[clause_start:start]
            return not opening or any(hit.start == clause_start and hit.end == start
                                      for hit in self.words(family, rule.name, target))
        if where == "alone":
            return self._alone(family, rule, target)
        if where == "inside_quotes":
            return self._inside_quotes(family, rule, target)
        if where == "question":
            reach = rule.reach if rule.reach is not None else len(self.text)
            return self.asked_after(family, end, reach)
        name = rule.name
        if not self._family_words(family).get(name):
            return False
        if where in ("before", "after", "near"):
            # Only words within the longest reach any of them may have can count.
            ordered = self._ordered(family, name)
            reach = max(rule.reach or 0, ordered.reach)
            words = self.between(family, name, start - reach - ordered.longest, end + reach, target)
            return any(self._near(rule, target, word, where) for word in words)
        if where == "around":
            longest = self._ordered(family, name).longest
            return any(word.start <= start and end <= word.end and word.end - word.start > end - start
                       for word in self.between(family, name, end - longest, start, target))
        if where == "message":
            return bool(self.words(family, name, target))
        if where == "later":
            return bool(self.between(family, name, end, len(self.text), target))
        if where in ("clause", "clause_before", "clause_after", "next_clauses"):
            low, high = self.clause(start, end)
        else:  # sentence
            low, high = self.sentence(start, end)
        if where == "next_clauses":
            return bool(self.between(family, name, high, len(self.text), target))
        if where == "clause_before":
            return any(word.end <= start for word in self.between(family, name, low, start, target))
        if where == "clause_after":
            return any(word.end <= high for word in self.between(family, name, end, high, target))
        return any(word.end <= high for word in self.between(family, name, low, high, target))

    def _near(self, rule: ContextRule, target: Target, word: Hit, where: str) -> bool:
        reach = word.entry.reach if word.entry.reach is not None else (rule.reach or 0)
        if word.end <= target.start and where in ("before", "near"):
            low, high = word.end, target.start
            later = target.end
        elif word.start >= target.end and where in ("after", "near"):
            low, high = target.end, word.start
            later = word.end
        else:
            return False
        if high - low > reach:
            return False
        marks = SENTENCE_MARKS if rule.sentence else CLAUSE_MARKS
        if self.crosses(low, high, marks):
            return False
        family = target.family
        if rule.fillers and low < high and not self._only_fillers(family, low, high):
            return False
        if rule.stops and any(hit.end <= high for hit in self.between(family, rule.stops, low, high)):
            return False
        if rule.unless_asked is not None and self.asked_after(family, later, rule.unless_asked):
            return False
        if rule.negation and not self._negates(family, word, target, low, high):
            return False
        return True

    def _negates(self, family: str, word: Hit, target: Target, low: int, high: int) -> bool:
        """A negation word is no negation inside a question: 能不能/加不加 (the same character
        on both sides of 不/没), or a clause that asks 为什么/怎么 before it."""
        if word.end <= target.start:
            if low < high and self.space_between(low, high):
                return False  # "不要在这说 加我微信": the space ends the clause the 不要 governs
            text = self.text
            phrase = text[word.start:word.end]
            if phrase[0] in "不没" and word.start > 0:
                following = phrase[1] if len(phrase) > 1 else (text[word.end] if word.end < len(text) else "")
                if text[word.start - 1] == following:
                    return False
            clause_start, _ = self.clause(word.start, word.start)
            return not any(hit.end <= word.start
                           for hit in self.between(family, QUESTION_WORD, clause_start, word.start))
        return True

    def _only_fillers(self, family: str, low: int, high: int) -> bool:
        """Whether text[low:high] is a run of filler words."""
        ends_from: dict[int, list[int]] = {}
        for hit in self.between(family, FILLER, low, high):
            if hit.end <= high:
                ends_from.setdefault(hit.start, []).append(hit.end)
        reached = {low}
        frontier = [low]
        while frontier:
            position = frontier.pop()
            for end in ends_from.get(position, ()):
                if end == high:
                    return True
                if end not in reached:
                    reached.add(end)
                    frontier.append(end)
        return False

    def _alone(self, family: str, rule: ContextRule, target: Target) -> bool:
        """Whether the phrase is all its message says, apart from clause marks and the rule's
        words (particles: 不行哦亲 is a bare refusal, 不行，这款不参加活动 is not)."""
        covered = set(range(target.start, target.end))
        for hit in self.words(family, rule.name, target):
            covered.update(range(hit.start, hit.end))
        return all(index in covered or character in CLAUSE_MARKS
                   for index, character in enumerate(self.text))

    def _inside_quotes(self, family: str, rule: ContextRule, target: Target) -> bool:
        start, end = self.original_span(target.start, target.end)
        for pair in self._quote_pairs(family, rule):
            # Where each quote mark stands, found by position rather than by searching the text
            # again for every phrase: a long message costs no scan per phrase.
            openings, closings = self._quote_positions(pair[0]), self._quote_positions(pair[1])
            if bisect_left(closings, end) == len(closings):
                continue  # no closing mark after the phrase
            opened = bisect_left(openings, start)
            if pair[0] == pair[1]:
                if opened % 2 == 1:
                    return True
            elif opened and openings[opened - 1] > _last_before(closings, start):
                return True
        return False

    def _quote_positions(self, mark: str) -> list[int]:
        """Where ``mark`` stands in the half-width original, in order."""
        positions = self._quotes_at.get(mark)
        if positions is None:
            source = self.halfwidth_source()
            positions = self._quotes_at[mark] = [index for index, character in enumerate(source)
                                                 if character == mark]
        return positions

    def _quote_pairs(self, family: str, rule: ContextRule) -> Sequence[str]:
        quotes = self._quotes
        return quotes.get((family, rule.name), ()) + quotes.get(("*", rule.name), ())


def _last_before(positions: list[int], limit: int) -> int:
    """The last of the sorted ``positions`` below ``limit``, or -1."""
    at = bisect_left(positions, limit)
    return positions[at - 1] if at else -1


def load_engine(folder: Path | str) -> RuleEngine:
    """The engine of a lexicon folder, built once per process and folder content."""
    folder = Path(folder)
    return _engine(lexicon_fingerprint(folder), str(folder))


@functools.lru_cache(maxsize=16)
def _engine(_fingerprint: str, folder: str) -> RuleEngine:
    # Keyed by content, not path: a folder edited since, or another shop's copy, is built anew.
    return RuleEngine(folder)


class RuleEngine:
    """Every lexicon of one folder compiled: rules, triggers, context words, one automaton.

    Build once per process (``RuleEngine.load``), before worker processes fork.
    """

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        problems = ProblemList()
        self.rules = read_rules(self.folder / RULES_FILE, problems)
        self.triggers: dict[str, list[Trigger]] = {family: [] for family in FAMILIES}
        self.words: list[ContextWord] = []
        for family, files in FAMILY_FILES.items():
            for name, category in files.items():
                self._read(self.folder / name, family, category, problems)
        self._read(self.folder / SHARED_FILE, "*", None, problems)
        lookalikes = read_lookalikes(self.folder / LOOKALIKE_FILE, problems)
        self._check(problems)
        problems.raise_if_any()
        # Quote characters are removed by the normaliser: quote rules look in the original text.
        self.quotes: dict[tuple[str, str], tuple[str, ...]] = {}
        matched = []
        for word in self.words:
            if self.rules[word.rule].where == "inside_quotes":
                key = (word.family, word.rule)
                self.quotes[key] = (*self.quotes.get(key, ()), word.phrase)
            else:
                matched.append((word.key, word))
        # Every trigger of every detector (and the benign words that mask them) in one pass; the
        # other context words in a second pass, run only for a message whose triggers need them.
        self._automaton = _compile(
            [(trigger.key, trigger) for triggers in self.triggers.values() for trigger in triggers]
            + [(key, word) for key, word in matched if word.rule == BENIGN])
        self._word_automaton = _compile_words([(key, word) for key, word in matched
                                               if word.rule != BENIGN])
        pinyin = [trigger for triggers in self.triggers.values() for trigger in triggers
                  if trigger.flag("pinyin")]
        self._sounds: SoundPass | None = None
        if pinyin:
            table = SoundTable([t.key for t in pinyin if t.kind == "channel"], lookalikes,
                               usual_readings())
            self._sounds = SoundPass(pinyin, table)
        self._cache: RecentResults[Scan] = RecentResults(_SCAN_CACHE_SIZE)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_cache"] = self._cache.empty()
        return state

    # --- loading ------------------------------------------------------------------------------

    def _read(self, path: Path, family: str, category: str | None, problems: ProblemList) -> None:
        for entry in read_lexicon(path, problems):
            with problems.gathered():
                parsed = parse_entry(entry, path, family, category, self.rules)
                if isinstance(parsed, Trigger):
                    self.triggers[family].append(parsed)
                else:
                    self.words.append(parsed)

    def _check(self, problems: ProblemList) -> None:
        """What no single line shows: a phrase listed twice, a rule nothing can trigger."""
        seen: dict[tuple, str] = {}
        for triggers in self.triggers.values():
            for trigger in triggers:
                identity = (trigger.category, trigger.kind, trigger.key, trigger.label)
                path, _, line = trigger.source.rpartition(":")
                if identity in seen:
                    problems.add(path, int(line), f"{trigger.phrase!r} is already listed on line "
                                 f"{seen[identity].rpartition(':')[2]}")
                else:
                    seen[identity] = trigger.source
        # A rule with no words that no phrase uses is a leftover or a typo of another rule.
        for family, triggers in self.triggers.items():
            for trigger in triggers:
                for message in _family_problems(family, trigger, self.triggers[family]):
                    path, _, line = trigger.source.rpartition(":")
                    problems.add(path, int(line), message)
        for family, files in FAMILY_FILES.items():
            if family in FAMILY_LABELS and not self.triggers[family]:
                name = next(iter(files))
                problems.add(self.folder / name, None, f"no phrase of {', '.join(FAMILY_LABELS[family])};"
                             " the file needs at least one")
        worded = {word.rule for word in self.words}
        used = {rule.name for triggers in self.triggers.values() for trigger in triggers
                for rule in trigger.rules}
        for rule in self.rules.values():
            if rule.effect != "class" and rule.where != "question" and not {rule.name} & (worded | used):
                path, _, line = rule.source.rpartition(":")
                problems.add(path, int(line), f"rule {rule.name!r} has no words and no phrase uses "
                             f"it: list words as 'word | @{rule.name}' in a lexicon, or delete the rule")

    def default_rules(self, family: str, category: str) -> tuple[ContextRule, ...]:
        """The context rules every phrase of ``category`` gets without naming them."""
        return tuple(rule for rule in self.rules.values()
                     if rule.effect != "class" and rule.applies_by_default(family, category))

    def words_of(self, rule: str, family: str) -> list[ContextWord]:
        """The words of ``rule`` listed for ``family`` (shared ones included), in file order."""
        return [word for word in self.words if word.rule == rule and word.family in (family, "*")]

    def triggers_of(self, category: str) -> list[Trigger]:
        family = next(name for name, files in FAMILY_FILES.items() if category in files.values())
        return [trigger for trigger in self.triggers[family] if trigger.category == category]

    # --- scanning ----------------------------------------------------------------------------

    def scan(self, text: str) -> Scan:
        """Every trigger and context word in ``text`` (cached per distinct text)."""
        return self._cache.get(text, self._scan_uncached)

    def _scan_uncached(self, text: str) -> Scan:
        normalized = normalize(text)
        automaton = self._automaton
        matches = list(automaton.iter(normalized.text)) if automaton is not None else []
        benign = [Hit(end + 1 - length, end + 1, mask)
                  for end, (length, _triggers, _checked, masks) in matches for mask in masks]
        return Scan(normalized, matches, benign, self._sounds, self._word_automaton, self.quotes)


class SoundPass:
    """Finds ``pinyin`` triggers written with characters that sound or look like theirs."""

    def __init__(self, triggers: Sequence[Trigger], table: SoundTable) -> None:
        self._translate = table
        self._describe = table.describe
        self._automaton = _compile([(trigger.key.translate(table), trigger) for trigger in triggers])

    def hits(self, folded: str) -> list[Hit]:
        sounding = folded.translate(self._translate)
        if sounding == folded or self._automaton is None:
            return []
        found = []
        for end_index, (length, by_family, _checked, _benign) in self._automaton.iter(sounding):
            start, end = end_index + 1 - length, end_index + 1
            written = folded[start:end]
            if written == sounding[start:end]:
                continue  # written plainly: the main pass has it
            found += [Hit(start, end, entry, self._describe(written))
                      for entries in by_family.values() for entry in entries]
        return found


def _family_problems(family: str, trigger: Trigger, family_triggers: list[Trigger]) -> list[str]:
    """What a family's detector needs of its phrases beyond the line format."""
    found = []
    if trigger.kind not in FAMILY_KINDS.get(family, ("phrase",)):
        found.append(f"{family} lexicons list phrases, not {trigger.kind}s")
    labels = FAMILY_LABELS.get(family)
    if labels is not None and trigger.label not in labels:
        found.append(f"as={trigger.label or '?'}: {family} phrases need as= one of "
                     f"{', '.join(labels)}" + did_you_mean(trigger.label, labels))
    need = trigger.value("needs")
    if need is not None and need not in FAMILY_NEEDS.get(family, ()):
        allowed = ", ".join(f"needs={name}" for name in FAMILY_NEEDS.get(family, ())) or "no needs="
        found.append(f"needs={need}: {family} phrases take {allowed}")
    if trigger.category == "tone.rude" and not trigger.suggestion:
        found.append(f"{trigger.phrase!r} needs a suggestion: 'phrase | phrase | say=what to say instead'")
    for_labels = trigger.value("for", frozenset())
    if for_labels:
        # An intent's for= naming a label no channel has would silently never apply (a typo).
        known = {other.label for other in family_triggers if other.label} | BUILT_IN_LABELS
        for label in sorted(for_labels - known):
            found.append(f"for={label}: no channel has as={label}{did_you_mean(label, known)}; "
                         f"labels: {', '.join(sorted(known))}")
    return found


def _compile_words(pairs: Sequence[tuple[str, ContextWord]]) -> ahocorasick.Automaton | None:
    """The context words' automaton; each key carries (length, words by family, whether
    boundaries must be checked), shared words listed under every family."""
    grouped: dict[str, list[ContextWord]] = {}
    for key, word in pairs:
        grouped.setdefault(key, []).append(word)
    if not grouped:
        return None
    automaton = ahocorasick.Automaton()
    for key, words in grouped.items():
        by_family = {family: tuple(word for word in words if word.family in (family, "*"))
                     for family in FAMILIES}
        by_family = {family: found for family, found in by_family.items() if found}
        checked = key[0].isascii() and key[0].isalpha()
        automaton.add_word(key, (len(key), by_family, checked))
    automaton.make_automaton()
    return automaton


def _compile(pairs: Sequence[tuple[str, Trigger | ContextWord]]) -> ahocorasick.Automaton | None:
    """The triggers' automaton; each key carries (length, triggers by family, whether
    boundaries must be checked, benign words), so a match costs nothing it does not need."""
    grouped: dict[str, list] = {}
    for key, entry in pairs:
        grouped.setdefault(key, []).append(entry)
    if not grouped:
        return None
    automaton = ahocorasick.Automaton()
    for key, entries in grouped.items():
        by_family: dict[str, tuple[Trigger, ...]] = {}
        for entry in entries:
            if isinstance(entry, Trigger):
                by_family[entry.family] = (*by_family.get(entry.family, ()), entry)
        benign = tuple(entry for entry in entries
                       if isinstance(entry, ContextWord) and entry.rule == BENIGN)
        checked = (key[0].isascii() and key[0].isalpha()) or any(
            isinstance(entry, Trigger) and (entry.flag("edge") or entry.flag("contiguous"))
            for entry in entries)
        automaton.add_word(key, (len(key), by_family, checked, benign))
    automaton.make_automaton()
    return automaton


# A Chinese `edge` phrase may be followed by one of these and still be a whole phrase (加薇吧).
_PARTICLES = frozenset("了吧啊呀呢哈嘛哦噢喔啦哇")


def _fits_boundaries(normalized: NormalizedText, hit: Hit) -> bool:
    """ASCII words start and end on word boundaries; `edge` phrases do not run on into a longer
    word; `contiguous` phrases (12315) were written without a gap in the original."""
    entry = hit.entry
    folded = normalized.text
    key = entry.key
    start, end = hit.start, hit.end
    if key[0].isascii() and key[0].isalpha() and start > 0:
        before = folded[start - 1]
        if before.isascii() and before.isalpha():
            return False
    if isinstance(entry, ContextWord):
        return True
    if entry.flag("contiguous"):
        origin = normalized.origin
        if origin[end - 1] - origin[start] != end - start - 1:
            return False
        source = to_halfwidth(normalized.source)
        before, after = origin[start] - 1, origin[end - 1] + 1
        if before >= 0 and source[before].isascii() and source[before].isalnum():
            return False
        if after < len(source) and source[after].isascii() and source[after].isalnum():
            return False
    if entry.flag("edge") and end < len(folded):
        after_char = folded[end]
        if key[-1].isascii():
            return not (after_char.isascii() and after_char.isalpha())
        return not ("\u4e00" <= after_char <= "\u9fff") or after_char in _PARTICLES
    return True


def _unmasked(hits: list[Hit]) -> list[Hit]:
    """Drop every hit lying wholly inside a longer benign word of its family that applies to it."""
    benign = [hit for hit in hits
              if isinstance(hit.entry, ContextWord) and hit.entry.rule == BENIGN]
    if not benign:
        return hits
    kept = []
    for hit in hits:
        entry = hit.entry
        if isinstance(entry, ContextWord) and entry.rule == BENIGN:
            kept.append(hit)
            continue
        family = entry.family
        names = _names_of(entry)
        covered = any(
            mask.start <= hit.start and hit.end <= mask.end
            and mask.end - mask.start > hit.end - hit.start
            and mask.entry.family in (family, "*")
            and (not mask.entry.scope or not names or mask.entry.scope & names)
            for mask in benign)
        if not covered:
            kept.append(hit)
    return kept


def _names_of(entry: Trigger | ContextWord) -> frozenset[str]:
    return entry.names if isinstance(entry, Trigger) else entry.scope


# --- the format --------------------------------------------------------------------------------

def read_rules(path: Path, problems: ProblemList) -> dict[str, ContextRule]:
    """Read ``rules.txt``: ``name | effect | where | note [| option …]``."""
    rules: dict[str, ContextRule] = {}
    for entry in read_lexicon(path, problems):
        where_line = f"{path}:{entry.line}"
        fields = entry.fields
        if len(fields) < 3:
            problems.add(path, entry.line, "expected 'name | effect | where | note [| option …]'")
            continue
        effect, where, note = fields[0], fields[1], fields[2]
        if entry.phrase in rules:
            problems.add(path, entry.line, f"rule {entry.phrase!r} is declared twice")
            continue
        if effect not in EFFECTS:
            problems.add(path, entry.line, f"effect {effect!r} is not one of {', '.join(EFFECTS)}"
                         + did_you_mean(effect, EFFECTS))
            continue
        if effect != "class" and where not in PLACES:
            problems.add(path, entry.line, f"where {where!r} is not one of {', '.join(PLACES)}"
                         + did_you_mean(where, PLACES))
            continue
        options: dict = {}
        bad = False
        for option in " ".join(fields[3:]).split():
            key, equals, value = option.partition("=")
            if not equals and key in _RULE_FLAGS:
                options[key] = True
            elif equals and key in ("reach", "unless_asked") and value.isdigit():
                options[key] = int(value)
            elif equals and key in ("for", "except") and value:
                options["applies_to" if key == "for" else "except_labels"] = frozenset(
                    part for part in value.split(",") if part)
            elif equals and key in ("unless", "stops") and value:
                options[key] = value
            else:
                problems.add(path, entry.line, f"unknown option {option!r}; a rule takes "
                             f"{', '.join(_RULE_FLAGS)}, reach=N, unless_asked=N, for=…, "
                             "except=…, unless=CLASS, stops=CLASS")
                bad = True
        if not bad:
            rules[entry.phrase] = ContextRule(entry.phrase, effect, where if effect != "class" else "",
                                              note, source=where_line, **options)
    for rule in rules.values():
        for name in (rule.unless, rule.stops):
            if name and name not in rules:
                line = int(rule.source.rsplit(":", 1)[1])
                problems.add(path, line, f"rule {rule.name!r} names class {name!r}, which is not "
                             "declared" + did_you_mean(name, rules))
    return rules


def _words(value: str) -> tuple[str, ...]:
    return tuple(normalize(word).text for word in value.split(",") if word.strip())


def parse_entry(entry: LexiconEntry, path: Path, family: str, category: str | None,
                rules: Mapping[str, ContextRule]) -> Trigger | ContextWord:
    """One lexicon line compiled: a trigger of ``category`` or a context word of a rule."""
    where = f"{path}:{entry.line}"

    def fail(message: str) -> LexiconError:
        return LexiconError.at(path, entry.line, message)

    if not entry.fields or not entry.fields[0]:
        kinds = (*TRIGGER_KINDS, "@rule") if category else ("@rule",)
        return _raise(fail(f"expected 'phrase | kind [| option …]' with a kind of {', '.join(kinds)}"))
    kind = entry.fields[0]
    options = [option for field_text in entry.fields[1:] for option in _split_options(field_text)]
    key = normalize(entry.phrase).text
    if kind.startswith("@"):
        rule_name = kind[1:]
        if rule_name not in rules:
            return _raise(fail(f"no rule {rule_name!r} in {RULES_FILE}" + did_you_mean(rule_name, rules)))
        rule = rules[rule_name]
        if rule.where == "inside_quotes":
            key = entry.phrase  # a pair of quote characters, looked for in the original text
            if len(key) != 2:
                return _raise(fail("a quote rule's word is two characters: opening, closing"))
        elif not key:
            return _raise(fail(f"{entry.phrase!r} is empty once normalised"))
        scope: frozenset[str] = frozenset()
        reach = None
        for option in options:
            name, equals, value = option.partition("=")
            if name == "for" and equals and value:
                scope = frozenset(part for part in value.split(",") if part)
            elif name == "reach" and value.isdigit():
                reach = int(value)
            else:
                return _raise(fail(f"unknown option {option!r} for a context word; use for=… or reach=N"))
        return ContextWord(rule_name, family, key, entry.phrase, scope, reach, where)
    if category is None:
        return _raise(fail(f"this file holds context words only ('word | @rule'), not {kind!r}"))
    if kind not in TRIGGER_KINDS:
        return _raise(fail(f"unknown kind {kind!r}; use {', '.join(TRIGGER_KINDS)} or @rule"
                           + did_you_mean(kind, TRIGGER_KINDS)))
    if not key:
        return _raise(fail(f"{entry.phrase!r} is empty once normalised"))
    values: dict[str, object] = {}
    named: list[str] = []
    removed: set[str] = set()
    for option in options:
        name, equals, value = option.partition("=")
        if option.startswith("-@"):
            if option[2:] not in rules:
                return _raise(fail(f"no rule {option[2:]!r} in {RULES_FILE}" + did_you_mean(option[2:], rules)))
            removed.add(option[2:])
        elif option.startswith("@"):
            if option[1:] not in rules:
                return _raise(fail(f"no rule {option[1:]!r} in {RULES_FILE}" + did_you_mean(option[1:], rules)))
            if rules[option[1:]].applies_by_default(family, category):
                return _raise(fail(f"rule {option[1:]!r} applies to every phrase of {category} "
                                   "already; drop the name"))
            named.append(option[1:])
        elif not equals and name in _TRIGGER_FLAGS[kind]:
            values[name] = True
        elif equals and name in _TRIGGER_VALUES[kind] and value:
            values[name] = value
        elif not equals and name.isdigit() and kind == "intent":
            values["reach"] = name
        else:
            allowed = [*_TRIGGER_FLAGS[kind], *(f"{n}=…" for n in _TRIGGER_VALUES[kind]), "@rule", "-@rule"]
            return _raise(fail(f"unknown option {option!r} for a {kind}; use {', '.join(allowed)}"))
    if "reach" in values:
        if not str(values["reach"]).isdigit():
            return _raise(fail(f"reach={values['reach']}: a number of characters"))
        values["reach"] = int(values["reach"])
    if values.get("side", "any") not in _SIDES:
        return _raise(fail(f"side={values['side']}: use {', '.join(_SIDES)}"))
    if "needs" in values and values["needs"] not in NEEDS:
        return _raise(fail(f"needs={values['needs']}: use {', '.join(NEEDS)}"))
    for name in ("with", "without", "sentence_with", "after"):
        if name in values:
            words = _words(str(values[name]))
            if not words or not all(words):
                return _raise(fail(f"{name}=: a comma-separated list of words"))
            values[name] = words
    if "for" in values:
        values["for"] = frozenset(part for part in str(values["for"]).split(",") if part)
    if values.get("asks"):
        named += ["presale", "asked"]
    if values.get("conditional"):
        removed.add("hypothetical")
    label = str(values.pop("as", ""))
    chosen = [rule for name, rule in rules.items()
              if rule.effect != "class" and name not in removed
              and (name in named or rule.applies_by_default(family, category))]
    # Named rules first, in the order written (the first that excuses gives the note).
    chosen.sort(key=lambda rule: (rule.name not in named,
                                  named.index(rule.name) if rule.name in named else 0))
    return Trigger(category, family, kind, entry.phrase, key, label, tuple(chosen), values, where)


def _split_options(field_text: str) -> list[str]:
    # `as=`, `say=` and `for=` hold the rest of their field, spaces included (as=QR code, a
    # reply, for=QR code,WeChat); every other field is options separated by spaces.
    if field_text.startswith(("say=", "as=", "for=")):
        return [field_text]
    return field_text.split()


def _raise(error: LexiconError):
    raise error
