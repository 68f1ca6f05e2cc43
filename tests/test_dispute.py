"""Dispute type and handling steps: the example tables, whole conversations, the lexicon format."""

from __future__ import annotations

import pickle
import shutil
from collections import Counter
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_audit.analysis.dispute import (
    NO_DISPUTE,
    STEPS,
    TYPES,
    DisputeAnalyzer,
    DisputeFacts,
    DisputeSteps,
)
from cs_audit.analysis.escalation import EscalationDetector
from cs_audit.analysis.phrases import ToneDetector
from cs_audit.lexicon import LexiconError
from cs_audit.model import Conversation, Message
from cs_audit.resources import data_dir

EXAMPLES = data_dir("lexicons") / "examples"
MINIMUM_TYPE_ROWS = 12
MINIMUM_STEP_ROWS = 15
MINIMUM_NONE_ROWS = 40


def _table(name: str) -> list[tuple[str, str, str, int]]:
    rows = []
    path = EXAMPLES / name
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        parts = raw.split("\t")
        assert len(parts) == 3 and all(parts), f"{path}:{number}: expected LABEL<TAB>role<TAB>text"
        rows.append((parts[0], parts[1], parts[2], number))
    return rows


TYPE_ROWS = _table("dispute.type.tsv")
STEP_ROWS = _table("dispute.steps.tsv")


@pytest.fixture(scope="module")
def analyzer() -> DisputeAnalyzer:
    return DisputeAnalyzer()


@pytest.fixture(scope="module")
def detectors() -> tuple[ToneDetector, EscalationDetector]:
    return ToneDetector(), EscalationDetector()


def chat(*messages: tuple[str, str]) -> Conversation:
    """A conversation from (role, text) pairs, indexed in order."""
    return Conversation("D1", "test", tuple(
        Message(index=index, role=role, text=text) for index, (role, text) in enumerate(messages)
    ))


def detections_of(detectors, conversation: Conversation):
    tone, escalation = detectors
    return [*tone.detect(conversation), *escalation.detect(conversation)]


def analyse(analyzer, detectors, *messages: tuple[str, str]) -> DisputeFacts:
    conversation = chat(*messages)
    return analyzer.analyse(conversation, detections_of(detectors, conversation))


# --- example tables ----------------------------------------------------------------------

@pytest.mark.parametrize("label, role, text, line", TYPE_ROWS, ids=[f"type:{r[3]}" for r in TYPE_ROWS])
def test_type_example(analyzer, detectors, label, role, text, line):
    detections = detections_of(detectors, chat((role, text)))
    found = analyzer.types_in(text, detections)
    if label == "none":
        assert found == (), f"line {line}: no dispute expected in {text!r}, found {found}"
    else:
        main = analyzer.message_type(text, detections, role)
        assert main == label, f"line {line}: {text!r} gave {main} of {found}"


@pytest.mark.parametrize("label, role, text, line", STEP_ROWS, ids=[f"step:{r[3]}" for r in STEP_ROWS])
def test_step_example(analyzer, detectors, label, role, text, line):
    found = analyzer.steps_in(text, detections_of(detectors, chat((role, text))))
    if label == "none":
        assert found == (), f"line {line}: no step expected in {text!r}, found {found}"
    else:
        assert label in found, f"line {line}: {label} expected in {text!r}, found {found}"


def test_type_table_has_enough_rows_of_every_type_and_of_look_alikes():
    counts = Counter(label for label, *_ in TYPE_ROWS)
    assert set(counts) == {*TYPES, "none"}
    assert all(counts[name] >= MINIMUM_TYPE_ROWS for name in TYPES), counts
    assert counts["none"] >= MINIMUM_NONE_ROWS


def test_step_table_has_enough_rows_of_every_step_and_of_look_alikes():
    counts = Counter(label for label, *_ in STEP_ROWS)
    expected = [step for step in STEPS if step != "respond"]
    assert set(counts) == {*expected, "none"}
    assert all(counts[step] >= MINIMUM_STEP_ROWS for step in expected), counts
    assert counts["none"] >= MINIMUM_NONE_ROWS


def test_example_rows_are_spoken_by_the_side_they_describe():
    assert {role for _, role, _, _ in TYPE_ROWS} == {"buyer"}
    assert {role for _, role, _, _ in STEP_ROWS} == {"agent"}


# --- single-message context rules ----------------------------------------------------------

def test_a_status_question_is_not_a_logistics_dispute_until_the_buyer_complains(analyzer):
    assert analyzer.types_in("物流到哪了") == ()
    assert analyzer.types_in("物流到哪了？都五天了") == ("logistics",)


def test_a_presale_question_about_a_property_is_not_a_dispute_once_the_goods_are_not_here(analyzer):
    assert analyzer.types_in("会不会掉色？") == ()
    assert analyzer.types_in("收到的裤子掉色吗，我手都染蓝了") == ("quality",)


def test_a_negated_step_is_not_taken(analyzer):
    assert analyzer.steps_in("不能退款") == ()
    assert analyzer.steps_in("不需要照片") == ()
    assert analyzer.steps_in("退款是不行的") == ()
    assert analyzer.steps_in("给您退款") == ("remedy",)


def test_a_money_demand_is_malicious_only_next_to_a_threat(analyzer, detectors):
    text = "给我转50不然差评"
    assert analyzer.types_in(text) == ()
    assert analyzer.types_in(text, detections_of(detectors, chat(("buyer", text)))) == ("malicious",)


def test_a_threat_for_the_ordinary_remedy_is_not_extortion(analyzer, detectors):
    text = "不给我退款我就投诉"
    found = analyzer.types_in(text, detections_of(detectors, chat(("buyer", text))))
    assert found == ("after_sales",)


def test_type_spans_point_at_the_original_characters(analyzer):
    text = "物流 一直 没更新，ＷＨＹ"
    [match] = analyzer.type_matches(text)
    assert match.text == text[match.span[0]:match.span[1]] == "物流 一直"


# --- whole conversations -------------------------------------------------------------------

def test_a_logistics_dispute_handled_fully_takes_every_step(analyzer, detectors):
    facts = analyse(
        analyzer, detectors,
        ("buyer", "你好，在吗"),
        ("agent", "您好，在的"),
        ("buyer", "我的快递五天了物流一直没更新"),
        ("agent", "非常抱歉让您久等了，麻烦提供一下订单号"),
        ("buyer", "123456789"),
        ("agent", "帮您查了一下，物流显示包裹卡在中转站了"),
        ("agent", "这边马上给您补发一个，走顺丰"),
        ("agent", "已经为您登记补发，发出后第一时间通知您"),
    )
    assert facts.type == "logistics" and facts.types == ("logistics",)
    assert facts.start_index == 2 and not facts.malicious
    assert facts.steps == DisputeSteps(respond=3, apologise=3, ask_evidence=3, explain=5,
                                       remedy=6, follow_up=7)
    assert facts.steps.missing == ()
    assert facts.evidence_for("remedy").text == "补发"
    assert facts.evidence_for("logistics").message_index == 2


def test_a_quality_dispute_without_a_request_for_evidence_misses_that_step(analyzer, detectors):
    facts = analyse(
        analyzer, detectors,
        ("buyer", "收到的杯子碎了一个"),
        ("agent", "真的很抱歉，给您重新发一个"),
        ("buyer", "好的"),
        ("agent", "已经补发了，还有其他问题吗"),
    )
    assert facts.type == "quality"
    assert facts.steps.ask_evidence is None
    assert facts.steps.missing == ("ask_evidence", "explain")
    assert (facts.steps.apologise, facts.steps.remedy, facts.steps.follow_up) == (1, 1, 3)


def test_a_malicious_buyer_is_flagged_and_the_refused_payment_is_no_remedy(analyzer, detectors):
    facts = analyse(
        analyzer, detectors,
        ("buyer", "猕猴桃太硬了"),
        ("agent", "亲，放几天就软了"),
        ("buyer", "我不管，给我转50块钱，不然给你差评"),
        ("agent", "亲，我们不能拿评价做交换给您转钱"),
    )
    assert facts.malicious and facts.type == "malicious"
    assert facts.evidence_for("malicious").text == "给我转"
    assert facts.steps.remedy is None and facts.steps.respond == 3


def test_asking_for_compensation_without_a_threat_is_not_malicious(analyzer, detectors):
    facts = analyse(
        analyzer, detectors,
        ("buyer", "杯子碎了，能给点补偿吗"),
        ("agent", "非常抱歉，给您补发一个"),
    )
    assert facts.type == "quality" and facts.types == ("quality",)
    assert not facts.malicious


def test_a_presale_chat_is_not_a_dispute(analyzer, detectors):
    facts = analyse(
        analyzer, detectors,
        ("buyer", "这件会不会起球？"),
        ("agent", "亲，不容易起球的"),
        ("buyer", "今天下单什么时候发货"),
        ("agent", "今天下单明天发货，支持七天无理由退换"),
        ("buyer", "好的谢谢"),
    )
    assert facts == NO_DISPUTE and not facts.is_dispute
    assert facts.steps.taken == ()


def test_an_apology_before_the_buyer_complains_does_not_count(analyzer, detectors):
    facts = analyse(
        analyzer, detectors,
        ("agent", "亲，非常抱歉，您的订单要延迟两天发货"),
        ("buyer", "都等了三天了，还不发货"),
        ("agent", "给您补一张10元优惠券"),
    )
    assert facts.type == "logistics" and facts.start_index == 1
    assert facts.steps.apologise is None
    assert facts.steps.remedy == 2


def test_several_types_in_order_and_the_cause_named_first_within_a_turn(analyzer, detectors):
    facts = analyse(
        analyzer, detectors,
        ("buyer", "我要退货"),
        ("buyer", "衣服色差太大了"),
        ("agent", "亲，麻烦拍张照片看看"),
        ("buyer", "你们回复这么慢"),
    )
    assert facts.types == ("after_sales", "quality", "attitude")
    assert facts.type == "quality"
    assert facts.start_index == 0


def test_the_first_disputing_turn_names_the_dispute_over_later_ones(analyzer, detectors):
    facts = analyse(
        analyzer, detectors,
        ("buyer", "退款怎么还没到"),
        ("agent", "好的亲"),
        ("buyer", "而且色差很大"),
    )
    assert facts.types == ("after_sales", "quality") and facts.type == "after_sales"


def test_a_plain_wish_to_return_is_a_routine_request_until_something_went_wrong(analyzer, detectors):
    routine = analyse(analyzer, detectors, ("buyer", "我要退货"), ("agent", "好的亲"))
    facts = analyse(
        analyzer, detectors,
        ("buyer", "我要退货"),
        ("agent", "好的亲"),
        ("buyer", "而且色差很大"),
    )
    assert routine == NO_DISPUTE
    assert facts.types == ("quality",) and facts.start_index == 2


def test_a_threat_makes_a_refund_request_a_complaint(analyzer, detectors):
    facts = analyse(analyzer, detectors, ("buyer", "赶紧给我退款，不然我就投诉"), ("agent", "好的亲"))
    assert facts.type == "after_sales" and facts.start_index == 0


def test_a_complaint_later_in_the_same_buyer_turn_makes_a_status_question_a_dispute(analyzer, detectors):
    asked = analyse(analyzer, detectors, ("buyer", "物流到哪了"), ("agent", "在派送了"))
    complained = analyse(analyzer, detectors, ("buyer", "物流到哪了"), ("buyer", "都一周了"),
                         ("agent", "在派送了"))
    assert asked == NO_DISPUTE
    assert complained.type == "logistics" and complained.start_index == 0


def _mood(scores: dict[str, float]):
    """A buyer-mood function: the given score for these texts, neutral (0.45) for any other."""
    return lambda text: scores.get(text, 0.45)


ANGRY_ABOUT_A_FEE = "这么高的费用你们能给我说出个道理来吗？"


def test_an_upset_buyer_message_completes_a_topic_word_as_a_complaint(analyzer, detectors):
    conversation = chat(("buyer", ANGRY_ABOUT_A_FEE), ("agent", "您好，请问是哪个月的账单"))
    detections = detections_of(detectors, conversation)
    words_only = analyzer.analyse(conversation, detections)
    upset = analyzer.analyse(conversation, detections, _mood({ANGRY_ABOUT_A_FEE: 0.1}))
    calm = analyzer.analyse(conversation, detections, _mood({}))
    assert words_only == NO_DISPUTE and calm == NO_DISPUTE
    assert upset.type == "price" and upset.start_index == 0 and upset.upset_index == 0


def test_an_upset_message_without_a_topic_word_or_too_short_to_judge_makes_no_dispute(analyzer, detectors):
    no_topic = chat(("buyer", "你们这样做生意真的让人很寒心啊"), ("agent", "您好"))
    short = chat(("buyer", "费用呢？"), ("agent", "您好"))
    # The model scores numbers low; a long message of digits has too few words to be upset.
    numbers = chat(("buyer", "费用 卡号6217 0035 5466 0168 201 电话138 1234 5678"), ("agent", "您好"))
    angry = _mood({"你们这样做生意真的让人很寒心啊": 0.05, "费用呢？": 0.05,
                   "费用 卡号6217 0035 5466 0168 201 电话138 1234 5678": 0.05})
    for conversation in (no_topic, short, numbers):
        assert analyzer.analyse(conversation, detections_of(detectors, conversation), angry) == NO_DISPUTE


def test_a_complaint_in_words_does_not_credit_the_mood(analyzer, detectors):
    conversation = chat(("buyer", "物流到哪了？都五天了还没到"), ("agent", "帮您催一下"))
    facts = analyzer.analyse(conversation, detections_of(detectors, conversation),
                             _mood({"物流到哪了？都五天了还没到": 0.05}))
    assert facts.type == "logistics" and facts.upset_index is None


def test_the_buyer_asking_for_a_reship_is_not_the_agent_offering_one(analyzer, detectors):
    facts = analyse(
        analyzer, detectors,
        ("buyer", "少发了一件，给我补发"),
        ("bot", "亲，已为您补发，请耐心等待"),
        ("agent", "您好，请稍等"),
    )
    assert facts.type == "quality"
    assert facts.steps.remedy is None and facts.steps.follow_up is None
    assert facts.steps.respond == 2  # the bot's auto-reply is no response


def test_a_closing_check_counts_as_follow_up_only_once_a_remedy_was_offered(analyzer, detectors):
    early = analyse(analyzer, detectors, ("buyer", "耳机用不了"), ("agent", "还有其他问题吗"))
    late = analyse(analyzer, detectors, ("buyer", "耳机用不了"), ("agent", "还有其他问题吗"),
                   ("agent", "给您换一个新的"), ("agent", "还有其他问题吗"))
    assert early.steps.follow_up is None
    assert (late.steps.remedy, late.steps.follow_up) == (2, 3)


def test_evidence_spans_are_the_original_text_of_their_messages(analyzer, detectors):
    conversation = chat(
        ("buyer", "收到的 杯子 碎了！"),
        ("agent", "非常抱歉，麻烦拍张照片，我们给您补发"),
        ("agent", "补发单号是SF1，请注意查收"),
    )
    facts = analyzer.analyse(conversation, detections_of(detectors, conversation))
    assert {item.name for item in facts.evidence} >= {"quality", "remedy", "follow_up", "apologise"}
    for item in facts.evidence:
        text = conversation.messages[item.message_index].text
        assert text[item.span[0]:item.span[1]] == item.text


def test_facts_are_frozen_and_survive_pickling(analyzer, detectors):
    facts = analyse(analyzer, detectors, ("buyer", "快递丢了"), ("agent", "给您补发"))
    assert pickle.loads(pickle.dumps(facts)) == facts
    with pytest.raises(FrozenInstanceError):
        facts.type = "price"  # type: ignore[misc]


def test_the_analyzer_itself_can_be_sent_to_a_worker_process(analyzer):
    copy = pickle.loads(pickle.dumps(analyzer))
    assert copy.types_in("快递丢了") == ("logistics",)


def test_steps_reject_an_unknown_step_name():
    with pytest.raises(KeyError):
        DisputeSteps().get("refund")


# --- lexicon format ------------------------------------------------------------------------

@pytest.fixture
def lexicon_copy(tmp_path: Path) -> Path:
    folder = tmp_path / "lexicons"
    shutil.copytree(data_dir("lexicons"), folder, ignore=shutil.ignore_patterns("examples", "categories"))
    return folder


@pytest.mark.parametrize("line, complaint", [
    ("快递 | shipping", "unknown kind 'shipping'"),
    ("快递 | phrase | as=shipping", "as=shipping: dispute.type phrases need as= one of"),
    ("快递 | phrase | as=logistics | sometimes", "unknown option 'sometimes'"),
    ("快递 | @negated | asks", "unknown option 'asks' for a context word"),
    ("快递 | phrase | as=logistics | with=", "option 'with='"),
])
def test_a_malformed_type_line_names_the_file_and_line(lexicon_copy, line, complaint):
    path = lexicon_copy / "dispute_types.txt"
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join([*lines, line]) + "\n", encoding="utf-8")
    with pytest.raises(LexiconError) as caught:
        DisputeAnalyzer(lexicon_copy)
    assert f"dispute_types.txt:{len(lines) + 1}:" in str(caught.value)
    assert complaint in str(caught.value)


def test_a_step_option_is_not_accepted_in_the_types_lexicon(lexicon_copy):
    path = lexicon_copy / "dispute_types.txt"
    path.write_text(path.read_text(encoding="utf-8") + "碎成渣 | phrase | as=quality | needs=remedy\n",
                    encoding="utf-8")
    with pytest.raises(LexiconError, match="needs=remedy"):
        DisputeAnalyzer(lexicon_copy)


def test_a_phrase_listed_twice_for_the_same_step_is_an_error(lexicon_copy):
    path = lexicon_copy / "dispute_steps.txt"
    path.write_text(path.read_text(encoding="utf-8") + "补发 | phrase | as=remedy\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="already listed"):
        DisputeAnalyzer(lexicon_copy)


@given(st.lists(st.tuples(st.integers(0, 30), st.integers(1, 6)), max_size=25))
@settings(max_examples=200, deadline=None)
def test_covered_hits_are_those_inside_a_strictly_longer_one(spans):
    from cs_audit.analysis.dispute import _covered
    from cs_audit.analysis.engine import Hit

    hits = [Hit(start, start + length, None) for start, length in spans]
    naive = {i for i, hit in enumerate(hits)
             if any(o.start <= hit.start and hit.end <= o.end and o.end - o.start > hit.end - hit.start
                    for o in hits)}
    assert _covered(hits) == naive
