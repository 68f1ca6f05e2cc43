"""京东 咚咚 chat logs in the JDDC layout: tab-separated, no header, no timestamps.

One *record* is one non-blank line: ``session_id, user_id, waiter_send, is_transfer,
is_repeat, sku, content``. Blank lines are not records, and neither is a first line that is
exactly the column names (some copies of the corpus carry one). ``content`` is the last field
and free text, so tabs inside it are kept as part of the message rather than counted as extra
fields. Masked tokens (``[电话x]``, ``[订单x]``, ``#E-s[数字x]`` …) stay in the text as they are.

How the fields are used:

- ``session_id`` is the conversation id.
- ``waiter_send`` decides the role (``WAITER_SEND_ROLES``): 1 the shop's agent, 0 the buyer.
- ``user_id`` is the buyer's (masked) id, so it names buyer messages only; JDDC never names the
  agent, so agent messages get ``AGENT_SENDER``.
- ``is_transfer`` (the session was handed to another agent or department around this message),
  ``is_repeat`` (the buyer sent the same thing again) and ``sku`` are kept out of the audit:
  every message is kept whatever they say, because a transferred or repeated message is still
  something that was said and a reviewer must see it.

There are no timestamps, so response metrics are null (SPEC §2); messages keep file order.
"""

from __future__ import annotations

from pathlib import Path

from cs_audit.parsers.canonical_csv import FileUnreadable
from cs_audit.parsers.records import ConversationBuilder
from cs_audit.parsers.text import decode_bytes, read_bounded, sniff_text

FIELDS = ("session_id", "user_id", "waiter_send", "is_transfer", "is_repeat", "sku", "content")
WAITER_SEND_ROLES = {"1": "agent", "0": "buyer"}
# JDDC does not say which agent answered. An empty sender is what every reader uses for an
# unnamed agent, and the reports list it as "(unnamed agent)" rather than under an invented name.
AGENT_SENDER = ""
_FLAGS = ("0", "1")
SNIFF_LINES = 10


def split_record(line: str) -> list[str]:
    """The fields of one line; the content (last field) keeps any tabs it contains."""
    return line.split("\t", len(FIELDS) - 1)


def looks_like_record(fields: list[str]) -> bool:
    """Seven fields with a session id and 0/1 in waiter_send, is_transfer and is_repeat."""
    return (len(fields) == len(FIELDS) and bool(fields[0].strip())
            and all(fields[position].strip() in _FLAGS for position in (2, 3, 4)))


def sniff_jd_tsv(head: bytes, path: Path) -> bool:
    """Most of the first complete non-blank lines look like JDDC records."""
    text = sniff_text(head)
    lines = text.split("\n")
    if len(lines) > 1:
        lines = lines[:-1]  # the head may end in the middle of a line
    checked = [line.rstrip("\r") for line in lines if line.strip()][:SNIFF_LINES]
    matching = sum(1 for line in checked if looks_like_record(split_record(line)))
    return matching > 0 and matching * 2 > len(checked)


def parse_jd_tsv(path: Path, builder: ConversationBuilder, encoding: str = "auto") -> str:
    """Read a JDDC-style TSV into ``builder``; return the encoding used.

    Raises FileUnreadable when no line has the seven fields (not this layout at all).
    """
    text, used = decode_bytes(read_bounded(path), encoding, on_bad_line=builder.problem)
    first_record = True
    any_record_shaped = False
    any_line = False
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip():
            continue  # blank line (or a line left out for its encoding): not a record
        any_line = True
        fields = split_record(line)
        if first_record and [field.strip() for field in fields] == list(FIELDS):
            first_record = False
            continue  # a header line of column names: not a record
        first_record = False
        if len(fields) != len(FIELDS):
            builder.problem(number, f"expected {len(FIELDS)} tab-separated fields "
                                    f"({', '.join(FIELDS)}), found {len(fields)}")
            continue
        any_record_shaped = True
        session_id, user_id, waiter_send, _is_transfer, _is_repeat, _sku, content = fields
        role = WAITER_SEND_ROLES.get(waiter_send.strip())
        if role is None:
            builder.problem(number, f"waiter_send is {waiter_send.strip()!r}; expected 1 (agent) or 0 (buyer)")
            continue
        if not content.strip():
            builder.problem(number, "empty content (the message text)")
            continue
        builder.add(number, {"conversation_id": session_id, "role": role, "text": content,
                             "sender": user_id if role == "buyer" else AGENT_SENDER})
    if not any_line:
        raise FileUnreadable(1, "empty file: no JDDC records")
    if not any_record_shaped:
        raise FileUnreadable(1, f"not a JDDC-style TSV: no line has the {len(FIELDS)} tab-separated "
                                f"fields {', '.join(FIELDS)}")
    return used
