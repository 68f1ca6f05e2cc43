"""Every bad file or row is an input problem with its line and reason, never a crash (issue 21)."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from cs_audit.parsers import parse_file
from conftest import REPO

SAMPLES = REPO / "samples"
HEADER = "conversation_id,timestamp,role,sender,text\n"
GOOD = "C1,2024-01-01 10:00:00,buyer,b,你好\nC1,2024-01-01 10:01:00,agent,a,您好\n"


def problems_of(parsed):
    return [(problem.line, problem.reason) for problem in parsed.summary.problems]


def assert_every_row_counted(parsed):
    summary = parsed.summary
    if not summary.readable:  # nothing read: the file's one problem says why
        assert summary.rows == summary.messages == 0 and len(summary.problems) == 1
        return
    assert summary.rows == summary.messages + len(summary.problems)


def test_a_timestamp_on_the_last_day_of_the_calendar_is_a_problem_not_a_crash(tmp_path):
    # Service hours clock a wait from the next opening, and there is no day after 9999-12-31.
    path = tmp_path / "chat.csv"
    path.write_text(HEADER + GOOD + "C2,9999-12-31 23:59:59,buyer,b,你好\n", encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.summary.messages == 2
    [(line, reason)] = problems_of(parsed)
    assert line == 4 and "9999-12-30" in reason


@pytest.mark.parametrize("stamp", ["9999-12-31T23:00:00-08:00", "0001-01-01T00:00:00+08:01"])
def test_an_offset_that_moves_a_timestamp_off_the_calendar_is_a_problem(tmp_path, stamp):
    path = tmp_path / "chat.csv"
    path.write_text(HEADER + GOOD + f"C2,{stamp},buyer,b,你好\n", encoding="utf-8")
    parsed = parse_file(path)
    [(line, reason)] = problems_of(parsed)
    assert line == 4 and "out of range" in reason


@pytest.mark.parametrize("digits", [400, 5000])
def test_a_huge_integer_timestamp_in_jsonl_is_a_problem(tmp_path, digits):
    path = tmp_path / "chat.jsonl"
    path.write_text('{"conversation_id": "C1", "role": "buyer", "text": "hi", "timestamp": 1700000000}\n'
                    f'{{"conversation_id": "C2", "role": "buyer", "text": "hi", "timestamp": {"9" * digits}}}\n',
                    encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.summary.messages == 1
    [(line, reason)] = problems_of(parsed)
    assert line == 2 and "timestamp" in reason


def test_an_integer_past_pythons_digit_limit_is_kept_as_its_digits_for_an_id(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text(f'{{"conversation_id": {"7" * 5000}, "role": "buyer", "text": "hi"}}\n', encoding="utf-8")
    parsed = parse_file(path)
    assert [c.id for c in parsed.conversations] == ["7" * 5000]


def test_a_deeply_nested_jsonl_line_is_a_problem_and_the_rest_is_read(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text('{"conversation_id": "C1", "role": "buyer", "text": "hi"}\n'
                    + "[" * 100_000 + "]" * 100_000 + "\n"
                    + '{"conversation_id": "C2", "role": "buyer", "text": "hi"}\n', encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.summary.messages == 2
    assert problems_of(parsed) == [(2, "JSON nested too deeply to be a chat export")]


def _with_timestamp(sample, digits, place):
    document = json.loads((SAMPLES / sample).read_text(encoding="utf-8"))
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        place(document, int("9" * digits))
        return json.dumps(document, ensure_ascii=False, indent=1)
    finally:
        sys.set_int_max_str_digits(limit)


def _pdd_stamp(document, value):
    document["conversations"][0]["message_infos"][0]["msg_ts"] = value


def _intercom_stamp(document, value):
    document["conversations"][0]["created_at"] = value


def _zendesk_stamp(document, value):
    document["tickets"][0]["comments"][0]["created_at"] = value


@pytest.mark.parametrize("digits", [400, 5000])
@pytest.mark.parametrize("sample, place", [
    ("pdd_records.json", _pdd_stamp), ("intercom_conversations.json", _intercom_stamp),
    ("zendesk_tickets.json", _zendesk_stamp),
])
def test_a_huge_integer_timestamp_in_platform_json_is_a_problem(tmp_path, sample, place, digits):
    good = parse_file(SAMPLES / sample)
    path = tmp_path / sample
    path.write_text(_with_timestamp(sample, digits, place), encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.summary.readable
    assert parsed.summary.messages == good.summary.messages - 1
    new = [reason for reason in map(str, problems_of(parsed)) if reason not in map(str, problems_of(good))]
    assert len(new) == 1 and "timestamp out of range" in new[0]
    assert_every_row_counted(parsed)


def test_a_lone_surrogate_in_a_conversation_id_is_a_problem(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text('{"conversation_id": "C1", "role": "buyer", "text": "hi"}\n'
                    '{"conversation_id": "\\ud800", "role": "buyer", "text": "hi"}\n', encoding="utf-8")
    parsed = parse_file(path)
    assert [c.id for c in parsed.conversations] == ["C1"]
    [(line, reason)] = problems_of(parsed)
    assert line == 2 and "surrogate" in reason


def test_a_field_over_the_cap_is_a_problem_in_jsonl_too(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text('{"conversation_id": "C1", "role": "buyer", "text": "hi"}\n'
                    f'{{"conversation_id": "C1", "role": "buyer", "text": "{"长" * 1_000_001}"}}\n',
                    encoding="utf-8")
    parsed = parse_file(path)
    assert problems_of(parsed) == [(2, "a field is longer than 1,000,000 characters")]


def test_a_jsonl_line_past_the_line_cap_is_a_problem_and_the_rest_is_read(tmp_path):
    from cs_audit.parsers.canonical_jsonl import MAX_LINE_CHARS

    path = tmp_path / "chat.jsonl"
    line = '{"conversation_id": "C1", "role": "buyer", "text": "%s"}\n'
    with path.open("w", encoding="utf-8") as stream:
        stream.write(line % "在吗")
        stream.write(line % ("x" * (MAX_LINE_CHARS + 10)))
        stream.write(line % "还在吗")
    parsed = parse_file(path)
    assert problems_of(parsed) == [(2, "the line is longer than 8,000,000 characters (a field may "
                                       "hold at most 1,000,000); skipped")]
    [conversation] = parsed.conversations
    assert [message.text for message in conversation.messages] == ["在吗", "还在吗"]
    assert parsed.summary.rows == 3


def test_an_over_long_line_is_skipped_without_being_held():
    import io

    from cs_audit.parsers.text import bounded_lines

    class CountingText(io.StringIO):
        largest = 0

        def readline(self, size=-1):
            line = super().readline(size)
            CountingText.largest = max(CountingText.largest, len(line))
            return line

    stream = CountingText("short\n" + "y" * 5_000_000 + "\nlast", newline="\n")
    assert list(bounded_lines(stream, 100)) == ["short\n", None, "last"]
    assert CountingText.largest <= 1 << 20


def test_a_line_exactly_at_the_cap_is_read():
    import io

    from cs_audit.parsers.text import bounded_lines

    text = "a" * 10 + "\n" + "b" * 10
    assert list(bounded_lines(io.StringIO(text, newline="\n"), 10)) == ["a" * 10 + "\n", "b" * 10]


# --- workbooks ---------------------------------------------------------------------------------

def _workbook(path, rows):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["conversation_id", "timestamp", "role", "sender", "text"])
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def _rewrite_member(path, member, change):
    import zipfile

    with zipfile.ZipFile(path) as source:
        parts = [(info, source.read(info.filename)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in parts:
            target.writestr(info, change(data) if info.filename == member else data)


def _chat_rows(count):
    return [(f"C{n // 2}", f"2024-01-01 10:{n % 60:02d}:00", "buyer" if n % 2 == 0 else "agent", "s",
             f"消息{n}") for n in range(count)]


@pytest.mark.parametrize("name", ["chats.csv", "chats.json", "chats.txt"])
def test_a_workbook_named_as_another_format_is_read_as_a_workbook(tmp_path, name):
    path = _workbook(tmp_path / "book.xlsx", _chat_rows(4))
    renamed = path.rename(tmp_path / name)
    parsed = parse_file(renamed)
    assert parsed.summary.messages == 4 and parsed.summary.problems == ()


def _members(path):
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return [name for name in archive.namelist() if name.endswith((".xml", ".rels"))]


def test_malformed_xml_in_any_part_of_a_workbook_is_an_input_problem(tmp_path):
    source = _workbook(tmp_path / "source.xlsx", _chat_rows(40))
    for member in _members(source):
        path = tmp_path / (member.replace("/", "_") + ".xlsx")
        shutil.copy(source, path)
        _rewrite_member(path, member, lambda data: data[:len(data) // 2])
        parsed = parse_file(path)  # never raises
        assert_every_row_counted(parsed)
        if not parsed.summary.readable:
            assert "not a readable XLSX workbook" in parsed.summary.error
        elif member.startswith("xl/worksheets/"):
            # The rows before the break are read and the break is reported.
            assert 0 < parsed.summary.messages < 40
            assert "cannot be read after row" in parsed.summary.problems[-1].reason


def test_a_bad_date_cell_is_an_input_problem_with_the_rows_before_it_read(tmp_path):
    import re

    path = _workbook(tmp_path / "chat.xlsx", _chat_rows(6))
    # Row 5's timestamp becomes a date cell that is no date.
    _rewrite_member(path, "xl/worksheets/sheet1.xml",
                    lambda data: re.sub(rb'<c r="B5" t="inlineStr">.*?</c>', b'<c r="B5" t="d"><v>x</v></c>', data))
    parsed = parse_file(path)
    assert parsed.summary.messages == 3
    [problem] = parsed.summary.problems
    assert problem.line == 5 and "cannot be read after row 4" in problem.reason


def test_rows_past_the_declared_dimension_are_read(tmp_path):
    path = _workbook(tmp_path / "chat.xlsx", _chat_rows(1000))
    _rewrite_member(path, "xl/worksheets/sheet1.xml",
                    lambda data: data.replace(b'<dimension ref="A1:E1001"/>', b'<dimension ref="A1:E10"/>'))
    parsed = parse_file(path)
    assert parsed.summary.messages == 1000


def test_a_dimension_claiming_the_whole_grid_with_one_far_row_is_read_quickly(tmp_path):
    import time

    path = _workbook(tmp_path / "chat.xlsx", _chat_rows(2))
    far = (b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>C9</t></is></c>'
           b'<c r="C1048576" t="inlineStr"><is><t>buyer</t></is></c>'
           b'<c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>')
    _rewrite_member(path, "xl/worksheets/sheet1.xml",
                    lambda data: data.replace(b'<dimension ref="A1:E3"/>', b'<dimension ref="A1:XFD1048576"/>')
                    .replace(b"</sheetData>", far))
    started = time.monotonic()
    parsed = parse_file(path)
    assert time.monotonic() - started < 20
    assert parsed.summary.messages == 2
    assert [problem.line for problem in parsed.summary.problems] == [1048576]  # it has no text


def test_one_shared_string_repeated_in_every_cell_is_refused_not_expanded(tmp_path, monkeypatch):
    import re

    from cs_audit.parsers import sheet

    monkeypatch.setattr(sheet, "MIN_TEXT_BUDGET", 1 << 20)
    path = _workbook(tmp_path / "chat.xlsx", _chat_rows(200))
    shared = ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
              f'uniqueCount="1"><si><t>{"长" * 100_000}</t></si></sst>').encode()
    _rewrite_member(path, "xl/worksheets/sheet1.xml",
                    lambda data: re.sub(rb'<c r="(E(?!1")\d+)" t="inlineStr">.*?</c>', rb'<c r="\1" t="s"><v>0</v></c>', data))
    _rewrite_member(path, "[Content_Types].xml", lambda data: data.replace(
        b"</Types>", b'<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
                     b'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'))
    _rewrite_member(path, "xl/_rels/workbook.xml.rels", lambda data: data.replace(
        b"</Relationships>", b'<Relationship Id="rIdShared" Type="http://schemas.openxmlformats.org/'
                             b'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                             b"</Relationships>"))
    import zipfile

    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", shared)
    parsed = parse_file(path)
    assert 0 < parsed.summary.messages < 200
    assert parsed.conversations[0].messages[0].text == "长" * 100_000
    assert "amplification" in parsed.summary.problems[-1].reason
    assert_every_row_counted(parsed)


# --- folders, devices, options -----------------------------------------------------------------

def test_a_symlinked_subfolder_is_an_input_problem_not_skipped(tmp_path):
    from cs_audit.parsers import collect_paths

    (tmp_path / "exports").mkdir()
    shutil.copy(SAMPLES / "taobao_utf8.csv", tmp_path / "exports" / "a.csv")
    (tmp_path / "exports" / "linked").symlink_to(SAMPLES)
    found = collect_paths([tmp_path / "exports"])
    assert tmp_path / "exports" / "linked" in found
    parsed = parse_file(tmp_path / "exports" / "linked")
    assert not parsed.summary.readable and "symbolic link" in parsed.summary.error


def test_a_device_is_refused_without_reading_it():
    parsed = parse_file(__import__("pathlib").Path("/dev/zero"))
    assert not parsed.summary.readable and "not a regular file" in parsed.summary.error


def test_a_named_pipe_without_a_writer_reads_as_empty_instead_of_blocking(tmp_path):
    import os

    fifo = tmp_path / "chat.csv"
    os.mkfifo(fifo)
    parsed = parse_file(fifo)
    assert not parsed.summary.readable and "empty" in parsed.summary.error


@pytest.mark.parametrize("encoding", ["rot13", "zlib_codec", "base64"])
def test_an_encoding_that_is_not_a_text_codec_is_a_usage_error(encoding):
    from click.testing import CliRunner

    from cs_audit.cli import main

    result = CliRunner().invoke(main, ["audit", str(SAMPLES / "taobao_utf8.csv"), "--encoding", encoding])
    assert result.exit_code == 2 and "not a text encoding" in result.output


@pytest.mark.parametrize("content", [
    '{"schema": "cs-audit/1", "conversations": {"a": 1}}',
    '{"schema": "cs-audit/1", "conversations": [1]}',
    '{"schema": "cs-audit/1", "conversations": [{"checks": [2]}]}',
    '{"schema": "cs-audit/1", "n": ' + "9" * 5000 + "}",
    "[" * 100_000,
])
def test_a_malformed_baseline_is_a_usage_error(tmp_path, content):
    from click.testing import CliRunner

    from cs_audit.cli import main

    baseline = tmp_path / "old.json"
    baseline.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", str(SAMPLES / "taobao_utf8.csv"), "--baseline", str(baseline)])
    assert result.exit_code == 2 and "--baseline" in result.output


@pytest.mark.parametrize("content, said", [
    ("columns = 3\n", "columns must be a table"),
    ("[roles]\nagent = 5\n", "roles.agent must be a string"),
    ("[columns]\ntext = " + "9" * 5000 + "\n", "invalid TOML"),
])
def test_a_malformed_map_file_is_a_usage_error(tmp_path, content, said):
    from click.testing import CliRunner

    from cs_audit.cli import main

    column_map = tmp_path / "map.toml"
    column_map.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", str(SAMPLES / "taobao_utf8.csv"), "--map", str(column_map)])
    assert result.exit_code == 2 and said in result.output


def test_a_1100_long_extends_chain_is_a_rubric_error(tmp_path):
    from cs_audit.rubric import RubricError, load_rubric

    for number in range(1100):
        parent = f"r{number + 1}.toml" if number < 1099 else "default"
        (tmp_path / f"r{number}.toml").write_text(f'name = "r{number}"\nextends = "{parent}"\n', encoding="utf-8")
    with pytest.raises(RubricError, match="extends chain is longer than"):
        load_rubric(str(tmp_path / "r0.toml"))
