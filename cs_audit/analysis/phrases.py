"""Tone of shop-side messages: polite phrasing found, and rude phrasing judged in context.

Seven categories (SPEC §4): ``tone.greeting``, ``tone.thanks``, ``tone.apology``,
``tone.empathy``, ``tone.wait``, ``tone.closing`` (what a good agent says) and ``tone.rude``
(客服禁用语, what it must not say). Every phrase list is data in ``lexicons/``:

- ``tone_<name>.txt`` — the phrases of a category, each with optional tags: ``whole_word``
  (only where jieba cuts it as whole words) and the context rules that apply to it;
  ``tone_rude.txt`` also gives each phrase a suggested replacement.
- ``tone_context_rules.txt`` — the context rules: effect (excuse / require), where they look
  (right after the phrase, right before, in its clause, later in the message…) and the note
  shown to a supervisor; ``tone_context.txt`` — the words each rule looks for.
- ``jieba_user_dict.txt`` — domain words for the private jieba tokenizer (see ``segment.py``).

All phrases are found in one pass of an Aho-Corasick automaton; only matches are looked at
further, so a message with no candidate phrase costs one scan in C.

Messages of the shop's side are judged: ``agent`` and also ``bot`` (an auto-reply the shop
configured speaks for the shop: a rude auto-reply is as much the shop's fault, and a scoring
rule that wants a human greeting can filter on ``Detection.role``). Buyer and system messages
are never judged.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import ahocorasick

from cs_audit.analysis.segment import WordSegmenter, read_user_dict
from cs_audit.analysis.textnorm import to_halfwidth
from cs_audit.lexicon import (
    LexiconEntry,
    LexiconError,
    ProblemList,
    bundled_lexicon_dir,
    did_you_mean,
    read_lexicon,
)
from cs_audit.model import Conversation, Detection, Message

RUDE_CATEGORY = "tone.rude"
POLITE_CATEGORIES = (
    "tone.greeting",
    "tone.thanks",
    "tone.apology",
    "tone.empathy",
    "tone.wait",
    "tone.closing",
)
CATEGORIES = (*POLITE_CATEGORIES, RUDE_CATEGORY)
SHOP_ROLES = ("agent", "bot")

WHOLE_WORD_TAG = "whole_word"
EFFECTS = ("excuse", "require")
PLACES = (
    "after",
    "before",
    "clause_before",
    "clause_after",
    "later",
    "next_clauses",
    "clause_start",
    "inside_quotes",
)
SCOPE_ALL = "all"

RULES_FILE = "tone_context_rules.txt"
RULE_WORDS_FILE = "tone_context.txt"
USER_DICT_FILE = "jieba_user_dict.txt"

# After to_halfwidth the full-width ，！？；～ are ASCII already; 。 and … have no half-width twin.
_CLAUSE_DELIMITERS = frozenset(",.!?;~。…\n\r")
# One translation table doing to_halfwidth and then ASCII lower-casing (str.lower() could change
# the length of a few non-ASCII letters and shift spans); one pass is three times faster than two.
_FOLD = {
    code: ord(to_halfwidth(chr(code)).lower())
    for code in (*range(0xFF01, 0xFF5F), 0x3000, *range(ord("A"), ord("Z") + 1))
}
# Canned replies repeat thousands of times in an export; judge each distinct text once.
_JUDGEMENT_CACHE_SIZE = 65_536


def lexicon_file(category: str) -> str:
    """File name of a category's lexicon: ``tone.rude`` → ``tone_rude.txt``."""
    return category.replace(".", "_") + ".txt"


def normalise(text: str) -> str:
    """Fold full-width forms and ASCII case, keeping every character where it was."""
    return text.translate(_FOLD)


def _clause_start(text: str, position: int) -> int:
    index = position
    while index > 0 and text[index - 1] not in _CLAUSE_DELIMITERS:
        index -= 1
    return index


def _clause_end(text: str, position: int) -> int:
    index = position
    while index < len(text) and text[index] not in _CLAUSE_DELIMITERS:
        index += 1
    return index


@dataclass(frozen=True, slots=True)
class ContextRule:
    """A rule that reads the words around a phrase match and decides whether it counts.

    ``effect`` "excuse" dismisses the match when one of ``words`` is found at ``place`` (the
    ``where`` column of the rules file);
    "require" dismisses it unless one is found. ``note`` says in plain words what was found.
    A rule that ``applies_to_all`` is checked for every phrase without being tagged.
    """

    name: str
    effect: str
    place: str
    words: tuple[str, ...]
    note: str
    applies_to_all: bool = False
    _openers: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Most texts hold no quote at all; one set test spares the per-pair search.
        object.__setattr__(self, "_openers", frozenset(word[0] for word in self.words))

    def found(self, text: str, start: int, end: int) -> bool:
        """Whether one of the rule's words stands at its place around ``text[start:end]``."""
        place = self.place
        if place == "after":
            return text[end:].lstrip().startswith(self.words)
        if place == "before":
            return text[:start].rstrip().endswith(self.words)
        if place == "clause_before":
            window = text[_clause_start(text, start):start]
        elif place == "clause_after":
            window = text[end:_clause_end(text, end)]
        elif place == "later":
            window = text[end:]
        elif place == "next_clauses":
            window = text[_clause_end(text, end):]
        elif place == "clause_start":
            opening = text[_clause_start(text, start):start].strip()
            return not opening or opening in self.words
        else:  # inside_quotes
            if self._openers.isdisjoint(text[:start]):
                return False
            return any(_inside_quotes(text, start, end, pair[0], pair[1]) for pair in self.words)
        return any(word in window for word in self.words)


def _inside_quotes(text: str, start: int, end: int, opening: str, closing: str) -> bool:
    if text.find(closing, end) < 0:
        return False
    if opening == closing:  # straight quotes: inside when an odd number of them precede
        return text.count(opening, 0, start) % 2 == 1
    return text.rfind(opening, 0, start) > text.rfind(closing, 0, start)


@dataclass(frozen=True, slots=True)
class TonePhrase:
    """One lexicon entry: a phrase of a category, how it is judged, what to say instead."""

    category: str
    phrase: str
    key: str  # the phrase as matched: normalise(phrase)
    rules: tuple[ContextRule, ...]
    whole_word: bool
    suggestion: str
    source: str  # file:line, for error messages and `explain`


@dataclass(frozen=True, slots=True)
class PhraseVerdict:
    """A phrase found in a text and whether it counts, with the reason when context decided.

    ``decided_by`` names the deciding rule: a context rule, ``whole_word`` (the segmenter),
    ``overlap`` (a longer phrase of the same category covers it) or ``rude_phrase`` (a polite
    phrase inside a rude one); it is "" when the phrase counts with no rule involved.
    """

    phrase: TonePhrase
    span: tuple[int, int]
    text: str
    counts: bool
    decided_by: str = ""
    note: str = ""

    @property
    def category(self) -> str:
        return self.phrase.category


def load_context_rules(rules_path: Path | str, words_path: Path | str,
                       problems: ProblemList | None = None) -> dict[str, ContextRule]:
    """Read the rule declarations and their words; errors name the file and line.

    With ``problems``, every bad line is recorded there and the good rules are returned;
    without, LexiconError lists every bad line of both files.
    """
    own = problems if problems is not None else ProblemList()
    rules_path, words_path = Path(rules_path), Path(words_path)
    declared: dict[str, tuple[str, str, str, bool, int]] = {}
    for entry in read_lexicon(rules_path, own):
        with own.gathered():
            declared[entry.phrase] = _rule_declaration(rules_path, entry, declared)

    words: dict[str, list[str]] = {name: [] for name in declared}
    for entry in read_lexicon(words_path, own):
        with own.gathered():
            name, word = _rule_word(words_path, entry, declared)
            words[name].append(word)

    rules: dict[str, ContextRule] = {}
    for name, (effect, place, note, applies_to_all, line) in declared.items():
        if not words[name]:
            own.add(rules_path, line, f"rule {name!r} has no words; add 'word | {name}' lines "
                                      f"to {words_path.name}")
            continue
        # Longest first, so a reader of `explain` sees the specific words before the generic.
        ordered = tuple(sorted(set(words[name]), key=lambda word: (-len(word), word)))
        rules[name] = ContextRule(name, effect, place, ordered, note, applies_to_all)
    if problems is None:
        own.raise_if_any()
    return rules


def _rule_declaration(path: Path, entry: LexiconEntry,
                      declared: dict[str, tuple[str, str, str, bool, int]]
                      ) -> tuple[str, str, str, bool, int]:
    def wrong(message: str) -> LexiconError:
        return LexiconError.at(path, entry.line, message)

    if len(entry.fields) not in (3, 4) or not all(entry.fields[:3]):
        raise wrong(f"expected 'rule | effect | where | note | scope' (scope optional), "
                    f"got {len(entry.fields) + 1} field(s)")
    effect, place, note = entry.fields[:3]
    scope = entry.fields[3] if len(entry.fields) == 4 else ""
    if scope not in ("", SCOPE_ALL):
        raise wrong(f"scope {scope!r} must be {SCOPE_ALL!r} or left out")
    if entry.phrase in declared:
        raise wrong(f"rule {entry.phrase!r} is declared twice (first on line "
                    f"{declared[entry.phrase][4]})")
    if effect not in EFFECTS:
        raise wrong(f"effect {effect!r} is not one of {', '.join(EFFECTS)}")
    if place not in PLACES:
        raise wrong(f"where {place!r} is not one of {', '.join(PLACES)}")
    return effect, place, note, scope == SCOPE_ALL, entry.line


def _rule_word(path: Path, entry: LexiconEntry,
               declared: dict[str, tuple[str, str, str, bool, int]]) -> tuple[str, str]:
    if len(entry.fields) != 1:
        raise LexiconError.at(path, entry.line, f"expected 'word | rule', got {len(entry.fields) + 1} "
                                                "field(s)")
    name = entry.fields[0]
    if name not in declared:
        raise LexiconError.at(path, entry.line, f"unknown rule {name!r}{did_you_mean(name, declared)}; "
                                                f"expected 'word | rule' with a rule of {RULES_FILE}")
    word = normalise(entry.phrase)
    if declared[name][1] == "inside_quotes" and len(word) != 2:
        raise LexiconError.at(path, entry.line,
                              "a quote rule's word is two characters: opening, closing (“”)")
    return name, word


def load_tone_phrases(
    path: Path | str, category: str, rules: dict[str, ContextRule],
    problems: ProblemList | None = None,
) -> list[TonePhrase]:
    """Read one category's lexicon, checking its tags against the known rules.

    With ``problems``, every bad line is recorded there and the good phrases are returned;
    without, LexiconError lists every bad line.
    """
    own = problems if problems is not None else ProblemList()
    path = Path(path)
    phrases: list[TonePhrase] = []
    seen: dict[str, int] = {}
    for entry in read_lexicon(path, own):
        with own.gathered():
            phrases.append(_tone_phrase(path, entry, category, rules, seen))
    if problems is None:
        own.raise_if_any()
    return phrases


def _tone_phrase(path: Path, entry: LexiconEntry, category: str, rules: dict[str, ContextRule],
                 seen: dict[str, int]) -> TonePhrase:
    def wrong(message: str) -> LexiconError:
        return LexiconError.at(path, entry.line, message)

    with_suggestion = category == RUDE_CATEGORY
    fields = list(entry.fields)
    suggestion = ""
    if with_suggestion:
        if not fields or not fields[0]:
            raise wrong(f"{entry.phrase!r} needs a suggestion: 'phrase | suggestion | tags'")
        suggestion = fields.pop(0)
    if len(fields) > 1:
        layout = "phrase | suggestion | tags" if with_suggestion else "phrase | tags"
        raise wrong(f"too many '|' fields; expected '{layout}' (tags are separated by spaces)")
    tags = fields[0].split() if fields else []
    unknown = [tag for tag in tags if tag != WHOLE_WORD_TAG and tag not in rules]
    if unknown:
        raise wrong(f"unknown tag {unknown[0]!r}{did_you_mean(unknown[0], [WHOLE_WORD_TAG, *rules])}; "
                    f"use {WHOLE_WORD_TAG} or a rule of {RULES_FILE}")
    global_tags = [tag for tag in tags if rules.get(tag) and rules[tag].applies_to_all]
    if global_tags:
        raise wrong(f"rule {global_tags[0]!r} applies to every phrase; drop the tag")
    key = normalise(entry.phrase)
    if key in seen:
        raise wrong(f"{entry.phrase!r} is already listed on line {seen[key]}")
    seen[key] = entry.line
    return TonePhrase(
        category=category,
        phrase=entry.phrase,
        key=key,
        rules=(
            *(rules[tag] for tag in tags if tag != WHOLE_WORD_TAG),
            *(rule for rule in rules.values() if rule.applies_to_all),
        ),
        whole_word=WHOLE_WORD_TAG in tags,
        suggestion=suggestion,
        source=f"{path}:{entry.line}",
    )


def _drop_covered(verdicts: list[PhraseVerdict]) -> list[PhraseVerdict]:
    """Keep the longest of overlapping counted phrases per category; polite inside rude goes."""
    if sum(v.counts for v in verdicts) < 2:
        return sorted(verdicts, key=lambda v: (v.span[0], v.span[1], CATEGORIES.index(v.category)))
    kept: list[PhraseVerdict] = []
    result: list[PhraseVerdict] = []
    counted = sorted(
        (v for v in verdicts if v.counts),
        key=lambda v: (v.category != RUDE_CATEGORY, v.span[0] - v.span[1], v.span[0]),
    )
    for verdict in counted:
        start, end = verdict.span
        cover = next(
            (
                other
                for other in kept
                if other.span[0] < end
                and start < other.span[1]
                and (other.category == verdict.category or other.category == RUDE_CATEGORY)
            ),
            None,
        )
        if cover is None:
            kept.append(verdict)
            result.append(verdict)
        else:
            reason = "overlap" if cover.category == verdict.category else "rude_phrase"
            note = (
                f"covered by the longer phrase {cover.text}"
                if reason == "overlap"
                else f"part of the rude phrase {cover.text}"
            )
            result.append(
                PhraseVerdict(verdict.phrase, verdict.span, verdict.text, False, reason, note)
            )
    result.extend(v for v in verdicts if not v.counts)
    result.sort(key=lambda v: (v.span[0], v.span[1], CATEGORIES.index(v.category)))
    return result


class ToneDetector:
    """Finds the tone categories in shop-side messages; build once, call ``detect`` per chat."""

    def __init__(self, lexicon_dir: Path | str | None = None, roles: Iterable[str] = SHOP_ROLES):
        """Load and compile the tone lexicons of ``lexicon_dir`` (default: the bundled ones).

        ``roles`` are the message roles judged (default agent and bot). Raises
        ``LexiconError`` naming the file and line of a malformed entry.
        """
        directory = Path(lexicon_dir) if lexicon_dir is not None else bundled_lexicon_dir()
        self.roles = frozenset(roles)
        # Every file is read even after a bad one, so one run lists every bad line.
        problems = ProblemList()
        self.rules = load_context_rules(directory / RULES_FILE, directory / RULE_WORDS_FILE, problems)
        self._phrases: dict[str, tuple[TonePhrase, ...]] = {
            category: tuple(
                load_tone_phrases(directory / lexicon_file(category), category, self.rules, problems)
            )
            for category in CATEGORIES
        }
        user_words: list = []
        with problems.gathered():
            user_words = read_user_dict(directory / USER_DICT_FILE)
        problems.raise_if_any()
        self._segmenter = WordSegmenter(user_words)
        self._suggestions = {p.key: p.suggestion for p in self._phrases[RUDE_CATEGORY]}

        by_key: dict[str, list[TonePhrase]] = {}
        for phrases in self._phrases.values():
            for phrase in phrases:
                by_key.setdefault(phrase.key, []).append(phrase)
        automaton = ahocorasick.Automaton()
        for key, entries in by_key.items():
            automaton.add_word(key, (len(key), tuple(entries)))
        automaton.make_automaton()
        self._automaton = automaton
        self._judge_cached = lru_cache(maxsize=_JUDGEMENT_CACHE_SIZE)(self._judge_uncached)

    def __getstate__(self) -> dict:
        # --jobs may ship a built detector to worker processes; the cache is rebuilt there.
        state = dict(self.__dict__)
        del state["_judge_cached"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._judge_cached = lru_cache(maxsize=_JUDGEMENT_CACHE_SIZE)(self._judge_uncached)

    @property
    def segmenter(self) -> WordSegmenter:
        """The word segmenter deciding ``whole_word`` phrases (jieba loads on first use)."""
        return self._segmenter

    def phrases(self, category: str) -> tuple[TonePhrase, ...]:
        """The lexicon entries of ``category``, in file order."""
        return self._phrases[category]

    def suggestion_for(self, phrase: str) -> str | None:
        """What to say instead of rude ``phrase`` (as listed or as found in a message)."""
        return self._suggestions.get(normalise(phrase.strip()))

    def judge(self, text: str) -> list[PhraseVerdict]:
        """Every lexicon phrase found in ``text``, each with whether it counts and why.

        Role-blind: this is the reasoning behind ``detect`` for one text, for ``explain``,
        ``review`` and tests.
        """
        return list(self._judge_cached(text))

    def _judge_uncached(self, text: str) -> tuple[PhraseVerdict, ...]:
        folded = normalise(text)
        verdicts = [
            self._decide(phrase, folded, text, end + 1 - length, end + 1)
            for end, (length, entries) in self._automaton.iter(folded)
            for phrase in entries
        ]
        if not verdicts:
            return ()
        return tuple(_drop_covered(verdicts))

    def detect_message(self, message: Message) -> list[Detection]:
        """Detections of one message (none when its role is not judged)."""
        if message.role not in self.roles:
            return []
        return [
            Detection(
                category=verdict.category,
                message_index=message.index,
                role=message.role,
                span=verdict.span,
                text=verdict.text,
                note=verdict.note,
                suggestion=verdict.phrase.suggestion,
            )
            for verdict in self._judge_cached(message.text)
            if verdict.counts
        ]

    def detect(self, conversation: Conversation) -> list[Detection]:
        """Tone detections of a conversation, in message order then position."""
        detections: list[Detection] = []
        for message in conversation.messages:
            detections.extend(self.detect_message(message))
        return detections

    def _decide(
        self, phrase: TonePhrase, folded: str, text: str, start: int, end: int
    ) -> PhraseVerdict:
        span = (start, end)
        original = text[start:end]
        if phrase.whole_word and not self._segmenter.is_whole_word(folded, start, end):
            left, right = self._segmenter.enclosing_span(folded, start, end)
            note = f"part of the longer word {text[left:right]}"
            return PhraseVerdict(phrase, span, original, False, WHOLE_WORD_TAG, note)
        required: list[ContextRule] = []
        for rule in phrase.rules:
            if rule.effect == "excuse":
                if rule.found(folded, start, end):
                    return PhraseVerdict(phrase, span, original, False, rule.name, rule.note)
            else:
                required.append(rule)
        for rule in required:
            if not rule.found(folded, start, end):
                note = f"only counts when it {rule.note}"
                return PhraseVerdict(phrase, span, original, False, rule.name, note)
        if required:
            return PhraseVerdict(phrase, span, original, True, required[0].name, required[0].note)
        return PhraseVerdict(phrase, span, original, True)


@lru_cache(maxsize=8)
def _rude_suggestions(directory: str) -> dict[str, str]:
    path = Path(directory) / lexicon_file(RUDE_CATEGORY)
    suggestions: dict[str, str] = {}
    for entry in read_lexicon(path):
        if not entry.fields or not entry.fields[0]:
            raise LexiconError.at(path, entry.line, f"{entry.phrase!r} needs a suggestion: "
                                                    "'phrase | suggestion | tags'")
        suggestions[normalise(entry.phrase)] = entry.fields[0]
    return suggestions


def rude_suggestion(phrase: str, lexicon_dir: Path | str | None = None) -> str | None:
    """What to say instead of a rude phrase, from the rude lexicon alone (no automaton built).

    For ``review`` and ``explain``, which need the advice without running the detector.
    Returns ``None`` when ``phrase`` is not a listed rude phrase.
    """
    directory = Path(lexicon_dir) if lexicon_dir is not None else bundled_lexicon_dir()
    return _rude_suggestions(str(directory)).get(normalise(phrase.strip()))
