"""The review transcript: findings inline, suggestions gathered, masked, and safe for a terminal."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from cs_audit.analysis.pii import mask_text
from cs_audit.audit import Auditor
from cs_audit.reporters.review import COLOURS, RESET, render_review
from cs_audit.rubric import load_rubric
from conftest import make_report, conversation

GOLDEN = Path(__file__).parent / "golden" / "review.txt"
UPDATE = os.environ.get("CS_AUDIT_UPDATE_GOLDEN") == "1"
# What the buyer and the agent of R-RUDE wrote: a phone, a bank card and an ID number.
PERSONAL = ("13812345678", "6222021234567890128", "110105199003071239")
OUR_CODES = re.compile(r"\x1b\[[0-9;]*m")


@pytest.fixture(scope="module")
def auditor():
    return Auditor(load_rubric("default"))




@pytest.fixture(scope="module")
def report(auditor):
    return make_report(auditor)


@pytest.fixture(scope="module")
def rude(report):
    return render_review(report.results[1], report, colour=False)


def _review_of(auditor, *specs, colour=False, conversation_id="C1"):
    result = auditor.audit(conversation(*specs, conversation_id=conversation_id))
    return render_review(result, make_report(auditor, results=[result]), colour=colour)


def test_golden_review_of_each_fixture_conversation(report):
    text = "\n".join(render_review(result, report, colour=False) for result in report.results)
    if UPDATE:
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8"), \
        "golden changed: rerun with CS_AUDIT_UPDATE_GOLDEN=1 and review the diff"


def test_each_message_shows_index_time_role_sender_and_line(rude):
    assert "#1  2024-04-15 11:05:30  agent  木子家居:阿杰  (line 8)\n" in rude


def test_rude_phrases_are_bracketed_with_why_and_their_suggestion_under_the_message(rude):
    assert ("    【不知道】，【你自己看】活动页\n"
            "    ✗ tone.rude 「不知道」 (brushes the buyer off: says what the agent does not know "
            "and offers no help) → 建议: 这个问题我帮您确认一下，请您稍等\n") in rude


def test_failed_checks_appear_under_the_message_they_point_at(rude):
    block = rude.split("#4  ")[1].split("\n\n")[0]
    assert "FAILED all_answered (major, -5): 1 buyer turn left unanswered" in block
    assert "! buyer.escalation 「投诉」 (buyer threatens a complaint to the platform)" in block


def test_the_end_gives_score_checks_without_a_message_and_what_to_say_instead(rude):
    result_part = rude.split("\nResult\n")[1]
    assert result_part.startswith("  Score 20.0/100, grade F, FAILED (pass mark 80)\n"
                                  "  Replies: first 330 s, average 185 s, slowest 330 s; "
                                  "1 slow, 1 unanswered\n")
    general = result_part.split("Failed checks for the whole conversation\n")[1].split("\n\n")[0]
    assert general.splitlines() == [
        # The angry ending (什么态度，我要投诉你). The opening price question (满200减50%吗？
        # 第二件:: 半价,还是打折) scores just under the 0.35 line, so the buyer counts as upset
        # from the start: a borderline neutral message on the wrong side of the line, which the
        # line's held-out figures allow for (27% of neutral messages fall below it).
        "  FAILED no_angry_ending (major, -10): buyer's last turn scores 0.04 (angry below 0.35)",
        "  FAILED recovers_upset_buyer (minor, -30): buyer started upset (0.35) and ended at 0.04 "
        "(recovered at 0.4 or above)",
    ]
    assert result_part.split("What to say instead\n")[1].splitlines() == [
        "  #1 「不知道」 → 建议: 这个问题我帮您确认一下，请您稍等",
        "  #1 「你自己看」 → 建议: 我把相关信息整理好发给您，您看一下",
        "  #3 「没办法」 → 建议: 这个情况我这边暂时处理不了，我帮您看看还有什么别的办法",
        "  #3 「去跟快递说」 → 建议: 物流的问题我来帮您联系快递核实",
    ]


def test_a_critical_conversation_says_so(report):
    text = render_review(report.results[2], report, colour=False)
    assert "FAILED, critical finding (pass mark 80)" in text
    assert "【加我微信】 muzi6688" in text
    assert "Nothing to rephrase." in text


def test_a_newline_in_a_message_continues_on_an_indented_line(rude):
    assert "    满200减50%吗？\n    第二件:: 半价,还是打折\n" in rude


def test_the_same_phrase_said_twice_is_suggested_once_with_both_messages(auditor):
    text = _review_of(auditor, ("buyer", "10:00:00", "这个能用吗"), ("agent", "10:00:20", "不知道"),
                      ("buyer", "10:00:40", "那尺寸呢"), ("agent", "10:01:00", "不知道"))
    assert "  #1, #3 「不知道」 → 建议: 这个问题我帮您确认一下，请您稍等\n" in text


def test_colour_off_output_has_no_escape_byte_even_when_the_chat_has_some(auditor):
    text = _review_of(auditor, ("buyer", "10:00:00", "在吗\x1b[2J\x1b[31m红\x07\x9b1m"),
                      ("agent", "10:00:20", "不知道\x1b]0;title\x07"), conversation_id="C\x1b[1m1")
    assert "\x1b" not in text and "\x07" not in text and "\x9b" not in text
    assert "在吗\\x1b[2J\\x1b[31m红\\x07\\x9b1m" in text
    assert "【不知道】\\x1b]0;title\\x07" in text
    assert "Conversation C\\x1b[1m1" in text


def test_control_and_layout_characters_are_spelled_out(auditor):
    text = _review_of(auditor, ("buyer", "10:00:00", "a\rb\tc\u202ed\u2028e\x7f\ud800"),
                      ("agent", "10:00:20", "您好亲"))
    assert "a\\rb\\tc\\u202ed\\u2028e\\x7f\\ud800" in text
    text.encode("utf-8")  # a lone surrogate would make printing it fail
    # Emoji sequences and full-width spaces are text, not controls.
    text = _review_of(auditor, ("buyer", "10:00:00", "好的\u3000👍🏻👨\u200d👩\u200d👧"),
                      ("agent", "10:00:20", "您好亲"))
    assert "好的\u3000👍🏻👨\u200d👩\u200d👧" in text


def test_with_colour_only_our_codes_reach_the_terminal(auditor):
    text = _review_of(auditor, ("buyer", "10:00:00", "在吗\x1b[31m红\x1b[2J"),
                      ("agent", "10:00:20", "不知道，你自己看"), colour=True)
    ours = set(COLOURS.values()) | {RESET}
    codes = OUR_CODES.findall(text)
    assert codes and set(codes) <= ours
    assert text.count("\x1b") == len(codes)  # no escape byte from the chat itself
    assert "在吗\\x1b[31m红\\x1b[2J" in text
    assert f"{COLOURS['problem']}不知道{RESET}，{COLOURS['problem']}你自己看{RESET}" in text
    assert "【" not in text  # colour marks the phrase instead of brackets


def test_colour_marks_polite_phrases_green(report):
    text = render_review(report.results[0], report, colour=True)
    assert f"{COLOURS['good']}您好{RESET}亲" in text


@pytest.mark.parametrize("masked", [True, False])
def test_personal_data_is_masked_unless_show_is_identity(auditor, masked):
    report = make_report(auditor, show=mask_text if masked else (lambda t: t))
    text = render_review(report.results[1], report, colour=False)
    for number in PERSONAL:
        assert (number in text) != masked, number
    if masked:
        assert "收货电话138****5678" in text and "! pii.phone 「138****5678」" in text


def test_unmarked_text_when_show_changes_the_length(auditor, report):
    shortened = make_report(auditor, show=lambda text: text.replace("不知道", "?"))
    text = render_review(shortened.results[1], shortened, colour=False)
    assert "    ?，你自己看活动页\n" in text  # spans no longer fit: nothing marked wrongly
