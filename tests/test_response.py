"""SPEC §3 response metrics, one rule per test."""

from __future__ import annotations

from datetime import datetime

import pytest

from cs_audit.analysis.response import (
    AcknowledgementMatcher, ServiceHours, buyer_turns, response_metrics, timed_turns,
)
from conftest import conversation

ACKS = AcknowledgementMatcher()


def metrics(conv, hours=None, slow_after_s=180):
    turns = timed_turns(conv.messages, ACKS, ServiceHours.parse(hours) if hours else None)
    stamps = any(m.timestamp for m in conv.messages)
    return response_metrics(turns, stamps, slow_after_s)


def test_consecutive_buyer_messages_form_one_turn_timed_from_the_first():
    conv = conversation(
        ("buyer", "10:00:00", "在吗"),
        ("buyer", "10:00:30", "这个有货吗"),
        ("buyer", "10:01:00", "急"),
        ("agent", "10:02:00", "您好，有货的"),
    )
    m = metrics(conv)
    assert m.turns == 1
    assert m.first_s == 120
    assert m.avg_s == 120


def test_bot_and_system_messages_neither_end_nor_split_a_turn():
    conv = conversation(
        ("buyer", "10:00:00", "在吗"),
        ("bot", "10:00:01", "欢迎光临，客服马上到"),
        ("system", "10:00:02", "买家已下单"),
        ("buyer", "10:00:20", "什么时候发货"),
        ("agent", "10:00:50", "您好，今天发货"),
    )
    turns = buyer_turns(conv.messages)
    assert len(turns) == 1
    assert [m.text for m in turns[0].messages] == ["在吗", "什么时候发货"]
    assert metrics(conv).first_s == 50


def test_a_bot_reply_does_not_answer_the_buyer():
    conv = conversation(("buyer", "10:00:00", "在吗"), ("bot", "10:00:01", "自动回复：稍等"))
    m = metrics(conv)
    assert m.unanswered == 1
    assert m.first_s is None


def test_avg_max_and_slow_over_answered_turns():
    conv = conversation(
        ("buyer", "10:00:00", "a"), ("agent", "10:00:30", "x"),
        ("buyer", "10:01:00", "b"), ("agent", "10:05:00", "y"),
        ("buyer", "10:06:00", "c"), ("agent", "10:09:01", "z"),
    )
    m = metrics(conv)
    assert (m.first_s, m.max_s, m.turns) == (30, 240, 3)
    assert m.avg_s == pytest.approx((30 + 240 + 181) / 3)
    assert m.slow == 2  # 240 and 181 are over 180; exactly 180 would not be


def test_wait_of_exactly_the_limit_is_not_slow():
    conv = conversation(("buyer", "10:00:00", "a"), ("agent", "10:03:00", "x"))
    assert metrics(conv).slow == 0


def test_unanswered_counts_buyer_turns_with_no_agent_message_after_them():
    conv = conversation(
        ("buyer", "10:00:00", "这个多少钱"), ("agent", "10:00:30", "89元"),
        ("buyer", "10:01:00", "能便宜点吗"),
    )
    m = metrics(conv)
    assert m.unanswered == 1
    assert m.turns == 2


@pytest.mark.parametrize("ack", ["好的谢谢", "嗯嗯", "OK", "👍", "谢谢亲~", "好的，收到了哈", "知道了"])
def test_a_final_acknowledgement_is_not_unanswered(ack):
    conv = conversation(("buyer", "10:00:00", "发货了吗"), ("agent", "10:00:30", "发了"),
                        ("buyer", "10:01:00", ack))
    m = metrics(conv)
    assert m.unanswered == 0
    assert m.turns == 1


@pytest.mark.parametrize("text", ["好的？", "好的，那什么时候到", "还没收到", "。。。", "？"])
def test_a_final_question_or_complaint_is_unanswered(text):
    conv = conversation(("buyer", "10:00:00", "发货了吗"), ("agent", "10:00:30", "发了"),
                        ("buyer", "10:01:00", text))
    assert metrics(conv).unanswered == 1


def test_an_acknowledgement_in_the_middle_is_still_a_turn_when_answered():
    conv = conversation(("buyer", "10:00:00", "好的"), ("agent", "10:00:10", "亲还有别的问题吗"),
                        ("buyer", "10:00:20", "没了"))
    m = metrics(conv)
    assert m.turns == 1
    assert m.unanswered == 0


def test_conversation_started_by_the_agent_has_no_wait_before_the_buyer_speaks():
    conv = conversation(
        ("agent", "09:00:00", "亲，您的快递已签收，使用还满意吗"),
        ("buyer", "09:30:00", "挺好的"),
        ("agent", "09:30:20", "感谢支持"),
    )
    m = metrics(conv)
    assert m.first_s == 20
    assert m.turns == 1


def test_conversation_with_only_agent_messages_has_no_turns():
    m = metrics(conversation(("agent", "09:00:00", "亲，在吗")))
    assert (m.turns, m.first_s, m.avg_s, m.unanswered, m.slow) == (0, None, None, 0, 0)


def test_wait_starting_after_closing_is_clocked_from_next_opening():
    conv = conversation(("buyer", "23:40:00", "还在吗"), ("agent", None, "placeholder"))
    conv = conv.__class__(conv.id, conv.source, (
        conv.messages[0],
        conv.messages[1].__class__(1, "agent", "您好", datetime(2024, 4, 16, 8, 5), "a", 3),
    ))
    assert metrics(conv, "08:00-23:00").first_s == 300


def test_wait_starting_before_opening_is_clocked_from_opening_the_same_day():
    conv = conversation(("buyer", "07:30:00", "在吗"), ("agent", "08:02:30", "您好"))
    assert metrics(conv, "08:00-23:00").first_s == 150
    assert metrics(conv).first_s == 1950


def test_reply_before_opening_counts_as_zero_wait():
    conv = conversation(("buyer", "07:30:00", "在吗"), ("agent", "07:31:00", "您好"))
    assert metrics(conv, "08:00-23:00").first_s == 0


def test_wait_starting_inside_hours_runs_past_closing():
    # SPEC §3 moves only the start of a wait; a wait that starts open keeps counting.
    conv = conversation(("buyer", "22:59:00", "在吗"), ("agent", "23:10:00", "您好"))
    assert metrics(conv, "08:00-23:00").first_s == 660


def test_service_hours_that_cross_midnight():
    hours = ServiceHours.parse("20:00-02:00")
    assert hours.is_open(datetime(2024, 4, 15, 23, 0))
    assert hours.is_open(datetime(2024, 4, 16, 1, 59))
    assert not hours.is_open(datetime(2024, 4, 16, 2, 0))
    assert hours.clock_start(datetime(2024, 4, 16, 3, 0)) == datetime(2024, 4, 16, 20, 0)


def test_service_hours_until_midnight():
    hours = ServiceHours.parse("08:00-24:00")
    assert hours.is_open(datetime(2024, 4, 15, 23, 59, 59))
    assert hours.clock_start(datetime(2024, 4, 16, 0, 30)) == datetime(2024, 4, 16, 8, 0)


@pytest.mark.parametrize("text", ["8-23", "08:00", "25:00-23:00", "08:00-08:00"])
def test_bad_service_hours_are_rejected(text):
    with pytest.raises(ValueError):
        ServiceHours.parse(text)


def test_without_timestamps_times_are_null_and_counts_still_work():
    conv = conversation(("buyer", None, "在吗"), ("agent", None, "在的"), ("buyer", None, "多少钱"))
    m = metrics(conv)
    assert (m.first_s, m.avg_s, m.max_s, m.slow) == (None, None, None, None)
    assert (m.turns, m.unanswered) == (2, 1)


@pytest.mark.parametrize("sticker", ["[表情]", "[强]", "[抱拳][抱拳]", "好的[微笑]"])
def test_stickers_and_wechat_emoji_codes_acknowledge(sticker):
    assert ACKS.is_acknowledgement(sticker)
