"""Kinds of rubric check: the parameters each accepts and how it judges a conversation.

A rubric check names a ``kind`` and gives parameters (like a Vale rule's ``extends``). Each
kind here declares its parameters, so the rubric loader validates them, and evaluates the
analysis facts of one conversation into a pass/fail with a message and the message it concerns.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from cs_audit.analysis.response import TimedTurn
from cs_audit.model import (NO_DISPUTE, STEPS, Conversation, Detection, DisputeFacts, ResponseMetrics,
                            SentimentTrajectory)

# Bots are configured by the shop: a bot asking to add WeChat is the shop asking.
SHOP_ROLES = ("agent", "bot")


@dataclass(frozen=True, slots=True)
class ConversationFacts:
    """What analysis found in one conversation; the only input of a check."""

    conversation: Conversation
    turns: tuple[TimedTurn, ...]
    response: ResponseMetrics
    detections: tuple[Detection, ...]
    slow_after_s: float
    sentiment: SentimentTrajectory = SentimentTrajectory()
    # Indexes of shop messages that turn down an off-platform request (抱歉，平台规定不能加微信).
    refusals: frozenset[int] = frozenset()
    dispute: DisputeFacts = NO_DISPUTE


@dataclass(frozen=True, slots=True)
class Verdict:
    """A check's judgement; ``None`` from a kind means the check does not apply."""

    passed: bool
    message: str
    message_index: int | None = None


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a check kind: its type, whether it is required, allowed values."""

    type: type | tuple[type, ...]
    required: bool = False
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    doc: str = ""
    maximum: float | None = None


@dataclass(frozen=True, slots=True)
class CheckKind:
    """A kind of check: documented parameters and an evaluation function."""

    name: str
    doc: str
    params: dict[str, Param]
    evaluate: Callable[[ConversationFacts, dict[str, Any]], Verdict | None]


RESPONSE_METRICS = ("first_s", "avg_s", "max_s", "slow", "unanswered")
PHRASE_MODES = ("require", "forbid")
PHRASE_WINDOWS = ("any", "first", "last")
ROLES_CHECKED = ("agent", "buyer", "bot", "any")


def _format_seconds(seconds: float) -> str:
    return f"{seconds:.0f} s"


def _evaluate_response(facts: ConversationFacts, params: dict[str, Any]) -> Verdict | None:
    metric = params["metric"]
    limit = params["max"]
    value = getattr(facts.response, metric)
    if value is None:
        return None
    if metric == "first_s":
        index = facts.turns[0].turn.messages[0].index
        text = f"first reply after {_format_seconds(value)} (limit {_format_seconds(limit)})"
        return Verdict(value <= limit, text, index)
    if metric in ("avg_s", "max_s"):
        label = "average" if metric == "avg_s" else "slowest"
        offenders = [t for t in facts.turns if t.wait_s is not None and t.wait_s > limit]
        index = offenders[0].turn.messages[0].index if offenders else None
        text = f"{label} reply {_format_seconds(value)} (limit {_format_seconds(limit)})"
        return Verdict(value <= limit, text, index)
    if metric == "slow":
        slow = [t for t in facts.turns if t.wait_s is not None and t.wait_s > facts.slow_after_s]
        index = slow[0].turn.messages[0].index if slow else None
        waits = ", ".join(_format_seconds(t.wait_s) for t in slow[:5])
        text = (f"{value} repl{'y' if value == 1 else 'ies'} slower than "
                f"{_format_seconds(facts.slow_after_s)}" + (f" ({waits})" if waits else "")
                + f"; at most {limit:g} allowed")
        return Verdict(value <= limit, text, index)
    unanswered = [t for t in facts.turns if t.turn.reply is None]
    index = unanswered[0].turn.messages[0].index if unanswered else None
    text = f"{value} buyer turn{'' if value == 1 else 's'} left unanswered; at most {limit:g} allowed"
    return Verdict(value <= limit, text, index)


def _messages_in_window(facts: ConversationFacts, role: str, window: str, count: int) -> list[int]:
    indexes = [m.index for m in facts.conversation.messages if role == "any" or m.role == role]
    if window == "first":
        return indexes[:count]
    if window == "last":
        return indexes[-count:]
    return indexes


def _evaluate_phrase(facts: ConversationFacts, params: dict[str, Any]) -> Verdict | None:
    category = params["category"]
    role = params.get("role", "agent")
    window = params.get("window", "any")
    allowed = set(_messages_in_window(facts, role, window, int(params.get("messages", 1))))
    if not allowed:
        return None
    found = [d for d in facts.detections if d.category == category and d.message_index in allowed]
    where = {"any": "", "first": f" in the first {params.get('messages', 1)} {role} message(s)",
             "last": f" in the last {params.get('messages', 1)} {role} message(s)"}[window]
    if params["mode"] == "require":
        if found:
            return Verdict(True, f"{category} found{where}: {found[0].text}", found[0].message_index)
        return Verdict(False, f"no {category}{where}", min(allowed) if window != "last" else max(allowed))
    if not found:
        return Verdict(True, f"no {category}{where}")
    first = found[0]
    text = f"{category}: {first.text}"
    if first.suggestion:
        text += f" → {first.suggestion}"
    if len(found) > 1:
        text += f" (+{len(found) - 1} more)"
    return Verdict(False, text, first.message_index)


def _evaluate_risk(facts: ConversationFacts, params: dict[str, Any]) -> Verdict | None:
    categories = set(params["categories"])
    found = [d for d in facts.detections if d.category in categories]
    if params["who"] == "agent":
        shop = [d for d in found if d.role in SHOP_ROLES]
        if shop:
            first = shop[0]
            extra = f" (+{len(shop) - 1} more)" if len(shop) > 1 else ""
            return Verdict(False, f"{first.role} made an off-platform request ({first.category}): "
                                  f"{first.text}{extra}", first.message_index)
        return Verdict(True, "no off-platform request by the shop")
    asked = [d for d in found if d.role == "buyer"]
    if not asked:
        return None
    first = asked[0]
    refusal = min((i for i in facts.refusals if i > first.message_index), default=None)
    if refusal is not None:
        return Verdict(True, f"buyer asked ({first.category}: {first.text}); the agent refused "
                             f"in message {refusal}", first.message_index)
    return Verdict(False, f"buyer asked ({first.category}: {first.text}) and the agent did not "
                          "turn it down", first.message_index)


def _evaluate_sentiment(facts: ConversationFacts, params: dict[str, Any]) -> Verdict | None:
    trajectory = facts.sentiment
    if trajectory.first is None or trajectory.last is None:
        return None
    condition = params["condition"]
    if condition == "ending":
        floor = params.get("min_last", 0.3)
        return Verdict(trajectory.last >= floor,
                       f"buyer's last turn scores {trajectory.last:.2f} (angry below {floor:g})")
    if condition == "drop":
        limit = params.get("max_drop", 0.4)
        drop = trajectory.drop or 0.0
        return Verdict(drop <= limit, f"buyer sentiment fell by {drop:.2f} (at most {limit:g})")
    low = params.get("low", 0.3)
    if trajectory.first >= low:
        return None
    target = params.get("recover_to", 0.6)
    return Verdict(trajectory.last >= target,
                   f"buyer started upset ({trajectory.first:.2f}) and ended at {trajectory.last:.2f} "
                   f"(recovered at {target:g} or above)")


STEP_WORDS = {
    "respond": "replied to the dispute", "apologise": "apologised or showed empathy",
    "ask_evidence": "asked for photos, video or the order number",
    "explain": "explained the cause or the process", "remedy": "offered a concrete remedy",
    "follow_up": "confirmed or followed up",
}
# Steps an extortion attempt cannot fairly demand: giving in is not good service.
NOT_OWED_TO_EXTORTION = ("remedy", "apologise")


def _evaluate_dispute(facts: ConversationFacts, params: dict[str, Any]) -> Verdict | None:
    dispute = facts.dispute
    if dispute.type is None:
        return None
    step = params["step"]
    if step == "no_extortion":
        if not dispute.malicious:
            return Verdict(True, f"{dispute.type} dispute, no extortion")
        evidence = dispute.evidence_for("malicious")
        index = evidence.message_index if evidence else dispute.start_index
        quoted = f": {evidence.text}" if evidence else ""
        return Verdict(False, f"buyer demands money with a threat (malicious dispute){quoted}; "
                              "for the supervisor, not held against the agent", index)
    wanted = params.get("types")
    if wanted and dispute.type not in wanted:
        return None
    if dispute.malicious and step in NOT_OWED_TO_EXTORTION:
        return None
    done_at = getattr(dispute.steps, step)
    # A dispute the buyer's mood completed says so, and where: the supervisor can check the call.
    what = (f"{dispute.type} dispute" if dispute.upset_index is None else
            f"{dispute.type} dispute (buyer upset in message {dispute.upset_index})")
    if done_at is not None:
        return Verdict(True, f"{what}: agent {STEP_WORDS[step]}", done_at)
    return Verdict(False, f"{what}: agent never {STEP_WORDS[step]}", dispute.start_index)


CHECK_KINDS: dict[str, CheckKind] = {
    kind.name: kind for kind in (
        CheckKind(
            "response",
            "A response-time metric (first_s, avg_s, max_s, slow or unanswered) must not exceed a limit.",
            {
                "metric": Param(str, True, RESPONSE_METRICS, doc="which metric to limit"),
                "max": Param((int, float), True, minimum=0, doc="largest value that passes"),
            },
            _evaluate_response,
        ),
        CheckKind(
            "phrase",
            "A detection category must appear (require) or must not appear (forbid) "
            "in the messages of a role, optionally only within the first or last N of them.",
            {
                "category": Param(str, True, doc="detection category id, e.g. tone.greeting"),
                "mode": Param(str, True, PHRASE_MODES, doc="require or forbid"),
                "role": Param(str, False, ROLES_CHECKED, doc="whose messages (default agent)"),
                "window": Param(str, False, PHRASE_WINDOWS, doc="any, first or last (default any)"),
                "messages": Param(int, False, minimum=1, doc="size of the first/last window"),
            },
            _evaluate_phrase,
        ),
        CheckKind(
            "risk",
            "Off-platform contact, payment or review deals. who = agent: fails when the shop "
            "(agent or bot) makes such a request. who = buyer: applies when the buyer makes one, "
            "and passes when an agent turns it down afterwards.",
            {
                "categories": Param(list, True, doc="risk.* detection categories"),
                "who": Param(str, True, ("agent", "buyer"), doc="whose requests the check is about"),
            },
            _evaluate_risk,
        ),
        CheckKind(
            "sentiment",
            "The buyer's mood (positive probability 0..1 of the rubric's mood model; on the "
            "bundled chat model a neutral message scores about 0.4-0.5). condition = ending: the "
            "last buyer turn scores at least min_last; drop: first minus last is at most max_drop; "
            "recovery: applies when the first turn scores below low, passes when the last "
            "reaches recover_to.",
            {
                "condition": Param(str, True, ("ending", "drop", "recovery"), doc="what to test"),
                "min_last": Param((int, float), False, minimum=0, doc="ending: lowest acceptable last score"),
                "max_drop": Param((int, float), False, minimum=0, doc="drop: largest acceptable fall"),
                "low": Param((int, float), False, minimum=0, doc="recovery: a start below this is upset"),
                "recover_to": Param((int, float), False, minimum=0, doc="recovery: the last score to reach"),
            },
            _evaluate_sentiment,
        ),
        CheckKind(
            "dispute",
            "Dispute handling (the buyer complains about logistics, quality, after-sales, price "
            "or service): the agent performs a handling step after the complaint. Applies only "
            "to disputes (optionally of the listed types); remedy and apology are not demanded "
            "for extortion. step = no_extortion instead flags a malicious dispute.",
            {
                "step": Param(str, True, (*STEPS, "no_extortion"), doc="the handling step"),
                "types": Param(list, False, doc="dispute types the check applies to (default all)"),
            },
            _evaluate_dispute,
        ),
    )
}


def kind_names() -> Sequence[str]:
    """Names of all check kinds, for error messages."""
    return tuple(CHECK_KINDS)
