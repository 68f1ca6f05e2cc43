"""WeChat chat exports of shops serving buyers through 企业微信: the 留痕 CSV and its TXT form.

Both come from desktop backup tools (留痕 / WeChatMsg and its kin) run on the shop's account.

**CSV** — header ``localId,TalkerId,Type,SubType,IsSender,CreateTime,Status,StrContent,StrTime,
Remark,NickName,Sender`` (columns found by name, any order, extra columns ignored; ``TalkerId``,
``Type``, ``IsSender``, ``StrContent`` and ``CreateTime`` or ``StrTime`` are required). One
*record* is one data row (a quoted field may span lines; the header and blank lines are not
records). ``TalkerId`` is the conversation; ``IsSender`` 1 is the shop account (agent), 0 the
buyer; the time is ``CreateTime`` (Unix seconds), else ``StrTime``. ``Type`` decides the text:
1 is ``StrContent``; media become placeholders (see ``MEDIA_PLACEHOLDERS``) so response times
stay right; 10000/10002 are system notices (recalls, "you added …"); an unknown Type is kept
as ``[其他消息]``. Names: the shop account is named by its ``NickName`` (it has no remark of its
own, and the nickname is what stays the same across chats, so per-agent reports group right);
a buyer by the ``Remark`` the shop gave them, else ``NickName``, else the ``Sender`` id. Group
chats (``TalkerId`` ending ``@chatroom``) are kept: the shop account's messages are the
agent's and every other member counts as a buyer under their own name.

**TXT** — blocks ``{YYYY-MM-DD HH:MM:SS} {nickname}`` then the content lines; every line that
starts with a date, a time, a space and a name begins a new block, and blank lines at the end of
a block separate it from the next. One *record* is one block; lines before the first block
(or after a line that could not be decoded) form one record that becomes a problem. A block
with no content is a system notice (the tools write recalls as ``{time} "X" 撤回了一条消息``) —
unless its name is a speaker of the file, then it is an empty message (a problem). The file is
one conversation, its id the file name without extension. The TXT form has no IsSender, so
the buyer is named by the file: backup tools name it after the contact (``王女士.txt``), so the
nickname equal to the file name is the buyer and every other speaker is the shop; a first line
``买家: 昵称`` (or ``buyer: …``) names the buyer explicitly and wins. If neither names a
speaker of the file, the file is refused rather than guessed.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from pathlib import Path

from cs_audit.parsers.canonical_csv import FileUnreadable, csv_records
from cs_audit.parsers.records import ConversationBuilder
from cs_audit.parsers.text import code_number, decode_bytes, read_bounded, sniff_text

TEXT_TYPE = 1
SYSTEM_TYPES = (10000, 10002)
LINK_TYPE = 49
# What a non-text message becomes: its kind, in the words WeChat itself shows in a chat list.
MEDIA_PLACEHOLDERS = {
    3: "[图片]", 34: "[语音]", 42: "[名片]", 43: "[视频]", 47: "[表情]", 48: "[位置]",
    50: "[通话]",
}
# Type 49 is an "app message"; SubType says which.
LINK_PLACEHOLDERS = {
    5: "[链接]", 6: "[文件]", 8: "[表情]", 19: "[聊天记录]", 33: "[小程序]", 36: "[小程序]",
    51: "[视频号]", 57: "[引用消息]", 2000: "[转账]", 2001: "[红包]",
}
DEFAULT_LINK_PLACEHOLDER = "[链接]"
UNKNOWN_PLACEHOLDER = "[其他消息]"
SYSTEM_PLACEHOLDER = "[系统消息]"
GROUP_SUFFIX = "@chatroom"

CSV_REQUIRED = ("TalkerId", "Type", "IsSender", "StrContent")
CSV_TIME_COLUMNS = ("CreateTime", "StrTime")
CSV_NAME_COLUMNS = ("SubType", "Remark", "NickName", "Sender")

TXT_HEADER = re.compile(r"^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) (\S.*)$")
TXT_BUYER_MARKER = re.compile(r"^\s*(?:买家|buyer)\s*[:：]\s*(\S.*?)\s*$", re.IGNORECASE)

_CARD_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)
_SYSTEM_REPLACE = re.compile(r"<replacemsg>(.*?)</replacemsg>", re.DOTALL)
_CDATA = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_TAG = re.compile(r"<[^>]+>")
# "你撤回了一条消息 重新编辑": the link is a button of the client, not part of the notice.
_REEDIT_LINK = re.compile(r"<a\b[^>]*revoke_edit[^>]*>.*?</a>", re.DOTALL)


def sniff_wechat(head: bytes, path: Path) -> bool:
    """Whether the file starts like a 留痕 CSV (its header) or the TXT form (a block header)."""
    lines = [line.strip() for line in sniff_text(head).split("\n") if line.strip()]
    if not lines:
        return False
    if _is_csv_header(lines[0]):
        return True
    if TXT_BUYER_MARKER.match(lines[0]) and len(lines) > 1:
        return bool(TXT_HEADER.match(lines[1]))
    return bool(TXT_HEADER.match(lines[0]))


def parse_wechat(path: Path, builder: ConversationBuilder, encoding: str = "auto") -> str:
    """Read a WeChat CSV or TXT export into ``builder``; return the encoding used.

    The form is told by the first non-blank line: the 留痕 CSV header, else TXT blocks.
    """
    undecodable: set[int] = set()

    def report_bad_line(line: int, reason: str) -> None:
        undecodable.add(line)
        builder.problem(line, reason)

    text, used = decode_bytes(read_bounded(path), encoding, on_bad_line=report_bad_line)
    first = next((line for line in text.split("\n") if line.strip()), "")
    if _is_csv_header(first.strip()):
        _parse_csv(text, builder)
    else:
        _parse_txt(text, path.stem, builder, undecodable)
    return used




def _is_csv_header(line: str) -> bool:
    names = {name.strip().strip('"').casefold() for name in line.split(",")}
    return all(column.casefold() in names for column in CSV_REQUIRED)


# --- CSV ---------------------------------------------------------------------------------------

def _parse_csv(text: str, builder: ConversationBuilder) -> None:
    records = csv_records(text, builder)
    header_line, header = next(records)
    columns = _csv_columns(header, header_line)
    for line, row in records:
        _add_csv_row(line, {name: row[position] for name, position in columns.items()}, builder)


def _csv_columns(header: list[str], line: int) -> dict[str, int]:
    wanted = {name.casefold(): name for name in (*CSV_REQUIRED, *CSV_TIME_COLUMNS, *CSV_NAME_COLUMNS)}
    columns: dict[str, int] = {}
    for position, raw in enumerate(header):
        name = wanted.get(raw.strip().casefold())
        if name and name not in columns:
            columns[name] = position
    missing = [name for name in CSV_REQUIRED if name not in columns]
    if not any(name in columns for name in CSV_TIME_COLUMNS):
        missing.append("CreateTime or StrTime")
    if missing:
        raise FileUnreadable(line, f"WeChat CSV header lacks {', '.join(missing)}")
    return columns


def _add_csv_row(line: int, row: dict[str, str], builder: ConversationBuilder) -> None:
    talker = row["TalkerId"].strip()
    raw_type = row["Type"].strip()
    message_type = code_number(raw_type)
    if message_type is None:
        builder.problem(line, f"Type must be a message type number, found {raw_type!r}")
        return
    is_sender = row["IsSender"].strip()
    if message_type not in SYSTEM_TYPES and is_sender not in ("0", "1"):
        builder.problem(line, f"IsSender must be 1 (the shop account) or 0 (the buyer), "
                              f"found {is_sender!r}")
        return
    content = row["StrContent"]
    sender_id = row.get("Sender", "").strip()
    if talker.endswith(GROUP_SUFFIX) and sender_id and content.startswith(f"{sender_id}:\n"):
        # Mobile databases prefix a group member's messages with their id.
        content = content[len(sender_id) + 2:]
    if message_type in SYSTEM_TYPES:
        role, sender = "system", ""
    elif is_sender == "1":
        role, sender = "agent", _first_name(row, ("NickName", "Remark", "Sender"))
    else:
        role, sender = "buyer", _first_name(row, ("Remark", "NickName", "Sender"))
    stamp = row.get("CreateTime", "").strip() or row.get("StrTime", "").strip()
    builder.add(line, {
        "conversation_id": talker, "timestamp": stamp, "role": role, "sender": sender,
        "text": _message_text(message_type, row.get("SubType", ""), content),
    })


def _first_name(row: dict[str, str], columns: tuple[str, ...]) -> str:
    return next((row[name].strip() for name in columns if row.get(name, "").strip()), "")


def _message_text(message_type: int, sub_type: str, content: str) -> str:
    if message_type == TEXT_TYPE:
        return content
    if message_type in SYSTEM_TYPES:
        return _system_text(content)
    if message_type == LINK_TYPE:
        sub = code_number(sub_type)
        placeholder = LINK_PLACEHOLDERS.get(sub, DEFAULT_LINK_PLACEHOLDER)
        title = _CARD_TITLE.search(content)
        title_text = _plain(title.group(1)) if title else ""
        return f"{placeholder} {title_text}" if title_text else placeholder
    return MEDIA_PLACEHOLDERS.get(message_type, UNKNOWN_PLACEHOLDER)


def _system_text(content: str) -> str:
    replaced = _SYSTEM_REPLACE.search(content)
    return _plain(replaced.group(1) if replaced else content) or SYSTEM_PLACEHOLDER


def _plain(markup: str) -> str:
    """Text of a WeChat XML fragment: CDATA opened, the recall's 重新编辑 link and tags dropped."""
    text = _CDATA.sub(lambda match: match.group(1), markup)
    text = _REEDIT_LINK.sub("", text)
    return html.unescape(_TAG.sub("", text)).strip()


# --- TXT ---------------------------------------------------------------------------------------

@dataclass
class _Block:
    line: int
    stamp: str
    name: str
    content: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        lines = list(self.content)
        while lines and not lines[-1].strip():
            lines.pop()  # blank lines after a block separate it from the next
        return "\n".join(lines)


def _parse_txt(text: str, stem: str, builder: ConversationBuilder, undecodable: set[int]) -> None:
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    buyer = None
    marker_line = next((number for number, line in enumerate(lines, start=1) if line.strip()), 0)
    marker = TXT_BUYER_MARKER.match(lines[marker_line - 1]) if marker_line else None
    if marker:
        buyer = marker.group(1)  # the marker line is a setting, not a record
    else:
        marker_line = 0
    blocks: list[_Block] = []
    strays: list[int] = []  # first line of each run of lines outside any block
    current: _Block | None = None
    in_stray_run = False
    for number, line in enumerate(lines, start=1):
        if number == marker_line:
            continue
        if number in undecodable:
            current, in_stray_run = None, False  # already a problem; what follows is cut off
            continue
        header = TXT_HEADER.match(line)
        if header:
            current, in_stray_run = _Block(number, header.group(1), header.group(2).strip()), False
            blocks.append(current)
        elif current is not None:
            current.content.append(line)
        elif line.strip() and not in_stray_run:
            strays.append(number)
            in_stray_run = True
    if not blocks:
        raise FileUnreadable(1, "no WeChat message header (`YYYY-MM-DD HH:MM:SS nickname`) found")
    speakers = {block.name for block in blocks if block.text.strip()}
    if buyer is None:
        if stem not in speakers:
            raise FileUnreadable(1, (
                f"cannot tell the buyer from the shop: no message is from {stem!r} (the file "
                "name); name the file after the buyer's nickname, as backup tools do, or make "
                "the first line `买家: <the buyer's nickname>`"))
        buyer = stem
    for number in strays:
        builder.problem(number, "text outside any message: not under a "
                                "`YYYY-MM-DD HH:MM:SS nickname` header")
    for block in blocks:
        _add_txt_block(block, stem, buyer, speakers, builder)


def _add_txt_block(block: _Block, conversation_id: str, buyer: str, speakers: set[str],
                   builder: ConversationBuilder) -> None:
    text = block.text
    if not text.strip():
        if block.name in speakers or block.name == buyer:
            builder.problem(block.line, f"message from {block.name!r} has no content")
            return
        role, sender, text = "system", "", block.name
    else:
        role, sender = ("buyer" if block.name == buyer else "agent"), block.name
    builder.add(block.line, {"conversation_id": conversation_id, "timestamp": block.stamp,
                             "role": role, "sender": sender, "text": text})
