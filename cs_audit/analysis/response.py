"""Response times as SPEC §3 defines them: buyer turns, their waits, service hours."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path

from cs_audit.lexicon import ProblemList, lexicon_path, read_lexicon
from cs_audit.model import Message, ResponseMetrics, TurnRecord

ACKNOWLEDGEMENTS_LEXICON = "acknowledgements"


@dataclass(frozen=True, slots=True)
class BuyerTurn:
    """A maximal run of buyer messages (bot and system messages neither end nor split it).

    ``reply`` is the first agent message after the run, or None when no agent spoke again;
    ``bot_replied`` tells whether a bot answered meanwhile (an automatic round when no agent did).
    """

    messages: tuple[Message, ...]
    reply: Message | None
    bot_replied: bool = False

    @property
    def start(self) -> datetime | None:
        return self.messages[0].timestamp


@dataclass(frozen=True, slots=True)
class ServiceHours:
    """Daily opening hours; ``close`` before ``open`` means the shift runs past midnight."""

    open: time
    close: time

    @classmethod
    def parse(cls, text: str) -> ServiceHours:
        """Parse ``"HH:MM-HH:MM"`` (``24:00`` allowed as a closing time). Raises ValueError."""
        try:
            start, end = (part.strip() for part in text.split("-"))
            opening = time.fromisoformat(start)
            closing = time.max if end == "24:00" else time.fromisoformat(end)
        except ValueError:
            raise ValueError(f"service hours must look like 08:00-23:00, got {text!r}") from None
        if opening == closing:
            raise ValueError(f"service hours {text!r} open and close at the same time")
        return cls(opening, closing)

    def is_open(self, moment: datetime) -> bool:
        clock = moment.time()
        if self.open < self.close:
            return self.open <= clock < self.close
        return clock >= self.open or clock < self.close

    def clock_start(self, moment: datetime) -> datetime:
        """When a wait that starts at ``moment`` begins to count: now, or the next opening."""
        if self.is_open(moment):
            return moment
        opening = datetime.combine(moment.date(), self.open)
        return opening if opening > moment else opening + timedelta(days=1)


class AcknowledgementMatcher:
    """Tells whether a buyer message only acknowledges (好的谢谢, 嗯嗯, OK, an emoji)."""

    def __init__(self, lexicon_dir: Path | str | None = None) -> None:
        """Read ``acknowledgements.txt`` of ``lexicon_dir`` (default: the bundled lexicons)."""
        path = lexicon_path(ACKNOWLEDGEMENTS_LEXICON, lexicon_dir)
        problems = ProblemList()
        entries = read_lexicon(path, problems)
        for entry in entries:
            if entry.fields:
                problems.add(path, entry.line, "an acknowledgement is a phrase alone; remove the '|' "
                                               "and what follows it")
        problems.raise_if_any()
        # Particles (呢, 哈, 亲 …) are consumed like phrases; longest first, so 好的 wins over 好.
        self._phrases = sorted(
            {entry.phrase.casefold().replace(" ", "") for entry in entries},
            key=len, reverse=True,
        )

    def is_acknowledgement(self, text: str) -> bool:
        """True when nothing but acknowledgement phrases, particles, punctuation and emoji remain."""
        if "?" in text or "？" in text:
            return False  # "好的？" asks something
        categories = [unicodedata.category(char) for char in text]
        rest = "".join(
            char for char, category in zip(text.casefold(), categories)
            if category[0] in "LN"
        )
        if not rest:
            # Only symbols left: an emoji (👍) acknowledges, bare punctuation ("。。。") does not.
            return any(category in ("So", "Sk") for category in categories)
        while rest:
            for phrase in self._phrases:
                if rest.startswith(phrase):
                    rest = rest[len(phrase):]
                    break
            else:
                return False
        return True


def buyer_turns(messages: Sequence[Message]) -> list[BuyerTurn]:
    """Split ordered messages into buyer turns, each with the agent message that answered it."""
    turns: list[BuyerTurn] = []
    current: list[Message] = []
    bot_replied = False
    for message in messages:
        if message.role == "buyer":
            current.append(message)
        elif message.role == "bot" and current:
            bot_replied = True
        elif message.role == "agent" and current:
            turns.append(BuyerTurn(tuple(current), message, bot_replied))
            current, bot_replied = [], False
    if current:
        turns.append(BuyerTurn(tuple(current), None, bot_replied))
    return turns


def wait_seconds(turn: BuyerTurn, hours: ServiceHours | None) -> float | None:
    """Seconds from the turn's first message (or the next opening) to its reply; None if unknown."""
    if turn.reply is None or turn.start is None or turn.reply.timestamp is None:
        return None
    start = hours.clock_start(turn.start) if hours else turn.start
    return max(0.0, (turn.reply.timestamp - start).total_seconds())


def expects_reply(turns: Sequence[BuyerTurn], acks: AcknowledgementMatcher) -> list[BuyerTurn]:
    """The turns that count: all but a final, unanswered, acknowledgement-only turn."""
    if turns and turns[-1].reply is None and all(
        acks.is_acknowledgement(message.text) for message in turns[-1].messages
    ):
        return list(turns[:-1])
    return list(turns)


@dataclass(frozen=True, slots=True)
class TimedTurn:
    """A buyer turn that expects a reply, with its wait in seconds (None if not timed)."""

    turn: BuyerTurn
    wait_s: float | None


def timed_turns(
    messages: Sequence[Message], acks: AcknowledgementMatcher, hours: ServiceHours | None,
) -> list[TimedTurn]:
    """The turns that expect a reply, each with its wait under the service hours."""
    return [TimedTurn(turn, wait_seconds(turn, hours))
            for turn in expects_reply(buyer_turns(messages), acks)]


def response_metrics(turns: Sequence[TimedTurn], has_timestamps: bool,
                     slow_after_s: float) -> ResponseMetrics:
    """SPEC §3 metrics from a conversation's timed turns."""
    waits = [turn.wait_s for turn in turns if turn.wait_s is not None]
    return ResponseMetrics(
        first_s=turns[0].wait_s if turns else None,
        avg_s=sum(waits) / len(waits) if waits else None,
        max_s=max(waits) if waits else None,
        slow=sum(1 for wait in waits if wait > slow_after_s) if has_timestamps else None,
        unanswered=sum(1 for turn in turns if turn.turn.reply is None),
        turns=len(turns),
    )


def turn_records(messages: Sequence[Message], turns: Sequence[TimedTurn]) -> tuple[TurnRecord, ...]:
    """Reduce timed turns to records naming the agent each one is attributed to."""
    last_agent_before: dict[int, str] = {}
    speaker = ""
    first_agent = next((m.sender for m in messages if m.role == "agent"), "")
    for message in messages:
        last_agent_before[message.index] = speaker
        if message.role == "agent":
            speaker = message.sender
    records = []
    for timed in turns:
        first = timed.turn.messages[0]
        if timed.turn.reply is not None:
            agent = timed.turn.reply.sender
        else:
            agent = last_agent_before.get(first.index) or first_agent
        answered = timed.turn.reply is not None
        records.append(TurnRecord(first.index, first.timestamp, answered, agent, timed.wait_s,
                                  bot_handled=timed.turn.bot_replied and not answered))
    return tuple(records)
