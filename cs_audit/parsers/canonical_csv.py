"""Canonical CSV (SPEC §2): a header row, then one message a row."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from cs_audit.parsers.records import ConversationBuilder, MissingColumns, map_header
from cs_audit.parsers.text import decode_bytes

# Chat messages are short; a field this long is a broken quote swallowing the rest of the file
# or not a chat export at all. The record is reported and reading goes on after it.
FIELD_SIZE_LIMIT = 1_000_000


class FileUnreadable(ValueError):
    """Nothing in the file can be read; carries the line to point at."""

    def __init__(self, line: int, reason: str):
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


def csv_records(text: str, builder: ConversationBuilder) -> Iterator[tuple[int, list[str]]]:
    """Yield ``(line, fields)`` for the header, then for every record with the header's width.

    Lines are where each record starts. Blank lines are not records; a record with the wrong
    number of fields, an over-long field or a CSV syntax error becomes a problem in ``builder``
    (a broken quote ends the reading: the reader cannot resynchronise after it). A file whose
    header cannot be read raises FileUnreadable.
    """
    csv.field_size_limit(FIELD_SIZE_LIMIT)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
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


def parse_csv(path: Path, builder: ConversationBuilder, encoding: str = "auto") -> str:
    """Read a canonical CSV into ``builder``; return the encoding used.

    Each record is reported with the line it starts on; a record with the wrong number of
    fields is a problem, not a guess.
    """
    text, used = decode_bytes(path.read_bytes(), encoding, on_bad_line=builder.problem)
    records = csv_records(text, builder)
    header_line, header = next(records)
    try:
        positions = map_header(header, builder.column_map)
    except MissingColumns as error:
        raise FileUnreadable(header_line, str(error)) from None
    for line, row in records:
        builder.add(line, {column: row[position] for position, column in positions.items()})
    return used
