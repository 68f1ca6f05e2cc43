"""Buyer escalation: the context rules from the lexicon (the example table runs in test_examples.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_audit.analysis.escalation import CATEGORY, EscalationDetector
from cs_audit.lexicon import LexiconError, bundled_lexicon_dir
from cs_audit.model import Conversation, Message


def folder_with_escalation(tmp_path: Path, lexicon: str) -> Path:
    """A copy of the bundled lexicons whose escalation.txt is ``lexicon``."""
    folder = tmp_path / "lexicons"
    shutil.copytree(bundled_lexicon_dir(), folder, ignore=shutil.ignore_patterns("examples", "categories"))
    (folder / "escalation.txt").write_text(lexicon, encoding="utf-8")
    return folder

@pytest.fixture(scope="module")
def detector() -> EscalationDetector:
    return EscalationDetector()


def one_message(role: str, text: str) -> Conversation:
    return Conversation(id="c1", source="test", messages=(Message(index=0, role=role, text=text),))


def fires(detector: EscalationDetector, role: str, text: str) -> bool:
    return any(d.category == CATEGORY for d in detector.detect(one_message(role, text)))


@pytest.mark.parametrize("role", ["agent", "bot", "system"])
def test_only_buyer_messages_are_searched(detector, role):
    assert not fires(detector, role, "我要投诉，差评，打12315")
    assert fires(detector, "buyer", "我要投诉，差评，打12315")


def test_span_and_text_point_at_the_original_characters(detector):
    text = "再这样　我就打１２３１５，差 评！"
    detections = detector.detect(one_message("buyer", text))
    assert [(d.span, d.text) for d in detections] == [((7, 12), "１２３１５"), ((13, 16), "差 评")]
    assert all(text[d.span[0]:d.span[1]] == d.text for d in detections)


def test_each_detection_notes_what_kind_of_escalation_it_is(detector):
    notes = [d.note for d in detector.detect(one_message("buyer", "叫你们经理来，不然拒付"))]
    assert notes == ["buyer demands a manager", "buyer threatens a chargeback through the bank"]


def test_overlapping_phrases_are_reported_once_as_the_longest(detector):
    matches = detector.find("我要申请平台介入")
    assert [(m.start, m.end, m.kind) for m in matches] == [(2, 8, "complaint")]


def test_negation_reaches_only_across_filler_words(detector):
    assert not detector.find("我不会给你们差评的")
    assert detector.find("没发货投诉你")


def test_a_resolved_complaint_that_is_asked_about_still_fires(detector):
    assert not detector.find("上次投诉的问题解决了谢谢")
    assert detector.find("我投诉的问题解决了没")


def test_hotline_number_inside_a_longer_number_does_not_fire(detector):
    assert not detector.find("订单2024123156")
    assert detector.find("打12315")


def test_manager_words_need_a_demand_before_them(detector):
    assert detector.find("找你们领导出来")
    assert not detector.find("你们领导说可以退")


def test_custom_lexicon_is_used_instead_of_the_bundled_one(tmp_path):
    detector = EscalationDetector(folder_with_escalation(
        tmp_path, "退钱 | phrase | as=complaint\n不 | @negated\n"))
    assert detector.find("快退钱")
    assert not detector.find("不退钱也行")
    assert not detector.find("我要投诉")


@pytest.mark.parametrize(
    "line", ["投诉 | anger", "投诉 | phrase | as=anger", "投诉 | phrase | as=complaint before=找",
             "不 | @negated | after=找", "差评 | phrase | as=review for=review"]
)
def test_a_bad_lexicon_line_is_an_error_naming_file_and_line(tmp_path, line):
    folder = folder_with_escalation(tmp_path, f"# header\n{line}\n")
    with pytest.raises(LexiconError, match=r"escalation\.txt:2:"):
        EscalationDetector(folder)


def test_context_rule_with_for_applies_only_to_the_named_kinds(tmp_path):
    detector = EscalationDetector(folder_with_escalation(
        tmp_path, "差评 | phrase | as=review\n经理 | phrase | as=manager\n说 | @mentioned_after | for=review\n"))
    assert not detector.find("差评说质量不好")
    assert detector.find("经理说话")


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 6)), max_size=25))
@settings(max_examples=200, deadline=None)
def test_longest_first_keeps_the_longest_non_overlapping_hits(spans):
    from cs_audit.analysis.engine import Hit
    from cs_audit.analysis.escalation import _longest_first

    hits = [Hit(start, start + length, None) for start, length in spans]
    naive: list = []
    for hit in sorted(hits, key=lambda hit: (hit.start - hit.end, hit.start)):
        if all(hit.end <= other.start or other.end <= hit.start for other in naive):
            naive.append(hit)
    assert _longest_first(hits) == naive


@pytest.mark.parametrize(("told", "threatened"), [
    # the company's answer after a complaint tells what happened, unless a threat word stands
    ("电话投诉，却被告知号码没有问题", "我要电话投诉，却被告知号码没有问题"),
    ("投诉客服，今天回复说可以退一半", "不处理我就投诉客服，今天回复说可以退一半"),
    # 找客服投诉 is a step of the story until a threat word comes right before it
    ("订单取消了，找客服投诉，说会有人联系", "订单取消了，我要找客服投诉"),
    # a threat word before the past word: the past word names the matter
    ("上次的问题投诉过了", "我要就上次的问题投诉你们"),
])
def test_a_told_complaint_and_the_same_complaint_threatened(detector, told, threatened):
    assert not detector.find(told)
    assert detector.find(threatened)


def test_tagging_the_press_counts_only_right_after_the_at_sign(detector):
    assert detector.find("@某某新闻 @某店官方 三天不发货")
    assert not detector.find("看新闻说三天不发货")
