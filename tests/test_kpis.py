"""Platform KPIs of the bundled rubrics, against values computed by hand."""

from __future__ import annotations

import pytest

from cs_audit.aggregate import totals
from cs_audit.audit import Auditor
from cs_audit.rubric import load_rubric
from conftest import conversation

# Turn 1 starts before 08:00 (outside every 08:00-23:00 window); turn 2 is answered in 120 s;
# turn 3 in 300 s after a bot's auto-reply (a human still answered: not an automatic round);
# turn 4 in 900 s; turn 5 only gets a bot reply (a fully automatic round).
MIXED = conversation(
    ("buyer", "07:59:00", "在吗"), ("agent", "08:01:00", "您好"),
    ("buyer", "10:00:00", "这个有货吗"), ("agent", "10:02:00", "有的"),
    ("buyer", "10:05:00", "什么时候发货"), ("bot", "10:05:01", "自动回复：客服马上来"),
    ("agent", "10:10:00", "今天发"),
    ("buyer", "11:00:00", "能便宜吗"), ("agent", "11:15:00", "不能哦"),
    ("buyer", "22:59:00", "还在吗"), ("bot", "22:59:02", "自动回复：已下班"),
    conversation_id="MIXED",
)
# Answered in 20 s, then an unanswered question.
UNANSWERED = conversation(
    ("buyer", "14:00:00", "在吗"), ("agent", "14:00:20", "在的"), ("buyer", "14:01:00", "多少钱"),
    conversation_id="UNANSWERED",
)
# Every round answered within 25 s.
PROMPT = conversation(
    ("buyer", "09:00:00", "在吗"), ("agent", "09:00:25", "在的"),
    ("buyer", "09:01:00", "好的，拍了"), ("agent", "09:01:10", "好的亲"),
    conversation_id="PROMPT",
)
# Starts at 23:00:00 sharp: outside 08:00-23:00, inside JD's excluded 23:00-09:00.
LATE = conversation(("buyer", "23:00:00", "在吗"), ("agent", "23:00:10", "在的"),
                    conversation_id="LATE")


def kpis_of(rubric_name, conv):
    return Auditor(load_rubric(rubric_name)).audit(conv).response.kpis


def pooled(rubric_name, *convs):
    rubric = load_rubric(rubric_name)
    results = [Auditor(rubric).audit(c) for c in convs]
    run = totals(results, [], rubric.slow_after_s)
    return {kpi: count.value for kpi, count in run.summary.kpis.items()}


def test_taobao_rate_and_capped_average_with_window_and_bot_rounds():
    kpis = kpis_of("taobao", MIXED)
    assert kpis["taobao.reply_3min_rate"] == pytest.approx(1 / 3)   # turns 2-4, only turn 2 in time
    assert kpis["taobao.avg_reply_s"] == pytest.approx((120 + 300 + 600) / 3)


def test_taobao_unanswered_round_counts_as_600_seconds():
    kpis = kpis_of("taobao", UNANSWERED)
    assert kpis["taobao.reply_3min_rate"] == pytest.approx(0.5)
    assert kpis["taobao.avg_reply_s"] == pytest.approx((20 + 600) / 2)


def test_totals_pool_turns_rather_than_average_rates():
    values = pooled("taobao", MIXED, UNANSWERED)
    assert values["taobao.reply_3min_rate"] == pytest.approx(2 / 5)   # not (1/3 + 1/2) / 2
    assert values["taobao.avg_reply_s"] == pytest.approx((120 + 300 + 600 + 20 + 600) / 5)


def test_a_round_starting_at_the_window_close_is_not_counted():
    assert kpis_of("taobao", LATE)["taobao.reply_3min_rate"] is None
    assert kpis_of("douyin", LATE)["douyin.reply_3min_rate"] is None


def test_pdd_counts_buyers_answered_in_time_in_every_round():
    assert kpis_of("pdd", MIXED)["pdd.reply_3min_rate"] == 0
    assert kpis_of("pdd", UNANSWERED)["pdd.reply_3min_rate"] == 0
    assert kpis_of("pdd", PROMPT)["pdd.reply_3min_rate"] == 1
    assert pooled("pdd", MIXED, UNANSWERED, PROMPT)["pdd.reply_3min_rate"] == pytest.approx(1 / 3)


def test_pdd_30_second_answer_rate_per_round():
    assert kpis_of("pdd", MIXED)["pdd.answer_30s_rate"] == 0
    assert kpis_of("pdd", UNANSWERED)["pdd.answer_30s_rate"] == pytest.approx(0.5)
    assert kpis_of("pdd", PROMPT)["pdd.answer_30s_rate"] == 1


def test_jd_first_reply_excludes_sessions_started_at_night():
    assert kpis_of("jd", MIXED)["jd.first_reply_30s_rate"] is None    # started 07:59
    assert kpis_of("jd", LATE)["jd.first_reply_30s_rate"] is None     # started 23:00
    assert kpis_of("jd", UNANSWERED)["jd.first_reply_30s_rate"] == 1  # 20 s
    assert kpis_of("jd", PROMPT)["jd.first_reply_30s_rate"] == 1      # started 09:00: counted
    assert pooled("jd", MIXED, LATE, UNANSWERED, PROMPT)["jd.first_reply_30s_rate"] == 1


def test_douyin_three_minute_rate():
    assert kpis_of("douyin", MIXED)["douyin.reply_3min_rate"] == pytest.approx(1 / 3)
    assert kpis_of("douyin", PROMPT)["douyin.reply_3min_rate"] == 1


def test_kpis_are_null_without_timestamps():
    untimed = conversation(("buyer", None, "在吗"), ("agent", None, "在的"))
    assert kpis_of("taobao", untimed) == {"taobao.reply_3min_rate": None, "taobao.avg_reply_s": None}


def test_default_rubric_has_no_kpis():
    assert kpis_of("default", MIXED) == {}


def test_a_rubric_can_change_a_kpi_setting(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text('extends = "taobao"\n[kpis."taobao.reply_3min_rate"]\nwithin_s = 300\n', encoding="utf-8")
    assert kpis_of(str(path), MIXED)["taobao.reply_3min_rate"] == pytest.approx(2 / 3)


def test_agents_and_days_get_kpis_too():
    rubric = load_rubric("taobao")
    results = [Auditor(rubric).audit(c) for c in (MIXED, UNANSWERED)]
    run = totals(results, [], rubric.slow_after_s)
    assert [a.agent for a in run.agents] == ["shop:amy"]
    assert run.agents[0].totals.kpis["taobao.reply_3min_rate"].value == pytest.approx(2 / 5)
    assert [str(d.day) for d in run.days] == ["2024-04-15"]
    assert run.days[0].totals.kpis["taobao.avg_reply_s"].value == pytest.approx(328)
