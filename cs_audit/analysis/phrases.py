"""Tone of shop-side messages: polite phrasing found, and rude phrasing judged in context.

Seven categories (SPEC §4): ``tone.greeting``, ``tone.thanks``, ``tone.apology``,
``tone.empathy``, ``tone.wait``, ``tone.closing`` (what a good agent says) and ``tone.rude``
(客服禁用语, what it must not say). The phrases are data in ``lexicons/tone_<name>.txt``, in
the one lexicon format of the rule engine (:mod:`cs_audit.analysis.engine`):
``phrase | phrase [| as=KIND] [| say=…] [| whole_word @rule …]``. ``say=`` (required in
``tone_rude.txt``) is what to say instead and ``as=`` (optional, one of ``RUDE_KINDS``) what the
phrase does to the buyer, the "why" ``review`` shows; ``whole_word`` counts a phrase only where jieba (a private tokenizer
with ``jieba_user_dict.txt``, see ``segment.py``) cuts it as whole words; ``@rule`` names the
context rules of ``rules.txt`` that may excuse it (不知道您是否… is a question), whose words
are in ``tone_context.txt``.

Messages of the shop's side are judged: ``agent`` and also ``bot`` (an auto-reply the shop
configured speaks for the shop: a rude auto-reply is as much the shop's fault, and a scoring
rule that wants a human greeting can filter on ``Detection.role``). Buyer and system messages
are never judged.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cs_audit.analysis.engine import ContextRule, Trigger, load_engine
from cs_audit.analysis.normalize import normalize
from cs_audit.analysis.segment import WordSegmenter, read_user_dict
from cs_audit.lexicon import ProblemList, bundled_lexicon_dir
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
FAMILY = "tone"

WHOLE_WORD_TAG = "whole_word"
USER_DICT_FILE = "jieba_user_dict.txt"

# What each kind of rude phrase (its `as=` in tone_rude.txt) does to the buyer: the "why" that
# `review` shows the agent beside the suggested reply.
RUDE_KINDS = {
    "brush_off": "brushes the buyer off: says what the agent does not know and offers no help",
    "refusal": "refuses with no reason and no way forward",
    "sends_away": "sends the buyer to look it up alone",
    "passes_buck": "pushes the buyer away to someone else (the courier, the platform)",
    "blames": "blames or lectures the buyer",
    "talks_down": "talks down to the buyer",
    "brushes_off_hesitation": "brushes off a buyer who hesitates or bargains",
    "impatience": "sounds impatient with the buyer",
    "dares_complaint": "dares the buyer to complain",
    "sarcasm": "is sarcastic",
    "insult": "insults the buyer",
    "curt": "answers an upset buyer with one bare word",
    "slogan": "pastes a sales line at an upset buyer instead of taking up the complaint",
}
# Kinds that are rude only as a reply to an upset buyer turn (a word of the `buyer_upset` class
# of tone_context.txt in it): 对的 answers 是干的吗 well enough, not 你这骗子，没有下次了.
AFTER_UPSET_KINDS = frozenset({"curt", "slogan"})
UPSET_CLASS = "buyer_upset"

# Canned replies repeat thousands of times in an export; judge each distinct text once.
_JUDGEMENT_CACHE_SIZE = 65_536

# A tone phrase is a trigger of the engine; its suggestion is its `say=` option.
TonePhrase = Trigger


def lexicon_file(category: str) -> str:
    """File name of a category's lexicon: ``tone.rude`` → ``tone_rude.txt``."""
    return category.replace(".", "_") + ".txt"


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


class _KeptSpans:
    """Kept phrases of one category: pairwise disjoint spans, sorted, so overlap is a bisect.

    Spans kept for one category never overlap (an overlapping one is dropped as covered), so
    their ends rise with their starts and the spans a new one overlaps are one run of the list.
    """

    __slots__ = ("starts", "ends", "verdicts")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.verdicts: list[PhraseVerdict] = []

    def first_overlap(self, start: int, end: int, rank) -> PhraseVerdict | None:
        """The kept verdict overlapping [start, end) that was kept first (least ``rank``)."""
        at = bisect_right(self.ends, start)
        best = None
        while at < len(self.starts) and self.starts[at] < end:
            other = self.verdicts[at]
            if best is None or rank(other) < rank(best):
                best = other
            at += 1
        return best

    def add(self, verdict: PhraseVerdict) -> None:
        at = bisect_left(self.starts, verdict.span[0])
        self.starts.insert(at, verdict.span[0])
        self.ends.insert(at, verdict.span[1])
        self.verdicts.insert(at, verdict)


def _keep_order(verdict: PhraseVerdict) -> tuple[bool, int, int]:
    # Rude phrases first (they cancel polite ones inside them), then longest, then earliest.
    return (verdict.category != RUDE_CATEGORY, verdict.span[0] - verdict.span[1], verdict.span[0])


def _drop_covered(verdicts: list[PhraseVerdict]) -> list[PhraseVerdict]:
    """Keep the longest of overlapping counted phrases per category; polite inside rude goes.

    A sort and one sweep: a message with thousands of hits (a pasted document) stays fast. The
    cover reported is the one kept first, as a plain loop over the kept phrases would find it
    (tests/test_phrases.py compares the two on random spans).
    """
    if sum(v.counts for v in verdicts) < 2:
        return sorted(verdicts, key=lambda v: (v.span[0], v.span[1], CATEGORIES.index(v.category)))
    kept: dict[str, _KeptSpans] = {}
    result: list[PhraseVerdict] = []
    for verdict in sorted((v for v in verdicts if v.counts), key=_keep_order):
        start, end = verdict.span
        # Every rude phrase was kept before any polite one, so a rude cover is found first.
        cover = None
        rude = kept.get(RUDE_CATEGORY)
        if rude is not None:
            cover = rude.first_overlap(start, end, _keep_order)
        if cover is None and verdict.category != RUDE_CATEGORY:
            own = kept.get(verdict.category)
            if own is not None:
                cover = own.first_overlap(start, end, _keep_order)
        if cover is None:
            kept.setdefault(verdict.category, _KeptSpans()).add(verdict)
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
        engine = None
        with problems.gathered():
            engine = load_engine(directory)
        user_words: list = []
        with problems.gathered():
            user_words = read_user_dict(directory / USER_DICT_FILE)
        if engine is not None:
            for phrase in engine.triggers_of(RUDE_CATEGORY):
                # Optional, so a shop's older rude list still loads; a misspelt kind is an error.
                if phrase.label and phrase.label not in RUDE_KINDS:
                    path, _, line = phrase.source.rpartition(":")
                    problems.add(path, int(line) if line.isdigit() else None,
                                 f"rude phrase {phrase.phrase!r}: as= must be one of: "
                                 f"{', '.join(RUDE_KINDS)} (what it does to the buyer)")
        problems.raise_if_any()
        self.engine = engine
        self._phrases: dict[str, tuple[TonePhrase, ...]] = {
            category: tuple(engine.triggers_of(category)) for category in CATEGORIES}
        # The context rules tone phrases use, named or by default (for `explain` and tests).
        self.rules: dict[str, ContextRule] = {
            rule.name: rule for phrases in self._phrases.values() for phrase in phrases
            for rule in phrase.rules}
        self._segmenter = WordSegmenter(user_words)
        self._suggestions = {p.key: p.suggestion for p in self._phrases[RUDE_CATEGORY]}
        self._judge_cached = lru_cache(maxsize=_JUDGEMENT_CACHE_SIZE)(self._judge_uncached)
        self._upset_cached = lru_cache(maxsize=_JUDGEMENT_CACHE_SIZE)(self._upset_uncached)

    def __getstate__(self) -> dict:
        # --jobs may ship a built detector to worker processes; the cache is rebuilt there.
        state = dict(self.__dict__)
        del state["_judge_cached"]
        del state["_upset_cached"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._judge_cached = lru_cache(maxsize=_JUDGEMENT_CACHE_SIZE)(self._judge_uncached)
        self._upset_cached = lru_cache(maxsize=_JUDGEMENT_CACHE_SIZE)(self._upset_uncached)

    @property
    def segmenter(self) -> WordSegmenter:
        """The word segmenter deciding ``whole_word`` phrases (jieba loads on first use)."""
        return self._segmenter

    def phrases(self, category: str) -> tuple[TonePhrase, ...]:
        """The lexicon entries of ``category``, in file order."""
        return self._phrases[category]

    def suggestion_for(self, phrase: str) -> str | None:
        """What to say instead of rude ``phrase`` (as listed or as found in a message)."""
        return self._suggestions.get(normalize(phrase.strip()).text)

    def judge(self, text: str) -> list[PhraseVerdict]:
        """Every lexicon phrase found in ``text``, each with whether it counts and why.

        Role-blind: this is the reasoning behind ``detect`` for one text, for ``explain``,
        ``review`` and tests.
        """
        return list(self._judge_cached(text))

    def _judge_uncached(self, text: str) -> tuple[PhraseVerdict, ...]:
        scan = self.engine.scan(text)
        hits = scan.triggers(FAMILY)
        if not hits:
            return ()
        return tuple(_drop_covered([self._decide(scan, hit) for hit in hits]))

    def detect_message(self, message: Message, after_upset: bool = False) -> list[Detection]:
        """Detections of one message (none when its role is not judged).

        ``after_upset``: the message replies to an upset buyer turn, where a bare 对的 or a sales
        line is rude too (kinds ``AFTER_UPSET_KINDS``); without it they never count.
        """
        return self._detections(message, lambda: after_upset)

    def _detections(self, message: Message, after_upset) -> list[Detection]:
        # after_upset is asked only when a phrase needs it: reading the buyer's turn costs a
        # scan of buyer text, and a bare 对的 is rare.
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
            if verdict.counts and (verdict.phrase.label not in AFTER_UPSET_KINDS or after_upset())
        ]

    def is_upset(self, text: str) -> bool:
        """Whether a buyer message shows an upset buyer (a word of the ``buyer_upset`` class)."""
        return self._upset_cached(text)

    def _upset_uncached(self, text: str) -> bool:
        return self.engine.scan(text).has(FAMILY, UPSET_CLASS)

    def detect(self, conversation: Conversation) -> list[Detection]:
        """Tone detections of a conversation, in message order then position."""
        detections: list[Detection] = []
        # The buyer's last turn (a run of buyer messages): the shop's replies answer all of it.
        turn: list[str] = []
        previous_role = None
        for message in conversation.messages:
            if message.role == "buyer":
                if previous_role != "buyer":
                    turn = []
                turn.append(message.text)
            elif message.role in self.roles:
                last_turn = turn
                detections.extend(self._detections(
                    message, lambda: any(self.is_upset(text) for text in last_turn)))
            else:
                continue  # system messages neither end nor split a buyer turn (SPEC §3)
            previous_role = message.role
        return detections

    def _decide(self, scan, hit) -> PhraseVerdict:
        phrase = hit.entry
        span = scan.original_span(hit.start, hit.end)
        original = scan.normalized.source[span[0]:span[1]]
        folded = scan.text
        if phrase.flag(WHOLE_WORD_TAG) and not self._segmenter.is_whole_word(folded, hit.start, hit.end):
            left, right = self._segmenter.enclosing_span(folded, hit.start, hit.end)
            word_start, word_end = scan.original_span(left, right)
            note = f"part of the longer word {scan.normalized.source[word_start:word_end]}"
            return PhraseVerdict(phrase, span, original, False, WHOLE_WORD_TAG, note)
        decision = scan.decide(hit)
        rule = decision.rule
        # A rude phrase that counts says why it reads as rude (its kind), then what context showed.
        why = RUDE_KINDS.get(phrase.label, "") if phrase.category == RUDE_CATEGORY else ""
        if rule is None:
            return PhraseVerdict(phrase, span, original, True, "", why)
        if decision.counts:
            note = f"{why}: {rule.note}" if why else rule.note
            return PhraseVerdict(phrase, span, original, True, rule.name, note)
        note = f"only counts when it {rule.note}" if rule.effect == "require" else rule.note
        return PhraseVerdict(phrase, span, original, False, rule.name, note)


def rude_suggestion(phrase: str, lexicon_dir: Path | str | None = None) -> str | None:
    """What to say instead of a rude phrase, for ``review`` and ``explain``.

    Returns ``None`` when ``phrase`` is not a listed rude phrase.
    """
    directory = Path(lexicon_dir) if lexicon_dir is not None else bundled_lexicon_dir()
    key = normalize(phrase.strip()).text
    return next((trigger.suggestion for trigger in load_engine(directory).triggers_of(RUDE_CATEGORY)
                 if trigger.key == key), None)
