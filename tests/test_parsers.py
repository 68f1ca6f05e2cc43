"""Canonical inputs (SPEC §2): formats, encodings, timestamps, ordering and input problems."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from cs_audit.parsers import collect_paths, parse_file, sniff_format
from cs_audit.parsers.records import parse_timestamp
from cs_audit.parsers.text import EncodingProblem, decode_bytes
from conftest import HEADER, REPO, csv_text, write_csv

ROWS = [
    ("C1", "2024-04-15 10:00:00", "buyer", "张三", "在吗，这件有货吗"),
    ("C1", "2024-04-15 10:00:30", "agent", "店:小美", "亲，您好，有货的"),
]


def texts(parsed):
    return [m.text for c in parsed.conversations for m in c.messages]


@pytest.mark.parametrize("encoding, reported", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gb18030", "gb18030"),
    ("utf-16", "utf-16"), ("utf-16-be", "utf-16"),
])
def test_each_encoding_is_decoded_and_reported(tmp_path, encoding, reported):
    data = csv_text(ROWS).encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    path = tmp_path / "chat.csv"
    path.write_bytes(data)
    parsed = parse_file(path)
    assert parsed.summary.encoding == reported
    assert texts(parsed) == ["在吗，这件有货吗", "亲，您好，有货的"]
    assert parsed.summary.problems == ()


def test_gb18030_is_chosen_only_when_utf8_fails():
    text, used = decode_bytes("你好".encode("utf-8"))
    assert (text, used) == ("你好", "utf-8")
    text, used = decode_bytes("你好".encode("gb18030"))
    assert (text, used) == ("你好", "gb18030")


def test_explicit_encoding_overrides_detection(tmp_path):
    path = write_csv(tmp_path / "chat.csv", ROWS, encoding="gb18030")
    parsed = parse_file(path, encoding="gb18030")
    assert parsed.summary.encoding == "gb18030"
    wrong = parse_file(path, encoding="utf-8")
    assert not wrong.summary.readable
    assert "not valid utf-8" in wrong.summary.error


def test_undecodable_bytes_name_the_line():
    data = "a,b\n".encode() * 3 + b"\x81\x30\xff\xff\n"
    with pytest.raises(EncodingProblem) as caught:
        decode_bytes(data)
    assert caught.value.line == 4


def test_unknown_encoding_name_is_a_file_error(tmp_path):
    path = write_csv(tmp_path / "chat.csv", ROWS)
    parsed = parse_file(path, encoding="no-such-codec")
    assert "unknown encoding" in parsed.summary.error


def test_chinese_and_mixed_case_headers_and_roles(tmp_path):
    rows = [("C1", "2024-04-15 10:00:00", "买家", "", "在吗"),
            ("C1", "2024-04-15 10:00:05", "机器人", "", "欢迎"),
            ("C1", "2024-04-15 10:00:06", "系统", "", "转接中"),
            ("C1", "2024-04-15 10:00:10", "商家", "a", "在的"),
            ("C1", "2024-04-15 10:00:20", "顾客", "", "好")]
    path = write_csv(tmp_path / "c.csv", rows, header=("会话ID", "时间", "角色", "发送人", "内容"))
    parsed = parse_file(path)
    assert [m.role for m in parsed.conversations[0].messages] == ["buyer", "bot", "system", "agent", "buyer"]
    path = write_csv(tmp_path / "d.csv", ROWS, header=("Conversation_ID", "TIMESTAMP", "Role", "Sender", "Text"))
    assert len(texts(parse_file(path))) == 2


def test_other_columns_are_kept_and_ignored(tmp_path):
    header = ("店铺", *HEADER, "备注")
    rows = [("木子", *row, "x") for row in ROWS]
    parsed = parse_file(write_csv(tmp_path / "c.csv", rows, header=header))
    assert len(texts(parsed)) == 2 and parsed.summary.problems == ()


def test_missing_required_column_makes_the_file_unreadable(tmp_path):
    path = write_csv(tmp_path / "c.csv", [r[:4] for r in ROWS], header=HEADER[:4])
    parsed = parse_file(path)
    assert not parsed.summary.readable
    assert "text (内容)" in parsed.summary.error
    assert parsed.summary.problems[0].line == 1


@pytest.mark.parametrize("row, reason", [
    (("", "2024-04-15 10:00:00", "buyer", "", "hi"), "missing conversation_id"),
    (("C1", "2024-04-15 10:00:00", "", "", "hi"), "missing role"),
    (("C1", "2024-04-15 10:00:00", "boss", "", "hi"), "unknown role 'boss'"),
    (("C1", "2024-04-15 10:00:00", "buyer", "", "  "), "missing text"),
    (("C1", "yesterday", "buyer", "", "hi"), "bad timestamp"),
    (("C1", "2024-13-45 10:00:00", "buyer", "", "hi"), "bad timestamp"),
    (("C1", "2024-04-15 10:00:00", "buyer", "", "hi", "extra"), "expected 5 fields, found 6"),
    (("C1", "2024-04-15 10:00:00", "buyer"), "expected 5 fields, found 3"),
])
def test_each_problem_kind_is_reported_with_line_and_the_audit_goes_on(tmp_path, row, reason):
    path = tmp_path / "c.csv"
    path.write_text(csv_text([ROWS[0]]) + ",".join(row) + "\n" + csv_text([ROWS[1]]).split("\n", 1)[1],
                    encoding="utf-8")
    parsed = parse_file(path)
    assert [(p.line, reason in p.reason) for p in parsed.summary.problems] == [(3, True)]
    assert texts(parsed) == ["在吗，这件有货吗", "亲，您好，有货的"]
    assert parsed.summary.rows == 3 and parsed.summary.messages == 2


def test_problem_line_is_where_a_multiline_record_starts(tmp_path):
    rows = [("C1", "2024-04-15 10:00:00", "buyer", "", "第一行\n第二行\n第三行"),
            ("C1", "bad", "agent", "", "x")]
    parsed = parse_file(write_csv(tmp_path / "c.csv", rows))
    assert texts(parsed) == ["第一行\n第二行\n第三行"]
    assert parsed.summary.problems[0].line == 5


def test_unterminated_quote_is_a_problem_not_a_crash(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(csv_text(ROWS) + 'C1,2024-04-15 10:01:00,buyer,,"never closed\n', encoding="utf-8")
    parsed = parse_file(path)
    assert len(texts(parsed)) == 2
    assert parsed.summary.problems[0].line == 4
    assert "CSV syntax error" in parsed.summary.problems[0].reason


def test_blank_lines_are_not_records(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text(csv_text(ROWS).replace("\n", "\n\n"), encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.summary.rows == 2 and len(texts(parsed)) == 2


@pytest.mark.parametrize("value, expected", [
    ("2024-04-15 10:00:00", datetime(2024, 4, 15, 10, 0, 0)),
    ("2024-04-15T10:00:00", datetime(2024, 4, 15, 10, 0, 0)),
    ("2024-04-15T02:00:00Z", datetime(2024, 4, 15, 10, 0, 0)),
    ("2024-04-15T10:00:00+08:00", datetime(2024, 4, 15, 10, 0, 0)),
    ("2024-04-15T04:00:00+02:00", datetime(2024, 4, 15, 10, 0, 0)),
    ("1713146400", datetime(2024, 4, 15, 10, 0, 0)),
    (1713146400, datetime(2024, 4, 15, 10, 0, 0)),
    ("1713146400000", datetime(2024, 4, 15, 10, 0, 0)),
    (1713146400000, datetime(2024, 4, 15, 10, 0, 0)),
    (1713146400.5, datetime(2024, 4, 15, 10, 0, 0, 500000)),
    ("", None),
    (None, None),
])
def test_timestamp_forms_become_shop_local_time(value, expected):
    assert parse_timestamp(value) == expected


@pytest.mark.parametrize("value", ["15/04/2024 10:00", "now", "-5", "nan", True])
def test_unreadable_timestamps_are_errors(value):
    with pytest.raises(ValueError):
        parse_timestamp(value)


def test_messages_are_ordered_by_time_and_ties_keep_file_order(tmp_path):
    rows = [("C1", "2024-04-15 10:02:00", "agent", "a", "third"),
            ("C1", "2024-04-15 10:00:00", "buyer", "", "first"),
            ("C1", "2024-04-15 10:01:00", "buyer", "", "tie-1"),
            ("C1", "2024-04-15 10:01:00", "agent", "a", "tie-2")]
    parsed = parse_file(write_csv(tmp_path / "c.csv", rows))
    messages = parsed.conversations[0].messages
    assert [m.text for m in messages] == ["first", "tie-1", "tie-2", "third"]
    assert [m.index for m in messages] == [0, 1, 2, 3]
    assert [m.line for m in messages] == [3, 4, 5, 2]


def test_a_row_without_timestamp_stays_after_its_file_predecessor(tmp_path):
    rows = [("C1", "2024-04-15 10:05:00", "buyer", "", "later"),
            ("C1", "", "agent", "a", "follows later"),
            ("C1", "2024-04-15 10:00:00", "buyer", "", "earlier")]
    parsed = parse_file(write_csv(tmp_path / "c.csv", rows))
    assert [m.text for m in parsed.conversations[0].messages] == ["earlier", "later", "follows later"]


def test_conversations_keep_order_of_first_appearance(tmp_path):
    rows = [("B", "2024-04-15 10:00:00", "buyer", "", "x"), ("A", "2024-04-15 09:00:00", "buyer", "", "y"),
            ("B", "2024-04-15 10:01:00", "agent", "s", "z")]
    parsed = parse_file(write_csv(tmp_path / "c.csv", rows))
    assert [c.id for c in parsed.conversations] == ["B", "A"]


def test_jsonl_records_and_problems(tmp_path):
    lines = [
        json.dumps({"conversation_id": 7, "timestamp": 1713146400000, "role": "buyer", "text": "在吗"}, ensure_ascii=False),
        "",
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"会话ID": "7", "时间": "2024-04-15T10:00:30+08:00", "角色": "客服", "发送人": "s", "内容": "在的"}, ensure_ascii=False),
    ]
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.summary.format == "jsonl"
    assert [(c.id, [m.text for m in c.messages]) for c in parsed.conversations] == [("7", ["在吗", "在的"])]
    assert [p.line for p in parsed.summary.problems] == [3, 4]
    assert parsed.summary.rows == 4


def test_xlsx_first_sheet_with_datetime_cells(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Conversation_ID", "Timestamp", "Role", "Sender", "Text", "店铺"])
    sheet.append([1001, datetime(2024, 4, 15, 10, 0), "buyer", None, "=1+1", "x"])
    sheet.append([1001, datetime(2024, 4, 15, 10, 0, 20), "agent", "s", "您好", "x"])
    sheet.append([1001, "garbage", "agent", "s", "再见", "x"])
    workbook.create_sheet("other").append(["ignored"])
    path = tmp_path / "c.xlsx"
    workbook.save(path)
    parsed = parse_file(path)
    conv = parsed.conversations[0]
    assert conv.id == "1001"
    assert [m.text for m in conv.messages] == ["=1+1", "您好"]
    assert conv.messages[1].timestamp == datetime(2024, 4, 15, 10, 0, 20)
    assert [(p.line, "bad timestamp" in p.reason) for p in parsed.summary.problems] == [(4, True)]


def test_corrupt_xlsx_is_an_unreadable_file(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    parsed = parse_file(path)
    assert not parsed.summary.readable
    assert "XLSX" in parsed.summary.error


def test_format_is_sniffed_from_content_not_only_extension(tmp_path):
    jsonl = tmp_path / "export.txt"
    jsonl.write_text('{"conversation_id": "1", "role": "buyer", "text": "hi"}\n', encoding="utf-8")
    assert sniff_format(jsonl) == "jsonl"
    csv_file = write_csv(tmp_path / "export.dat", ROWS)
    assert sniff_format(csv_file) == "csv"


def test_folders_are_walked_recursively_in_sorted_order_skipping_other_files(tmp_path):
    (tmp_path / "b").mkdir()
    write_csv(tmp_path / "b" / "2.csv", ROWS)
    write_csv(tmp_path / "a.csv", ROWS)
    (tmp_path / "notes.md").write_text("x")
    (tmp_path / "~$a.xlsx").write_bytes(b"lock file")
    found = collect_paths([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.csv", "b/2.csv"]


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        collect_paths([tmp_path / "nope"])


# --- properties -----------------------------------------------------------------------------

chat_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
                    min_size=1, max_size=40).filter(lambda s: s.strip())
roles = st.sampled_from(["buyer", "agent", "bot", "system", "买家", "客服"])
records = st.lists(st.tuples(st.sampled_from(["A", "B", "会话3"]),
                             st.integers(1_700_000_000, 1_800_000_000), roles, chat_text),
                   min_size=1, max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=records, encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16"]))
def test_any_csv_round_trips_every_message(tmp_path, records, encoding):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    for conv_id, stamp, role, text in records:
        writer.writerow([conv_id, stamp, role, "s", text])
    path = tmp_path / "p.csv"
    path.write_bytes(buffer.getvalue().encode(encoding))
    parsed = parse_file(path)
    assert parsed.summary.problems == ()
    got = sorted((c.id, m.text) for c in parsed.conversations for m in c.messages)
    assert got == sorted((conv_id, text) for conv_id, _, _, text in records)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.text(max_size=60), max_size=20))
def test_any_line_soup_is_counted_rows_equal_messages_plus_problems(tmp_path, lines):
    path = tmp_path / "soup.csv"
    path.write_text(csv_text(ROWS) + "\n".join(lines), encoding="utf-8", newline="")
    parsed = parse_file(path)
    summary = parsed.summary
    assert summary.rows == summary.messages + len(summary.problems)
    assert summary.messages == sum(len(c.messages) for c in parsed.conversations)


# --- nothing lost, nothing dangerous -------------------------------------------------------

def test_mixed_encoding_lines_are_reported_not_decoded_into_garbage(tmp_path):
    good = csv_text(ROWS).encode("utf-8")
    bad_line = "C1,2024-04-15 10:01:00,buyer,,还在吗\n".encode("gb18030")
    path = tmp_path / "mixed.csv"
    path.write_bytes(good + bad_line + "C1,2024-04-15 10:02:00,agent,s,在的\n".encode("utf-8"))
    parsed = parse_file(path)
    assert parsed.summary.encoding == "utf-8"
    assert texts(parsed) == ["在吗，这件有货吗", "亲，您好，有货的", "在的"]
    assert [(p.line, "GB18030" in p.reason) for p in parsed.summary.problems] == [(4, True)]
    assert parsed.summary.rows == parsed.summary.messages + len(parsed.summary.problems)


def test_a_whole_gb18030_file_is_not_mistaken_for_mixed(tmp_path):
    parsed = parse_file(write_csv(tmp_path / "g.csv", ROWS, encoding="gb18030"))
    assert parsed.summary.encoding == "gb18030" and parsed.summary.problems == ()


def test_nul_bytes_in_a_record_are_a_problem(tmp_path):
    rows = [ROWS[0], ("C1", "2024-04-15 10:00:10", "buyer", "", "bin\x00ary"), ROWS[1]]
    parsed = parse_file(write_csv(tmp_path / "n.csv", rows))
    assert texts(parsed) == ["在吗，这件有货吗", "亲，您好，有货的"]
    assert "NUL" in parsed.summary.problems[0].reason


def test_an_overlong_field_is_a_problem_and_reading_goes_on(tmp_path, monkeypatch):
    from cs_audit.parsers import canonical_csv
    monkeypatch.setattr(canonical_csv, "FIELD_SIZE_LIMIT", 100)
    rows = [ROWS[0], ("C1", "2024-04-15 10:00:10", "buyer", "", "长" * 500), ROWS[1]]
    parsed = parse_file(write_csv(tmp_path / "l.csv", rows))
    assert texts(parsed) == ["在吗，这件有货吗", "亲，您好，有货的"]
    assert [p.line for p in parsed.summary.problems] == [3]
    assert "longer than 100" in parsed.summary.problems[0].reason


def test_zip_bomb_is_refused_before_opening(tmp_path):
    import zipfile
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (20 << 20))
    parsed = parse_file(path)
    assert not parsed.summary.readable
    assert "zip bomb" in parsed.summary.error


def test_oversized_archive_is_refused(tmp_path, monkeypatch):
    from cs_audit.parsers import zipsafety
    monkeypatch.setattr(zipsafety, "MAX_UNCOMPRESSED_BYTES", 1000)
    workbook = Workbook()
    workbook.active.append(list(HEADER))
    workbook.active.append(["C1", None, "buyer", "", "x" * 2000])
    path = tmp_path / "big.xlsx"
    workbook.save(path)
    assert "zip bomb" in parse_file(path).summary.error


# --- user column maps ----------------------------------------------------------------------

OTHER_HEADER = ("会话编号", "发送时间", "发送方", "客服账号", "消息内容")
OTHER_ROWS = [("S1", "2024-04-15 10:00:00", "用户", "", "在吗"),
              ("S1", "2024-04-15 10:00:30", "商家客服", "店:小美", "在的亲")]


def test_map_option_names_other_columns_and_role_values(tmp_path):
    from cs_audit.parsers.columns import parse_map_option
    column_map = parse_map_option("conversation_id=会话编号,timestamp=发送时间,role=发送方,"
                                  "sender=客服账号,text=消息内容,role.buyer=用户,role.agent=商家客服")
    path = write_csv(tmp_path / "o.csv", OTHER_ROWS, header=OTHER_HEADER)
    parsed = parse_file(path, column_map=column_map)
    conv = parsed.conversations[0]
    assert [(m.role, m.text) for m in conv.messages] == [("buyer", "在吗"), ("agent", "在的亲")]
    assert conv.messages[1].timestamp == datetime(2024, 4, 15, 10, 0, 30)


def test_map_file_with_columns_and_roles_tables(tmp_path):
    from cs_audit.parsers.columns import parse_map_option
    map_file = tmp_path / "map.toml"
    map_file.write_text('[columns]\nconversation_id = "会话编号"\ntimestamp = "发送时间"\n'
                        'role = "发送方"\ntext = "消息内容"\n[roles]\nbuyer = ["用户", "买家昵称"]\n'
                        'agent = "商家客服"\n', encoding="utf-8")
    path = write_csv(tmp_path / "o.csv", OTHER_ROWS, header=OTHER_HEADER)
    parsed = parse_file(path, column_map=parse_map_option(str(map_file)))
    assert len(texts(parsed)) == 2 and parsed.summary.problems == ()


def test_without_a_map_other_columns_are_a_clear_error(tmp_path):
    parsed = parse_file(write_csv(tmp_path / "o.csv", OTHER_ROWS, header=OTHER_HEADER))
    assert "--map" in parsed.summary.error


@pytest.mark.parametrize("spec, words", [
    ("conversation=会话编号", "unknown column"),
    ("role.boss=老板", "unknown role"),
    ("text", "not name=value"),
    ("text=", "empty source column"),
])
def test_bad_map_options_say_what_is_wrong(spec, words):
    from cs_audit.parsers.columns import ColumnMapError, parse_map_option
    with pytest.raises(ColumnMapError, match=words):
        parse_map_option(spec)


def test_map_reaches_the_cli(run_cli, tmp_path):
    path = write_csv(tmp_path / "o.csv", OTHER_ROWS, header=OTHER_HEADER)
    spec = "conversation_id=会话编号,role=发送方,text=消息内容,role.buyer=用户,role.agent=商家客服"
    result = run_cli("audit", path, "--map", spec, "--format", "json", "-q")
    assert result.exit_code == 0, result.stderr
    assert '"S1"' in result.stdout
    assert run_cli("audit", path, "--map", "nonsense").exit_code == 2


def test_jsonl_text_may_hold_line_separator_characters(tmp_path):
    record = {"conversation_id": "1", "role": "buyer", "text": "第一段\u2028第二段\x0b完"}
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    parsed = parse_file(path)
    assert texts(parsed) == ["第一段\u2028第二段\x0b完"] and parsed.summary.problems == ()


def test_short_gb18030_lines_that_happen_to_be_valid_utf8_do_not_fool_detection(tmp_path):
    rows = [("C1", "2024-04-15 10:00:00", "buyer", "", "谢谢"), ("C1", "2024-04-15 10:00:05", "buyer", "", "[图片]"),
            ("C1", "2024-04-15 10:00:30", "agent", "s", "在吗")]
    parsed = parse_file(write_csv(tmp_path / "g.csv", rows, header=("会话ID", "时间", "角色", "发送人", "内容"),
                                  encoding="gb18030"))
    assert parsed.summary.encoding == "gb18030"
    assert texts(parsed) == ["谢谢", "[图片]", "在吗"] and parsed.summary.problems == ()


EXPECTED_SAMPLE_FORMATS = {
    "douyin_chat.xlsx": "xlsx", "intercom_conversations.json": "helpdesk", "jd_chat.jsonl": "jsonl",
    "jd_sessions.tsv": "jd-tsv", "pdd_export.xlsx": "pdd-xlsx", "pdd_gb18030.csv": "csv",
    "pdd_records.json": "pdd-json", "qianniu_records.txt": "qianniu", "taobao_utf8.csv": "csv",
    "wechat_chat.txt": "wechat", "wechat_export.csv": "wechat", "zendesk_tickets.json": "helpdesk",
}


def test_every_sample_is_sniffed_read_and_fully_accounted_for():
    from conftest import SAMPLES
    found = {path.name: path for path in collect_paths([SAMPLES])}
    assert set(found) == set(EXPECTED_SAMPLE_FORMATS)
    for name, path in found.items():
        parsed = parse_file(path)
        summary = parsed.summary
        assert summary.format == EXPECTED_SAMPLE_FORMATS[name], name
        assert summary.readable, (name, summary.error)
        assert summary.rows == summary.messages + len(summary.problems), name
        assert summary.messages == sum(len(c.messages) for c in parsed.conversations), name


def test_a_real_utf32_file_is_still_read_as_utf32():
    from cs_audit.parsers.text import decode_bytes, sniff_text

    data = "conversation_id,text\nc1,你好\n".encode("utf-32")
    assert data.startswith(b"\xff\xfe\x00\x00")
    assert decode_bytes(data) == ("conversation_id,text\nc1,你好\n", "utf-32")
    assert sniff_text(data[:90]).startswith("conversation_id,text")
    utf16 = "\x00a,b\n".encode("utf-16")
    assert decode_bytes(utf16) == ("\x00a,b\n", "utf-16")
    assert sniff_text(utf16) == "\x00a,b\n"


def test_a_map_given_for_a_platform_layout_is_said_to_be_unused(run_cli, tmp_path):
    canonical = write_csv(tmp_path / "o.csv", OTHER_ROWS, header=OTHER_HEADER)
    platform = REPO / "samples" / "pdd_records.json"
    spec = "conversation_id=会话编号,role=发送方,text=消息内容,role.buyer=用户,role.agent=商家客服"
    result = run_cli("audit", canonical, platform, "--map", spec, "--format", "none")
    assert result.exit_code in (0, 1), result.stderr
    assert (f"warning: {platform}: read as pdd-json, whose columns are fixed: --map applies only "
            "to csv/jsonl/xlsx files and was not used") in result.stderr
    assert f"warning: {canonical}: read as" not in result.stderr
    assert "--map" not in run_cli("audit", platform, "--format", "none").stderr
    assert "--map" not in run_cli("audit", platform, "--map", spec, "--format", "none", "-q").stderr
    review = run_cli("review", platform, "--conversation", "PDDJ-0001", "--map", spec)
    assert f"warning: {platform}: read as pdd-json" in review.stderr
