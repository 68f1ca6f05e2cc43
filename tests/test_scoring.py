"""Scoring: points, applicability, grades, pass_score and critical failures."""

from __future__ import annotations

import textwrap

import pytest

from cs_audit.audit import Auditor
from cs_audit.rubric import RubricError, load_rubric
from conftest import conversation

RUBRIC = """
name = "t"
pass_score = 75
[grades]
good = 75
bad = 0
[response]
slow_after_s = 60
[checks.first]
kind = "response"
title = "first"
severity = "major"
points = 30
metric = "first_s"
max = 30
[checks.answered]
kind = "response"
title = "answered"
severity = "critical"
points = 10
metric = "unanswered"
max = 0
[checks.slow]
kind = "response"
title = "slow"
severity = "minor"
points = 60
metric = "slow"
max = 0
"""


def auditor(tmp_path, text=RUBRIC):
    path = tmp_path / "r.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return Auditor(load_rubric(str(path)))


def test_score_is_share_of_points_over_applicable_checks(tmp_path):
    conv = conversation(("buyer", "10:00:00", "a"), ("agent", "10:00:45", "x"))
    result = auditor(tmp_path).audit(conv)
    by_rule = {c.rule: c for c in result.checks}
    assert not by_rule["first"].passed and by_rule["first"].points == 0
    assert by_rule["answered"].passed and by_rule["slow"].passed
    assert result.score == 70.0
    assert result.grade == "bad" and not result.passed and not result.critical


def test_checks_that_do_not_apply_cost_nothing(tmp_path):
    conv = conversation(("buyer", None, "a"), ("agent", None, "x"))
    result = auditor(tmp_path).audit(conv)
    assert [c.rule for c in result.checks] == ["answered"]
    assert result.score == 100.0 and result.passed


def test_failed_critical_check_fails_and_sinks_the_score_to_critical_score(tmp_path):
    conv = conversation(("buyer", "10:00:00", "a"), ("agent", "10:00:10", "x"), ("buyer", "10:01:00", "b?"))
    result = auditor(tmp_path).audit(conv)
    assert result.critical and not result.passed
    assert result.score == 0.0 and result.score_before_critical == 90.0
    assert result.grade == "bad"


def test_critical_score_is_a_rubric_setting(tmp_path):
    conv = conversation(("buyer", "10:00:00", "a"), ("agent", "10:00:10", "x"), ("buyer", "10:01:00", "b?"))
    result = auditor(tmp_path, "critical_score = 30\n" + textwrap.dedent(RUBRIC)).audit(conv)
    assert result.score == 30.0 and result.score_before_critical == 90.0 and not result.passed


def test_a_conversation_without_a_critical_finding_keeps_its_score(tmp_path):
    conv = conversation(("buyer", "10:00:00", "a"), ("agent", "10:00:45", "x"))
    result = auditor(tmp_path).audit(conv)
    assert result.score == result.score_before_critical == 70.0


def test_critical_score_must_be_a_score(tmp_path):
    path = tmp_path / "r.toml"
    path.write_text('name = "x"\ncritical_score = 120\n', encoding="utf-8")
    with pytest.raises(RubricError, match=r"r.toml:2: critical_score must be between 0 and 100"):
        load_rubric(str(path))


def test_check_points_at_the_message_it_concerns(tmp_path):
    conv = conversation(("buyer", "10:00:00", "a"), ("agent", "10:00:10", "x"),
                        ("buyer", "10:01:00", "b"), ("agent", "10:03:00", "y"))
    slow = {c.rule: c for c in auditor(tmp_path).audit(conv).checks}["slow"]
    assert not slow.passed and slow.message_index == 2
    assert "120 s" in slow.message


def test_no_checks_apply_scores_100(tmp_path):
    result = auditor(tmp_path).audit(conversation(("agent", None, "亲在吗")))
    assert result.score == 100.0 and result.passed


def _default_checks(conv):
    result = Auditor(load_rubric("default")).audit(conv)
    return result, {c.rule: c for c in result.checks}


def test_dispute_steps_are_checked_after_the_complaint():
    conv = conversation(
        ("buyer", "10:00:00", "收到的杯子碎了，怎么回事"),
        ("agent", "10:00:20", "非常抱歉给您添麻烦了，麻烦拍张照片给我看看"),
        ("buyer", "10:01:00", "[图片]"),
        ("agent", "10:01:30", "看到了，是运输途中摔坏的，马上给您补发一个新的"),
    )
    result, checks = _default_checks(conv)
    assert result.dispute.type == "quality"
    for rule in ("dispute_apology", "dispute_evidence", "dispute_explanation", "dispute_remedy"):
        assert checks[rule].passed, rule
    assert checks["no_extortion"].passed


def test_dispute_checks_do_not_apply_without_a_dispute():
    _, checks = _default_checks(conversation(("buyer", "10:00:00", "这个有货吗"),
                                             ("agent", "10:00:10", "您好，有货的")))
    assert not [rule for rule in checks if rule.startswith("dispute_") or rule == "no_extortion"]


def test_extortion_is_flagged_for_the_supervisor_and_no_remedy_is_demanded():
    conv = conversation(
        ("buyer", "10:00:00", "给我转50块钱，不然给你差评加投诉"),
        ("agent", "10:00:20", "亲，我们不能拿评价做交换，商品有问题可以申请售后"),
    )
    result, checks = _default_checks(conv)
    assert result.dispute.malicious
    assert "dispute_remedy" not in checks and "dispute_apology" not in checks
    flag = checks["no_extortion"]
    assert not flag.passed and flag.severity == "info" and flag.max_points == 0


class _UpsetAbout:
    """The rubric's mood model, except that one text scores angry (0.05)."""

    def __init__(self, model, text: str) -> None:
        self.model, self.text = model, text

    def score(self, text: str) -> float:
        return 0.05 if text == self.text else self.model.score(text)

    def trajectory(self, turns):
        return self.model.trajectory(turns)


def test_a_dispute_the_buyers_mood_completed_says_which_message_was_upset():
    angry = "这么高的费用你们能给我说出个道理来吗？"
    auditor = Auditor(load_rubric("default"))
    auditor.sentiment = _UpsetAbout(auditor.sentiment, angry)
    result = auditor.audit(conversation(("buyer", "10:00:00", "在吗"), ("agent", "10:00:10", "在的"),
                                        ("buyer", "10:00:30", angry),
                                        ("agent", "10:01:00", "您好，请问是哪个月的账单")))
    checks = {c.rule: c for c in result.checks}
    assert result.dispute.type == "price" and result.dispute.upset_index == 2
    assert not checks["dispute_remedy"].passed
    assert "buyer upset in message 2" in checks["dispute_remedy"].message
