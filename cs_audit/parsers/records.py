"""From raw records (column name → value) to ordered conversations, for every tabular format.

Each parser turns its file into ``(line, {column: value})`` records; this module maps column
names and role values to the canonical ones of SPEC §2, parses timestamps, reports the records it
cannot use, and groups and orders messages into conversations.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol

from cs_audit.model import Conversation, InputProblem, Message

# Shop time for absolute timestamps (Unix epochs, ISO with an offset): the platforms we read
# all run on China Standard Time.
SHOP_TIMEZONE = timezone(timedelta(hours=8))

COLUMN_ALIASES = {
    "conversation_id": ("conversation_id", "会话ID", "会话编号"),
    "timestamp": ("timestamp", "时间"),
    "role": ("role", "角色"),
    "sender": ("sender", "发送人"),
    "text": ("text", "内容"),
}
REQUIRED_COLUMNS = ("conversation_id", "role", "text")

ROLE_ALIASES = {
    "buyer": ("buyer", "买家", "顾客", "客户"),
    "agent": ("agent", "客服", "商家"),
    "bot": ("bot", "机器人", "自动回复"),
    "system": ("system", "系统"),
}
_ROLE_BY_NAME = {alias.casefold(): role for role, names in ROLE_ALIASES.items() for alias in names}
_COLUMN_BY_NAME = {alias.casefold(): column for column, names in COLUMN_ALIASES.items() for alias in names}

# Epochs above this are milliseconds: 1e11 seconds is the year 5138, 1e11 ms is 1973.
_MILLISECONDS_FROM = 1e11
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


class ColumnMapLike(Protocol):
    """What records need of a user column map (parsers.columns.ColumnMap)."""

    roles: dict[str, str]

    def column_for(self, header_name: str) -> str | None: ...


class MissingColumns(ValueError):
    """A header without the required columns: nothing in the file can be read."""


def canonical_column(name: str) -> str | None:
    """Canonical column for a header name (case-insensitive, English or Chinese), else None."""
    return _COLUMN_BY_NAME.get(str(name).strip().casefold())


def map_header(header: Iterable[Any], user_map: ColumnMapLike | None = None) -> dict[int, str]:
    """Map header positions to canonical columns; raise MissingColumns if a required one is absent.

    A column the user mapped (``--map``) wins over the built-in names. Columns we do not know
    are kept out of the mapping (they are ignored, per SPEC §2). The first occurrence of a
    duplicated column wins.
    """
    positions: dict[int, str] = {}
    found: set[str] = set()
    names = [str(name).strip() if name is not None else "" for name in header]
    mapped = {user_map.column_for(name) for name in names} - {None} if user_map else set()
    for position, name in enumerate(names):
        column = user_map.column_for(name) if user_map else None
        if column is None:
            column = canonical_column(name)
            if column in mapped:
                continue  # the user pointed this column elsewhere
        if column and column not in found:
            positions[position] = column
            found.add(column)
    missing = [column for column in REQUIRED_COLUMNS if column not in found]
    if missing:
        wanted = ", ".join(f"{column} ({COLUMN_ALIASES[column][1]})" for column in missing)
        shown = ", ".join(repr(name) for name in names) or "nothing"
        raise MissingColumns(f"missing required column(s) {wanted}; header has {shown}"
                             " (name other columns with --map)")
    return positions


def canonical_role(value: Any, user_roles: dict[str, str] | None = None) -> str | None:
    """Canonical role for a role value (the user's --map values, English or Chinese), else None."""
    key = str(value).strip().casefold()
    if user_roles and key in user_roles:
        return user_roles[key]
    return _ROLE_BY_NAME.get(key)


def parse_timestamp(value: Any) -> datetime | None:
    """Parse a SPEC §2 timestamp into naive shop-local time; None when empty.

    Accepts ``YYYY-MM-DD HH:MM:SS``, ISO 8601 (an offset is converted to shop time), Unix
    seconds or milliseconds (numbers or digit strings), and datetimes from spreadsheets.
    Raises ValueError for anything else.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return _to_shop_time(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, bool):
        raise ValueError(f"not a timestamp: {value!r}")
    if isinstance(value, (int, float)):
        return _from_epoch(float(value))
    text = str(value).strip()
    if not text:
        return None
    if _NUMBER.match(text):
        return _from_epoch(float(text))
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not a timestamp: {text!r}") from None
    return _to_shop_time(parsed)


def _from_epoch(seconds: float) -> datetime:
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"not a timestamp: {seconds!r}")
    if seconds >= _MILLISECONDS_FROM:
        seconds /= 1000.0
    try:
        moment = datetime.fromtimestamp(seconds, SHOP_TIMEZONE)
    except (OverflowError, OSError, ValueError):
        raise ValueError(f"timestamp out of range: {seconds!r}") from None
    return moment.replace(tzinfo=None)


def _to_shop_time(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(SHOP_TIMEZONE).replace(tzinfo=None)


def cell_text(value: Any) -> str:
    """A cell value as text: whole floats from spreadsheets lose their ``.0`` (ids like 1001)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(slots=True)
class _PendingMessage:
    order: int
    line: int
    role: str
    text: str
    sender: str
    timestamp: datetime | None


@dataclass
class ConversationBuilder:
    """Collects records of one file and assembles its ordered conversations."""

    source: str
    column_map: ColumnMapLike | None = None
    problems: list[InputProblem] = field(default_factory=list)
    rows: int = 0
    messages: int = 0
    _pending: dict[str, list[_PendingMessage]] = field(default_factory=dict)

    def problem(self, line: int, reason: str) -> None:
        """Record a record that could not be read (it still counts as a row)."""
        self.rows += 1
        self.problems.append(InputProblem(line, reason))

    def add(self, line: int, values: dict[str, Any]) -> None:
        """Add one record of canonical column → raw value; bad records become problems."""
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
        bucket.append(_PendingMessage(len(bucket), line, role, text, sender, timestamp))

    def conversations(self) -> list[Conversation]:
        """Conversations in order of first appearance, messages ordered per SPEC §2."""
        return [
            Conversation(conversation_id, self.source, tuple(_ordered_messages(pending)))
            for conversation_id, pending in self._pending.items()
        ]


def _ordered_messages(pending: list[_PendingMessage]) -> list[Message]:
    # A row without a timestamp sorts with the row before it in the file, so it keeps its
    # place relative to its neighbours; ties keep file order (the sort is stable).
    keys: list[datetime] = []
    previous = datetime.min
    for item in pending:
        if item.timestamp is not None:
            previous = item.timestamp
        keys.append(previous)
    order = sorted(range(len(pending)), key=keys.__getitem__)
    return [
        Message(index, item.role, item.text, item.timestamp, item.sender, item.line)
        for index, item in enumerate(pending[position] for position in order)
    ]
