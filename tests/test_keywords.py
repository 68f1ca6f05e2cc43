"""Complaint keywords (workbook Summary): dictionary words only, most complained-about first."""

from __future__ import annotations

from functools import lru_cache

from hypothesis import given, settings
from hypothesis import strategies as st

from cs_audit.analysis.keywords import KEYWORD_COUNT, KEYWORD_POS, _tables, complaint_keywords

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
    frequencies = _tables().tokenizer.FREQ
    words = [word for word, _ in complaint_keywords(COMPLAINTS * 3)]
    assert words and all(frequencies.get(word) for word in words)
    assert "号买" not in words and "买能" not in words


def test_no_complaints_no_keywords():
    assert complaint_keywords([]) == []


@lru_cache(maxsize=1)
def _jieba_extractor():
    """jieba's own TF-IDF extractor, tagging without HMM on the same tokenizer: what
    complaint_keywords computed before it read jieba's tables from the cache."""
    import jieba.analyse
    import jieba.posseg

    class DictionaryWordsOnly:
        def __init__(self, tagger):
            self.tagger = tagger

        def cut(self, sentence):
            return self.tagger.cut(sentence, HMM=False)

    extractor = jieba.analyse.TFIDF()
    extractor.tokenizer = _tables().tokenizer
    extractor.postokenizer = DictionaryWordsOnly(jieba.posseg.POSTokenizer(_tables().tokenizer))
    return extractor


def _jieba_keywords(texts):
    words = _jieba_extractor().extract_tags("\n".join(texts), topK=KEYWORD_COUNT, withWeight=True,
                                            allowPOS=KEYWORD_POS)
    return [(word, round(weight, 4)) for word, weight in words if "*" not in word]


def test_keywords_are_those_jieba_extracts():
    from conftest import CANONICAL_SAMPLES
    from cs_audit.parsers import parse_file

    texts = [m.text for path in CANONICAL_SAMPLES for c in parse_file(path).conversations
             for m in c.messages if m.role == "buyer"]
    assert complaint_keywords(texts) == _jieba_keywords(texts)
    assert complaint_keywords(COMPLAINTS * 2 + ["iphone 13 屏幕碎了 ABC 退款"]) == \
        _jieba_keywords(COMPLAINTS * 2 + ["iphone 13 屏幕碎了 ABC 退款"])


_CHAT = st.text(alphabet=st.sampled_from(list("退款快递没到质量差客服态度发货慢颜色错了申请驳回赔偿 ab1.\n，！")),
                max_size=80)


@settings(max_examples=80, deadline=None)
@given(st.lists(_CHAT, min_size=1, max_size=4))
def test_any_text_gives_the_keywords_jieba_gives(texts):
    assert complaint_keywords(texts) == _jieba_keywords(texts)
