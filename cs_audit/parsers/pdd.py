"""拼多多 (Pinduoduo) chat exports: the JSON chat records and the merchant back end's spreadsheet.

**JSON chat records** (``pdd-json``). One *record* is one entry of a conversation's
``message_infos`` list, or one conversation entry that cannot be read at all (no id, no
messages, not an object) — that conversation is then one problem, whatever it holds. The
document is a list of conversations, an object holding that list under one of
``CONVERSATION_LIST_KEYS`` (also one level down, as in ``{"result": {"list": [...]}}``), or a
single conversation object. A conversation's id is the first non-empty of
``CONVERSATION_ID_KEYS``; each message has ``msg_ts``, ``from_type`` (see ``FROM_TYPE_ROLES``),
``text`` and optionally a ``sender``/``nickname``. Problems carry the line where the record's
``{`` stands in the file. Other keys are kept and ignored.

**Spreadsheet export** (``pdd-xlsx``). One *record* is one non-blank row below the header
row. Columns are found by the Chinese names in ``EXPORT_COLUMNS``; rows above the header (a
title line such as 聊天记录导出) are not records; the header must be among the first
``HEADER_SEARCH_ROWS`` non-blank rows.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cs_audit.parsers.canonical_csv import FileUnreadable
from cs_audit.parsers.json_text import JsonUnreadable, decode_json, parse_integer
from cs_audit.parsers.records import ROLE_ALIASES, ConversationBuilder, cell_text
from cs_audit.parsers.sheet import SheetRow, cell_at, first_sheet_head, first_sheet_rows
from cs_audit.parsers.text import code_number, decode_bytes, read_bounded, sniff_text

# --- JSON chat records ----------------------------------------------------------------------

CONVERSATION_LIST_KEYS = ("conversations", "data", "list", "result", "records")
# A conversation is one buyer's chat with the shop, so the buyer's uid identifies it when the
# export carries no conversation or session id.
CONVERSATION_ID_KEYS = ("conversation_id", "session_id", "uid")
SENDER_KEYS = ("sender", "nickname")
FROM_TYPE_ROLES = {0: "buyer", 1: "bot", 2: "agent", 3: "system"}
_FROM_TYPE_HELP = "expected 0 (buyer), 1 (robot), 2 (agent) or 3 (system)"

# Outside strings, JSON holds no quote, brace or bracket, so scanning strings and openings
# finds every container's opening in document order.
_STRING_OR_OPENING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[{]', re.DOTALL)


class _JsonObject(dict):
    """A JSON object that remembers every key/value pair (duplicates too) and its line."""

    def __init__(self, pairs: list[tuple[str, Any]]):
        super().__init__(pairs)
        self.pairs = pairs
        self.line = 0


def sniff_pdd_json(head: bytes, path: Path) -> bool:
    """A JSON document (object or list) that names ``message_infos`` near its start."""
    text = sniff_text(head).lstrip("\ufeff \t\r\n")
    return text.startswith(("{", "[")) and '"message_infos"' in text


def parse_pdd_json(path: Path, builder: ConversationBuilder, encoding: str = "auto") -> str:
    """Read 拼多多 JSON chat records into ``builder``; return the encoding used.

    Raises FileUnreadable when the file is not valid JSON (a document cannot be read in part)
    or holds no list of conversations.
    """
    # One document: a line in another encoding cannot be left out without breaking the JSON.
    text, used = decode_bytes(read_bounded(path), encoding)
    try:
        document = decode_json(text, json.JSONDecoder(object_pairs_hook=_JsonObject,
                                                      parse_int=parse_integer))
    except JsonUnreadable as error:
        raise FileUnreadable(error.line, error.reason) from None
    list_lines = _locate_containers(document, text)
    conversations = _conversation_list(document)
    if conversations is None:
        raise FileUnreadable(1, "no conversations: expected a list of conversations or an object "
                                f"with a {'/'.join(CONVERSATION_LIST_KEYS)} list")
    for entry in conversations:
        _add_conversation(builder, entry, _line_of(entry, list_lines.get(id(conversations), 1)), list_lines)
    return used


def _locate_containers(document: Any, text: str) -> dict[int, int]:
    """Set ``line`` on every JSON object; return the line of every list, by ``id()``."""
    opening_lines = []
    line, position = 1, 0
    for match in _STRING_OR_OPENING.finditer(text):
        if match.group() in ("[", "{"):
            line += text.count("\n", position, match.start())
            position = match.start()
            opening_lines.append(line)
    list_lines: dict[int, int] = {}
    pending = [document]
    containers = 0
    while pending:  # preorder, iteratively: exports can be nested deeper than the stack allows
        value = pending.pop()
        if isinstance(value, _JsonObject):
            value.line = opening_lines[containers]
            children = [child for _, child in value.pairs]
        elif isinstance(value, list):
            list_lines[id(value)] = opening_lines[containers]
            children = value
        else:
            continue
        containers += 1
        pending.extend(reversed(children))
    return list_lines


def _line_of(value: Any, fallback: int) -> int:
    return value.line if isinstance(value, _JsonObject) else fallback


def _conversation_list(document: Any, depth: int = 0) -> list | None:
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        return None
    if "message_infos" in document:
        return [document]
    if depth > 1:
        return None
    for key in CONVERSATION_LIST_KEYS:
        found = _conversation_list(document.get(key), depth + 1)
        if found is not None:
            return found
    return None


def _add_conversation(builder: ConversationBuilder, entry: Any, line: int,
                      list_lines: dict[int, int]) -> None:
    if not isinstance(entry, dict):
        builder.problem(line, f"conversation entry is {_json_type(entry)}, not an object")
        return
    messages = entry.get("message_infos")
    conversation_id = _conversation_id(entry)
    if not isinstance(messages, list):
        state = "no message_infos" if messages is None else f"message_infos is {_json_type(messages)}"
        builder.problem(line, f"conversation {conversation_id or '(no id)'}: {state}, expected a list")
        return
    if not messages:
        builder.problem(line, f"conversation {conversation_id or '(no id)'}: message_infos is empty")
        return
    if not conversation_id:
        builder.problem(line, f"conversation without an id ({'/'.join(CONVERSATION_ID_KEYS)}); "
                              f"its {len(messages)} message(s) cannot be grouped and are not read")
        return
    messages_line = list_lines.get(id(messages), line)
    for info in messages:
        _add_message(builder, conversation_id, info, _line_of(info, messages_line))


def _add_message(builder: ConversationBuilder, conversation_id: str, info: Any, line: int) -> None:
    if not isinstance(info, dict):
        builder.problem(line, f"message_infos entry is {_json_type(info)}, not an object")
        return
    if "from_type" not in info:
        builder.problem(line, f"missing from_type; {_FROM_TYPE_HELP}")
        return
    role = _role_of_from_type(info["from_type"])
    if role is None:
        builder.problem(line, f"unknown from_type {info['from_type']!r}; {_FROM_TYPE_HELP}")
        return
    text = info.get("text")
    if text is not None and not isinstance(text, str):
        builder.problem(line, f"text is {_json_type(text)}, not a string")
        return
    sender = next((value for key in SENDER_KEYS
                   if isinstance(value := info.get(key), str) and value.strip()), "")
    builder.add(line, {"conversation_id": conversation_id, "timestamp": info.get("msg_ts"),
                       "role": role, "sender": sender, "text": text})


def _role_of_from_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = code_number(value)
    return FROM_TYPE_ROLES.get(value) if isinstance(value, int) else None


def _conversation_id(entry: dict) -> str:
    for key in CONVERSATION_ID_KEYS:
        value = entry.get(key)
        # uids are numbers in some exports; a boolean or an object is no id.
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return ""


def _json_type(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    return "null" if value is None else "a number"


# --- spreadsheet export ---------------------------------------------------------------------

# Field → header names the back end (and its older versions) use; matched case-insensitively.
EXPORT_COLUMNS = {
    "conversation_id": ("会话ID", "会话编号"),
    "buyer_id": ("买家ID", "买家UID", "用户ID"),
    "buyer_name": ("买家昵称", "用户昵称"),
    "agent_account": ("客服账号", "客服昵称"),
    "sender_type": ("发送方", "发送者", "消息发送方"),
    "timestamp": ("消息时间", "发送时间"),
    "text": ("消息内容", "聊天内容"),
}
# One conversation per buyer when the export has no conversation id column.
EXPORT_ID_FIELDS = ("conversation_id", "buyer_id")
EXPORT_REQUIRED = ("sender_type", "text")
# The export's 发送方 values are the role words every reader accepts (records.ROLE_ALIASES).
SENDER_TYPE_ROLES = {alias: role for role, names in ROLE_ALIASES.items() for alias in names
                     if not alias.isascii()}
HEADER_SEARCH_ROWS = 5
_EXPORT_FIELD_BY_NAME = {name.casefold(): field for field, names in EXPORT_COLUMNS.items() for name in names}


def export_header(row: SheetRow) -> dict[str, int] | None:
    """Positions of the export's fields in a header row; None if it is not the export's header."""
    positions: dict[str, int] = {}
    for position, name in enumerate(row):
        field = _EXPORT_FIELD_BY_NAME.get(str(name).strip().casefold()) if name is not None else None
        if field and field not in positions:
            positions[field] = position
    if all(field in positions for field in EXPORT_REQUIRED) and any(
            field in positions for field in EXPORT_ID_FIELDS):
        return positions
    return None


def sniff_pdd_xlsx(head: bytes, path: Path) -> bool:
    """A workbook whose first sheet has the export's header (发送方, 消息内容, 会话ID/买家ID)."""
    if not head.startswith(b"PK\x03\x04"):
        return False
    return any(export_header(row) for row in first_sheet_head(path, HEADER_SEARCH_ROWS))


def parse_pdd_xlsx(path: Path, builder: ConversationBuilder, encoding: str = "auto") -> None:
    """Read the first sheet of a 拼多多 chat export into ``builder``.

    The conversation id is the 会话ID column, or the 买家ID column when there is none; the
    sender is the 客服账号 for agent and robot rows and the buyer's nickname (else id) for
    buyer rows. ``encoding`` is ignored: XLSX is always UTF-8 XML.
    """
    with first_sheet_rows(path, builder) as rows:
        positions: dict[str, int] | None = None
        seen = 0
        for number, row in rows:
            if positions is None:
                seen += 1
                positions = export_header(row)
                if positions is None and seen >= HEADER_SEARCH_ROWS:
                    break
                continue  # the header, or a title line above it
            _add_export_row(builder, number, row, positions)
    if positions is None:
        wanted = ", ".join(EXPORT_COLUMNS[field][0] for field in (*EXPORT_REQUIRED, "conversation_id"))
        raise FileUnreadable(1, f"no 拼多多 export header (columns {wanted} or 买家ID) in the first "
                                f"{HEADER_SEARCH_ROWS} rows")


def _add_export_row(builder: ConversationBuilder, number: int, row: SheetRow,
                    positions: dict[str, int]) -> None:
    def value(field: str) -> Any:
        return cell_at(row, positions[field]) if field in positions else None

    raw_type = value("sender_type")
    kind = str(raw_type).strip() if raw_type is not None else ""
    if not kind:
        builder.problem(number, "missing 发送方 (who sent the message)")
        return
    role = SENDER_TYPE_ROLES.get(kind)
    if role is None:
        builder.problem(number, f"unknown 发送方 {kind!r}; expected one of {'/'.join(SENDER_TYPE_ROLES)}")
        return
    if not cell_text(value("text")).strip():
        builder.problem(number, "missing 消息内容 (the message text is empty)")
        return
    id_field = next(field for field in EXPORT_ID_FIELDS if field in positions)
    if role in ("agent", "bot"):
        sender = value("agent_account")
    elif role == "buyer":
        sender = value("buyer_name") or value("buyer_id")
    else:
        sender = None
    builder.add(number, {"conversation_id": value(id_field), "timestamp": value("timestamp"),
                         "role": role, "sender": sender, "text": value("text")})
