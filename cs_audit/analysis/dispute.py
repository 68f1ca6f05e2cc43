"""Classify a buyer's dispute and find which handling steps the shop's agent took, with evidence.

Shop training material describes a dispute in two halves, and so does this module:

- **What the buyer complains about** (``DisputeFacts.type``/``types``), read from buyer
  messages only: ``logistics`` (not shipped, no tracking update, stuck, lost, late, damaged on
  the way), ``quality`` (broken, faulty, missing parts, wrong item, not as described, 色差),
  ``after_sales`` (return, exchange, repair, a refund that has not arrived), ``price`` (the
  price dropped, charged too much, coupon not applied), ``attitude`` (the service itself: rude,
  slow, ignored) and ``malicious`` (money demanded under the threat of a bad review or
  complaint: 不给钱就差评).
- **What the agent did about it** (``DisputeFacts.steps``): for each handling step the first
  agent message after the dispute began that performs it — ``respond`` (any reply),
  ``apologise`` (a ``tone.apology`` or ``tone.empathy`` detection), ``ask_evidence`` (photos,
  video, order or tracking number), ``explain`` (cause or process), ``remedy`` (a concrete fix:
  补发, 换货, 退款, 退差价, 补偿, 运费我们承担…) and ``follow_up`` (confirms what was done or
  promises to report back; the closing checks such as 还有其他问题吗 only once a remedy was
  offered).

The phrases, and the context words that decide whether a phrase counts, are data in
``lexicons/dispute_types.txt`` and ``lexicons/dispute_steps.txt`` (their headers document the
format). Decisions made here and why:

- Topic words that are also ordinary questions (物流, 快递, 到哪了, 什么时候发货) only make a
  logistics dispute when the same buyer turn complains (还没到, 几天了, 怎么还, 一直…): "物流到哪
  了" alone is a status question a shop answers every day, not a grievance.
- A pre-sale question about a property (会不会掉色？有色差吗？支持退换吗？) is not a dispute
  unless the message shows the goods have arrived (收到, 买的, 怎么会…); a hypothetical (如果,
  万一, …的话) never is.
- A money demand (给我转, 赔我, 补偿) is ``malicious`` only when the same buyer turn threatens a
  bad review or complaint — taken from the conversation's ``buyer.escalation`` detections, not
  re-detected. A threat to obtain the ordinary remedy (不给退款就投诉) is not extortion.
- ``start_index`` is the buyer message where the dispute begins: the first buyer message with
  any dispute type (which is also the first message of the main type, except that
  ``malicious`` is always the main type, because it changes how the conversation is scored;
  its own first message is in ``evidence``).
- The main type is ``malicious`` when present; otherwise the type raised first, and among the
  types of the first disputing buyer turn the cause before the wish: quality, logistics,
  price, then after_sales, then attitude (有色差，我要退货 is a quality dispute).
- Steps are looked for in ``agent`` messages after ``start_index`` only: an apology made before
  the buyer complained, or an auto-reply by a ``bot``, does not handle the dispute.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import ahocorasick

from cs_audit.analysis.normalize import CLAUSE_MARKS, normalize
from cs_audit.lexicon import (
    LexiconEntry,
    LexiconError,
    ProblemList,
    did_you_mean,
    lexicon_path,
    read_lexicon,
)
from cs_audit.model import Conversation, Detection, quick_pickle

TYPES = ("logistics", "quality", "after_sales", "price", "attitude", "malicious")
STEPS = ("respond", "apologise", "ask_evidence", "explain", "remedy", "follow_up")
# Causes before wishes, wishes before complaints about the chat itself (see the module docstring).
MAIN_TYPE_ORDER = ("malicious", "quality", "logistics", "price", "after_sales", "attitude")
# Steps found by phrases; respond is any agent message and apologise comes from tone detections.
PHRASE_STEPS = ("ask_evidence", "explain", "remedy", "follow_up")
APOLOGY_CATEGORIES = ("tone.apology", "tone.empathy")
THREAT_CATEGORY = "buyer.escalation"

TYPES_LEXICON = "dispute_types"
STEPS_LEXICON = "dispute_steps"

# The evidence of `respond` is the opening of the reply, kept short for reports.
RESPOND_EVIDENCE_CHARS = 30
# Canned replies repeat thousands of times in an export; read each distinct text once.
_READING_CACHE_SIZE = 65_536
# How far (in normalised characters of @filler words) a negation reaches to its phrase.
NEGATION_REACH = 6

_TYPE_CONTEXT = (
    "@negation", "@filler", "@negation_after", "@hypothetical", "@presale", "@question_end",
    "@actual", "@complaint", "@benign",
)
_TYPE_FLAGS = ("asks", "needs_complaint", "needs_threat", "conditional")
# No @hypothetical for steps: a conditional offer (如果是质量问题给您补发) or a polite request
# (方便的话拍张照片) is still the step taken.
_STEP_CONTEXT = ("@negation", "@filler", "@negation_after", "@request", "@benign")
_STEP_FLAGS = ("needs_request", "after_remedy")
# An explanation explains whether it affirms or denies (不是质量问题，所以…), so negation
# words do not cancel it.
_POLARITY_FREE = frozenset({"explain"})
_OPTIONS = ("with", "without", "sentence_with")
# Marks that end a sentence (a subset of the clause marks kept by normalize).
_SENTENCE_MARKS = frozenset("。!?;…\n")
_SENTENCE_QUESTION = "?"

# Conditions a phrase match may leave to the caller, who sees the whole conversation.
NEEDS_COMPLAINT = "complaint"  # a complaint word somewhere in the same buyer turn
NEEDS_THREAT = "threat"  # a buyer.escalation detection in the same buyer turn
NEEDS_REMEDY = "remedy"  # a remedy offered in this agent message or an earlier one


@quick_pickle
@dataclass(frozen=True, slots=True)
class DisputeEvidence:
    """The original words that justified a type or a step.

    ``name`` is a type id or a step id; ``span`` is the [start, end) character range in the
    original text of message ``message_index`` and ``text`` the characters there.
    """

    name: str
    message_index: int
    span: tuple[int, int]
    text: str


@quick_pickle
@dataclass(frozen=True, slots=True)
class DisputeSteps:
    """Index of the first agent message after the dispute began that took each step, or None."""

    respond: int | None = None
    apologise: int | None = None
    ask_evidence: int | None = None
    explain: int | None = None
    remedy: int | None = None
    follow_up: int | None = None

    def get(self, step: str) -> int | None:
        """The message index of ``step`` (one of ``STEPS``); KeyError for an unknown step."""
        if step not in STEPS:
            raise KeyError(step)
        return getattr(self, step)

    @property
    def taken(self) -> tuple[str, ...]:
        """The steps the agent took, in ``STEPS`` order."""
        return tuple(step for step in STEPS if getattr(self, step) is not None)

    @property
    def missing(self) -> tuple[str, ...]:
        """The steps the agent did not take, in ``STEPS`` order."""
        return tuple(step for step in STEPS if getattr(self, step) is None)


@quick_pickle
@dataclass(frozen=True, slots=True)
class DisputeFacts:
    """What a conversation's dispute is about and how the agent handled it.

    ``type`` is the main type (None: no dispute), ``types`` every type found in order of first
    appearance, ``start_index`` the buyer message where the dispute begins, ``malicious`` whether
    the buyer tried to extort money (then a missing remedy is not the agent's fault), and
    ``evidence`` one entry per type and per step taken (see :class:`DisputeEvidence`).
    """

    type: str | None
    types: tuple[str, ...]
    start_index: int | None
    steps: DisputeSteps
    malicious: bool
    evidence: tuple[DisputeEvidence, ...]

    @property
    def is_dispute(self) -> bool:
        return self.type is not None

    def evidence_for(self, name: str) -> DisputeEvidence | None:
        """The evidence of a type or step id, or None when it was not found or taken."""
        return next((item for item in self.evidence if item.name == name), None)


NO_DISPUTE = DisputeFacts(None, (), None, DisputeSteps(), False, ())


@dataclass(frozen=True, slots=True)
class PhraseMatch:
    """A type or step phrase that counts in one text, pending ``needs`` (see NEEDS_*).

    ``span`` and ``text`` refer to the original text.
    """

    name: str
    span: tuple[int, int]
    text: str
    needs: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class _Entry:
    role: str  # a type or step id, or a context role such as "@negation"
    length: int
    flags: frozenset[str] = frozenset()
    with_words: tuple[str, ...] = ()
    without_words: tuple[str, ...] = ()
    sentence_words: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int
    end: int
    entry: _Entry


@dataclass(frozen=True, slots=True)
class _Reading:
    """A text read against a phrase book: the matches that count and the context roles seen."""

    matches: tuple[PhraseMatch, ...]
    roles: frozenset[str]


def _parse_entry(path: Path, entry: LexiconEntry, ids: Sequence[str], context_roles: Sequence[str],
                 flags: Sequence[str]) -> tuple[str, _Entry]:
    """One line of a phrase book: its matching key and what it stands for."""
    def wrong(message: str) -> LexiconError:
        return LexiconError.at(path, entry.line, message)

    key = normalize(entry.phrase).text
    if not key:
        raise wrong(f"{entry.phrase!r} is empty once normalised (spaces and decoration are removed)")
    if not entry.fields or entry.fields[0] not in (*ids, *context_roles):
        given = entry.fields[0] if entry.fields else ""
        hint = did_you_mean(given, (*ids, *context_roles)) if given else ""
        raise wrong(f"expected 'phrase | role [| options]' with a role of "
                    f"{', '.join((*ids, *context_roles))}" + (f"; got {given!r}{hint}" if given else ""))
    role = entry.fields[0]
    options = " ".join(entry.fields[1:]).split()
    if role.startswith("@") and options:
        raise wrong(f"a context word ({role}) takes no options")
    found_flags: set[str] = set()
    lists: dict[str, tuple[str, ...]] = {}
    for option in options:
        name, equals, value = option.partition("=")
        if equals:
            words = tuple(normalize(word).text for word in value.split(",") if word)
            if name not in _OPTIONS or not all(words) or not words:
                raise wrong(f"option {option!r}: use with=, without= or sentence_with=w1,w2")
            lists[name] = words
        elif option in flags:
            found_flags.add(option)
        else:
            raise wrong(f"unknown option {option!r}{did_you_mean(option, flags)}; use "
                        f"{', '.join(flags)}, with=…, without=… or sentence_with=…")
    return key, _Entry(
        role, len(key), frozenset(found_flags),
        lists.get("with", ()), lists.get("without", ()), lists.get("sentence_with", ()),
    )


class _PhraseBook:
    """One lexicon compiled into an automaton, with the context rules its header documents."""

    def __init__(self, path: Path, ids: Sequence[str], context_roles: Sequence[str],
                 flags: Sequence[str], cover_across_ids: bool) -> None:
        """``cover_across_ids``: whether a longer trigger hides a shorter one of another id
        (退款还没到 is not also a logistics 还没到) or only one of its own (已经补发 confirms a
        follow-up and is still the remedy 补发)."""
        self.path = path
        self._cover_across_ids = cover_across_ids
        self._automaton = ahocorasick.Automaton()
        by_key: dict[str, list[_Entry]] = {}
        # Every line is read even after a bad one, so one run lists every bad line.
        problems = ProblemList()
        for entry in read_lexicon(path, problems):
            with problems.gathered():
                key, parsed = _parse_entry(path, entry, ids, context_roles, flags)
                if any(existing.role == parsed.role for existing in by_key.get(key, ())):
                    raise LexiconError.at(path, entry.line,
                                          f"{entry.phrase!r} is listed twice as {parsed.role}")
                by_key.setdefault(key, []).append(parsed)
        if not problems.problems and not any(
                entry.role in ids for entries in by_key.values() for entry in entries):
            problems.add(path, None, f"no phrase of {', '.join(ids)}; the file needs at least one")
        problems.raise_if_any()
        for key, entries in by_key.items():
            self._automaton.add_word(key, tuple(entries))
        self._automaton.make_automaton()
        self.read = lru_cache(maxsize=_READING_CACHE_SIZE)(self._read_uncached)

    def __getstate__(self) -> dict:
        # --jobs may ship a built analyzer to worker processes; the cache is rebuilt there.
        state = dict(self.__dict__)
        del state["read"]
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.read = lru_cache(maxsize=_READING_CACHE_SIZE)(self._read_uncached)

    def _read_uncached(self, text: str) -> _Reading:
        """The phrases of ``text`` that count (some with pending needs) and the context roles seen."""
        normal = normalize(text)
        folded = normal.text
        if not folded:
            return _Reading((), frozenset())
        found = [(last, entry) for last, entries in self._automaton.iter(folded) for entry in entries]
        if not any(entry.role[0] != "@" for _, entry in found):
            # No trigger: only which context words occur matters (a complaint word in a turn).
            return _Reading((), frozenset(entry.role for _, entry in found))
        triggers: list[_Hit] = []
        context: list[_Hit] = []
        for last, entry in found:
            hit = _Hit(last + 1 - entry.length, last + 1, entry)
            (context if entry.role[0] == "@" else triggers).append(hit)
        benign = [hit for hit in context if hit.entry.role == "@benign"]
        if benign:
            # 要不/不然/不好意思 hold a 不 that negates nothing; a trigger inside such a phrase
            # means something else.
            triggers = [hit for hit in triggers if not _inside_any(hit, benign)]
            context = [hit for hit in context if hit.entry.role == "@benign" or not _inside_any(hit, benign)]
        roles: dict[str, list[_Hit]] = {}
        for hit in context:
            roles.setdefault(hit.entry.role, []).append(hit)
        context_view = _Context(folded, roles)
        matches = []
        for hit in _drop_covered(triggers, self._cover_across_ids):
            needs = self._judge(hit, context_view)
            if needs is None:
                continue
            start, end = normal.original_span(hit.start, hit.end)
            matches.append(PhraseMatch(hit.entry.role, (start, end), text[start:end], needs))
        matches.sort(key=lambda match: match.span)
        return _Reading(tuple(matches), frozenset(roles))

    @staticmethod
    def _judge(hit: _Hit, context: _Context) -> frozenset[str] | None:
        """None when the phrase does not count; otherwise what it still needs from the caller."""
        entry = hit.entry
        clause_start, clause_end = context.clause(hit.start, hit.end)
        clause = context.text[clause_start:clause_end]
        if entry.with_words and not any(word in clause for word in entry.with_words):
            return None
        if any(word in clause for word in entry.without_words):
            return None
        if entry.sentence_words:
            sentence_start, sentence_end = context.sentence(hit.start, hit.end)
            if not any(word in context.text[sentence_start:sentence_end] for word in entry.sentence_words):
                return None
        if entry.role not in _POLARITY_FREE and (
            context.negated_before(hit.start) or context.negated_after(hit.end)
        ):
            return None
        if "conditional" not in entry.flags and context.any_between("@hypothetical", clause_start, clause_end):
            return None
        if "asks" in entry.flags and not context.has("@actual") and (
            context.any_between("@presale", clause_start, hit.start)
            or context.any_between("@question_end", hit.end, clause_end)
            or context.text[clause_end:clause_end + 1] == _SENTENCE_QUESTION
        ):
            return None
        if "needs_request" in entry.flags and not context.any_between("@request", clause_start, clause_end):
            return None
        needs = set()
        if "needs_complaint" in entry.flags and not context.has("@complaint"):
            needs.add(NEEDS_COMPLAINT)
        if "needs_threat" in entry.flags:
            needs.add(NEEDS_THREAT)
        if "after_remedy" in entry.flags:
            needs.add(NEEDS_REMEDY)
        return frozenset(needs)


class _Context:
    """Where the context words of one normalised text stand, and the questions asked of them."""

    def __init__(self, text: str, roles: dict[str, list[_Hit]]) -> None:
        self.text = text
        self._roles = roles
        # Only the negation walk needs positions; most texts hold few of these words.
        self._ends = {role: _by_position(roles.get(role, ()), lambda hit: hit.end)
                      for role in ("@negation", "@filler")}
        self._starts = {role: _by_position(roles.get(role, ()), lambda hit: hit.start)
                        for role in ("@negation_after", "@filler")}

    def has(self, role: str) -> bool:
        return role in self._roles

    def any_between(self, role: str, start: int, end: int) -> bool:
        return any(start <= hit.start and hit.end <= end for hit in self._roles.get(role, ()))

    def clause(self, start: int, end: int) -> tuple[int, int]:
        return self._bounds(start, end, CLAUSE_MARKS)

    def sentence(self, start: int, end: int) -> tuple[int, int]:
        return self._bounds(start, end, _SENTENCE_MARKS)

    def _bounds(self, start: int, end: int, marks: frozenset[str]) -> tuple[int, int]:
        left = start
        while left > 0 and self.text[left - 1] not in marks:
            left -= 1
        right = end
        while right < len(self.text) and self.text[right] not in marks:
            right += 1
        return left, right

    def negated_before(self, start: int) -> bool:
        """A @negation ends at ``start``, or reaches it across @filler words only."""
        negations = self._ends.get("@negation", {})
        fillers = self._ends.get("@filler", {})
        position = start
        while start - position <= NEGATION_REACH:
            if position in negations:
                return True
            if position not in fillers:
                return False
            position -= max(fillers[position])
        return False

    def negated_after(self, end: int) -> bool:
        """A @negation_after starts at ``end``, or after @filler words only."""
        negations = self._starts.get("@negation_after", {})
        fillers = self._starts.get("@filler", {})
        position = end
        while position - end <= NEGATION_REACH:
            if position in negations:
                return True
            if position not in fillers:
                return False
            position += max(fillers[position])
        return False


def _by_position(hits: Iterable[_Hit], where) -> dict[int, list[int]]:
    table: dict[int, list[int]] = {}
    for hit in hits:
        table.setdefault(where(hit), []).append(hit.entry.length)
    return table


def _inside_any(hit: _Hit, containers: Sequence[_Hit]) -> bool:
    return any(
        other.start <= hit.start and hit.end <= other.end and other.entry.length > hit.entry.length
        for other in containers
    )


def _drop_covered(triggers: list[_Hit], across_ids: bool) -> list[_Hit]:
    """Drop triggers inside a longer trigger: 掉色了 is judged, not the 掉色 within it."""
    if across_ids:
        return [hit for hit in triggers if not _inside_any(hit, triggers)]
    return [hit for hit in triggers
            if not _inside_any(hit, [other for other in triggers if other.entry.role == hit.entry.role])]


def _buyer_turns(conversation: Conversation) -> dict[int, int]:
    """Buyer message index → turn number; agent messages end a turn, bot and system do not."""
    turn_of: dict[int, int] = {}
    turn = 0
    in_turn = False
    for message in conversation.messages:
        if message.role == "buyer":
            if not in_turn:
                turn += 1
                in_turn = True
            turn_of[message.index] = turn
        elif message.role == "agent":
            in_turn = False
    return turn_of


class DisputeAnalyzer:
    """Classifies a conversation's dispute and its handling; build once, call ``analyse`` per chat."""

    def __init__(self, lexicon_dir: Path | str | None = None) -> None:
        """Load and compile the dispute lexicons (default: the bundled ones).

        Raises ``LexiconError`` naming the file and line of a malformed entry.
        """
        types_path = lexicon_path(TYPES_LEXICON, lexicon_dir)
        steps_path = lexicon_path(STEPS_LEXICON, lexicon_dir)
        # Both files are read even when the first is bad, so one run lists every bad line.
        problems = ProblemList()
        with problems.gathered():
            self._types = _PhraseBook(types_path, TYPES, _TYPE_CONTEXT, _TYPE_FLAGS,
                                      cover_across_ids=True)
        with problems.gathered():
            self._steps = _PhraseBook(steps_path, PHRASE_STEPS, _STEP_CONTEXT, _STEP_FLAGS,
                                      cover_across_ids=False)
        problems.raise_if_any()

    # --- single messages (for tests, `explain` and reports) ---------------------------------

    def type_matches(self, text: str, detections: Iterable[Detection] = ()) -> list[PhraseMatch]:
        """The type phrases that count in one buyer message read on its own.

        ``detections`` are that message's detections; a ``buyer.escalation`` among them is the
        threat a money demand needs to count as malicious.
        """
        reading = self._types.read(text)
        threatened = any(d.category == THREAT_CATEGORY for d in detections)
        return [
            match for match in reading.matches
            if NEEDS_COMPLAINT not in match.needs and (threatened or NEEDS_THREAT not in match.needs)
        ]

    def types_in(self, text: str, detections: Iterable[Detection] = ()) -> tuple[str, ...]:
        """The dispute types of one buyer message on its own, in order of appearance."""
        return tuple(dict.fromkeys(match.name for match in self.type_matches(text, detections)))

    def step_matches(self, text: str) -> list[PhraseMatch]:
        """The step phrases that count in one agent message (follow-up checks included)."""
        return list(self._steps.read(text).matches)

    def steps_in(self, text: str, detections: Iterable[Detection] = ()) -> tuple[str, ...]:
        """The handling steps one agent message performs on its own, in ``STEPS`` order.

        ``apologise`` comes from the message's ``tone.apology``/``tone.empathy`` detections;
        ``respond`` is implied by any message and not reported here.
        """
        found = {match.name for match in self.step_matches(text)}
        if any(d.category in APOLOGY_CATEGORIES for d in detections):
            found.add("apologise")
        return tuple(step for step in STEPS if step in found)

    @staticmethod
    def main_type(types: Iterable[str]) -> str | None:
        """The type that names a dispute raised in one turn: malicious, then causes, then wishes."""
        present = set(types)
        return next((name for name in MAIN_TYPE_ORDER if name in present), None)

    # --- whole conversations ------------------------------------------------------------

    def analyse(self, conversation: Conversation, detections: Sequence[Detection]) -> DisputeFacts:
        """Classify the conversation's dispute and find the agent's handling steps.

        ``detections`` are the conversation's other detections (tone.*, buyer.escalation …),
        used for apologies and for the threats behind a money demand.
        """
        found = self._types_found(conversation, detections)
        if not found:
            return NO_DISPUTE
        first: dict[str, DisputeEvidence] = {}
        for evidence in found:
            first.setdefault(evidence.name, evidence)
        types = tuple(first)
        start_index = min(evidence.message_index for evidence in first.values())
        turn_of = _buyer_turns(conversation)
        opening = [name for name, evidence in first.items()
                   if turn_of[evidence.message_index] == turn_of[start_index]]
        main = "malicious" if "malicious" in first else self.main_type(opening)
        steps, step_evidence = self._steps_taken(conversation, detections, start_index)
        return DisputeFacts(
            type=main,
            types=types,
            start_index=start_index,
            steps=steps,
            malicious="malicious" in first,
            evidence=(*first.values(), *step_evidence),
        )

    def _types_found(self, conversation: Conversation,
                     detections: Sequence[Detection]) -> list[DisputeEvidence]:
        turn_of = _buyer_turns(conversation)
        threatened_turns = {
            turn_of[d.message_index] for d in detections
            if d.category == THREAT_CATEGORY and d.message_index in turn_of
        }
        readings = {
            message.index: self._types.read(message.text)
            for message in conversation.messages if message.role == "buyer"
        }
        complaining_turns = {
            turn_of[index] for index, reading in readings.items() if "@complaint" in reading.roles
        }
        found: list[DisputeEvidence] = []
        for index, reading in readings.items():
            for match in reading.matches:
                if NEEDS_COMPLAINT in match.needs and turn_of[index] not in complaining_turns:
                    continue
                if NEEDS_THREAT in match.needs and turn_of[index] not in threatened_turns:
                    continue
                found.append(DisputeEvidence(match.name, index, match.span, match.text))
        return found

    def _steps_taken(self, conversation: Conversation, detections: Sequence[Detection],
                     start_index: int) -> tuple[DisputeSteps, list[DisputeEvidence]]:
        taken: dict[str, DisputeEvidence] = {}
        agent_messages = [m for m in conversation.messages
                          if m.role == "agent" and m.index > start_index]
        if agent_messages:
            reply = agent_messages[0]
            shown = min(len(reply.text), RESPOND_EVIDENCE_CHARS)
            taken["respond"] = DisputeEvidence("respond", reply.index, (0, shown), reply.text[:shown])
        apology = next(
            (d for d in sorted(detections, key=lambda d: (d.message_index, d.span))
             if d.category in APOLOGY_CATEGORIES and d.role == "agent" and d.message_index > start_index),
            None,
        )
        if apology is not None:
            taken["apologise"] = DisputeEvidence("apologise", apology.message_index, apology.span, apology.text)
        for message in agent_messages:
            matches = self._steps.read(message.text).matches
            # the remedy of this very message lets its own closing check count (给您补发，收到后告诉我)
            for match in sorted(matches, key=lambda match: NEEDS_REMEDY in match.needs):
                if match.name in taken:
                    continue
                if NEEDS_REMEDY in match.needs and "remedy" not in taken:
                    continue
                taken[match.name] = DisputeEvidence(match.name, message.index, match.span, match.text)
        steps = DisputeSteps(**{step: taken[step].message_index for step in STEPS if step in taken})
        return steps, [taken[step] for step in STEPS if step in taken]

