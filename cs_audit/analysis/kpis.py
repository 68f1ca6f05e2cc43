"""Platform response KPIs (SPEC §3 ids) computed from a conversation's buyer turns.

Each KPI is a ratio of two counts (a share of turns, buyers or sessions; or a sum of seconds
over a number of turns), so totals pool the counts of many conversations instead of averaging
their rates. The counting rules follow what the platforms publish to sellers; the platforms
change them from time to time, so every setting is the rubric's (``[kpis."<id>"]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cs_audit.analysis.response import ServiceHours
from cs_audit.model import KpiCount, TurnRecord

# unit: what one count is — a buyer turn, a buyer (one conversation), or a session.
# measure: "rate" (share answered by a human within within_s) or "mean_s" (capped mean wait).
KPI_DEFINITIONS: dict[str, dict[str, Any]] = {
    "taobao.reply_3min_rate": {"unit": "turn", "measure": "rate", "within_s": 180,
                               "window": "08:00-23:00", "exclude_bot_rounds": True},
    "taobao.avg_reply_s": {"unit": "turn", "measure": "mean_s", "cap_s": 600,
                           "window": "08:00-23:00", "exclude_bot_rounds": True},
    "pdd.reply_3min_rate": {"unit": "buyer", "measure": "rate", "within_s": 180,
                            "window": "08:00-23:00", "exclude_bot_rounds": True},
    "pdd.answer_30s_rate": {"unit": "turn", "measure": "rate", "within_s": 30,
                            "window": "08:00-23:00", "exclude_bot_rounds": True},
    "jd.first_reply_30s_rate": {"unit": "session", "measure": "rate", "within_s": 30,
                                "exclude_sessions_starting": "23:00-09:00",
                                "exclude_bot_rounds": False},
    "douyin.reply_3min_rate": {"unit": "turn", "measure": "rate", "within_s": 180,
                               "window": "08:00-23:00", "exclude_bot_rounds": True},
}
KPI_SETTING_TYPES = {
    "window": str, "within_s": (int, float), "cap_s": (int, float), "exclude_bot_rounds": bool,
    "exclude_sessions_starting": str, "target": (int, float), "source": str,
}


@dataclass(frozen=True, slots=True)
class KpiSettings:
    """One KPI as a rubric applies it: the definition's defaults with the rubric's overrides."""

    id: str
    unit: str
    measure: str
    within_s: float
    cap_s: float
    window: ServiceHours | None
    exclude_bot_rounds: bool
    exclude_sessions_starting: ServiceHours | None
    target: float | None
    source: str

    @classmethod
    def build(cls, kpi_id: str, overrides: Mapping[str, Any]) -> KpiSettings:
        """Settings for ``kpi_id``; raises KeyError for an unknown id, ValueError for bad hours."""
        merged = {**KPI_DEFINITIONS[kpi_id], **overrides}
        window = merged.get("window")
        excluded = merged.get("exclude_sessions_starting")
        return cls(
            id=kpi_id, unit=merged["unit"], measure=merged["measure"],
            within_s=float(merged.get("within_s", 0)), cap_s=float(merged.get("cap_s", 0)),
            window=ServiceHours.parse(window) if window else None,
            exclude_bot_rounds=bool(merged.get("exclude_bot_rounds", False)),
            exclude_sessions_starting=ServiceHours.parse(excluded) if excluded else None,
            target=merged.get("target"), source=merged.get("source", ""),
        )


def _in_window(start: datetime | None, window: ServiceHours | None) -> bool:
    if window is None:
        return True
    return start is not None and window.is_open(start)


def _eligible(turns: Sequence[TurnRecord], settings: KpiSettings) -> list[TurnRecord]:
    return [
        turn for turn in turns
        if _in_window(turn.start, settings.window)
        and not (settings.exclude_bot_rounds and turn.bot_handled)
    ]


def _timely(turn: TurnRecord, within_s: float) -> bool:
    return turn.answered and turn.wait_s is not None and turn.wait_s <= within_s


def kpi_count(turns: Sequence[TurnRecord], conversation_start: datetime | None,
              settings: KpiSettings) -> KpiCount:
    """The KPI counts of one conversation (its turns that expect a reply).

    Turn KPIs count each eligible turn; a buyer KPI counts the conversation's buyer once, as
    timely only when every eligible turn was answered in time; a session KPI counts the first
    turn of a session whose start is not in the excluded hours. Turns without timestamps are
    never eligible: their waits are unknown.
    """
    timed = [turn for turn in turns if turn.start is not None]
    if settings.unit == "session":
        if not timed or conversation_start is None or turns[0].start is None:
            return KpiCount(0, 0)
        excluded = settings.exclude_sessions_starting
        if excluded is not None and excluded.is_open(conversation_start):
            return KpiCount(0, 0)
        first = turns[0]
        if settings.exclude_bot_rounds and first.bot_handled:
            return KpiCount(0, 0)
        return KpiCount(1.0 if _timely(first, settings.within_s) else 0.0, 1)
    eligible = _eligible(timed, settings)
    if settings.unit == "buyer":
        if not eligible:
            return KpiCount(0, 0)
        return KpiCount(1.0 if all(_timely(t, settings.within_s) for t in eligible) else 0.0, 1)
    if settings.measure == "mean_s":
        # An unanswered turn counts as the cap: the buyer waited at least that long.
        total = sum(min(t.wait_s, settings.cap_s) if t.answered and t.wait_s is not None
                    else settings.cap_s for t in eligible)
        return KpiCount(total, len(eligible))
    return KpiCount(float(sum(1 for t in eligible if _timely(t, settings.within_s))), len(eligible))


def kpi_counts(turns: Sequence[TurnRecord], conversation_start: datetime | None,
               kpis: Sequence[KpiSettings]) -> dict[str, KpiCount]:
    """Counts of every KPI a rubric applies, for one conversation."""
    return {settings.id: kpi_count(turns, conversation_start, settings) for settings in kpis}
