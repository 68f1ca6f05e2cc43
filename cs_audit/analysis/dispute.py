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
  logistics dispute when the same buyer turn complains (还没到, 几天了, 怎么还, 一直…, or a
  ``buyer.escalation`` threat): "物流到哪了" alone is a status question a shop answers every day,
  not a grievance. The same holds for a plain wish to return, exchange, refund or repair
  (退货, 退款, 售后, 维修): with nothing wrong it is a routine request, not a dispute; a return or
  refund that is stuck or refused (还不退款, 不给退) is one on its own.
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
- The main type is ``malicious`` when present; then ``after_sales`` when the first disputing
  buyer turn says a return, refund or repair is stuck or refused (还不退款, 不给退, 没人处理):
  that is what the buyer asks to fix; otherwise, among the types of that turn — those named by
  a grievance of their own (少给我算了话费) when there are any, not by a topic word the turn's
  complaint words made one (手机, 流量) — the cause before the wish: quality, logistics, price,
  then after_sales, then attitude (有色差，我要退货 is a quality dispute).
- Steps are looked for in ``agent`` messages after ``start_index`` only: an apology made before
  the buyer complained, or an auto-reply by a ``bot``, does not handle the dispute.
- Given the buyer's mood (``analyse(..., buyer_mood=)``), a buyer message scored clearly upset
  stands for a complaint word in its turn: 这么高的费用你能给我说出道理来？ names a topic (费用)
  and no fault, yet an angry buyer asking about a fee is disputing it. It only completes a topic
  word (the type still comes from the words), and ``upset_index`` names the message, so the
  finding says why it counted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cs_audit.analysis.engine import FAMILY_LABELS, Hit, RuleEngine, load_engine
from cs_audit.lexicon import bundled_lexicon_dir
from cs_audit.model import (NO_DISPUTE, STEPS, Conversation, Detection, DisputeEvidence, DisputeFacts,
                            DisputeSteps, Message, quick_pickle)

TYPES_FAMILY = "dispute.type"
STEPS_FAMILY = "dispute.steps"
TYPES = FAMILY_LABELS[TYPES_FAMILY]
# Causes before wishes, wishes before complaints about the chat itself (see the module docstring).
MAIN_TYPE_ORDER = ("malicious", "quality", "logistics", "price", "after_sales", "attitude")
# Steps found by phrases; respond is any agent message and apologise comes from tone detections.
PHRASE_STEPS = FAMILY_LABELS[STEPS_FAMILY]
APOLOGY_CATEGORIES = ("tone.apology", "tone.empathy")
THREAT_CATEGORY = "buyer.escalation"

# The evidence of `respond` is the opening of the reply, kept short for reports.
RESPOND_EVIDENCE_CHARS = 30
# Canned replies repeat thousands of times in an export; read each distinct text once.
_READING_CACHE_SIZE = 65_536
# Conditions a phrase match may leave to the caller, who sees the whole conversation.
NEEDS_COMPLAINT = "complaint"  # a complaint word somewhere in the same buyer turn
NEEDS_THREAT = "threat"  # a buyer.escalation detection in the same buyer turn
NEEDS_REMEDY = "remedy"  # a remedy offered in this agent message or an earlier one
# A buyer message the mood model scores below this line is upset enough to stand for a complaint
# word in its turn. Only "low means angry" is relied on, not exact values (the model is retrained
# now and then); on the chat model a neutral message scores about 0.4-0.5. Read on unlabelled
# STC-3 dialogues, about two in three turns it completes are real complaints, the rest mostly
# short retorts. A message needs UPSET_MIN_CHARS Chinese characters: a few give the model too
# little, and it scores a card or phone number with a name (收件人徐敏 178-4515-1227) low.
UPSET_BELOW = 0.25
UPSET_MIN_CHARS = 10




@dataclass(frozen=True, slots=True)
class PhraseMatch:
    """A type or step phrase that counts in one text, pending ``needs`` (see NEEDS_*).

    ``span`` and ``text`` refer to the original text.
    """

    name: str
    span: tuple[int, int]
    text: str
    needs: frozenset[str] = frozenset()
    # a topic or wish word (物流, 退货: needs=complaint), whether or not its complaint was found
    topic: bool = False


@dataclass(frozen=True, slots=True)
class _Reading:
    """A text read against a phrase book: the matches that count (some with pending needs)."""

    matches: tuple[PhraseMatch, ...]


_NO_READING = _Reading(())

# What a trigger's needs= option leaves to the caller, who sees the whole conversation.
_NEEDS = {"complaint": NEEDS_COMPLAINT, "threat": NEEDS_THREAT, "remedy": NEEDS_REMEDY}


class _PhraseBook:
    """One family of the rule engine's lexicons (dispute types or steps), read per text."""

    def __init__(self, engine: RuleEngine, family: str, cover_across_ids: bool) -> None:
        """``cover_across_ids``: whether a longer trigger hides a shorter one of another id
        (退款还没到 is not also a logistics 还没到) or only one of its own (已经补发 confirms a
        follow-up and is still the remedy 补发)."""
        self.engine = engine
        self.family = family
        self._cover_across_ids = cover_across_ids
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
        """The phrases of ``text`` that count, some with needs left to the caller."""
        scan = self.engine.scan(text)
        triggers = scan.triggers(self.family)
        if not triggers:
            return _NO_READING
        matches = []
        for hit in _drop_covered(triggers, self._cover_across_ids):
            if not scan.decide(hit).counts:
                continue
            need = hit.entry.value("needs")
            needs = set()
            if need == "complaint" and not scan.has(self.family, "complaint"):
                needs.add(NEEDS_COMPLAINT)
            elif need in ("threat", "remedy"):
                needs.add(_NEEDS[need])
            start, end = scan.original_span(hit.start, hit.end)
            matches.append(PhraseMatch(hit.entry.label, (start, end), text[start:end], frozenset(needs),
                                       topic=need == "complaint"))
        matches.sort(key=lambda match: match.span)
        return _Reading(tuple(matches))

    def complains(self, text: str) -> bool:
        """Whether ``text`` holds a @complaint word (还没到, 几天了)."""
        return self.engine.scan(text).has(self.family, "complaint")


def _covered(hits: Sequence[Hit]) -> set[int]:
    """Positions in ``hits`` of those lying inside a strictly longer one of ``hits``.

    One sweep in order of start (the longer first at equal starts), so a long message with many
    phrases costs n log n, not n squared.
    """
    order = sorted(range(len(hits)), key=lambda i: (hits[i].start, -hits[i].end))
    covered: set[int] = set()
    reach_before = -1  # the furthest end of the hits that start before the current start
    group_start, group_reach = None, -1  # the same for hits sharing the current start
    for i in order:
        hit = hits[i]
        if hit.start != group_start:
            reach_before = max(reach_before, group_reach)
            group_start, group_reach = hit.start, -1
        if reach_before >= hit.end or group_reach > hit.end:
            covered.add(i)
        group_reach = max(group_reach, hit.end)
    return covered


def _drop_covered(triggers: list[Hit], across_ids: bool) -> list[Hit]:
    """Drop triggers inside a longer trigger: 掉色了 is judged, not the 掉色 within it."""
    if across_ids:
        covered = _covered(triggers)
        return [hit for i, hit in enumerate(triggers) if i not in covered]
    by_label: dict[str, list[int]] = {}
    for i, hit in enumerate(triggers):
        by_label.setdefault(hit.entry.label, []).append(i)
    dropped: set[int] = set()
    for positions in by_label.values():
        dropped.update(positions[i] for i in _covered([triggers[p] for p in positions]))
    return [hit for i, hit in enumerate(triggers) if i not in dropped]


def _chinese_characters(text: str) -> int:
    """How many CJK ideographs ``text`` holds (digits, Latin and marks do not count)."""
    return sum(1 for char in text if "\u4e00" <= char <= "\u9fff")


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
        engine = load_engine(Path(lexicon_dir) if lexicon_dir is not None else bundled_lexicon_dir())
        self._types = _PhraseBook(engine, TYPES_FAMILY, cover_across_ids=True)
        self._steps = _PhraseBook(engine, STEPS_FAMILY, cover_across_ids=False)

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
            if (threatened or NEEDS_COMPLAINT not in match.needs)
            and (threatened or NEEDS_THREAT not in match.needs)
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

    def message_type(self, text: str, detections: Sequence[Detection] = (), role: str = "buyer") -> str | None:
        """The main type of one buyer message read as a whole conversation (None: no dispute).

        The same decision as :meth:`analyse`, so a stuck refund named beside a fault
        (质量有问题，还不退款) is after_sales here too.
        """
        conversation = Conversation("message", "message", (Message(0, role, text),))
        return self.analyse(conversation, detections).type

    @staticmethod
    def main_type(types: Iterable[str]) -> str | None:
        """The type that names a dispute raised in one turn: malicious, then causes, then wishes."""
        present = set(types)
        return next((name for name in MAIN_TYPE_ORDER if name in present), None)

    # --- whole conversations ------------------------------------------------------------

    def analyse(self, conversation: Conversation, detections: Sequence[Detection],
                buyer_mood: Callable[[str], float] | None = None) -> DisputeFacts:
        """Classify the conversation's dispute and find the agent's handling steps.

        ``detections`` are the conversation's other detections (tone.*, buyer.escalation …),
        used for apologies and for the threats behind a money demand. ``buyer_mood`` scores a
        buyer message's mood (0 angry … 1 pleased, the chat-mood model's scale); with it, an
        upset message completes a topic word of its turn as a complaint word would.
        """
        found, stuck, specific, upset = self._types_found(conversation, detections, buyer_mood)
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
        # A grievance named in its own words (少给我算了话费, 无货) says what the buyer asks to fix
        # better than a topic word its turn made a complaint (手机, 流量, 办理): the topic decides
        # only when the turn names no grievance of its own.
        named = [name for name in opening
                 if any(turn_of[evidence.message_index] == turn_of[start_index] for evidence in specific
                        if evidence.name == name)]
        if named:
            opening = named
        if "malicious" in first:
            main = "malicious"
        elif any(turn_of[evidence.message_index] == turn_of[start_index] for evidence in stuck):
            # A return, refund or repair that is stuck is what the buyer asks to fix; the fault
            # behind it is the background (质量有问题，寄回去十天了还不退款 is after_sales).
            main = "after_sales"
        else:
            main = self.main_type(opening)
        steps, step_evidence = self._steps_taken(conversation, detections, start_index)
        return DisputeFacts(
            type=main,
            types=types,
            start_index=start_index,
            steps=steps,
            malicious="malicious" in first,
            evidence=(*first.values(), *step_evidence),
            upset_index=upset.get(turn_of[start_index]),
        )

    def _types_found(self, conversation: Conversation, detections: Sequence[Detection],
                     buyer_mood: Callable[[str], float] | None = None
                     ) -> tuple[list[DisputeEvidence], list[DisputeEvidence], list[DisputeEvidence],
                                dict[int, int]]:
        """Every type phrase that counts; among them the after-sales ones that say the return,
        refund or repair is stuck or refused on their own (还不退款, 不给退), not a plain wish
        (退货) made a grievance by its turn; every one that names a grievance on its own, not
        a topic word (物流, 手机, 流量) made one by its turn; and, turn → message, the upset
        buyer messages that alone made their turn a complaint."""
        turn_of = _buyer_turns(conversation)
        threatened_turns = {
            turn_of[d.message_index] for d in detections
            if d.category == THREAT_CATEGORY and d.message_index in turn_of
        }
        readings = {
            message.index: self._types.read(message.text)
            for message in conversation.messages if message.role == "buyer"
        }
        # A topic word (物流到哪了) waits for a complaint word anywhere in its turn; the turns are
        # read for complaint words only when such a word is there.
        pending_turns = {turn_of[index] for index, reading in readings.items()
                         if any(NEEDS_COMPLAINT in match.needs for match in reading.matches)}
        # A threat (投诉, 差评) is a complaint too: 不给我退款我就投诉 is no routine refund request;
        # so is a grievance of its own in the turn (我要退货 + 色差太大了: the return is why).
        grieving_turns = {turn_of[index] for index, reading in readings.items()
                          if any(not match.needs for match in reading.matches)}
        complaining_turns = threatened_turns | grieving_turns | {
            turn_of[message.index] for message in conversation.messages
            if message.role == "buyer" and turn_of[message.index] in pending_turns
            and self._types.complains(message.text)
        }
        # Scored only where it can matter: a topic word still waiting for a complaint.
        upset: dict[int, int] = {}
        if buyer_mood is not None and not pending_turns <= complaining_turns:
            for message in conversation.messages:
                turn = turn_of.get(message.index)
                if (message.role == "buyer" and turn in pending_turns and turn not in complaining_turns
                        and turn not in upset and _chinese_characters(message.text) >= UPSET_MIN_CHARS
                        and buyer_mood(message.text) < UPSET_BELOW):
                    upset[turn] = message.index
            complaining_turns |= set(upset)
        found: list[DisputeEvidence] = []
        stuck: list[DisputeEvidence] = []
        specific: list[DisputeEvidence] = []
        for index, reading in readings.items():
            for match in reading.matches:
                if NEEDS_COMPLAINT in match.needs and turn_of[index] not in complaining_turns:
                    continue
                if NEEDS_THREAT in match.needs and turn_of[index] not in threatened_turns:
                    continue
                evidence = DisputeEvidence(match.name, index, match.span, match.text)
                found.append(evidence)
                if not match.topic:
                    specific.append(evidence)
                    if match.name == "after_sales":
                        stuck.append(evidence)
        return found, stuck, specific, upset

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

