"""京东 咚咚 JDDC-style TSV: seven tab-separated fields, no header, no timestamps."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_audit.parsers import parse_file, sniff_format
from cs_audit.parsers.jd import AGENT_SENDER, FIELDS
from conftest import SAMPLES, assert_golden_document

GOLDEN = Path(__file__).parent / "golden" / "jd.json"
SAMPLE = SAMPLES / "jd_sessions.tsv"
OTHER_SAMPLES = ("taobao_utf8.csv", "pdd_gb18030.csv", "jd_chat.jsonl", "douyin_chat.xlsx",
                 "pdd_records.json", "pdd_export.xlsx")
SID = "6a1f0c2e9b8d4e07a3c5f1d2b4e6a8c0"


def rendering(parsed) -> dict:
    """A compact, stable view of a parsed file for golden comparison."""
    summary = parsed.summary
    return {
        "format": summary.format, "rows": summary.rows, "messages": summary.messages,
        "conversations": [
            {"id": conv.id, "messages": [
                {"line": m.line, "role": m.role, "sender": m.sender,
                 "timestamp": m.timestamp.isoformat(sep=" ") if m.timestamp else None, "text": m.text}
                for m in conv.messages]}
            for conv in parsed.conversations
        ],
        "problems": [{"line": p.line, "reason": p.reason} for p in summary.problems],
    }


def line(waiter_send="0", content="在吗", session=SID, user="USERID_10503190",
         is_transfer="0", is_repeat="0", sku="") -> str:
    return "\t".join((session, user, waiter_send, is_transfer, is_repeat, sku, content))


def write_tsv(path: Path, lines, encoding="utf-8", newline="\n") -> Path:
    path.write_bytes((newline.join(lines) + newline).encode(encoding))
    return path


def messages(parsed) -> list[tuple[str, str, str]]:
    return [(m.role, m.sender, m.text) for c in parsed.conversations for m in c.messages]


# --- sample ---------------------------------------------------------------------------------

def test_golden_jd_sample():
    assert_golden_document(rendering(parse_file(SAMPLE)), GOLDEN)


def test_sample_counts_every_line_as_message_or_problem():
    summary = parse_file(SAMPLE).summary
    non_blank = sum(1 for text in SAMPLE.read_text(encoding="utf-8").split("\n") if text.strip())
    assert summary.rows == non_blank == summary.messages + len(summary.problems)
    assert [p.line for p in summary.problems] == [22]  # the second half of a split message


def test_sample_turns_are_answered_but_untimed_so_waits_are_null():
    from cs_audit.analysis.response import buyer_turns, wait_seconds
    for conversation in parse_file(SAMPLE).conversations:
        turns = buyer_turns(conversation.messages)
        assert any(turn.reply is not None for turn in turns)
        assert [wait_seconds(turn, None) for turn in turns] == [None] * len(turns)


# --- fields ---------------------------------------------------------------------------------

def test_waiter_send_decides_the_role_and_user_id_names_only_the_buyer(tmp_path):
    parsed = parse_file(write_tsv(tmp_path / "j.tsv", [line("0", "在吗"), line("1", "您好")]))
    assert messages(parsed) == [("buyer", "USERID_10503190", "在吗"), ("agent", AGENT_SENDER, "您好")]
    assert parsed.conversations[0].id == SID
    assert AGENT_SENDER == ""  # reported as "(unnamed agent)", never under the buyer's id


def test_masked_tokens_are_kept_as_text(tmp_path):
    masked = "订单[订单x]已发往[地址x]，联系[电话x]，退款[金额x]元#E-s[数字x]"
    parsed = parse_file(write_tsv(tmp_path / "j.tsv", [line("1", masked)]))
    assert messages(parsed) == [("agent", "", masked)]


def test_transferred_and_repeated_messages_are_kept(tmp_path):
    lines = [line("0", "钱什么时候到"), line("0", "钱什么时候到", is_repeat="1"),
             line("1", "帮您转接售后", is_transfer="1")]
    parsed = parse_file(write_tsv(tmp_path / "j.tsv", lines))
    assert [text for _, _, text in messages(parsed)] == ["钱什么时候到", "钱什么时候到", "帮您转接售后"]


def test_messages_have_no_timestamps_and_keep_file_order(tmp_path):
    lines = [line("0", "一"), line("1", "二"), line("0", "三", session="S2"), line("1", "四")]
    parsed = parse_file(write_tsv(tmp_path / "j.tsv", lines))
    assert [(c.id, [m.text for m in c.messages]) for c in parsed.conversations] == [
        (SID, ["一", "二", "四"]), ("S2", ["三"])]
    assert all(m.timestamp is None for c in parsed.conversations for m in c.messages)
    assert [m.line for m in parsed.conversations[0].messages] == [1, 2, 4]


def test_a_tab_inside_the_content_stays_in_the_message(tmp_path):
    parsed = parse_file(write_tsv(tmp_path / "j.tsv", [line("0", "型号\tA1")]))
    assert messages(parsed)[0][2] == "型号\tA1"


@pytest.mark.parametrize("bad, reason", [
    ("\t".join((SID, "U", "0", "0", "0", "x")), "expected 7 tab-separated fields"),
    ("还没到的话怎么办", "found 1"),
    (line("2", "x"), "waiter_send is '2'; expected 1 (agent) or 0 (buyer)"),
    (line("", "x"), "waiter_send is ''"),
    (line("0", ""), "empty content"),
    (line("0", "   "), "empty content"),
    (line("0", "x", session=" "), "missing conversation_id"),
    (line("0", "a\x00b"), "NUL"),
])
def test_each_bad_line_is_a_problem_with_its_line_number(tmp_path, bad, reason):
    parsed = parse_file(write_tsv(tmp_path / "j.tsv", [line("0", "在吗"), bad, line("1", "您好")]))
    assert [(p.line, reason in p.reason) for p in parsed.summary.problems] == [(2, True)]
    assert [text for _, _, text in messages(parsed)] == ["在吗", "您好"]
    assert parsed.summary.rows == 3


def test_blank_lines_crlf_and_a_leading_header_are_not_records(tmp_path):
    lines = ["\t".join(FIELDS), line("0", "在吗"), "", "  ", line("1", "您好")]
    parsed = parse_file(write_tsv(tmp_path / "j.tsv", lines, newline="\r\n"), input_format="jd-tsv")
    assert [text for _, _, text in messages(parsed)] == ["在吗", "您好"]
    assert parsed.summary.rows == 2 and parsed.summary.problems == ()


def test_a_header_line_after_records_is_a_problem(tmp_path):
    parsed = parse_file(write_tsv(tmp_path / "j.tsv", [line("0", "在吗"), "\t".join(FIELDS)]))
    assert [p.line for p in parsed.summary.problems] == [2]


def test_gb18030_file_is_decoded(tmp_path):
    parsed = parse_file(write_tsv(tmp_path / "j.tsv", [line("0", "在吗"), line("1", "您好")], encoding="gb18030"))
    assert parsed.summary.encoding == "gb18030"
    assert [text for _, _, text in messages(parsed)] == ["在吗", "您好"]


def test_a_line_in_another_encoding_is_a_problem_not_garbage(tmp_path):
    data = (line("0", "在吗") + "\n").encode() + (line("1", "您好") + "\n").encode("gb18030") \
        + (line("0", "好的") + "\n").encode()
    path = tmp_path / "j.tsv"
    path.write_bytes(data)
    parsed = parse_file(path)
    assert [text for _, _, text in messages(parsed)] == ["在吗", "好的"]
    assert [p.line for p in parsed.summary.problems] == [2]


@pytest.mark.parametrize("content, reason", [
    ("conversation_id,role,text\nC1,buyer,hi\n", "not a JDDC-style TSV"),
    ("", "empty file"),
    ("\n\n", "empty file"),
])
def test_a_file_without_any_jddc_line_is_unreadable(tmp_path, content, reason):
    path = tmp_path / "j.tsv"
    path.write_text(content, encoding="utf-8")
    parsed = parse_file(path, input_format="jd-tsv")
    assert not parsed.summary.readable and reason in parsed.summary.error


# --- sniffing -------------------------------------------------------------------------------

def test_sample_is_sniffed_as_jd_tsv():
    assert sniff_format(SAMPLE) == "jd-tsv"


def test_jddc_content_is_sniffed_whatever_the_extension(tmp_path):
    path = write_tsv(tmp_path / "chat.txt", [line("0", "在吗"), line("1", "您好，[姓名x]")])
    assert sniff_format(path) == "jd-tsv"


@pytest.mark.parametrize("name", OTHER_SAMPLES)
def test_other_samples_are_not_claimed(name):
    assert sniff_format(SAMPLES / name) != "jd-tsv"


@pytest.mark.parametrize("lines", [
    ["conversation_id\ttimestamp\trole\tsender\ttext", "C1\t2024-04-15 10:00:00\tbuyer\t\t在吗"],
    ["a\tb\tc\td\te\tf\tg", "a\tb\tc\td\te\tf\tg"],
    ["S1\tU1\t0\t0\t0\t\t在吗", "垃圾", "垃圾", "垃圾"],
])
def test_other_tab_separated_text_is_not_claimed(tmp_path, lines):
    assert sniff_format(write_tsv(tmp_path / "x.txt", lines)) != "jd-tsv"


# --- properties -----------------------------------------------------------------------------

content = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\n\r"),
                  min_size=1, max_size=30).filter(lambda s: s.strip())
good_line = st.tuples(st.sampled_from(["s1", "s2", "会话3"]), st.sampled_from(["0", "1"]),
                      st.sampled_from(["0", "1"]), st.sampled_from(["0", "1"]), content)
junk_line = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\t\n\r"), max_size=30),
    st.builds(lambda w: line(w, "x"), st.sampled_from(["2", "-1", "yes", ""])),
    st.builds(lambda c: line("0", c), st.sampled_from(["", " ", "\t"])),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(entries=st.lists(st.one_of(good_line.map(lambda g: ("good", g)), junk_line.map(lambda j: ("junk", j))),
                        min_size=1, max_size=25).filter(lambda es: any(kind == "good" for kind, _ in es)),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]),
       newline=st.sampled_from(["\n", "\r\n"]))
def test_any_jddc_file_counts_every_line_and_returns_every_message(tmp_path, entries, encoding, newline):
    lines, expected = [], {}
    for kind, entry in entries:
        if kind == "good":
            session, waiter_send, is_transfer, is_repeat, text = entry
            lines.append(line(waiter_send, text, session=session, is_transfer=is_transfer, is_repeat=is_repeat))
            expected.setdefault(session, []).append(("agent" if waiter_send == "1" else "buyer", text))
        else:
            lines.append(entry)
    parsed = parse_file(write_tsv(tmp_path / "p.tsv", lines, encoding, newline), input_format="jd-tsv")
    summary = parsed.summary
    assert summary.rows == summary.messages + len(summary.problems)
    assert summary.rows == sum(1 for text in lines if text.strip())
    assert {c.id: [(m.role, m.text) for m in c.messages] for c in parsed.conversations} == expected


def test_a_utf16_file_whose_first_character_is_nul_is_not_taken_for_utf32(tmp_path):
    # FF FE (UTF-16 LE BOM) then 00 00 (U+0000) reads as the UTF-32 LE BOM; hypothesis found it.
    lines = ["\x00junk", line("0", "在吗"), line("1", "您好")]
    parsed = parse_file(write_tsv(tmp_path / "p.tsv", lines, "utf-16"), input_format="jd-tsv")
    assert messages(parsed) == [("buyer", "USERID_10503190", "在吗"), ("agent", "", "您好")]
    assert parsed.summary.rows == 3
    assert [problem.line for problem in parsed.summary.problems] == [1]
