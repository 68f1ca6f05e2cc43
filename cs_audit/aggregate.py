"""Totals over audited conversations: the whole run and each agent. Computed once, for all reporters."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from cs_audit.model import ConversationResult, InputSummary, KpiCount, TurnRecord

NO_AGENT = "(no agent)"
UNNAMED_AGENT = "(unnamed agent)"


@dataclass(frozen=True, slots=True)
class ResponseTotals:
    """Buyer turns pooled over many conversations (not a mean of per-conversation means)."""

    turns: int
    answered: int
    unanswered: int
    avg_s: float | None
    max_s: float | None
    slow: int

    @classmethod
    def pool(cls, records: Iterable[TurnRecord], slow_after_s: float) -> ResponseTotals:
        """Pool turn records into totals."""
        turns = answered = slow = 0
        waits: list[float] = []
        for record in records:
            turns += 1
            if record.answered:
                answered += 1
            if record.wait_s is not None:
                waits.append(record.wait_s)
                if record.wait_s > slow_after_s:
                    slow += 1
        return cls(
            turns=turns, answered=answered, unanswered=turns - answered,
            avg_s=sum(waits) / len(waits) if waits else None,
            max_s=max(waits) if waits else None, slow=slow,
        )


@dataclass(frozen=True, slots=True)
class GroupTotals:
    """Scores and response totals of a group of conversations (the run, or one agent's)."""

    conversations: int
    messages: int
    score_mean: float | None
    passed: int
    critical: int
    grades: dict[str, int]
    failed_rules: dict[str, int]
    response: ResponseTotals
    kpis: dict[str, KpiCount]

    @property
    def failed(self) -> int:
        return self.conversations - self.passed

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.conversations if self.conversations else None


@dataclass(frozen=True, slots=True)
class AgentTotals:
    """One agent's totals; a conversation counts for every agent who took part in it."""

    agent: str
    totals: GroupTotals


@dataclass(frozen=True, slots=True)
class DayTotals:
    """The conversations that started on one day (shop time); undated ones under None."""

    day: date | None
    totals: GroupTotals


@dataclass(frozen=True)
class RunTotals:
    """What a whole audit run adds up to."""

    summary: GroupTotals
    agents: tuple[AgentTotals, ...]
    days: tuple[DayTotals, ...]
    input_problems: int
    unreadable_files: int
    grade_order: tuple[str, ...] = field(default=())


def _pool_kpis(results: Sequence[ConversationResult]) -> dict[str, KpiCount]:
    pooled: dict[str, KpiCount] = {}
    for result in results:
        for kpi_id, count in result.kpi_counts.items():
            pooled[kpi_id] = pooled[kpi_id] + count if kpi_id in pooled else count
    return pooled


def _group(results: Sequence[ConversationResult], messages: int,
           records: Iterable[TurnRecord], slow_after_s: float) -> GroupTotals:
    scores = [result.score for result in results]
    failed_rules = Counter(check.rule for result in results for check in result.checks if not check.passed)
    return GroupTotals(
        conversations=len(results), messages=messages,
        score_mean=sum(scores) / len(scores) if scores else None,
        passed=sum(1 for result in results if result.passed),
        critical=sum(1 for result in results if result.critical),
        grades=dict(Counter(result.grade for result in results)),
        failed_rules=dict(failed_rules.most_common()),
        response=ResponseTotals.pool(records, slow_after_s),
        kpis=_pool_kpis(results),
    )


def agent_name(sender: str, conversation_has_agents: bool = True) -> str:
    """The name an agent is reported under: unnamed agents and agent-less conversations are visible."""
    if sender:
        return sender
    return UNNAMED_AGENT if conversation_has_agents else NO_AGENT


def totals(results: Sequence[ConversationResult], inputs: Sequence[InputSummary],
           slow_after_s: float, grade_order: Sequence[str] = ()) -> RunTotals:
    """Totals for the run, per agent (sorted by name) and per day the conversations started.

    KPI counts are pooled: an agent's KPIs pool the conversations they took part in.
    """
    summary = _group(results, sum(len(r.messages) for r in results),
                     (record for r in results for record in r.turns), slow_after_s)
    by_agent: dict[str, list[ConversationResult]] = {}
    for result in results:
        for agent in result.agents or ("",):
            by_agent.setdefault(agent_name(agent, bool(result.agents)), []).append(result)
    agents = []
    for name in sorted(by_agent):
        members = by_agent[name]
        sent = sum(1 for r in members for m in r.messages
                   if m.role == "agent" and agent_name(m.sender) == name)
        records = (rec for r in members for rec in r.turns
                   if agent_name(rec.agent, bool(r.agents)) == name)
        agents.append(AgentTotals(name, _group(members, sent, records, slow_after_s)))
    by_day: dict[date | None, list[ConversationResult]] = {}
    for result in results:
        by_day.setdefault(result.start.date() if result.start else None, []).append(result)
    days = [
        DayTotals(day, _group(members, sum(len(r.messages) for r in members),
                              (rec for r in members for rec in r.turns), slow_after_s))
        for day, members in sorted(by_day.items(), key=lambda item: (item[0] is None, item[0] or date.min))
    ]
    return RunTotals(
        summary=summary, agents=tuple(agents), days=tuple(days),
        input_problems=sum(len(i.problems) for i in inputs),
        unreadable_files=sum(1 for i in inputs if not i.readable),
        grade_order=tuple(grade_order),
    )
