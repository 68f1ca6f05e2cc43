"""Streamed reading (stream_file): the same result as reading whole files, one conversation at a time.

The oracle is the whole-file reader as it was before streaming (decode everything, keep every
message until the end of the file), kept below verbatim as ``legacy_parse``.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_audit.model import Conversation, InputProblem, InputSummary, Message
from cs_audit.parsers import SummaryNotReady, collect_paths, parse_file, sniff_format, stream_file
from cs_audit.parsers import text as text_module
from cs_audit.parsers.canonical_csv import FIELD_SIZE_LIMIT, FileUnreadable
from cs_audit.parsers.columns import parse_map_option
from cs_audit.parsers.records import (MissingColumns, canonical_column, canonical_role, cell_text, map_header,
                                      parse_timestamp)
from cs_audit.parsers.text import EncodingProblem, decode_bytes
from conftest import SAMPLES

# --- the oracle: whole-file reading as before streaming -------------------------------------


class LegacyBuilder:
    """ConversationBuilder before streaming: every message kept until the end of the file."""

    def __init__(self, source: str, column_map=None):
        self.source = source
        self.column_map = column_map
        self.problems: list[InputProblem] = []
        self.rows = 0
        self.messages = 0
        self._pending: dict[str, list[tuple]] = {}

    def problem(self, line: int, reason: str) -> None:
        self.rows += 1
        self.problems.append(InputProblem(line, reason))

    def add(self, line: int, values: dict[str, Any]) -> None:
        conversation_id = cell_text(values.get("conversation_id")).strip()
        if not conversation_id:
            self.problem(line, "missing conversation_id (会话ID)")
            return
        raw_role = values.get("role")
        if raw_role is None or not str(raw_role).strip():
            self.problem(line, "missing role (角色)")
            return
        role = canonical_role(raw_role, self.column_map.roles if self.column_map else None)
        if role is None:
            self.problem(line, f"unknown role {str(raw_role).strip()!r}; expected buyer/agent/bot/system "
                               "or 买家/客服/机器人/系统")
            return
        text = cell_text(values.get("text"))
        if not text.strip():
            self.problem(line, "missing text (内容)")
            return
        if "\x00" in text:
            self.problem(line, "text contains NUL bytes (binary data, not a chat message)")
            return
        try:
            timestamp = parse_timestamp(values.get("timestamp"))
        except ValueError as error:
            self.problem(line, f"bad timestamp: {error}")
            return
        self.rows += 1
        self.messages += 1
        bucket = self._pending.setdefault(conversation_id, [])
        sender = cell_text(values.get("sender")).strip()
        bucket.append((line, role, text, sender, timestamp))

    def conversations(self) -> list[Conversation]:
        result = []
        for conversation_id, pending in self._pending.items():
            keys, previous = [], datetime.min
            for item in pending:
                if item[4] is not None:
                    previous = item[4]
                keys.append(previous)
            order = sorted(range(len(pending)), key=keys.__getitem__)
            ordered = (pending[position] for position in order)
            messages = tuple(Message(index, role, text, stamp, sender, line)
                             for index, (line, role, text, sender, stamp) in enumerate(ordered))
            result.append(Conversation(conversation_id, self.source, messages))
        return result


def legacy_csv_records(text: str, builder):
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = None
    next_line = 1
    while True:
        start_line = next_line
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as error:
            if header is None:
                raise FileUnreadable(start_line, f"CSV header cannot be read: {error}") from None
            if "field larger than field limit" in str(error):
                builder.problem(start_line, f"a field is longer than {FIELD_SIZE_LIMIT:,} characters")
                continue
            builder.problem(start_line, f"CSV syntax error: {error}; the rest of the file "
                                        "cannot be read after it")
            break
        finally:
            next_line = reader.line_num + 1
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if header is None:
            header = row
        elif len(row) != len(header):
            builder.problem(start_line, f"expected {len(header)} fields, found {len(row)}")
            continue
        yield start_line, row
    if header is None:
        raise FileUnreadable(1, "empty file: no header row")


def legacy_parse_csv(path: Path, builder, encoding: str) -> str:
    text, used = decode_bytes(path.read_bytes(), encoding, on_bad_line=builder.problem)
    records = legacy_csv_records(text, builder)
    header_line, header = next(records)
    try:
        positions = map_header(header, builder.column_map)
    except MissingColumns as error:
        raise FileUnreadable(header_line, str(error)) from None
    for line, row in records:
        builder.add(line, {column: row[position] for position, column in positions.items()})
    return used


def legacy_parse_jsonl(path: Path, builder, encoding: str) -> str:
    text, used = decode_bytes(path.read_bytes(), encoding, on_bad_line=builder.problem)
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            builder.problem(number, f"invalid JSON: {error.msg} (column {error.colno})")
            continue
        if not isinstance(record, dict):
            builder.problem(number, f"expected a JSON object, found {type(record).__name__}")
            continue
        values = {}
        for key, value in record.items():
            column = builder.column_map.column_for(key) if builder.column_map else None
            column = column or canonical_column(key)
            if column and column not in values:
                values[column] = value
        builder.add(number, values)
    return used


def legacy_parse(path: Path, input_format: str = "auto", encoding: str = "auto", column_map=None):
    """(summary, conversations) as parse_file gave them before streaming, for CSV and JSONL."""
    chosen = sniff_format(path) if input_format == "auto" else input_format
    builder = LegacyBuilder(str(path), column_map)
    parse = {"csv": legacy_parse_csv, "jsonl": legacy_parse_jsonl}[chosen]
    try:
        used = parse(path, builder, encoding)
    except (FileUnreadable, EncodingProblem) as error:
        return InputSummary(str(path), chosen, None, 0, 0, 0, (InputProblem(error.line, error.reason),),
                            error=error.reason), []
    conversations = builder.conversations()
    return InputSummary(str(path), chosen, used, builder.rows, builder.messages, len(conversations),
                        tuple(builder.problems)), conversations


def streamed(path: Path, *args, **options):
    """(summary, conversations) read through stream_file."""
    stream = stream_file(path, *args, **options)
    conversations = list(stream.conversations)
    return stream.summary, conversations


def assert_same_as_legacy(path: Path, *args, **options) -> None:
    expected = legacy_parse(path, *args, **options)
    assert streamed(path, *args, **options) == expected
    parsed = parse_file(path, *args, **options)
    assert (parsed.summary, parsed.conversations) == expected


# --- generated inputs ----------------------------------------------------------------------

ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "gb18030", "mixed")


def mostly(good: list, bad: list) -> st.SearchStrategy:
    """Mostly good values, so that most records become messages (and shrink towards good ones)."""
    return st.integers(0, 7).flatmap(lambda n: st.sampled_from(bad if n == 7 else good))


conversation_ids = mostly(["A", "B", "会话3", " A "], ["", "  ", "C"])
timestamps = st.one_of(
    mostly(["", "2024-04-15 10:00:00", "2024-04-15 09:59:59", "2024-04-15T02:00:00Z",
            "2024-04-15T10:00:00+08:00", " 2024-04-15 10:00:00 ", "2024-04-15", "20240415"],
           ["yesterday", "2024-13-45 10:00:00", "-5", "nan"]),
    st.integers(1_713_146_000, 1_713_147_000).map(str),
    st.integers(1_713_146_000_000, 1_713_147_000_000).map(str),
)
roles = mostly(["buyer", "agent", "bot", "system", "买家", "客服", " BUYER "], ["", "boss"])
senders = st.sampled_from(["", "店:小美", " 张三 ", "s"])
texts = st.one_of(
    mostly(["在吗", "亲，您好，有货的", "第一行\n第二行", 'say "hi", ok', "a\r\nb", "段\u2028落\x0b完", "\ufeff开头"],
           ["", "   ", "bin\x00ary"]),
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12),
)
message_records = st.fixed_dictionaries({
    "conversation_id": conversation_ids, "timestamp": timestamps, "role": roles, "sender": senders,
    "text": texts,
})
CSV_HEADERS = (
    ("conversation_id", "timestamp", "role", "sender", "text"),
    ("会话ID", "时间", "角色", "发送人", "内容"),
    ("text", "role", "conversation_id"),  # no optional columns, another order
    ("conversation_id", "role", "店铺", "text", "timestamp"),  # a column to ignore, no sender
)
CSV_JUNK = ("A,2024-04-15 10:00:00,buyer", "", "   ", "A,,buyer,,x,extra,more", ",,,,", '"never closed')
JSONL_JUNK = ("{not json", "[1, 2]", "42", "", "  ", '{"conversation_id": "A"', '"text"', "null")


def encode_chunks(chunks: list[str], encoding: str, foreign: list[bool]) -> bytes:
    """The file's bytes; "mixed" is UTF-8 with the chunks flagged in ``foreign`` in GB18030."""
    if encoding != "mixed":
        return "".join(chunks).encode(encoding)
    return b"".join(chunk.encode("gb18030" if flag else "utf-8")
                    for chunk, flag in zip(chunks, foreign + [False] * len(chunks)))


@st.composite
def csv_files(draw) -> bytes:
    header = draw(st.sampled_from(CSV_HEADERS))
    records = draw(st.lists(message_records, max_size=40))
    if draw(st.booleans()):
        records.sort(key=lambda record: record["conversation_id"])  # grouped by conversation
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    chunks = [",".join(header) + ending]
    for record in records:
        buffer = io.StringIO()
        columns = {**record, "店铺": "x"}
        csv.writer(buffer, lineterminator=ending).writerow(
            [columns[canonical_column(name) or name] for name in header])
        chunks.append(buffer.getvalue())
    junk_lines = st.lists(st.tuples(st.integers(1, 30), st.sampled_from(CSV_JUNK)), max_size=3)
    for position, junk in draw(junk_lines):
        chunks.insert(min(position, len(chunks)), junk + ending)
    encoding = draw(st.sampled_from(ENCODINGS))
    return encode_chunks(chunks, encoding, draw(st.lists(st.booleans(), max_size=30)))


KEY_SPELLINGS = {
    "conversation_id": ['"conversation_id"', '"会话ID"', '"Conversation_ID"', '"conversation\\u005fid"',
                        '"\\u4f1a\\u8bddID"'],
    "timestamp": ['"timestamp"', '"时间"'], "role": ['"role"', '"角色"'], "sender": ['"sender"'],
    "text": ['"text"', '"内容"'],
}
json_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 10**13),
                        st.sampled_from([7.0, 1713146400.5]),
                        st.lists(st.integers(), max_size=2))


@st.composite
def jsonl_lines(draw) -> str:
    record = draw(message_records)
    pairs = []
    for column, value in record.items():
        if column in ("timestamp", "sender") and draw(st.booleans()):
            continue  # optional keys may be absent
        if draw(st.integers(0, 9)) == 0:
            value = draw(json_values)
        pairs.append((draw(st.sampled_from(KEY_SPELLINGS[column])), value))
    if draw(st.booleans()):
        pairs = draw(st.permutations(pairs))
    id_key = next((key for key, _ in pairs if key in KEY_SPELLINGS["conversation_id"]), None)
    for _ in range(draw(st.integers(0, 2))):  # duplicates (json.loads keeps the last) and extras
        key = draw(st.sampled_from([id_key or '"conversation_id"', id_key or '"会话ID"', '"extra"', '"text"']))
        pairs.insert(draw(st.integers(0, len(pairs))), (key, draw(st.one_of(conversation_ids, json_values))))
    separator = draw(st.sampled_from([", ", ",", " , "]))
    ascii_only = draw(st.integers(0, 3)) == 0
    return "{" + separator.join(f"{key}: {json.dumps(value, ensure_ascii=ascii_only)}"
                                for key, value in pairs) + "}"


@st.composite
def jsonl_files(draw) -> bytes:
    lines = draw(st.lists(jsonl_lines(), max_size=40))
    if draw(st.booleans()):
        lines.sort(key=lambda line: line[:20])  # roughly grouped
    junk_lines = st.lists(st.tuples(st.integers(0, 30), st.sampled_from(JSONL_JUNK)), max_size=3)
    for position, junk in draw(junk_lines):
        lines.insert(min(position, len(lines)), junk)
    ending = draw(st.sampled_from(["\n", "\r\n"]))
    chunks = [line + ending for line in lines]
    encoding = draw(st.sampled_from(ENCODINGS))
    return encode_chunks(chunks, encoding, draw(st.lists(st.booleans(), max_size=30)))


PROPERTY = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(data=csv_files())
def test_any_csv_streams_exactly_what_the_whole_file_reader_gave(tmp_path, data):
    path = tmp_path / "chat.csv"
    path.write_bytes(data)
    assert_same_as_legacy(path, "csv")


@PROPERTY
@given(data=jsonl_files())
def test_any_jsonl_streams_exactly_what_the_whole_file_reader_gave(tmp_path, data):
    path = tmp_path / "chat.jsonl"
    path.write_bytes(data)
    assert_same_as_legacy(path, "jsonl")


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.one_of(csv_files(), jsonl_files()),
       encoding=st.sampled_from(["utf-8", "gb18030", "utf-16", "latin-1", "no-such-codec"]))
def test_an_explicit_encoding_reads_the_same_as_before(tmp_path, data, encoding):
    path = tmp_path / "chat.txt"
    path.write_bytes(data)
    input_format = "jsonl" if data.lstrip(codecs.BOM_UTF8).startswith(b"{") else "csv"
    assert_same_as_legacy(path, input_format, encoding)


@pytest.mark.parametrize("content", [
    b"", b"\n\n", b"\xef\xbb\xbf", b"conversation_id,role\n", b"a,b,c\n1,2,3\n",
    b'conversation_id,role,text\n"unterminated\n', b"conversation_id,role,text\nA,buyer,\xff\xfe\n",
    "会话ID,角色,内容\nA,买家,你好\n".encode("gb18030") + b"\x81\x30",
    b"\xff\xfe" + "conversation_id,role,text\nA,buyer,hi\n".encode("utf-16-le") + b"\x00\xd8",
])
@pytest.mark.parametrize("input_format", ["csv", "jsonl"])
def test_unreadable_and_damaged_files_are_reported_as_before(tmp_path, content, input_format):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    assert_same_as_legacy(path, input_format)


@pytest.mark.parametrize("lines", [
    # json.loads keeps the last of duplicate keys, at the place of the first
    ['{"conversation_id": "B", "role": "buyer", "text": "1"}',
     '{"conversation_id": "A", "role": "buyer", "text": "2", "conversation_id": "B"}'],
    # a key spelled with escapes is the same key
    ['{"conversation_id": "B", "role": "buyer", "text": "1"}',
     '{"conversation_id": "A", "role": "buyer", "text": "2", "conversation\\u005fid": "B"}'],
    # the first key naming the column wins, whatever the spelling
    ['{"会话ID": "B", "role": "buyer", "text": "1"}',
     '{"会话ID": "B", "conversation_id": "A", "role": "buyer", "text": "2"}'],
    # an id that is a number, or padded
    ['{"conversation_id": 7, "role": "buyer", "text": "1"}',
     '{"conversation_id": " 7 ", "role": "agent", "text": "2"}',
     '{"conversation_id": 7.0, "role": "buyer", "text": "3"}'],
    # the text of another line mentions the key
    ['{"conversation_id": "A", "role": "buyer", "text": "conversation_id"}',
     '{"conversation_id": "B", "role": "buyer", "text": "\\"conversation_id\\": \\"A\\""}',
     '{"conversation_id": "A", "role": "agent", "text": "ok"}'],
])
def test_jsonl_conversation_ids_are_read_as_json_reads_them(tmp_path, lines):
    path = tmp_path / "c.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert_same_as_legacy(path)


def test_a_user_column_map_streams_the_same(tmp_path):
    column_map = parse_map_option("conversation_id=会话编号,timestamp=发送时间,role=发送方,text=消息内容,"
                                  "role.buyer=用户,role.agent=商家客服")
    path = tmp_path / "o.csv"
    path.write_text("会话编号,发送时间,发送方,消息内容,conversation_id\n"
                    "S1,2024-04-15 10:00:30,用户,在吗,X\nS2,,商家客服,在的,X\nS1,2024-04-15 10:00:00,商家客服,亲,Y\n",
                    encoding="utf-8")
    assert_same_as_legacy(path, "csv", column_map=column_map)
    lines = [{"会话编号": "S1", "发送方": "用户", "消息内容": "在吗", "conversation_id": "X"},
             {"conversation_id": "S2", "role": "buyer", "text": "hi"}]
    jsonl = tmp_path / "o.jsonl"
    jsonl.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines), encoding="utf-8")
    assert_same_as_legacy(jsonl, "jsonl", column_map=column_map)


# --- bundled samples -----------------------------------------------------------------------

def fingerprint(summary: InputSummary, conversations: list[Conversation]) -> str:
    """A digest of everything a parse yields; paths reduced to file names."""
    document = [
        [Path(summary.path).name, summary.format, summary.encoding, summary.rows, summary.messages,
         summary.conversations, [[p.line, p.reason] for p in summary.problems], summary.error],
        [[c.id, Path(c.source).name, [[m.index, m.role, m.text, m.timestamp and m.timestamp.isoformat(),
                                       m.sender, m.line] for m in c.messages]] for c in conversations],
    ]
    return hashlib.sha256(json.dumps(document, ensure_ascii=False).encode()).hexdigest()[:16]


# Taken with the whole-file reader before streaming; a deliberate change of what a sample
# yields updates them (the failure prints the new digest).
SAMPLE_FINGERPRINTS = {
    "douyin_chat.xlsx": "292803414dbb9975",
    "intercom_conversations.json": "02e522f2c475b15f",
    "jd_chat.jsonl": "385f94192a481623",
    "jd_sessions.tsv": "8af635af59a1538a",
    "pdd_export.xlsx": "5ed3abe2f256917d",
    "pdd_gb18030.csv": "b50fb1dd796ee49f",
    "pdd_records.json": "534874552acdffa5",
    "qianniu_records.txt": "66b0c2b2e20b1d20",
    "taobao_utf8.csv": "e4a22cd249754499",
    "wechat_chat.txt": "5feb670ec7da9719",
    "wechat_export.csv": "84c6958ed658ff8b",
    "zendesk_tickets.json": "f921e933594bb4c6",
}


@pytest.mark.parametrize("path", collect_paths([SAMPLES]), ids=lambda path: path.name)
def test_every_sample_yields_what_it_did_before_streaming(path):
    summary, conversations = streamed(path)
    assert fingerprint(summary, conversations) == SAMPLE_FINGERPRINTS[path.name]
    parsed = parse_file(path)
    assert (parsed.summary, parsed.conversations) == (summary, conversations)
    if summary.format in ("csv", "jsonl"):
        assert (summary, conversations) == legacy_parse(path)


# --- streaming -----------------------------------------------------------------------------

@pytest.fixture
def lines_read(monkeypatch):
    """Lines read so far by each opening of a text stream (first pass, main pass)."""
    counts: list[int] = []
    original = text_module.TextSource.open

    @contextmanager
    def counting_open(self, newline):
        with original(self, newline) as handle:
            counts.append(0)
            index = len(counts) - 1

            class CountingLines:
                """The stream, counting the lines read (by iteration, or whole by readline)."""

                def __iter__(self):
                    for line in handle:
                        counts[index] += 1
                        yield line

                def readline(self, size=-1):
                    line = handle.readline(size)
                    if line.endswith("\n") or (line and len(line) != size):
                        counts[index] += 1
                    return line
            yield CountingLines()

    monkeypatch.setattr(text_module.TextSource, "open", counting_open)
    return counts


def grouped_rows(conversations: int, messages: int) -> list[str]:
    return [f"C{c},2024-04-15 10:{m:02d}:00,{'buyer' if m % 2 else 'agent'},s,消息{c}-{m}"
            for c in range(conversations) for m in range(messages)]


def test_a_grouped_csv_hands_out_each_conversation_after_its_last_record(tmp_path, lines_read):
    path = tmp_path / "g.csv"
    path.write_text("conversation_id,timestamp,role,sender,text\n" + "\n".join(grouped_rows(3, 3)) + "\n",
                    encoding="utf-8")
    stream = stream_file(path)
    first = next(stream.conversations)
    assert first.id == "C0" and len(first.messages) == 3
    assert lines_read == [10, 4]  # the whole first pass; the main pass up to C0's last record
    assert [c.id for c in stream.conversations] == ["C1", "C2"]
    assert lines_read[1] == 10


def test_a_grouped_jsonl_hands_out_each_conversation_after_its_last_line(tmp_path, lines_read):
    records = [{"conversation_id": f"C{c}", "role": "buyer", "text": f"第{m}条"}
               for c in range(3) for m in range(3)]
    path = tmp_path / "g.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    stream = stream_file(path)
    assert next(stream.conversations).id == "C0"
    assert lines_read == [9, 3]


def test_an_interleaved_conversation_waits_for_those_that_appeared_before_it(tmp_path, lines_read):
    rows = ["A,,buyer,,1", "B,,buyer,,1", "B,,agent,,2", "A,,agent,,2", "C,,buyer,,1", "C,,bad role,,x"]
    path = tmp_path / "i.csv"
    path.write_text("conversation_id,timestamp,role,sender,text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    stream = stream_file(path)
    assert next(stream.conversations).id == "A"
    assert lines_read[1] == 5  # B was complete at line 4 but appeared after A
    assert next(stream.conversations).id == "B"
    assert lines_read[1] == 5
    assert next(stream.conversations).id == "C"
    assert lines_read[1] == 7  # C's last record is a problem: it still ends C


def test_a_conversation_of_problems_only_is_no_conversation_and_blocks_nothing(tmp_path):
    rows = ["X,yesterday,buyer,,1", "A,,buyer,,1", "X,,boss,,2", "A,,agent,,2", "B,,buyer,,3"]
    path = tmp_path / "p.csv"
    path.write_text("conversation_id,timestamp,role,sender,text\n" + "\n".join(rows) + "\n", encoding="utf-8")
    summary, conversations = streamed(path)
    assert [c.id for c in conversations] == ["A", "B"]
    assert (summary.rows, summary.messages, summary.conversations, len(summary.problems)) == (5, 3, 2, 2)


def test_a_large_grouped_file_streams_with_one_conversation_pending(tmp_path, monkeypatch):
    from cs_audit.parsers import records
    path = tmp_path / "big.csv"
    path.write_text("conversation_id,timestamp,role,sender,text\n" + "\n".join(grouped_rows(300, 10)) + "\n",
                    encoding="utf-8")
    most_pending = 0
    original_add = records.ConversationBuilder.add_fields

    def add_fields(self, *args):
        nonlocal most_pending
        original_add(self, *args)
        most_pending = max(most_pending, sum(map(len, self._pending.values())))

    monkeypatch.setattr(records.ConversationBuilder, "add_fields", add_fields)
    stream = stream_file(path)
    assert sum(1 for _ in stream.conversations) == 300
    assert most_pending == 10
    assert stream.summary.messages == 3000


def test_the_summary_is_ready_only_once_the_conversations_are_read(tmp_path):
    path = tmp_path / "c.csv"
    path.write_text("conversation_id,role,text\nA,buyer,hi\nB,buyer,hi\n", encoding="utf-8")
    stream = stream_file(path)
    assert stream.format == "csv" and stream.path == path
    with pytest.raises(SummaryNotReady):
        stream.summary
    next(stream.conversations)
    with pytest.raises(SummaryNotReady):
        stream.summary
    assert len(list(stream.conversations)) == 1
    assert stream.summary == parse_file(path).summary


def test_an_unreadable_file_streams_no_conversation_and_an_error(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    stream = stream_file(path)
    assert list(stream.conversations) == []
    assert "missing required column" in stream.summary.error
    unknown = tmp_path / "x.bin"
    unknown.write_bytes(b"\x00\x01")
    stream = stream_file(unknown)
    assert stream.format == "unknown" and list(stream.conversations) == []
    assert "format not recognised" in stream.summary.error


def test_a_file_changed_between_the_two_passes_is_reported_not_mixed_up(tmp_path, monkeypatch):
    path = tmp_path / "c.csv"
    path.write_text("conversation_id,role,text\nA,buyer,1\nB,buyer,2\n", encoding="utf-8")
    original = text_module.TextSource.open
    opened = []

    @contextmanager
    def grown_file(self, newline):
        opened.append(newline)
        if len(opened) == 2:  # the main pass sees a record of A after A ended
            yield io.StringIO("conversation_id,role,text\nA,buyer,1\nB,buyer,2\nA,agent,3\n", newline=newline)
        else:
            with original(self, newline) as handle:
                yield handle

    monkeypatch.setattr(text_module.TextSource, "open", grown_file)
    summary, conversations = streamed(path)
    assert [(c.id, len(c.messages)) for c in conversations] == [("A", 1), ("B", 1)]
    assert [(p.line, "already complete" in p.reason) for p in summary.problems] == [(4, True)]
    assert summary.rows == summary.messages + len(summary.problems)


def test_parse_file_leaves_the_garbage_collector_as_it_was(tmp_path):
    import gc
    path = tmp_path / "c.csv"
    path.write_text("conversation_id,role,text\n" + "".join(f"C{i},buyer,hi\n" for i in range(3000)),
                    encoding="utf-8")
    enabled, frozen = gc.isenabled(), gc.get_freeze_count()
    assert len(parse_file(path).conversations) == 3000
    assert (gc.isenabled(), gc.get_freeze_count()) == (enabled, frozen)


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs named pipes")
def test_a_pipe_is_read_once_and_whole(tmp_path):
    import os
    import threading
    pipe = tmp_path / "export.csv"
    os.mkfifo(pipe)

    def write() -> None:
        with open(pipe, "w", encoding="utf-8") as handle:
            handle.write("conversation_id,role,text\nA,buyer,在吗\nB,agent,在的\nA,agent,您好\n")

    # A pipe is opened without waiting for a writer (one that never comes reads as empty), so
    # the writer must be done first, or a reader that comes before it reads nothing and the
    # writer waits for a reader for ever. A read end held open meanwhile lets the writer open
    # at once and keeps what it wrote in the pipe.
    keeper = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
    try:
        writer = threading.Thread(target=write)
        writer.start()
        writer.join()
        summary, conversations = streamed(pipe, "csv")
    finally:
        os.close(keeper)
    assert [(c.id, len(c.messages)) for c in conversations] == [("A", 2), ("B", 1)]
    assert (summary.encoding, summary.rows, summary.problems) == ("utf-8", 3, ())


@pytest.mark.skipif(not hasattr(__import__("os"), "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("input_format", ["auto", "csv"])
def test_a_pipe_is_sniffed_and_read_whole(tmp_path, input_format):
    # Sniffing the format reads the start of the input, and parsing reads it again: a pipe gives
    # its bytes once, so it is copied first, and the copy is gone once it has been read.
    import os
    import tempfile
    import threading
    pipe = tmp_path / "export.csv"
    os.mkfifo(pipe)
    rows = "conversation_id,role,text\nA,buyer,在吗\nB,agent,在的\nA,agent,您好\n"

    def write() -> None:
        with open(pipe, "w", encoding="utf-8") as handle:
            handle.write(rows)

    keeper = os.open(pipe, os.O_RDONLY | os.O_NONBLOCK)
    try:
        writer = threading.Thread(target=write)
        writer.start()
        writer.join()
        before = set(os.listdir(tempfile.gettempdir()))
        summary, conversations = streamed(pipe, input_format)
    finally:
        os.close(keeper)
    assert [(c.id, len(c.messages)) for c in conversations] == [("A", 2), ("B", 1)]
    assert (summary.path, summary.format, summary.rows, summary.problems) == (str(pipe), "csv", 3, ())
    assert set(os.listdir(tempfile.gettempdir())) <= before
