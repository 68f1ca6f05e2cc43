"""Complaint keywords (workbook Summary): dictionary words only, most complained-about first."""

from __future__ import annotations

from cs_audit.analysis.keywords import _keyword_extractor, complaint_keywords

COMPLAINTS = [
    "我这个号买的东西都没到，退款什么时候到账",
    "快递三天没更新了，赶紧给我退款",
    "发错颜色了，要退货退款",
    "买能不能便宜点，赠品也没收到",
    "退款申请了两次都被驳回",
]


def test_the_most_repeated_complaint_ranks_first():
    words = [word for word, _ in complaint_keywords(COMPLAINTS)]
    assert words[0] == "退款"


def test_keywords_are_dictionary_words_not_glued_neighbours():
    frequencies = _keyword_extractor().tokenizer.FREQ
    words = [word for word, _ in complaint_keywords(COMPLAINTS * 3)]
    assert words and all(frequencies.get(word) for word in words)
    assert "号买" not in words and "买能" not in words


def test_no_complaints_no_keywords():
    assert complaint_keywords([]) == []
