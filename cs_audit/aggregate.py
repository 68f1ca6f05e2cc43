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


class _GroupBuilder:
    """One group's totals, added up a conversation at a time (same order, same sums)."""

    def __init__(self) -> None:
        self.conversations = 0
        self.messages = 0
        self.score_sum: float = 0
        self.passed = 0
        self.critical = 0
        self.grades: Counter[str] = Counter()
        self.failed_rules: Counter[str] = Counter()
        self.kpis: dict[str, KpiCount] = {}
        self.turns = 0
        self.answered = 0
        self.wait_sum: float = 0
        self.waits = 0
        self.max_wait: float | None = None
        self.slow = 0

    def add(self, result: ConversationResult, messages: int, records: Iterable[TurnRecord],
            slow_after_s: float) -> None:
        self.conversations += 1
        self.messages += messages
        self.score_sum += result.score
        self.passed += result.passed
        self.critical += result.critical
        self.grades[result.grade] += 1
        self.failed_rules.update(check.rule for check in result.checks if not check.passed)
        for kpi_id, count in result.kpi_counts.items():
            self.kpis[kpi_id] = self.kpis[kpi_id] + count if kpi_id in self.kpis else count
        for record in records:
            self.turns += 1
            self.answered += record.answered
            if record.wait_s is not None:
                self.wait_sum += record.wait_s
                self.waits += 1
                if self.max_wait is None or record.wait_s > self.max_wait:
                    self.max_wait = record.wait_s
                if record.wait_s > slow_after_s:
                    self.slow += 1

    def finish(self) -> GroupTotals:
        return GroupTotals(
            conversations=self.conversations, messages=self.messages,
            score_mean=self.score_sum / self.conversations if self.conversations else None,
            passed=self.passed, critical=self.critical, grades=dict(self.grades),
            failed_rules=dict(self.failed_rules.most_common()),
            response=ResponseTotals(
                turns=self.turns, answered=self.answered, unanswered=self.turns - self.answered,
                avg_s=self.wait_sum / self.waits if self.waits else None,
                max_s=self.max_wait, slow=self.slow,
            ),
            kpis=self.kpis,
        )


class TotalsBuilder:
    """Run totals added up as results arrive, so a run need not keep its results.

    Feeding every result of a run to ``add`` and calling ``finish`` gives exactly what
    :func:`totals` gives for the same results.
    """

    def __init__(self, slow_after_s: float, grade_order: Sequence[str] = ()) -> None:
        self.slow_after_s = slow_after_s
        self.grade_order = tuple(grade_order)
        self._summary = _GroupBuilder()
        self._agents: dict[str, _GroupBuilder] = {}
        self._days: dict[date | None, _GroupBuilder] = {}

    def add(self, result: ConversationResult) -> None:
        """Count one audited conversation."""
        slow_after_s = self.slow_after_s
        self._summary.add(result, len(result.messages), result.turns, slow_after_s)
        has_agents = bool(result.agents)
        sent_by: Counter[str] = Counter(agent_name(m.sender) for m in result.messages if m.role == "agent")
        records_by: dict[str, list[TurnRecord]] = {}
        for record in result.turns:
            records_by.setdefault(agent_name(record.agent, has_agents), []).append(record)
        for agent in result.agents or ("",):
            name = agent_name(agent, has_agents)
            sent = sent_by[name]
            records = records_by.get(name, ())
            group = self._agents.get(name)
            if group is None:
                group = self._agents[name] = _GroupBuilder()
            group.add(result, sent, records, slow_after_s)
        day = result.start.date() if result.start else None
        group = self._days.get(day)
        if group is None:
            group = self._days[day] = _GroupBuilder()
        group.add(result, len(result.messages), result.turns, slow_after_s)

    def finish(self, inputs: Sequence[InputSummary]) -> RunTotals:
        """The run's totals (agents sorted by name, days in order, undated last)."""
        return RunTotals(
            summary=self._summary.finish(),
            agents=tuple(AgentTotals(name, self._agents[name].finish()) for name in sorted(self._agents)),
            days=tuple(DayTotals(day, self._days[day].finish())
                       for day in sorted(self._days, key=lambda d: (d is None, d or date.min))),
            input_problems=sum(len(i.problems) for i in inputs),
            unreadable_files=sum(1 for i in inputs if not i.readable),
            grade_order=self.grade_order,
        )


def agent_name(sender: str, conversation_has_agents: bool = True) -> str:
    """The name an agent is reported under: unnamed agents and agent-less conversations are visible."""
    if sender:
        return sender
    return UNNAMED_AGENT if conversation_has_agents else NO_AGENT


def totals(results: Iterable[ConversationResult], inputs: Sequence[InputSummary],
           slow_after_s: float, grade_order: Sequence[str] = ()) -> RunTotals:
    """Totals for the run, per agent (sorted by name) and per day the conversations started.

    KPI counts are pooled: an agent's KPIs pool the conversations they took part in.
    """
    builder = TotalsBuilder(slow_after_s, grade_order)
    for result in results:
        builder.add(result)
    return builder.finish(inputs)
