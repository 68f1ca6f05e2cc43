"""Canonical JSONL (SPEC §2): one JSON object a line with the canonical keys."""

from __future__ import annotations

import json
from pathlib import Path

from cs_audit.parsers.records import ConversationBuilder, canonical_column
from cs_audit.parsers.text import decode_bytes


def parse_jsonl(path: Path, builder: ConversationBuilder, encoding: str = "auto") -> str:
    """Read a JSONL file into ``builder``; return the encoding used.

    Keys are matched like CSV headers (case-insensitive, English or Chinese); a line that is
    not a JSON object is a problem with its line number.
    """
    text, used = decode_bytes(path.read_bytes(), encoding, on_bad_line=builder.problem)
    # Only "\n" ends a record: str.splitlines() would also split on U+2028 or \x0b, which
    # json.dumps leaves unescaped inside strings.
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
