"""Personal data: the labelled example tables, masking, spans, and masking properties."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_audit.analysis.pii import (
    BANK_CARD,
    ID_CARD,
    PHONE,
    PiiDetector,
    PiiMatch,
    find_pii,
    is_valid_id_number,
    mask_text,
    passes_luhn,
)
from cs_audit.catalog import load_examples
from cs_audit.model import Conversation, Message

CATEGORIES = (PHONE, ID_CARD, BANK_CARD)


def categories_found(text: str) -> set[str]:
    return {match.category for match in find_pii(text)}


def _fire_rows():
    return [pytest.param(category, example.text, id=f"{category}:{example.line}")
            for category in CATEGORIES for example in load_examples(category) if example.fires]


@pytest.mark.parametrize(("category", "text"), _fire_rows())
def test_fire_example_is_gone_after_masking(category, text):
    assert category not in categories_found(mask_text(text))


# --- masking formats ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("电话13812345678", "电话138****5678"),
        ("电话 138 1234 5678 谢谢", "电话 138 **** 5678 谢谢"),
        ("138-1234-5678", "138-****-5678"),
        ("+86 138 1234 5678", "+86 138 **** 5678"),
        ("008613812345678", "0086138****5678"),
        ("身份证110105195504196517", "身份证110105********6517"),
        ("51010719850422972X", "510107********972X"),
        ("卡号6222029458073028", "卡号622202******3028"),
        ("6228 4842 6212 9975", "6228 48** **** 9975"),
        ("卡号6217001573681930367", "卡号621700*********0367"),
    ],
)
def test_mask_text_keeps_the_agreed_digits_and_separators(text, masked):
    assert mask_text(text) == masked


def test_mask_text_masks_full_width_digits_and_keeps_full_width_visible_parts():
    assert mask_text("手机１３８１２３４５６７８") == "手机１３８****５６７８"


def test_mask_text_masks_every_number_in_a_message():
    text = "手机13812345678，身份证110105195504196517，卡号6222029458073028"
    assert mask_text(text) == "手机138****5678，身份证110105********6517，卡号622202******3028"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "亲，您好，请问有什么可以帮您？",
        "订单号 3589012345678901 已发货",
        "快递单号SF1234567890123",
        "一共138元，优惠12.5元",
        "手机尾号5678",
        "2024-05-13 10:30",
    ],
)
def test_mask_text_leaves_text_without_personal_data_unchanged(text):
    assert mask_text(text) == text


def test_masking_masked_text_changes_nothing():
    once = mask_text("电话 138 1234 5678，身份证 110105195504196517，卡 6228 4842 6212 9975")
    assert mask_text(once) == once


def test_text_without_digits_is_returned_as_the_same_object():
    text = "没有数字的长文本" * 1000
    assert mask_text(text) is text


# --- spans ----------------------------------------------------------------------------------


def test_matches_point_at_the_original_text_including_full_width_and_prefix():
    text = "我的手机是＋８６　１３８　１２３４　５６７８，身份证110105195504196517"
    matches = find_pii(text)
    assert [(m.category, text[m.start:m.end]) for m in matches] == [
        (PHONE, "＋８６　１３８　１２３４　５６７８"),
        (ID_CARD, "110105195504196517"),
    ]


def test_two_phone_numbers_side_by_side_are_both_found():
    text = "13812345678 13987654321"
    assert find_pii(text) == [PiiMatch(PHONE, 0, 11), PiiMatch(PHONE, 12, 23)]


def test_a_phone_shaped_slice_of_a_longer_grouped_number_is_not_a_phone():
    assert find_pii("6222 1381 2345 678") == []


def test_detector_reports_messages_of_any_role_with_original_text():
    conversation = Conversation(
        id="c1",
        source="test",
        messages=(
            Message(index=0, role="buyer", text="电话 138 1234 5678"),
            Message(index=1, role="agent", text="好的，已记录"),
            Message(index=2, role="agent", text="亲，卡号6222029458073028对吗"),
        ),
    )
    detections = PiiDetector().detect(conversation)
    assert [(d.category, d.message_index, d.role, d.span, d.text) for d in detections] == [
        (PHONE, 0, "buyer", (3, 16), "138 1234 5678"),
        (BANK_CARD, 2, "agent", (4, 20), "6222029458073028"),
    ]


# --- checks -----------------------------------------------------------------------------------


def test_id_number_check_character_is_verified():
    assert is_valid_id_number("110105195504196517")
    assert not is_valid_id_number("110105195504196511")


def test_id_number_birth_date_must_be_real_and_not_in_the_future():
    assert not is_valid_id_number("110105199502300024")  # 30 February
    assert not is_valid_id_number("440305209001010049")  # born 2090


def test_luhn_accepts_valid_and_rejects_altered_card_numbers():
    assert passes_luhn("6222029458073028")
    assert not passes_luhn("6222029458073021")


def test_luhn_valid_number_fires_as_card_only_with_card_context():
    assert categories_found("卡号6222029458073028") == {BANK_CARD}
    assert categories_found("订单号6222029458073028") == set()
    assert categories_found("订单号6222029458073028，退到银行卡6222029458073028") == {BANK_CARD}


# --- properties -------------------------------------------------------------------------------

_PHONE_IN_DIGITS = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")

digits_and_separators = st.text(alphabet="0123456789１３８ -+Xx*.元号卡单电话", max_size=60)
phone_numbers = st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True)


@settings(max_examples=300)
@given(st.one_of(st.text(max_size=80), digits_and_separators))
def test_masking_never_raises_keeps_length_and_is_idempotent(text):
    masked = mask_text(text)
    assert len(masked) == len(text)
    assert mask_text(masked) == masked
    assert find_pii(masked) == []


@settings(max_examples=300)
@given(
    st.text(alphabet="的了我你，。 ", max_size=10),
    phone_numbers,
    st.text(alphabet="的了吗，。 ", max_size=10),
)
def test_no_eleven_digit_phone_survives_masking(before, phone, after):
    masked = mask_text(before + phone + after)
    assert not _PHONE_IN_DIGITS.search(masked)
    assert masked[len(before):len(before) + 3] == phone[:3]
    assert masked[len(before) + 7:len(before) + 11] == phone[-4:]


@pytest.mark.parametrize(("text", "masked"), [
    ("tel13812345678", "tel138****5678"),
    ("wx:138.1234.5678", "wx:138.****.5678"),
    ("138/1234/5678", "138/****/5678"),
    ("138_1234_5678", "138_****_5678"),
    ("(138)1234-5678", "(138)****-5678"),
    ("138\u00a01234\u00a05678", "138\u00a0****\u00a05678"),
    ("138\u200b1234\u200b5678", "138\u200b****\u200b5678"),
    ("一三八一二三四五六七八", "一三八****五六七八"),
    ("①③⑧①②③④⑤⑥⑦⑧", "①③⑧****⑤⑥⑦⑧"),
    ("138    1234    5678", "138    ****    5678"),
])
def test_evasive_number_forms_are_masked_in_place(text, masked):
    assert mask_text(text) == masked


@pytest.mark.parametrize("text", ["订单号 SF1234567890123", "价格3.14元", "2024.03.15 下单", "JD12345678901",
                                  "一二三木头人", "第一二三四五名"])
def test_codes_prices_dates_and_words_are_not_numbers_to_mask(text):
    assert mask_text(text) == text


def test_ids_file_names_and_senders_are_masked_in_every_report(tmp_path):
    import json

    from click.testing import CliRunner

    from cs_audit.cli import main

    folder = tmp_path / "13912345678"
    folder.mkdir()
    chats = folder / "chats.csv"
    chats.write_text("conversation_id,role,sender,text\nqianniu:张三13812345678,buyer,李四 13700001111,在吗\n"
                     "qianniu:张三13812345678,agent,shop:amy,您好\n", encoding="utf-8")
    outputs = [tmp_path / name for name in ("r.json", "r.xml", "r.xlsx")]
    args = ["audit", str(chats), "--format", "json", "-q"]
    for output in outputs:
        args += ["-o", str(output)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["conversations"][0]["id"] == "qianniu:张三138****5678"
    assert "13912345678" not in document["inputs"][0]["path"]
    assert "13812345678" not in outputs[1].read_text(encoding="utf-8")
    from openpyxl import load_workbook

    cells = [str(cell.value) for sheet in load_workbook(outputs[2]).worksheets
             for row in sheet.iter_rows() for cell in row if cell.value is not None]
    assert not any("13812345678" in value or "13700001111" in value for value in cells)
