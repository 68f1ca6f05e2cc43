"""From raw records (column name → value) to ordered conversations, for every tabular format.

Each parser turns its file into ``(line, {column: value})`` records; this module maps column
names and role values to the canonical ones of SPEC §2, parses timestamps, reports the records it
cannot use, and groups and orders messages into conversations, handing each out once complete.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol

from cs_audit.model import ROLES, Conversation, InputProblem, Message

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

# The role values every reader accepts (the platform exports' own words included, so a
# canonical CSV may say 用户/商家客服 as the 拼多多 export does).
ROLE_ALIASES = {
    "buyer": ("buyer", "买家", "顾客", "客户", "消费者", "用户"),
    "agent": ("agent", "客服", "商家", "商家客服", "人工客服"),
    "bot": ("bot", "机器人", "自动回复", "机器人客服"),
    "system": ("system", "系统", "系统消息"),
}
_ROLE_BY_NAME = {alias.casefold(): role for role, names in ROLE_ALIASES.items() for alias in names}
_COLUMN_BY_NAME = {alias.casefold(): column for column, names in COLUMN_ALIASES.items() for alias in names}

# Chat messages are short; a field this long is a broken quote swallowing the rest of the file
# or not a chat export at all. The record is reported, whatever the format it came in.
MAX_FIELD_CHARS = 1_000_000
# The last moment a timestamp may name. Waits are clocked from the next day's opening under
# service hours, and a day past 9999-12-31 is no date Python can hold.
LATEST_TIMESTAMP = datetime(9999, 12, 30, 23, 59, 59, 999_999)
# Epochs above this are milliseconds: 1e11 seconds is the year 5138, 1e11 ms is 1973.
_MILLISECONDS_FROM = 1e11
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


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
        try:
            return _from_epoch(float(value))
        except OverflowError:  # an integer past float's range (hundreds of digits)
            raise ValueError("timestamp out of range: a number too large to be a time") from None
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
    if math.isinf(seconds) and seconds > 0:  # digits past float's range
        raise ValueError("timestamp out of range: a number too large to be a time")
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
    try:
        return moment.astimezone(SHOP_TIMEZONE).replace(tzinfo=None)
    except OverflowError:  # 9999-12-31T23:00-08:00 is past the last date in shop time
        raise ValueError(f"timestamp out of range: {moment.isoformat()} in shop time (UTC+8) "
                         "is outside the years 1-9999") from None


def cell_text(value: Any) -> str:
    """A cell value as text: whole floats from spreadsheets lose their ``.0`` (ids like 1001)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# Distinct strings remembered so that equal senders and texts share one object: agent names
# and canned replies (greetings, "please wait", the bot's lines) repeat thousands of times in
# real exports. The table is emptied when full, so unique texts cannot crowd it out for long.
_SHARED_STRINGS_MAX = 65_536
_CANONICAL_ROLES = {role: role for role in ROLES}
_fromisoformat = datetime.fromisoformat


class ConversationBuilder:
    """Collects the records of one file and hands out its ordered conversations.

    Parsers ``add`` records and report ``problem`` records. A parser that knows where each
    conversation ends calls ``close`` after its last record and passes on what it yields:
    conversations are handed out in order of first appearance (first message), so one waits
    until those that appeared before it are complete. ``drain`` hands out all the rest.
    """

    def __init__(self, source: str, column_map: ColumnMapLike | None = None):
        self.source = source
        self.column_map = column_map
        self.problems: list[InputProblem] = []
        self.messages = 0
        self.handed_out = 0  # conversations handed out so far
        self._pending: dict[str, list[Message]] = {}  # conversation id → messages in file order
        self._order: deque[str] = deque()  # pending ids in order of first appearance
        self._complete: set[str] = set()  # pending ids whose last record has been read
        self._handed_out_ids: set[str] = set()  # to refuse a record arriving after its conversation
        self._roles: dict[str, str] = {}  # raw role value → canonical role
        self._senders: dict[str, str] = {}
        self._texts: dict[str, str] = {}

    @property
    def rows(self) -> int:
        """Records read: every one is a message or a problem."""
        return self.messages + len(self.problems)

    def problem(self, line: int, reason: str) -> None:
        """Record a record that could not be read (it still counts as a row)."""
        self.problems.append(InputProblem(line, reason))

    def add(self, line: int, values: dict[str, Any]) -> None:
        """Add one record of canonical column → raw value; bad records become problems."""
        get = values.get
        self.add_fields(line, get("conversation_id"), get("timestamp"), get("role"), get("sender"),
                        get("text"))

    def add_fields(self, line: int, conversation_id: Any, timestamp: Any, role: Any, sender: Any,
                   text: Any) -> None:
        """Add one record given its raw canonical values (None when absent); see ``add``.

        The hot path of every tabular parser: string values take the quick way through.
        """
        key = (conversation_id if type(conversation_id) is str else cell_text(conversation_id)).strip()
        if not key:
            self.problem(line, "missing conversation_id (会话ID)")
            return
        if not key.isascii() and _LONE_SURROGATE.search(key):
            # Only a JSON escape (\ud800) makes one; no report file could hold the id.
            self.problem(line, "conversation_id holds a lone surrogate (a broken \\uD8xx escape); "
                               "fix the id in the export")
            return
        canonical = self._roles.get(role) if type(role) is str else None
        if canonical is None:
            canonical = self._role(line, role)
            if canonical is None:
                return
        if type(text) is not str:
            text = cell_text(text)
        if not text or text.isspace():
            self.problem(line, "missing text (内容)")
            return
        if len(text) > MAX_FIELD_CHARS or len(key) > MAX_FIELD_CHARS:
            self.problem(line, f"a field is longer than {MAX_FIELD_CHARS:,} characters")
            return
        if "\x00" in text:
            self.problem(line, "text contains NUL bytes (binary data, not a chat message)")
            return
        moment = None
        if timestamp is not None:
            try:
                # An ISO date the way parse_timestamp would read it: fromisoformat refuses
                # surrounding blanks, and a string with "-" that it accepts is no Unix epoch.
                # Anything else, and every error to report, takes parse_timestamp's way.
                if type(timestamp) is str and "-" in timestamp:
                    try:
                        moment = _fromisoformat(timestamp)
                    except ValueError:
                        moment = parse_timestamp(timestamp)
                    if moment.tzinfo is not None:
                        moment = _to_shop_time(moment)
                else:
                    moment = parse_timestamp(timestamp)
            except ValueError as error:
                self.problem(line, f"bad timestamp: {error}")
                return
            if moment is not None and moment > LATEST_TIMESTAMP:
                self.problem(line, f"bad timestamp: {moment.isoformat(' ')} is after "
                                   f"{LATEST_TIMESTAMP:%Y-%m-%d}, the last date cs-audit can clock")
                return
        bucket = self._pending.get(key)
        if bucket is None:
            if key in self._handed_out_ids:
                self.problem(line, f"conversation {key!r} was already complete before this record; "
                                   "the file changed while it was read")
                return
            bucket = self._pending[key] = []
            self._order.append(key)
        if sender is None:
            sender = ""
        else:
            sender = (sender if type(sender) is str else cell_text(sender)).strip()
            if sender:
                senders = self._senders
                if len(senders) >= _SHARED_STRINGS_MAX:
                    senders.clear()
                sender = senders.setdefault(sender, sender)
        texts = self._texts
        if len(texts) >= _SHARED_STRINGS_MAX:
            texts.clear()
        self.messages += 1
        bucket.append(_new_message(len(bucket), canonical, texts.setdefault(text, text), moment, sender,
                                   line))

    def _role(self, line: int, raw_role: Any) -> str | None:
        """The canonical role of a value not seen before, else None with the problem reported."""
        if raw_role is None or not str(raw_role).strip():
            self.problem(line, "missing role (角色)")
            return None
        role = canonical_role(raw_role, self.column_map.roles if self.column_map else None)
        if role is None:
            self.problem(line, f"unknown role {str(raw_role).strip()!r}; expected buyer/agent/bot/system "
                               "or 买家/客服/机器人/系统")
            return None
        role = _CANONICAL_ROLES.get(role, role)
        if type(raw_role) is str and len(self._roles) < _SHARED_STRINGS_MAX:
            self._roles[raw_role] = role
        return role

    def close(self, conversation_id: str) -> Iterator[Conversation]:
        """The last record of a conversation has been read: hand out what is now complete.

        Yields, in order of first appearance, every conversation at the front of the queue whose
        last record has been read. An id without messages (all its records were problems, or it
        was handed out already) changes nothing.
        """
        if conversation_id in self._pending:
            self._complete.add(conversation_id)
        order, complete = self._order, self._complete
        while order and order[0] in complete:
            conversation_id = order.popleft()
            complete.discard(conversation_id)
            yield self._hand_out(conversation_id)

    def drain(self) -> Iterator[Conversation]:
        """Hand out every conversation not yet handed out, in order of first appearance."""
        order = self._order
        while order:
            yield self._hand_out(order.popleft())
        self._complete.clear()

    def _hand_out(self, conversation_id: str) -> Conversation:
        self.handed_out += 1
        self._handed_out_ids.add(conversation_id)
        messages = self._pending.pop(conversation_id)
        return Conversation(conversation_id, self.source, _in_time_order(messages))


# Message(...) without the frozen __init__ (a second of a million-row parse).
_new_message = Message.from_fields


def _in_time_order(messages: list[Message]) -> tuple[Message, ...]:
    """Messages in file order (``index`` = file position) put in time order, per SPEC §2."""
    previous = datetime.min
    for message in messages:
        if message.timestamp is not None:
            if message.timestamp < previous:
                break
            previous = message.timestamp
    else:
        return tuple(messages)  # already in time order: the usual case, indexes stand
    # A message without a timestamp sorts with the message before it in the file, so it keeps
    # its place relative to its neighbours; ties keep file order (the sort is stable).
    keys: list[datetime] = []
    previous = datetime.min
    for message in messages:
        if message.timestamp is not None:
            previous = message.timestamp
        keys.append(previous)
    order = sorted(range(len(messages)), key=keys.__getitem__)
    return tuple(
        Message(index, item.role, item.text, item.timestamp, item.sender, item.line)
        for index, item in enumerate(messages[position] for position in order)
    )
