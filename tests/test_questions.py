"""buyer.ignored_question: buyer questions no agent message addresses (issue #15)."""

from __future__ import annotations

import pytest

from cs_audit.analysis.detectors import Detectors
from cs_audit.analysis.questions import CATEGORY, NOTES
from cs_audit.model import Conversation, Message


@pytest.fixture(scope="module")
def questions():
    detectors = Detectors.build()
    return next(d for d in detectors.others if getattr(d, "category", "") == CATEGORY)


def chat(*messages: tuple[str, str]) -> Conversation:
    return Conversation("Q", "test.csv", tuple(
        Message(index, role, text) for index, (role, text) in enumerate(messages)))


def ignored(questions, *messages) -> dict[int, str]:
    return {d.message_index: d.note for d in questions.detect(chat(*messages))}


def test_a_question_the_chat_ends_on_is_ignored(questions):
    assert ignored(questions, ("buyer", "在吗"), ("agent", "您好"), ("buyer", "能便宜点吗")) == {
        2: NOTES["no_reply"]}


def test_a_reply_addresses_the_question(questions):
    assert ignored(questions, ("buyer", "能便宜点吗"), ("agent", "亲，已经是活动价了")) == {}


def test_acknowledgements_and_replies_to_a_closing_question_need_no_answer(questions):
    for text in ("好的谢谢", "没有啦", "暂不用了", "en", "没了谢谢"):
        assert ignored(questions, ("agent", "还有其他可以帮您的吗"), ("buyer", text)) == {}, text


def test_a_hold_the_agent_never_comes_back_from_leaves_the_question_ignored(questions):
    found = ignored(questions, ("buyer", "有厚一点的吗"), ("agent", "稍等亲"))
    assert found == {0: NOTES["hold_only"]}


def test_a_hold_followed_by_an_answer_addresses_the_question(questions):
    assert ignored(questions, ("buyer", "有厚一点的吗"), ("agent", "稍等亲"),
                   ("agent", "有的，这款加厚款您看下")) == {}


def test_a_canned_line_pasted_again_does_not_address_a_new_question(questions):
    line = "亲订单价格已经改好可以付款啦"
    found = ignored(questions, ("buyer", "我拍了"), ("agent", line), ("buyer", "为什么有运费"),
                    ("agent", line))
    assert found == {2: NOTES["repeat"]}


def test_a_short_agreement_repeated_is_an_answer(questions):
    assert ignored(questions, ("buyer", "帮我取消这个订单"), ("agent", "好的"),
                   ("buyer", "那个也帮我取消"), ("agent", "好的")) == {}


def test_the_buyer_writing_twice_before_the_reply_is_one_turn(questions):
    assert ignored(questions, ("buyer", "在吗"), ("buyer", "能开发票吗"),
                   ("agent", "可以的，下单时备注抬头")) == {}


def test_the_buyer_saying_they_are_not_answered_is_a_finding(questions):
    found = ignored(questions, ("buyer", "别跟我说这个我只想问什么时候送"), ("agent", "这边只能联系下"))
    assert found == {0: NOTES["buyer_says"]}


def test_agent_questions_are_never_findings(questions):
    assert ignored(questions, ("agent", "请问您需要什么颜色呢？")) == {}


def test_the_detection_points_at_the_whole_question(questions):
    detection = questions.detect(chat(("buyer", "为什么有运费")))[0]
    assert detection.role == "buyer" and detection.span == (0, 6) and detection.text == "为什么有运费"
    assert detection.suggestion
