"""拼多多 inputs: JSON chat records (message_infos) and the back end's spreadsheet export."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from cs_audit.parsers import parse_file, sniff_format
from conftest import SAMPLES, assert_golden_document

GOLDEN_DIR = Path(__file__).parent / "golden"
OTHER_SAMPLES = ("taobao_utf8.csv", "pdd_gb18030.csv", "jd_chat.jsonl", "douyin_chat.xlsx",
                 "jd_sessions.tsv")


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


def assert_golden(parsed, name: str) -> None:
    assert_golden_document(rendering(parsed), GOLDEN_DIR / name)


def write_json(path: Path, document, indent: int | None = 2, encoding: str = "utf-8") -> Path:
    path.write_bytes(json.dumps(document, ensure_ascii=False, indent=indent).encode(encoding))
    return path


def info(ts="2024-04-16 09:00:00", from_type=0, text="在吗", **extra) -> dict:
    return {"msg_ts": ts, "from_type": from_type, "text": text, **extra}


def texts(parsed) -> list[str]:
    return [m.text for c in parsed.conversations for m in c.messages]


def reasons(parsed) -> list[tuple[int, str]]:
    return [(p.line, p.reason) for p in parsed.summary.problems]


# --- samples --------------------------------------------------------------------------------

def test_golden_pdd_json_sample():
    assert_golden(parse_file(SAMPLES / "pdd_records.json"), "pdd.json")


def test_golden_pdd_export_sample():
    assert_golden(parse_file(SAMPLES / "pdd_export.xlsx"), "pdd_xlsx.json")


@pytest.mark.parametrize("name", ["pdd_records.json", "pdd_export.xlsx"])
def test_samples_count_every_record_as_message_or_problem(name):
    summary = parse_file(SAMPLES / name).summary
    assert summary.rows == summary.messages + len(summary.problems)
    assert len(summary.problems) == 1  # the one deliberately bad record


def test_sample_bad_msg_ts_is_reported_at_the_line_of_its_record():
    path = SAMPLES / "pdd_records.json"
    [(line, reason)] = reasons(parse_file(path))
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[line - 1].strip() == "{"
    assert '"2024-04-16 24:38:10"' in lines[line + 1]
    assert "bad timestamp" in reason


# --- JSON layouts ---------------------------------------------------------------------------

CONVERSATION = {"conversation_id": "C1", "message_infos": [
    info("2024-04-16 09:00:00", 0, "在吗"), info("2024-04-16 09:00:20", 2, "在的亲", sender="店:小暖")]}


@pytest.mark.parametrize("document", [
    [CONVERSATION],
    {"conversations": [CONVERSATION]},
    {"data": [CONVERSATION]},
    {"success": True, "result": {"list": [CONVERSATION]}},
    CONVERSATION,
], ids=["list", "conversations", "data", "result.list", "single"])
def test_accepted_json_layouts(tmp_path, document):
    parsed = parse_file(write_json(tmp_path / "chat.json", document))
    assert parsed.summary.format == "pdd-json"
    assert [(c.id, [m.text for m in c.messages]) for c in parsed.conversations] == [("C1", ["在吗", "在的亲"])]
    assert parsed.summary.problems == ()


@pytest.mark.parametrize("ids, expected", [
    ({"conversation_id": "A", "session_id": "B", "uid": 3}, "A"),
    ({"session_id": "B", "uid": 3}, "B"),
    ({"uid": 7235590013}, "7235590013"),
    ({"conversation_id": "", "uid": "U9"}, "U9"),
])
def test_conversation_id_is_the_first_of_conversation_id_session_id_uid(tmp_path, ids, expected):
    document = [{**ids, "message_infos": [info()]}]
    assert [c.id for c in parse_file(write_json(tmp_path / "c.json", document)).conversations] == [expected]


def test_from_type_maps_to_roles_and_digit_strings_are_accepted(tmp_path):
    infos = [info(f"2024-04-16 09:00:0{n}", from_type, f"m{n}")
             for n, from_type in enumerate([0, 1, 2, 3, "2"])]
    parsed = parse_file(write_json(tmp_path / "c.json", [{"conversation_id": "C", "message_infos": infos}]))
    assert [m.role for m in parsed.conversations[0].messages] == ["buyer", "bot", "agent", "system", "agent"]


def test_a_from_type_of_thousands_of_digits_is_an_unknown_role_not_a_crash(tmp_path):
    # int() refuses a string of more than 4,300 digits; a role code is a small number anyway.
    infos = [info(from_type="9" * 5000), info("2024-04-16 09:00:01", "0002", "在的")]
    parsed = parse_file(write_json(tmp_path / "c.json", [{"conversation_id": "C", "message_infos": infos}]))
    assert [m.role for m in parsed.conversations[0].messages] == ["agent"]
    assert len(parsed.summary.problems) == 1


def test_sender_comes_from_sender_or_nickname(tmp_path):
    infos = [info(text="a", sender="店:小暖"), info(text="b", nickname="晴天**"), info(text="c")]
    parsed = parse_file(write_json(tmp_path / "c.json", [{"conversation_id": "C", "message_infos": infos}]))
    assert [m.sender for m in parsed.conversations[0].messages] == ["店:小暖", "晴天**", ""]


def test_messages_are_ordered_by_msg_ts_and_placeholders_stay_text(tmp_path):
    infos = [info("2024-04-16 09:00:30", 2, "收到图片了"), info("2024-04-16 09:00:00", 0, "[图片]")]
    parsed = parse_file(write_json(tmp_path / "c.json", [{"conversation_id": "C", "message_infos": infos}]))
    messages = parsed.conversations[0].messages
    assert [m.text for m in messages] == ["[图片]", "收到图片了"]
    assert messages[0].timestamp == datetime(2024, 4, 16, 9, 0, 0)


def test_a_message_without_msg_ts_is_kept_without_a_time(tmp_path):
    infos = [info(), {"from_type": 2, "text": "在的"}]
    parsed = parse_file(write_json(tmp_path / "c.json", [{"conversation_id": "C", "message_infos": infos}]))
    assert [m.timestamp for m in parsed.conversations[0].messages] == [datetime(2024, 4, 16, 9), None]


@pytest.mark.parametrize("bad, reason", [
    (info(from_type=7), "unknown from_type 7"),
    (info(from_type="客服"), "unknown from_type '客服'"),
    (info(from_type=True), "unknown from_type True"),
    (info(from_type=None), "unknown from_type None"),
    ({"msg_ts": "2024-04-16 09:00:00", "text": "hi"}, "missing from_type"),
    (info(ts="2024-04-16 24:05:10"), "bad timestamp"),
    (info(ts="昨天"), "bad timestamp"),
    (info(text=""), "missing text"),
    (info(text="   "), "missing text"),
    ({"msg_ts": "2024-04-16 09:00:00", "from_type": 0}, "missing text"),
    (info(text={"card": "goods"}), "text is an object, not a string"),
    (info(text=123), "text is a number, not a string"),
    ("just a string", "message_infos entry is a string, not an object"),
])
def test_each_bad_message_info_is_a_problem_at_its_line(tmp_path, bad, reason):
    document = [{"conversation_id": "C", "message_infos": [info(text="好的"), bad, info(text="谢谢")]}]
    path = write_json(tmp_path / "c.json", document)
    parsed = parse_file(path)
    assert texts(parsed) == ["好的", "谢谢"]
    [(line, got)] = reasons(parsed)
    assert reason in got
    lines = path.read_text(encoding="utf-8").split("\n")
    # Objects are found at their "{"; a bare value at the "[" of its message_infos.
    assert lines[line - 1].strip() == ("{" if isinstance(bad, dict) else '"message_infos": [')
    assert parsed.summary.rows == 3 and parsed.summary.messages == 2


@pytest.mark.parametrize("conversation, reason", [
    ({"message_infos": [info(), info()]}, "conversation without an id"),
    ({"conversation_id": "X"}, "conversation X: no message_infos"),
    ({"conversation_id": "X", "message_infos": {"a": 1}}, "message_infos is an object"),
    ({"conversation_id": "X", "message_infos": []}, "message_infos is empty"),
    ({"uid": True, "message_infos": [info()]}, "conversation without an id"),
])
def test_an_unusable_conversation_is_one_problem_at_its_line(tmp_path, conversation, reason):
    document = {"conversations": [{"conversation_id": "OK", "message_infos": [info()]}, conversation]}
    path = write_json(tmp_path / "c.json", document)
    parsed = parse_file(path)
    [(line, got)] = reasons(parsed)
    assert reason in got
    assert line == 13  # the "{" of the second conversation with indent=2
    assert path.read_text(encoding="utf-8").split("\n")[line - 1].strip() == "{"
    assert parsed.summary.rows == parsed.summary.messages + 1


def test_conversation_without_id_says_how_many_messages_it_holds(tmp_path):
    parsed = parse_file(write_json(tmp_path / "c.json", [{"message_infos": [info(), info(), info()]}]))
    assert "its 3 message(s)" in parsed.summary.problems[0].reason


def test_a_conversation_entry_that_is_not_an_object_is_a_problem(tmp_path):
    parsed = parse_file(write_json(tmp_path / "c.json", {"conversations": [CONVERSATION, 42]}))
    # A bare value has no line of its own: it is reported at the "[" of its list.
    assert reasons(parsed) == [(2, "conversation entry is a number, not an object")]


def test_lines_stay_right_past_nested_values_braces_in_strings_and_duplicate_keys(tmp_path):
    text = (
        '{"conversations": [\n'
        '  {"conversation_id": "C", "extra": {"tags": [{"a": "{[}"}, [1, 2]]},\n'
        '   "message_infos": [{"x": 1}],\n'
        '   "message_infos": [\n'
        '    {"msg_ts": "2024-04-16 09:00:00", "from_type": 0, "text": "带\\"引号\\"和{括号["},\n'
        '    {"msg_ts": "2024-04-16 09:00:10", "from_type": 9, "text": "x"}\n'
        '  ]}\n'
        ']}\n'
    )
    path = tmp_path / "c.json"
    path.write_text(text, encoding="utf-8")
    parsed = parse_file(path)
    assert [(m.line, m.text) for c in parsed.conversations for m in c.messages] == [(5, '带"引号"和{括号[')]
    assert [line for line, _ in reasons(parsed)] == [6]


def test_compact_json_reports_line_one(tmp_path):
    document = [{"conversation_id": "C", "message_infos": [info(), info(from_type=5)]}]
    parsed = parse_file(write_json(tmp_path / "c.json", document, indent=None))
    assert [line for line, _ in reasons(parsed)] == [1]


@pytest.mark.parametrize("encoding, reported", [("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030")])
def test_bom_and_gb18030_json_are_decoded(tmp_path, encoding, reported):
    parsed = parse_file(write_json(tmp_path / "c.json", [CONVERSATION], encoding=encoding))
    assert parsed.summary.format == "pdd-json" and parsed.summary.encoding == reported
    assert texts(parsed) == ["在吗", "在的亲"]


def test_invalid_json_makes_the_file_unreadable_at_the_error_line(tmp_path):
    path = tmp_path / "c.json"
    path.write_text('{"conversations": [\n  {"conversation_id": "C", "message_infos": [\n    {"msg_ts": }\n',
                    encoding="utf-8")
    parsed = parse_file(path)
    assert not parsed.summary.readable
    assert parsed.summary.problems[0].line == 3 and "invalid JSON" in parsed.summary.error


def test_json_without_conversations_is_unreadable(tmp_path):
    parsed = parse_file(write_json(tmp_path / "c.json", {"message_infos_count": 3, "items": []}),
                        input_format="pdd-json")
    assert not parsed.summary.readable and "no conversations" in parsed.summary.error


# --- spreadsheet export ---------------------------------------------------------------------

EXPORT_HEADER = ("买家ID", "买家昵称", "客服账号", "发送方", "消息时间", "消息内容")


def write_export(path: Path, rows, header=EXPORT_HEADER, title: str | None = None) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    if title:
        sheet.append((title,))
        sheet.append(())
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


EXPORT_ROWS = [
    (5823345501, "豆豆妈", "店:小米", "买家", "2024-04-15 10:00:00", "在吗"),
    (5823345501, "豆豆妈", "店:小米", "机器人", "2024-04-15 10:00:01", "欢迎光临"),
    (5823345501, "豆豆妈", "店:小米", "客服", datetime(2024, 4, 15, 10, 0, 30), "亲，在的"),
    (5823345501, "豆豆妈", "店:小米", "系统", "2024-04-15 10:01:00", "买家已下单"),
    (6120778342, None, "店:阿杰", "买家", "2024-04-15 11:00:00", "发货了吗"),
]


def test_export_columns_roles_and_senders(tmp_path):
    parsed = parse_file(write_export(tmp_path / "e.xlsx", EXPORT_ROWS, title="聊天记录导出"))
    assert parsed.summary.format == "pdd-xlsx" and parsed.summary.problems == ()
    first, second = parsed.conversations
    assert first.id == "5823345501"
    assert [(m.role, m.sender) for m in first.messages] == [
        ("buyer", "豆豆妈"), ("bot", "店:小米"), ("agent", "店:小米"), ("system", "")]
    assert first.messages[2].timestamp == datetime(2024, 4, 15, 10, 0, 30)
    assert [m.line for m in first.messages] == [4, 5, 6, 7]  # title, blank row, header above
    assert (second.id, second.messages[0].sender) == ("6120778342", "6120778342")


def test_conversation_id_column_wins_over_buyer_id(tmp_path):
    header = ("会话ID", *EXPORT_HEADER)
    rows = [("S1", *EXPORT_ROWS[0]), ("S2", *EXPORT_ROWS[2])]
    parsed = parse_file(write_export(tmp_path / "e.xlsx", rows, header=header))
    assert [c.id for c in parsed.conversations] == ["S1", "S2"]


def test_other_header_names_from_the_column_table(tmp_path):
    header = ("会话编号", "发送者", "发送时间", "聊天内容", "客服昵称")
    rows = [("K1", "买家", "2024-04-15 10:00:00", "你好", None), ("K1", "人工客服", "2024-04-15 10:00:09", "您好", "小米")]
    parsed = parse_file(write_export(tmp_path / "e.xlsx", rows, header=header))
    assert parsed.summary.format == "pdd-xlsx"
    assert [(m.role, m.sender, m.text) for m in parsed.conversations[0].messages] == [
        ("buyer", "", "你好"), ("agent", "小米", "您好")]


@pytest.mark.parametrize("row, reason", [
    ((1, "a", "s", "平台客服", "2024-04-15 10:00:00", "x"), "unknown 发送方 '平台客服'"),
    ((1, "a", "s", None, "2024-04-15 10:00:00", "x"), "missing 发送方"),
    ((1, "a", "s", "买家", "2024-04-15 10:00:00", None), "missing 消息内容"),
    ((1, "a", "s", "买家", "2024-04-15 10:00:00", "  "), "missing 消息内容"),
    ((1, "a", "s", "买家", "15/04/2024", "x"), "bad timestamp"),
    ((None, "a", "s", "买家", "2024-04-15 10:00:00", "x"), "missing conversation_id"),
])
def test_each_bad_export_row_is_a_problem_with_its_sheet_row(tmp_path, row, reason):
    parsed = parse_file(write_export(tmp_path / "e.xlsx", [EXPORT_ROWS[0], row, EXPORT_ROWS[2]]))
    assert [(p.line, reason in p.reason) for p in parsed.summary.problems] == [(3, True)]
    assert texts(parsed) == ["在吗", "亲，在的"]


def test_export_header_beyond_the_first_rows_is_not_found(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    for n in range(5):
        sheet.append((f"说明{n}",))
    sheet.append(EXPORT_HEADER)
    sheet.append(EXPORT_ROWS[0])
    path = tmp_path / "e.xlsx"
    workbook.save(path)
    assert sniff_format(path) == "xlsx"  # falls back to the canonical reader
    parsed = parse_file(path, input_format="pdd-xlsx")
    assert not parsed.summary.readable and "no 拼多多 export header" in parsed.summary.error


def test_export_reader_refuses_zip_bombs_like_the_canonical_one(tmp_path, monkeypatch):
    from cs_audit.parsers import zipsafety
    path = write_export(tmp_path / "e.xlsx", EXPORT_ROWS)
    monkeypatch.setattr(zipsafety, "MAX_UNCOMPRESSED_BYTES", 1000)
    parsed = parse_file(path, input_format="pdd-xlsx")
    assert "zip bomb" in parsed.summary.error


# --- sniffing -------------------------------------------------------------------------------

def test_samples_are_sniffed_as_pdd_formats():
    assert sniff_format(SAMPLES / "pdd_records.json") == "pdd-json"
    assert sniff_format(SAMPLES / "pdd_export.xlsx") == "pdd-xlsx"


@pytest.mark.parametrize("name", OTHER_SAMPLES)
def test_other_samples_are_not_claimed(name):
    assert sniff_format(SAMPLES / name) not in ("pdd-json", "pdd-xlsx")


def test_pdd_json_is_sniffed_by_content_whatever_the_extension(tmp_path):
    path = write_json(tmp_path / "export.txt", {"conversations": [CONVERSATION]})
    assert sniff_format(path) == "pdd-json"


def test_json_without_message_infos_is_not_sniffed_as_pdd(tmp_path):
    path = write_json(tmp_path / "tickets.txt", {"tickets": [{"id": 1, "comments": []}]})
    assert sniff_format(path) != "pdd-json"


def test_canonical_chinese_header_workbook_is_not_claimed(tmp_path):
    path = write_export(tmp_path / "c.xlsx", [("C1", "2024-04-15 10:00:00", "买家", "", "在吗")],
                        header=("会话ID", "时间", "角色", "发送人", "内容"))
    assert sniff_format(path) == "xlsx"


# --- properties -----------------------------------------------------------------------------

chat_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                    min_size=1, max_size=30).filter(lambda s: s.strip())
# Workbooks cannot hold control characters.
cell_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30).filter(
    lambda s: s.strip())
good_info = st.tuples(st.integers(0, 3), st.datetimes(datetime(2020, 1, 1), datetime(2030, 1, 1)), chat_text)
junk_info = st.one_of(
    st.builds(lambda ft: info(from_type=ft), st.one_of(st.integers(4, 99), st.text(max_size=3).filter(
        lambda s: not s.strip().isdecimal()), st.booleans(), st.none())),
    st.builds(lambda text: info(text=text), st.sampled_from(["", "  ", None])),
    st.builds(lambda ts: info(ts=ts), st.sampled_from(["2024-02-30 10:00:00", "昨天", "24:00"])),
    st.one_of(st.integers(), st.text(max_size=5), st.none()),
)
conversation_spec = st.tuples(
    st.sampled_from(["conversation_id", "session_id", "uid"]),
    st.lists(st.one_of(good_info.map(lambda g: ("good", g)), junk_info.map(lambda j: ("junk", j))),
             min_size=1, max_size=8),
)
junk_conversation = st.sampled_from([{"message_infos": [info()]}, {"conversation_id": "Z"},
                                     {"conversation_id": "Z", "message_infos": []}, "oops", 5])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(conversation_spec, min_size=1, max_size=4),
       junk=st.lists(junk_conversation, max_size=2), indent=st.sampled_from([None, 1, 2]),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_any_pdd_json_counts_every_record_and_returns_every_message(tmp_path, specs, junk, indent, encoding):
    conversations, expected = [], []
    for number, (id_key, entries) in enumerate(specs):
        conversation_id = f"C{number}"
        infos = []
        for kind, entry in entries:
            if kind == "good":
                from_type, moment, text = entry
                infos.append({"msg_ts": moment.strftime("%Y-%m-%d %H:%M:%S"), "from_type": from_type, "text": text})
                expected.append((conversation_id, text))
            else:
                infos.append(entry)
        conversations.append({id_key: conversation_id, "message_infos": infos})
    path = write_json(tmp_path / "p.json", {"conversations": conversations + junk}, indent, encoding)
    parsed = parse_file(path)
    summary = parsed.summary
    assert summary.format == "pdd-json"
    assert summary.rows == summary.messages + len(summary.problems)
    assert sorted((c.id, m.text) for c in parsed.conversations for m in c.messages) == sorted(expected)
    lines = path.read_bytes().decode(encoding).split("\n")
    for message in (m for c in parsed.conversations for m in c.messages):
        assert "{" in lines[message.line - 1]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.sampled_from(["B1", "B2"]),
                               st.sampled_from(["买家", "客服", "机器人", "系统", "平台客服", "", None]),
                               st.one_of(cell_text, st.sampled_from(["", None]))),
                     min_size=1, max_size=15))
def test_any_pdd_export_counts_every_row_and_returns_every_message(tmp_path, rows):
    sheet_rows = [(buyer, None, "店:小米", kind, "2024-04-15 10:00:00", text) for buyer, kind, text in rows]
    path = write_export(tmp_path / "e.xlsx", sheet_rows)
    parsed = parse_file(path, input_format="pdd-xlsx")
    summary = parsed.summary
    valid_kinds = {"买家", "客服", "机器人", "系统"}
    assert summary.rows == summary.messages + len(summary.problems) == len(sheet_rows)
    expected = [(buyer, text) for buyer, kind, text in rows if kind in valid_kinds and text and text.strip()]
    assert sorted((c.id, m.text) for c in parsed.conversations for m in c.messages) == sorted(expected)
