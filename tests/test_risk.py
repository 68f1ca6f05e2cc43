"""Off-platform risk (risk.contact, risk.payment, risk.review) and agent refusals."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_audit.analysis.risk import CATEGORIES, CONTACT, PAYMENT, REVIEW, RiskDetector
from cs_audit.lexicon import LexiconError
from cs_audit.model import Conversation, Message
from cs_audit.resources import data_dir

EXAMPLES = data_dir("lexicons") / "examples"


def load_table(name: str) -> list[tuple[str, str, str, int]]:
    """Rows (verdict, role, text, line) of lexicons/examples/<name>.tsv."""
    rows = []
    path = EXAMPLES / f"{name}.tsv"
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            verdict, role, text = line.split("\t")
            rows.append((verdict, role, text, number))
    return rows


def rows_of(names, verdict):
    return [
        pytest.param(name, role, text, id=f"{name}:{number}")
        for name in names
        for found, role, text, number in load_table(name)
        if found == verdict
    ]


@pytest.fixture(scope="module")
def detector() -> RiskDetector:
    return RiskDetector()


def one_message(role: str, text: str) -> Conversation:
    return Conversation("c1", "test", (Message(0, role, text),))


# --- the example tables ---------------------------------------------------------------------


@pytest.mark.parametrize("name", [*CATEGORIES, "risk.refusal"])
def test_table_has_at_least_45_fire_and_45_pass_rows(name):
    verdicts = [row[0] for row in load_table(name)]
    assert verdicts.count("fire") >= 45
    assert verdicts.count("pass") >= 45


@pytest.mark.parametrize(("category", "role", "text"), rows_of(CATEGORIES, "fire"))
def test_fire_row_is_detected_on_its_original_characters(detector, category, role, text):
    found = [d for d in detector.detect(one_message(role, text)) if d.category == category]
    assert found, f"{category} should fire on {text!r}"
    for detection in found:
        start, end = detection.span
        assert 0 <= start < end <= len(text)
        assert text[start:end] == detection.text
        assert detection.role == role and detection.message_index == 0
        assert detection.note


@pytest.mark.parametrize(("category", "role", "text"), rows_of(CATEGORIES, "pass"))
def test_pass_row_is_not_detected(detector, category, role, text):
    found = [d for d in detector.detect(one_message(role, text)) if d.category == category]
    assert not found, f"{category} should not fire on {text!r}: {found[0].text!r} ({found[0].note})"


@pytest.mark.parametrize(("table", "role", "text"), rows_of(["risk.refusal"], "fire"))
def test_refusal_row_is_a_refusal(detector, table, role, text):
    assert detector.refuses_off_platform(text)


@pytest.mark.parametrize(("table", "role", "text"), rows_of(["risk.refusal"], "pass"))
def test_agreement_or_unrelated_apology_is_not_a_refusal(detector, table, role, text):
    assert not detector.refuses_off_platform(text)


# --- behaviours -----------------------------------------------------------------------------


def test_homophone_of_wechat_is_found_through_pinyin(detector):
    (finding,) = detector.find("嶶信加一下")
    assert finding.category == CONTACT
    assert finding.text == "嶶信加一下"
    assert "pinyin 'weixin'" in finding.note


def test_look_alike_of_wechat_is_named_in_the_note(detector):
    (finding,) = detector.find("加徽信")
    assert "look-alike '徽'" in finding.note


def test_span_covers_decoration_inside_the_evasive_word(detector):
    text = "亲，加 ❤ V ❤ 信吧"
    (finding,) = detector.find(text)
    assert finding.text == text[finding.span[0]:finding.span[1]]
    assert finding.text.startswith("加") and finding.text.endswith("信")


def test_spoken_digits_given_to_be_added_are_a_phone_contact(detector):
    (finding,) = detector.find("幺三八 一二三四 五六七八 加我")
    assert finding.category == CONTACT
    assert "phone number" in finding.note
    assert "1234" not in finding.note  # the number itself never goes into the note


def test_phone_number_alone_is_not_a_request(detector):
    assert detector.find("收件人张三 13812345678") == []


def test_homophone_in_an_ordinary_word_needs_a_request(detector):
    assert detector.find("作为新客户有优惠吗") == []
    assert [f.category for f in detector.find("作为新客户，可以加微信吗")] == [CONTACT]


@pytest.mark.parametrize("text", ["能不能加个微信", "可不可以加微信", "不能加微信吗", "为什么不能加微信"])
def test_negation_that_is_really_a_question_still_fires(detector, text):
    assert [f.category for f in detector.find(text)] == [CONTACT]


@pytest.mark.parametrize("text", ["请勿添加微信", "我们不能加微信哦", "加微信是违规的", "我没有微信"])
def test_warning_or_refusal_does_not_fire(detector, text):
    assert detector.find(text) == []


def test_negation_does_not_reach_past_a_clause_break(detector):
    assert detector.find("不要在这说，加我微信")
    assert detector.find("不要在这说了加我微信")
    assert detector.find("不要在这说 加我微信")


def test_a_long_warning_reaches_back_across_a_comma(detector):
    text = "我们不能拿评价做交换给您转钱，这违反平台规则"
    assert detector.find(text) == []
    assert detector.refuses_off_platform(text)


def test_a_short_no_does_not_reach_across_a_comma(detector):
    assert [f.category for f in detector.find("加我微信，不行的话打电话")] == [CONTACT]


def test_asking_the_courier_to_call_is_delivery_not_contact(detector):
    assert detector.find("电话139 1234 5678，到了直接打我电话送上门") == []


def test_checkout_payment_is_not_off_platform(detector):
    assert detector.find("可以用微信支付吗") == []
    assert [f.category for f in detector.find("可以微信转我吗")] == [PAYMENT]


def test_invoice_context_excuses_an_email_address_but_not_a_wechat(detector):
    assert detector.find("请问能开发票吗？发到我的邮箱就行 abc@163.com") == []
    assert [f.category for f in detector.find("我的邮箱 abc@163.com，有事联系")] == [CONTACT]
    assert [f.category for f in detector.find("加我微信，发票也可以开")] == [CONTACT]


def test_refund_to_alipay_is_not_a_private_transfer(detector):
    assert detector.find("退款已经转到您的支付宝账户了") == []
    assert [f.category for f in detector.find("退款后你再私下转给我")] == [PAYMENT]


def test_polite_review_request_is_not_manipulation_but_a_reward_is(detector):
    assert detector.find("满意的话给个五星好评哦") == []
    assert [f.category for f in detector.find("满意的话给个五星好评，返您5元")] == [REVIEW]


def test_one_message_can_carry_several_categories(detector):
    categories = {f.category for f in detector.find("加我微信，好评返现")}
    assert categories == {CONTACT, REVIEW}


def test_empty_and_plain_messages_find_nothing(detector):
    assert detector.find("") == []
    assert detector.find("亲，您好，这款有现货，今天下单明天发") == []
    assert not detector.refuses_off_platform("")


chat_text = st.text(
    alphabet=st.one_of(
        st.characters(),
        st.sampled_from(list("加我微信薇威vxqQ扣企鹅转账支付宝红包好评返现删差评补偿请勿不能吗，。 ❤①幺三八@.")),
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(chat_text)
def test_any_text_gives_well_formed_findings(text):
    detector = _shared_detector()
    findings = detector.find(text)
    assert len({f.category for f in findings}) == len(findings)
    for finding in findings:
        start, end = finding.span
        assert 0 <= start < end <= len(text)
        assert text[start:end] == finding.text
        assert finding.category in CATEGORIES
    assert isinstance(detector.refuses_off_platform(text), bool)


_DETECTOR: list[RiskDetector] = []


def _shared_detector() -> RiskDetector:
    if not _DETECTOR:  # hypothesis does not mix with function-scoped fixtures
        _DETECTOR.append(RiskDetector())
    return _DETECTOR[0]


# --- a whole conversation -------------------------------------------------------------------


def test_conversation_detections_point_at_their_messages(detector):
    conversation = Conversation(
        "c9",
        "chat.csv",
        (
            Message(0, "buyer", "这个有现货吗"),
            Message(1, "agent", "有的亲"),
            Message(2, "buyer", "加个薇❤信呗，方便发图"),
            Message(3, "agent", "抱歉，平台规定不能加微信，有问题在这里沟通就好"),
            Message(4, "buyer", "那转账给你便宜点？"),
            Message(5, "agent", "亲 好评返现5元哦"),
        ),
    )
    detections = detector.detect(conversation)
    assert [(d.message_index, d.role, d.category) for d in detections] == [
        (2, "buyer", CONTACT),
        (4, "buyer", PAYMENT),
        (5, "agent", REVIEW),
    ]
    for detection in detections:
        text = conversation.messages[detection.message_index].text
        assert text[detection.span[0]:detection.span[1]] == detection.text
    assert detections[0].text == "加个薇❤信"
    assert detector.refuses_off_platform(conversation.messages[3].text)
    assert not detector.refuses_off_platform(conversation.messages[5].text)


def test_repeated_messages_give_equal_results(detector):
    first = detector.find("加我vx: abc12345")
    assert detector.find("加我vx: abc12345") == first


def conversation_of(*messages: tuple[str, str]) -> Conversation:
    return Conversation("c1", "test", tuple(Message(i, role, text) for i, (role, text) in enumerate(messages)))


def test_number_split_across_two_messages_of_one_sender_is_a_contact_request(detector):
    conversation = conversation_of(("agent", "号码138"), ("buyer", "嗯"), ("agent", "1234 5678，有事打这个"))
    (finding,) = detector.detect(conversation)
    assert (finding.message_index, finding.category) == (2, CONTACT)
    assert finding.text == "1234 5678，有事打这个"
    assert "previous message" in finding.note


def test_numbers_in_consecutive_messages_without_a_request_are_not_joined(detector):
    conversation = conversation_of(("agent", "订单号1234"), ("agent", "5678901已发货"))
    assert detector.detect(conversation) == []


def test_digits_of_another_sender_are_not_joined(detector):
    conversation = conversation_of(("buyer", "我的号码138"), ("agent", "1234 5678，有事打这个"))
    assert detector.detect(conversation) == []


@pytest.mark.parametrize("text", ["⑴⑶⑻⑴⑵⑶⑷⑸⑹⑺⑻，有事打这个", "电话⒈⒊⒏⒈⒉⒊⒋⒌⒍⒎⒏，打我", "打我１３８１２３４５６７８"])
def test_enclosed_and_full_width_digits_make_a_phone_number(detector, text):
    findings = detector.find(text)
    assert [f.category for f in findings] == [CONTACT]


def test_intent_inside_a_channel_word_is_no_intent(detector):
    # 联系 is part of 联系方式: the agent asks for the buyer's details, nobody is to be contacted
    assert detector.find("请告知您的手机号码、联系方式") == []


@pytest.mark.parametrize("text", ["可以添加我们的企业QQ 800012345 咨询", "有问题拨打400-123-4567找我们"])
def test_a_company_400_or_800_number_is_the_brands_official_channel(detector, text):
    assert detector.find(text) == []


def test_an_official_number_does_not_excuse_a_wechat_request_beside_it(detector):
    assert [f.category for f in detector.find("有问题加我微信，或者拨打400-123-4567")] == [CONTACT]


def test_a_masked_number_read_back_is_no_account_id(detector):
    assert detector.find("请问您的联系方式为156****1004吗") == []
    assert [f.category for f in detector.find("联系方式为15612341004")] == [CONTACT]


def refusals_of(detector, *messages):
    conversation = conversation_of(*messages)
    return detector.refusals(conversation, detector.detect(conversation))


def test_plain_no_right_after_the_request_is_a_refusal(detector):
    assert refusals_of(detector, ("buyer", "能加个微信吗"), ("agent", "不行的哦亲")) == {1}


def test_plain_no_after_the_agent_went_along_is_no_refusal(detector):
    assert refusals_of(detector, ("buyer", "能加个微信吗"), ("agent", "好的"),
                       ("agent", "这个颜色不行的哦")) == set()


def test_plain_no_later_in_the_chat_is_no_refusal(detector):
    assert refusals_of(detector, ("buyer", "能加个微信吗"), ("agent", "您好"), ("buyer", "这个有红色吗"),
                       ("agent", "红色不行的哦")) == set()


def test_plain_no_answers_a_buyer_turn_of_several_messages(detector):
    assert refusals_of(detector, ("buyer", "加个QQ吧"), ("buyer", "方便发图"),
                       ("agent", "公司规定的，图片在这里发就行")) == {2}


def test_refusal_naming_the_rule_counts_anywhere_after_the_request(detector):
    assert refusals_of(detector, ("buyer", "能加个微信吗"), ("agent", "稍等"),
                       ("agent", "抱歉亲，平台规定不能加私人微信哦")) == {2}


def test_no_request_no_refusals(detector):
    assert refusals_of(detector, ("buyer", "有货吗"), ("agent", "不行的哦")) == set()


# --- lexicon errors -------------------------------------------------------------------------


def copy_lexicons(tmp_path: Path) -> Path:
    folder = tmp_path / "lexicons"
    shutil.copytree(data_dir("lexicons"), folder, ignore=shutil.ignore_patterns("examples", "categories"))
    return folder


def test_unknown_option_names_the_file_and_line(tmp_path):
    folder = copy_lexicons(tmp_path)
    lines = (folder / "risk_contact.txt").read_text(encoding="utf-8").splitlines()
    lines.append("飞信 | channel | sometimes")
    (folder / "risk_contact.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=rf"risk_contact\.txt:{len(lines)}: unknown option 'sometimes'"):
        RiskDetector(folder)


def test_missing_kind_names_the_file_and_line(tmp_path):
    folder = copy_lexicons(tmp_path)
    (folder / "risk_review.txt").write_text("好评返现\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"risk_review\.txt:1: expected 'phrase \| kind"):
        RiskDetector(folder)


def test_an_option_that_does_not_suit_the_kind_is_an_error(tmp_path):
    folder = copy_lexicons(tmp_path)
    with (folder / "risk_safe.txt").open("a", encoding="utf-8") as handle:
        handle.write("千万别 | @warned | side=after\n")
    with pytest.raises(LexiconError, match=r"risk_safe\.txt:\d+: unknown option 'side=after' for a context word"):
        RiskDetector(folder)


def test_a_new_lexicon_line_takes_effect(tmp_path):
    folder = copy_lexicons(tmp_path)
    with (folder / "risk_contact.txt").open("a", encoding="utf-8") as handle:
        handle.write("飞信 | channel | as=Fetion\n")
    assert RiskDetector().find("加我飞信") == []
    assert [f.category for f in RiskDetector(folder).find("加我飞信")] == [CONTACT]
