"""The bundled chat-mood model: snownlp's Bayes format, a neutral band, and the rubric switch."""

from __future__ import annotations

import pickle
from statistics import fmean

import pytest

from cs_audit.analysis.chat_mood import (
    CALIBRATION_FILE, MODEL_FILE, ChatMoodModel, bundled_calibration, chat_tokens)
from cs_audit.analysis.sentiment import SentimentModel, buyer_trajectory
from cs_audit.api import audit_conversations
from cs_audit.audit import mood_model
from cs_audit.model import Conversation, Message
from cs_audit.rubric import RubricError, load_rubric

# Neutral chat the review model reads as anger (it scores these below 0.2).
NEUTRAL = ["我身高165体重110斤，穿什么码", "[订单x]", "请问今天能发货吗", "这款有黑色的吗",
           "收货地址改成杭州市西湖区[地址x]", "好的", "嗯嗯",
           # A bare order or phone number: round 1 scored these 0.13, the number token alone
           # leaning on the dates and amounts complaints quote.
           "528941799061", "18591880786"]
ANGRY = ["你们就是骗子，差评", "垃圾店铺，再也不会买了", "😡😡", "太坑了吧，气死我了",
         "呵呵，这就是你们说的好品质？", "说好今天到，又没到，无语", "气死我了😡"]
# Sure anger must read as sure on a probability scale: well below 0.2, not just below the line.
SURELY_ANGRY = ["你们就是骗子，差评", "太坑了吧，气死我了", "等了一个礼拜还没发，算了不要了",
                "你们这服务真是绝了，呵呵"]
CONTENT = ["好的谢谢", "谢谢亲，收到了很喜欢😊", "非常满意", "问题解决了，辛苦了", "谢谢😊"]
# Known misses, pinned strictly so that a better model shows them.
KNOWN_MISSES = [
    pytest.param("拍什么拍，碎了就是碎了，恶心", marks=pytest.mark.xfail(
        strict=True, reason="0.45: 恶心 is rare in the material and 碎 reads as a plain report")),
]


@pytest.fixture(scope="module")
def chat():
    return mood_model("chat")


def test_model_file_is_snownlps_own_bayes_format():
    from snownlp.classification.bayes import Bayes

    bayes = Bayes()
    bayes.load(str(MODEL_FILE)[: -len(".3")])  # snownlp appends ".3" itself
    assert sorted(bayes.d) == ["neg", "neu", "pos"]
    assert bayes.total == sum(counts.getsum() for counts in bayes.d.values())


@pytest.mark.parametrize("text", NEUTRAL)
def test_neutral_chat_scores_in_the_neutral_band(chat, text):
    assert 0.35 <= chat.score(text) <= 0.7, text


@pytest.mark.parametrize("text", ANGRY)
def test_angry_messages_score_below_the_angry_ending_line(chat, text):
    line = next(check.params["min_last"] for check in load_rubric("default").checks
                if check.id == "no_angry_ending")
    assert chat.score(text) < line, text


@pytest.mark.parametrize("text", SURELY_ANGRY)
def test_sure_anger_scores_well_below_0_2(chat, text):
    assert chat.score(text) < 0.1, text


@pytest.mark.parametrize("text", KNOWN_MISSES)
def test_known_misses_still_score_above_the_angry_ending_line(chat, text):
    line = next(check.params["min_last"] for check in load_rubric("default").checks
                if check.id == "no_angry_ending")
    assert chat.score(text) < line, text


@pytest.mark.parametrize("text", CONTENT)
def test_thanks_and_praise_score_above_neutral(chat, text):
    assert chat.score(text) > 0.6, text


def test_a_long_neutral_message_is_not_more_negative_than_a_short_one(chat):
    short = chat.score("有M码吗")
    long = chat.score("你好，我想问一下这件外套还有M码吗，我身高165体重110斤，平时穿M，"
                      "请问今天下单明天能发货吗，发什么快递")
    assert long >= short - 0.1


def test_review_model_reads_the_same_neutral_chat_as_angry():
    # What the chat model is for: snownlp's review model puts these below the old 0.2 line.
    reviews = mood_model("snownlp-reviews")
    assert reviews.score("我身高165体重110斤，穿什么码") < 0.2


def test_tokens_fold_masks_numbers_and_keep_emoticons():
    words = chat_tokens("订单[订单x]，金额199元？？[怒]😡", lambda run: [run])
    assert "<mask>" in words and "<num>" in words and "?" in words
    assert "[怒]" in words and "😡" in words
    assert "订单x" not in "".join(words)
    assert "<bare>" not in words


@pytest.mark.parametrize("text", ["528941799061", "[订单x]", "13800001111，[地址x]", "2.6.2"])
def test_a_message_of_only_cards_and_numbers_is_marked_bare(text):
    assert chat_tokens(text, lambda run: [run])[-1] == "<bare>"


@pytest.mark.parametrize("text", ["订单528941799061", "ok 123", "😡 123", "[怒]123", ""])
def test_a_message_with_any_word_or_emoji_is_not_bare(text):
    assert "<bare>" not in chat_tokens(text, lambda run: [run])


def test_score_is_a_probability_of_the_calibrated_classes(chat):
    p_neg, p_neu, p_pos = chat.probabilities("请问怎么退货")
    assert abs(p_neg + p_neu + p_pos - 1) < 1e-9
    assert chat.score("请问怎么退货") == pytest.approx(p_pos + p_neu / 2)


def test_calibration_records_its_held_out_figures():
    calibration = bundled_calibration()
    assert CALIBRATION_FILE.is_file()
    assert set(calibration["held_out"]) == {"neg", "neu", "pos"}
    assert calibration["temperature"] > 0


def test_chat_model_pickles_into_an_equal_model(chat):
    copy = pickle.loads(pickle.dumps(chat))
    assert isinstance(copy, ChatMoodModel)
    assert copy.score("发错货了，气死了") == chat.score("发错货了，气死了")


def _conversation(*texts: tuple[str, str]) -> Conversation:
    return Conversation(id="c1", source="t", messages=tuple(
        Message(index=i, role=role, text=text) for i, (role, text) in enumerate(texts)))


def test_snownlp_reviews_setting_gives_the_review_models_scores_bit_for_bit(tmp_path):
    rubric_file = tmp_path / "old.toml"
    rubric_file.write_text('name = "old"\nextends = "default"\n[sentiment]\nmodel = "snownlp-reviews"\n',
                           encoding="utf-8")
    rubric = load_rubric(str(rubric_file))
    assert rubric.sentiment_model == "snownlp-reviews"
    conversation = _conversation(("buyer", "在吗，我身高165穿什么码"), ("agent", "您好，M码"),
                                 ("buyer", "好的谢谢"))
    [result] = audit_conversations([conversation], rubric)
    reviews = SentimentModel()
    expected = buyer_trajectory(reviews.score, [["在吗，我身高165穿什么码"], ["好的谢谢"]])
    assert result.sentiment == expected


def test_default_rubric_uses_the_chat_model():
    assert load_rubric("default").sentiment_model == "chat"


def test_unknown_sentiment_model_names_its_line(tmp_path):
    rubric_file = tmp_path / "bad.toml"
    rubric_file.write_text('name = "bad"\n[sentiment]\nmodel = "bert"\n', encoding="utf-8")
    with pytest.raises(RubricError) as caught:
        load_rubric(str(rubric_file))
    assert "bad.toml:3" in str(caught.value)
