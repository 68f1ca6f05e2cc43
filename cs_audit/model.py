"""The domain types every module speaks: messages in, findings and results out.

All are frozen: a parsed conversation is never edited by analysis, and a result is never
edited by a reporter.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import MemberDescriptorType
from typing import TypeVar

ROLES = ("buyer", "agent", "bot", "system")
SEVERITIES = ("critical", "major", "minor", "info")
# Lower number = more severe; used for --fail-on and for sorting findings.
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
# SPEC §4 detection categories (stable ids).
DETECTION_CATEGORIES = (
    "tone.greeting", "tone.thanks", "tone.apology", "tone.empathy", "tone.wait", "tone.closing",
    "tone.rude", "risk.contact", "risk.payment", "risk.review", "buyer.escalation",
    "pii.phone", "pii.id_card", "pii.bank_card",
    # An extension of SPEC §4 (issue #15): a buyer question no agent message addresses.
    "buyer.ignored_question",
)


_Record = TypeVar("_Record")


def slot_constructor(cls: type[_Record]) -> Callable[..., _Record]:
    """A function making ``cls(*values)`` (every field given, in order) by setting its slots.

    A frozen dataclass's ``__init__`` sets each field through ``object.__setattr__``: about a
    second per million messages parsed, and most of the time it takes to unpickle a result.
    Setting the slots directly makes an equal object. A class that checks or derives fields
    (``__post_init__``, ``init=False``) is made by calling it instead.
    """
    names = tuple(item.name for item in fields(cls))  # type: ignore[arg-type]
    slots = [vars(cls).get(name) for name in names]
    if (hasattr(cls, "__post_init__") or not all(item.init for item in fields(cls))  # type: ignore[arg-type]
            or not all(isinstance(slot, MemberDescriptorType) for slot in slots)
            or any(name.startswith("_") for name in names)):  # the generated code's own names
        return cls
    # Generated, as dataclasses generate __init__: one call per field, no loop.
    setters = {f"_set_{name}": slot.__set__ for name, slot in zip(names, slots)}
    body = "".join(f"    _set_{name}(_made, {name})\n" for name in names)
    source = f"def make({', '.join(names)}):\n    _made = _new(_cls)\n{body}    return _made\n"
    namespace: dict = {"_new": object.__new__, "_cls": cls, **setters}
    exec(source, namespace)  # noqa: S102 - the source is built from the class's field names
    make = namespace["make"]
    make.__qualname__ = f"{cls.__qualname__}.from_fields"
    make.__module__ = cls.__module__
    return make


def quick_pickle(cls: type[_Record]) -> type[_Record]:
    """Pickle a frozen slotted dataclass as ``cls.from_fields(*fields)`` (``slot_constructor``).

    Results cross process boundaries (``--jobs``, Dask) by the thousand. The state functions
    dataclasses give slotted classes call ``fields()`` and ``object.__setattr__`` per field,
    about 0.9 ms per audited conversation to unpickle; setting the slots is far cheaper.
    """
    names = tuple(item.name for item in fields(cls))  # type: ignore[arg-type]
    make = slot_constructor(cls)
    # A class attribute, so that pickle finds the function by its qualified name.
    cls.from_fields = staticmethod(make)  # type: ignore[attr-defined]
    if len(names) == 1:
        only = names[0]

        def __reduce__(self):
            return make, (getattr(self, only),)
    else:
        values = operator.attrgetter(*names)

        def __reduce__(self):
            return make, values(self)

    cls.__reduce__ = __reduce__  # type: ignore[method-assign,assignment]
    return cls


@quick_pickle
@dataclass(frozen=True, slots=True)
class Message:
    """One chat message, in conversation order.

    ``index`` is the position within the conversation after ordering (SPEC ``message_index``);
    ``line`` is where it was read in its file (1-based; the header is line 1 of a CSV).
    """

    index: int
    role: str
    text: str
    timestamp: datetime | None = None
    sender: str = ""
    line: int = 0


@quick_pickle
@dataclass(frozen=True, slots=True)
class Conversation:
    """Messages sharing a conversation id, ordered by time (ties keep file order)."""

    id: str
    source: str
    messages: tuple[Message, ...]

    @property
    def agents(self) -> tuple[str, ...]:
        """Distinct agent senders in order of first appearance ("" when unnamed)."""
        seen: dict[str, None] = {}
        for message in self.messages:
            if message.role == "agent":
                seen.setdefault(message.sender, None)
        return tuple(seen)


@quick_pickle
@dataclass(frozen=True, slots=True)
class InputProblem:
    """A record that could not be read: where it is and why."""

    line: int
    reason: str


@quick_pickle
@dataclass(frozen=True, slots=True)
class InputSummary:
    """What one input file yielded: counts and the records it could not read."""

    path: str
    format: str
    encoding: str | None
    rows: int
    messages: int
    conversations: int
    problems: tuple[InputProblem, ...] = ()
    error: str | None = None  # the whole file could not be read

    @property
    def readable(self) -> bool:
        return self.error is None


@quick_pickle
@dataclass(frozen=True, slots=True)
class Detection:
    """Something a message says: a polite phrase, a rude one, an off-platform request, PII.

    ``span`` is the [start, end) character range in the message's original text and ``text``
    the original characters there. ``note`` explains a context decision and ``suggestion`` is
    what to say instead (rude phrasing); both may be empty.
    """

    category: str
    message_index: int
    role: str
    span: tuple[int, int]
    text: str
    note: str = ""
    suggestion: str = ""


@quick_pickle
@dataclass(frozen=True, slots=True)
class CheckResult:
    """One rubric check applied to one conversation."""

    rule: str
    severity: str
    passed: bool
    points: float
    max_points: float
    message: str
    message_index: int | None = None


@quick_pickle
@dataclass(frozen=True, slots=True)
class TurnRecord:
    """One buyer turn reduced to what aggregates need: when, who answered, how long it waited.

    ``agent`` is the replying agent, or for an unanswered turn the agent who spoke last before
    it ("" when no agent spoke at all); ``wait_s`` is None when unanswered or untimed;
    ``bot_handled`` marks a fully automatic round: a bot answered and no agent did.
    """

    first_index: int
    start: datetime | None
    answered: bool
    agent: str
    wait_s: float | None
    bot_handled: bool = False


@quick_pickle
@dataclass(frozen=True, slots=True)
class KpiCount:
    """A platform KPI of some conversations as ``amount`` over ``count``: turns (buyers,
    sessions) answered in time over eligible ones, or capped seconds over eligible turns.
    Totals add counts, so they pool turns rather than average rates."""

    amount: float
    count: int

    @property
    def value(self) -> float | None:
        return self.amount / self.count if self.count else None

    def __add__(self, other: KpiCount) -> KpiCount:
        return KpiCount(self.amount + other.amount, self.count + other.count)


@quick_pickle
@dataclass(frozen=True, slots=True)
class ResponseMetrics:
    """SPEC §3 response times of one conversation; ``None`` where there are no timestamps."""

    first_s: float | None
    avg_s: float | None
    max_s: float | None
    slow: int | None
    unanswered: int
    turns: int
    kpis: dict[str, float | None] = field(default_factory=dict)


@quick_pickle
@dataclass(frozen=True, slots=True)
class SentimentTrajectory:
    """Buyer mood (the rubric's mood model's positive probability) through a conversation."""

    first: float | None = None
    last: float | None = None
    min: float | None = None
    drop: float | None = None


# The handling steps of a dispute, in the order shop training teaches them.
STEPS = ("respond", "apologise", "ask_evidence", "explain", "remedy", "follow_up")


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
    ``evidence`` one entry per type and per step taken (see :class:`DisputeEvidence`), and
    ``upset_index`` the buyer message whose upset mood, not a complaint word, made the opening
    turn a complaint (None: words alone did).
    """

    type: str | None
    types: tuple[str, ...]
    start_index: int | None
    steps: DisputeSteps
    malicious: bool
    evidence: tuple[DisputeEvidence, ...]
    upset_index: int | None = None

    @property
    def is_dispute(self) -> bool:
        return self.type is not None

    def evidence_for(self, name: str) -> DisputeEvidence | None:
        """The evidence of a type or step id, or None when it was not found or taken."""
        return next((item for item in self.evidence if item.name == name), None)


NO_DISPUTE = DisputeFacts(None, (), None, DisputeSteps(), False, ())


@quick_pickle
@dataclass(frozen=True, slots=True)
class ConversationResult:
    """Everything the audit concluded about one conversation; what reporters consume."""

    id: str
    source: str
    agents: tuple[str, ...]
    start: datetime | None
    end: datetime | None
    messages: tuple[Message, ...]
    response: ResponseMetrics
    turns: tuple[TurnRecord, ...]
    kpi_counts: dict[str, KpiCount]
    sentiment: SentimentTrajectory
    dispute: DisputeFacts
    detections: tuple[Detection, ...]
    checks: tuple[CheckResult, ...]
    score: float
    grade: str
    passed: bool
    critical: bool
    # The score the points gave, before a critical finding set it to the rubric's critical_score.
    score_before_critical: float
