"""Canonical CSV (SPEC §2): a header row, then one message a row, read as a stream."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Generator, Iterable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import Protocol

from cs_audit.model import Conversation
from cs_audit.parsers.records import MAX_FIELD_CHARS, ConversationBuilder, MissingColumns, map_header
from cs_audit.parsers.text import TextSource, text_source

# The csv module refuses longer fields itself (records.MAX_FIELD_CHARS says why); the record
# is reported and reading goes on after it.
FIELD_SIZE_LIMIT = MAX_FIELD_CHARS
_FIELDS = ("conversation_id", "timestamp", "role", "sender", "text")


class FileUnreadable(ValueError):
    """Nothing in the file can be read; carries the line to point at."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class ProblemSink(Protocol):
    """Where records that cannot be read are reported (a ConversationBuilder)."""

    def problem(self, line: int, reason: str) -> None: ...


class IgnoreProblems:
    """A sink for a scan that only looks for conversation ids: the main pass reports problems."""

    def problem(self, line: int, reason: str) -> None:
        pass


def csv_records(text: str | Iterable[str], builder: ProblemSink) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, fields)`` for the header, then for every record with the header's width.

    ``text`` is the whole text, or a text stream opened with ``newline=""``. Lines are where
    each record starts. Blank lines are not records; a record with the wrong number of fields,
    an over-long field or a CSV syntax error becomes a problem in ``builder`` (a broken quote
    ends the reading: the reader cannot resynchronise after it). A file whose header cannot be
    read raises FileUnreadable.
    """
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    lines = io.StringIO(text, newline="") if isinstance(text, str) else text
    reader = csv.reader(lines, strict=True)
    header: list[str] | None = None
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
            continue  # blank line: not a record
        if header is None:
            header = row
        elif len(row) != len(header):
            builder.problem(start_line, f"expected {len(header)} fields, found {len(row)}")
            continue
        yield start_line, row
    if header is None:
        raise FileUnreadable(1, "empty file: no header row")


def _read_header(records: Iterator[tuple[int, list[str]]],
                 builder: ConversationBuilder) -> tuple[dict[str, int], int]:
    """The position of each canonical column in the header, and the header's width."""
    header_line, header = next(records)
    try:
        positions = map_header(header, builder.column_map)
    except MissingColumns as error:
        raise FileUnreadable(header_line, str(error)) from None
    return {column: position for position, column in positions.items()}, len(header)


def _row_fields(columns: dict[str, int], width: int) -> Callable[[list[str]], tuple]:
    """A function from a row to its (conversation_id, timestamp, role, sender, text) values.

    Optional columns the file lacks read as None (every row has the header's ``width``).
    """
    getter = itemgetter(*(columns.get(name, width) for name in _FIELDS))
    if all(name in columns for name in _FIELDS):
        return getter
    padding = [None]
    return lambda row: getter(row + padding)


def _last_records(source: TextSource, builder: ConversationBuilder) -> dict[int, str]:
    """First pass: for each conversation id, the line of its last record, as {line: id}.

    Every record the main pass reads is seen here under the same id (same reader, same
    decoding), so a conversation is complete once the main pass has read that line.
    """
    last: dict[str, int] = {}
    with source.open(newline="") as lines:
        records = csv_records(lines, IgnoreProblems())
        id_position = _read_header(records, builder)[0]["conversation_id"]
        for line, row in records:
            conversation_id = row[id_position].strip()
            if conversation_id:
                last[conversation_id] = line
    return {line: conversation_id for conversation_id, line in last.items()}


def stream_csv(path: Path, builder: ConversationBuilder,
               encoding: str = "auto") -> Generator[Conversation, None, str]:
    """Read a canonical CSV into ``builder``, yielding each conversation once it is complete.

    Returns the encoding used. A quick first pass finds where each conversation ends; the
    main pass then hands a conversation out after its last record (in order of first
    appearance), so a file grouped by conversation holds one conversation at a time. Each
    record is reported with the line it starts on; a record with the wrong number of fields is
    a problem, not a guess. A file that cannot be read at all raises before anything is yielded.
    """
    source = text_source(path, encoding, on_bad_line=builder.problem)
    closing = _last_records(source, builder)
    with source.open(newline="") as lines:
        records = csv_records(lines, builder)
        fields = _row_fields(*_read_header(records, builder))
        add = builder.add_fields
        for line, row in records:
            add(line, *fields(row))
            if line in closing:
                yield from builder.close(closing.pop(line))
    yield from builder.drain()
    return source.encoding
