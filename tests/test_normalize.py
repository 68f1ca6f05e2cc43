"""Normalisation of evasive spellings, and the map back to the original characters."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cs_audit.analysis.normalize import normalize


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("ＶＸ：abc", "vx:abc"),  # full-width letters and colon
        ("加➕V", "加v"),  # emoji removed, lower case
        ("v❤信", "v信"),
        ("薇 信", "薇信"),  # spaces between characters
        ("微\u200b信", "微信"),  # zero-width space
        ("微\u200d信\ufeff", "微信"),  # zero-width joiner, BOM
        ("微-信", "微信"),
        ("微·信•号", "微信号"),
        ("【V】信", "v信"),  # brackets
        ("請勿添加微信", "请勿添加微信"),  # traditional to simplified
        ("電話聯繫", "电话联系"),
        ("加√信", "加v信"),  # a check mark written for v
        ("ⓥⓧ", "vx"),  # circled letters
        ("𝐕𝐗", "vx"),  # mathematical bold letters
        ("⼈", "人"),  # Kangxi radical
        ("wēixìn", "weixin"),  # tone marks
        ("好的~~加我vx!!", "好的加我vx!!"),
    ],
)
def test_evasive_spelling_folds_to_plain_form(written, normalised):
    assert normalize(written).text == normalised


@pytest.mark.parametrize(
    ("written", "normalised"),
    [
        ("幺三八 一二三四 五六七八", "13812345678"),
        ("1 3 8-1234-5678", "13812345678"),
        ("①③⑧②②②②③③③③", "13822223333"),
        ("𝟏𝟑𝟗 𝟎𝟎𝟎𝟎", "1390000"),
        ("壹叁捌", "138"),
        ("两〇二零", "2020"),
        ("138o1234", "13801234"),
        ("1.3.8", "138"),
        ("1️⃣2️⃣3️⃣", "123"),
    ],
)
def test_numbers_written_to_evade_filters_become_digits(written, normalised):
    assert normalize(written).text == normalised


@pytest.mark.parametrize("word", ["等一下", "一定", "两个", "一二", "十一月", "一些", "三四天"])
def test_numerals_in_ordinary_words_stay_words(word):
    assert normalize(word).text == word


def test_clause_marks_between_words_are_kept():
    assert normalize("不要在这说，加我微信。").text == "不要在这说,加我微信。"


def test_already_simplified_characters_are_not_changed():
    text = "为什么么么哒，著名的干净面条"
    assert normalize(text).text == text.replace("，", ",")


def test_origin_points_at_the_original_characters():
    result = normalize("薇 ❤ 信")
    assert result.text == "薇信"
    assert list(result.origin) == [0, 4]
    assert result.original_span(0, 2) == (0, 5)
    assert result.original_text(0, 2) == "薇 ❤ 信"


def test_an_expanded_character_maps_both_digits_to_it():
    result = normalize("a⑩b")
    assert result.text == "a10b"
    assert list(result.origin) == [0, 1, 1, 2]
    assert result.original_text(1, 2) == "⑩"


def test_empty_and_all_decoration_texts_normalise_to_nothing():
    assert normalize("").text == ""
    assert normalize(" ❤\u200b ").text == ""
    assert list(normalize(" ❤ ").origin) == []


def test_span_outside_the_text_is_rejected():
    with pytest.raises(ValueError):
        normalize("abc").original_span(2, 5)
    with pytest.raises(ValueError):
        normalize("abc").original_span(1, 1)


# --- properties for any text ----------------------------------------------------------------

texts = st.text(
    alphabet=st.one_of(
        st.characters(),  # anything at all, surrogates and controls included
        st.sampled_from(list("微信薇威嶶扣企鹅幺一二三两〇零①⑩𝟏ＶＸvx❤➕⭐·• -_\u200b\ufeff，。!?加我")),
    ),
    max_size=40,
)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_normalize_never_raises_and_origin_is_monotonic_and_in_range(text):
    result = normalize(text)
    assert len(result.origin) == len(result.text)
    assert all(0 <= index < len(text) for index in result.origin)
    assert all(a <= b for a, b in zip(result.origin, list(result.origin)[1:]))


@settings(max_examples=400, deadline=None)
@given(texts, st.data())
def test_span_maps_back_to_the_original_characters_it_came_from(text, data):
    result = normalize(text)
    if not result.text:
        return
    start = data.draw(st.integers(0, len(result.text) - 1))
    end = data.draw(st.integers(start + 1, len(result.text)))
    original_start, original_end = result.original_span(start, end)
    assert 0 <= original_start < original_end <= len(text)
    assert result.original_text(start, end) == text[original_start:original_end]
    # every normalised character of the span comes from inside the original span
    assert all(original_start <= result.origin[i] < original_end for i in range(start, end))
    # and normalising the original span alone gives back at least those characters' folds
    # (numeral runs may differ at the edges, so compare letters and Chinese characters only)
    again = normalize(text[original_start:original_end]).text
    kept = [c for c in result.text[start:end] if not c.isdigit()]
    assert all(c in again or c.isdigit() for c in kept)


@settings(max_examples=200, deadline=None)
@given(texts)
def test_normalising_twice_changes_nothing_more(text):
    once = normalize(text).text
    assert normalize(once).text == once
