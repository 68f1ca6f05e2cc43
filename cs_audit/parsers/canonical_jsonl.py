"""Canonical JSONL (SPEC §2): one JSON object a line with the canonical keys, read as a stream."""

from __future__ import annotations

import re
from collections.abc import Generator
from pathlib import Path
from typing import Any

from cs_audit.model import Conversation
from cs_audit.parsers.json_text import JsonUnreadable, decode_json
from cs_audit.parsers.records import (MAX_FIELD_CHARS, ColumnMapLike, ConversationBuilder,
                                      canonical_column, cell_text)
from cs_audit.parsers.text import TextSource, bounded_lines, text_source

# A line opening with a plain string pair as json.dumps writes it, {"conversation_id": "C1", …}:
# the first pass takes the id from it without parsing the line when that cannot differ from
# json.loads (see _conversation_id).
_FIRST_PAIR = re.compile(r'\{"([^"]*)": ?"([^"]*)"[,}]')
_KEYS_REMEMBERED = 1024
# The longest line read: a record whose text is at the field cap, written with every character
# escaped (\\uXXXX, 6 characters each), with room for the other fields. A longer line is a
# problem of its own and is skipped unread, so one huge line cannot fill memory.
MAX_LINE_CHARS = 8 * MAX_FIELD_CHARS


class _KeyColumns(dict):
    """Canonical column of a JSON key (the user's --map first, then the built-in names).

    A dict of the keys seen so far, so that looking a key up again costs one dict lookup.
    """

    def __init__(self, column_map: ColumnMapLike | None):
        super().__init__()
        self.column_map = column_map

    def __missing__(self, key: str) -> str | None:
        column = self.column_map.column_for(key) if self.column_map else None
        column = column or canonical_column(key)
        if len(self) < _KEYS_REMEMBERED:
            self[key] = column
        return column

    def values_of(self, record: dict[str, Any]) -> dict[str, Any]:
        """Canonical column → value; the first key naming a column wins."""
        values: dict[str, Any] = {}
        for key, value in record.items():
            column = self[key]
            if column and column not in values:
                values[column] = value
        return values


def _record_text(line: str) -> str | None:
    """The record on a line read with ``newline="\\n"``, or None for a blank line.

    Only "\\n" ends a record: str.splitlines() would also split on U+2028 or \\x0b, which
    json.dumps leaves unescaped inside strings.
    """
    if line.endswith("\n"):
        line = line[:-1]
    return line if line and not line.isspace() else None


def _conversation_id(line: str, columns: _KeyColumns) -> str | None:
    """The conversation id the main pass gives the record on ``line``; None if it has none.

    The quick way applies only when the line has no escapes at all, opens with a plain string
    pair whose key names the conversation id, and that key appears nowhere else in quotes: then
    every quote in the line delimits a string, no other key can be the same one (json.loads
    keeps the last of duplicate keys) and the id is the pair's value as json.loads reads it. A
    line that turns out not to be JSON is only a problem to the main pass, so an id read from it
    here merely keeps its conversation waiting until that line.
    """
    if "\\" not in line:
        pair = _FIRST_PAIR.match(line)
        if pair and columns[pair[1]] == "conversation_id" and line.count(f'"{pair[1]}"') == 1:
            return pair[2].strip()
    record = _record_text(line)
    if record is None:
        return None
    try:
        record = decode_json(record)
    except JsonUnreadable:
        return None
    if not isinstance(record, dict):
        return None
    return cell_text(columns.values_of(record).get("conversation_id")).strip()


def _last_records(source: TextSource, columns: _KeyColumns) -> dict[int, str]:
    """First pass: for each conversation id, the line of its last record, as {line: id}."""
    last: dict[str, int] = {}
    with source.open(newline="\n") as stream:
        for number, line in enumerate(bounded_lines(stream, MAX_LINE_CHARS), start=1):
            if line is None:
                continue  # the main pass reports it
            conversation_id = _conversation_id(line, columns)
            if conversation_id:
                last[conversation_id] = number
    return {number: conversation_id for conversation_id, number in last.items()}


def _add_record(builder: ConversationBuilder, number: int, line: str, columns: _KeyColumns) -> None:
    try:
        record = decode_json(line)
    except JsonUnreadable as error:
        builder.problem(number, error.reason)
        return
    if not isinstance(record, dict):
        builder.problem(number, f"expected a JSON object, found {type(record).__name__}")
        return
    get = columns.values_of(record).get
    builder.add_fields(number, get("conversation_id"), get("timestamp"), get("role"), get("sender"),
                       get("text"))


def stream_jsonl(path: Path, builder: ConversationBuilder,
                 encoding: str = "auto") -> Generator[Conversation, None, str]:
    """Read a JSONL file into ``builder``, yielding each conversation once it is complete.

    Returns the encoding used. Keys are matched like CSV headers (case-insensitive, English or
    Chinese); a line that is not a JSON object is a problem with its line number. As for CSV, a
    first pass finds each conversation's last line, so a grouped file holds one at a time.
    """
    source = text_source(path, encoding, on_bad_line=builder.problem)
    columns = _KeyColumns(builder.column_map)
    closing = _last_records(source, columns)
    with source.open(newline="\n") as stream:
        for number, line in enumerate(bounded_lines(stream, MAX_LINE_CHARS), start=1):
            if line is None:
                builder.problem(number, f"the line is longer than {MAX_LINE_CHARS:,} characters "
                                        f"(a field may hold at most {MAX_FIELD_CHARS:,}); skipped")
                continue
            record = _record_text(line)
            if record is None:
                continue
            _add_record(builder, number, record, columns)
            if number in closing:
                yield from builder.close(closing.pop(number))
    yield from builder.drain()
    return source.encoding
