"""千牛/旺旺 text transcripts: chat records copied or exported from the Taobao/Tmall seller client.

Layout. Each message starts with a header line holding the sender's nickname and the time, in
one of three forms, starting at the first column::

    快乐的 小鱼88 2024-04-14 10:30:00        nickname, a space, the time
    tb0731wang2024-04-14 10:30:00            nickname glued to the time
    [木头人 阿木] 2024-04-14 10:30:00         nickname in square brackets

then one or more content lines (a multi-line message keeps its line breaks). The time is
``YYYY-MM-DD HH:MM:SS`` and ends the line; the year is always four digits, so a nickname ending
in digits is still split correctly. Between and after messages the client writes:

* status lines ``已读`` / ``未读`` (optionally ``[已读]``): they belong to the message above and
  are neither a record nor part of its text;
* recall notices ``<nickname> 撤回了一条消息`` and transfers ``<account> --> <account>`` (a chat
  handed from one sub-account to another; at least one side must be a shop account): kept as
  ``system`` messages of the conversation they happen in, without a time unless the notice is
  the only content of a header (then it takes the header's time and sender).

Records. One record is one block: a header line with its content and status lines up to the
next header or notice; a notice line (with any status lines under it); or a run of text lines
with no header above them. A header block is a message; a notice is a message; headless text
is a problem (text before the first header, or text right after a notice). A header whose time
has the right shape but is not a real time (``2024-04-31 10:00:00``) and a header without
content are problems of the block. In a file that is UTF-8 but for a few lines, each such line
is a problem of its own (see ``decode_bytes``) and ends the block it was in: the text after it,
up to the next header, is headless. Blank lines and status lines are not records. So every
non-blank line is part of a message, part of a record that became a problem, or a status line.

Roles. Shop accounts are the sub-accounts ``店铺名:客服名`` (ASCII or full-width colon), the
shop's main account ``店铺名`` when a sub-account of it appears in the file, both sides of a
transfer, and any account that sent an auto-reply. A message is ``bot`` when its sender's
nickname marks a bot (机器人, 店小蜜, 阿里小蜜) or its text starts with the client's
``[自动回复]`` prefix; ``agent`` when the sender is a shop account; ``buyer`` otherwise.

Conversations. A file may hold the chats of many buyers, in the client's time order. The
conversation id is ``qianniu:<buyer nickname>``: a buyer's message belongs to that buyer, a shop
message or a notice to the buyer who wrote last (a recall to the buyer who recalled). Shop
messages before any buyer message (a follow-up the shop starts) belong to the first buyer who
writes after them; in a file where no buyer writes at all they form one conversation named
after the first shop account, ``qianniu:<店铺名:客服名>``.

Date-like content. A content line is not taken for a header when it is indented, when the part
before the time ends with a colon (``下单时间：2024-04-12 09:15:33``) or holds sentence
punctuation, when nothing precedes the time, or when it ends a message that has content, its
"nickname" occurs in no other header of the file and no content follows it before the end of
the file or a header that is surely one (bracketed, a shop or bot account, or a nickname seen
twice): a date written on the last line of a message. A one-off word, a space and a full time
followed by more content lines is still read as a header.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from cs_audit.parsers.canonical_csv import FileUnreadable
from cs_audit.parsers.records import ConversationBuilder
from cs_audit.parsers.text import decode_bytes, read_bounded, sniff_text

ID_PREFIX = "qianniu:"

_STAMP = (r"(?P<stamp>(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})\s(?P<hour>\d{1,2}):"
          r"(?P<minute>\d{2}):(?P<second>\d{2}))")
_BRACKETED_HEADER = re.compile(rf"^\[(?P<nickname>.+)\]\s*{_STAMP}\s*$")
_PLAIN_HEADER = re.compile(rf"^(?P<nickname>\S.*?)\s*{_STAMP}\s*$")
_RECALL = re.compile(r"^(?P<account>\S.*?)\s*撤回了一条消息[。.]?\s*$")
_TRANSFER = re.compile(r"^(?P<source>\S.*?)\s*-{2,}>\s*(?P<target>\S.*?)\s*$")
_STATUS_WORDS = frozenset(f"{left}{word}{right}" for word in ("已读", "未读")
                          for left, right in (("", ""), ("[", "]"), ("【", "】")))
_SUB_ACCOUNT = re.compile(r"^(?P<shop>[^:：]*\S)\s*[:：]\s*\S")

# Taobao nicknames are letters, digits, CJK, '_' and '-' (spaces in older accounts); a line
# whose "nickname" holds sentence punctuation or ends in a colon is a sentence quoting a time.
_NOT_IN_NICKNAMES = frozenset("，。！？；、,;!?\t")
_LONGEST_NICKNAME = 64
# Header and notice lines are short; checking the length first also keeps the lazy patterns
# above from crawling through a megabyte-long content line.
_LONGEST_STRUCTURE_LINE = 160
_RECALL_WORDS = "撤回了一条消息"
_BOT_MARKS = ("机器人", "店小蜜", "阿里小蜜")
_AUTO_REPLY_PREFIXES = ("[自动回复]", "【自动回复】")
# In a recall notice the client calls the exporting account 你 and the other party 对方.
_SELF, _OTHER_PARTY = "你", "对方"
_NO_BUYER = "(no buyer)"


class _Header(NamedTuple):
    nickname: str
    stamp: str  # zero-padded YYYY-MM-DD HH:MM:SS, possibly not a real time
    bracketed: bool


@dataclass(frozen=True, slots=True)
class _Notice:
    kind: str  # "recall" or "transfer"
    accounts: tuple[str, ...]  # the recaller, or the transfer's source and target


@dataclass(slots=True)
class _Block:
    """One record in the making: a message, a notice, or text without a header."""

    kind: str  # "message", "notice" or "headless"
    line: int
    sender: str = ""
    stamp: str | None = None
    content: list[str] = field(default_factory=list)
    notice: _Notice | None = None
    follows: str = ""  # for headless text: "start", "notice" or "undecodable"
    has_content: bool = False  # a non-blank content line was read
    text: str = ""  # set by finish()

    def append(self, line: str) -> None:
        self.content.append(line)
        if not self.has_content and line.strip():
            self.has_content = True

    def finish(self) -> None:
        """Join the content lines, without the blank lines at either end."""
        lines = self.content
        start, end = 0, len(lines)
        while start < end and not lines[start].strip():
            start += 1
        while end > start and not lines[end - 1].strip():
            end -= 1
        self.text = "\n".join(lines[start:end])


def read_header(line: str) -> _Header | None:
    """The nickname and normalised time of a message header line, else None."""
    if len(line) > _LONGEST_STRUCTURE_LINE or not line[-1:].isdigit() and not line[-1:].isspace():
        return None
    bracketed = line.startswith("[")
    match = (bracketed and _BRACKETED_HEADER.match(line)) or _PLAIN_HEADER.match(line)
    if not match:
        return None
    nickname = match["nickname"].strip()
    if not _plausible_nickname(nickname):
        return None
    if ":" in nickname or "：" in nickname:
        nickname = canonical_account(nickname)
    stamp = match["stamp"]
    if len(stamp) != 19 or stamp[10] != " ":  # older clients drop leading zeros
        stamp = (f"{match['year']}-{int(match['month']):02d}-{int(match['day']):02d} "
                 f"{int(match['hour']):02d}:{match['minute']}:{match['second']}")
    return _Header(nickname, stamp, match.re is _BRACKETED_HEADER)


def _plausible_nickname(nickname: str) -> bool:
    return (0 < len(nickname) <= _LONGEST_NICKNAME
            and nickname[-1] not in ":："
            and _NOT_IN_NICKNAMES.isdisjoint(nickname))


def is_sub_account(nickname: str) -> bool:
    """Whether a nickname is a shop sub-account ``店铺名:客服名`` (ASCII or full-width colon)."""
    return _SUB_ACCOUNT.match(nickname) is not None


def canonical_account(nickname: str) -> str:
    """A sub-account with its separator as an ASCII colon, so 店铺名：客服名 and 店铺名:客服名 are
    one agent in the per-agent report; any other nickname unchanged."""
    match = _SUB_ACCOUNT.match(nickname)
    if not match:
        return nickname
    return f"{match['shop']}:{nickname[match.end() - 1:]}"


def _shop_name(nickname: str) -> str | None:
    match = _SUB_ACCOUNT.match(nickname)
    return match["shop"] if match else None


def _read_notice(line: str) -> _Notice | None:
    if len(line) > _LONGEST_STRUCTURE_LINE or (_RECALL_WORDS not in line and "->" not in line):
        return None
    match = _RECALL.match(line)
    if match:
        return _Notice("recall", (canonical_account(match["account"].strip()),))
    match = _TRANSFER.match(line)
    if match and "->" not in match["source"] + match["target"]:
        source, target = match["source"].strip(), match["target"].strip()
        if (_plausible_nickname(source) and _plausible_nickname(target)
                and (is_sub_account(source) or is_sub_account(target))):
            return _Notice("transfer", (canonical_account(source), canonical_account(target)))
    return None


def _split_lines(text: str) -> list[str]:
    # Split on "\n" only (not str.splitlines): line numbers must agree with decode_bytes,
    # which counts "\n", and a stray U+2028 in a message is text, not a line break.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


# --- from lines to blocks -------------------------------------------------------------------

_BLANK, _HEADER, _NOTICE, _STATUS_LINE, _TEXT = range(5)


def _classify(line: str) -> tuple[int, _Header | _Notice | None]:
    stripped = line.strip()
    if not stripped:
        return _BLANK, None
    # Cheap tests first: most lines are message text, and a header ends with a digit.
    last = line[-1]
    if last.isdigit() or last.isspace():
        header = read_header(line)
        if header:
            return _HEADER, header
    if _RECALL_WORDS in line or "->" in line:
        notice = _read_notice(line)
        if notice:
            return _NOTICE, notice
    if stripped in _STATUS_WORDS:
        return _STATUS_LINE, None
    return _TEXT, None


def _read_blocks(lines: list[str], undecodable: set[int]) -> list[_Block]:
    """Group lines into blocks; ``undecodable`` holds the (already reported) lines not in the
    file's encoding, which end the block they are in."""
    kinds = [_classify(line) for line in lines]
    header_counts = Counter(item.nickname for kind, item in kinds if kind == _HEADER)
    blocks: list[_Block] = []
    current: _Block | None = None
    follows = "start"
    for position, (line, (kind, item)) in enumerate(zip(lines, kinds)):
        if kind == _TEXT and current is not None and current.kind != "notice":
            current.content.append(line)  # the common case, kept short
            current.has_content = True
            continue
        number = position + 1
        if undecodable and number in undecodable:
            # What follows may belong to a header we could not read: better a problem than a
            # message glued to the wrong sender.
            current, follows = None, "undecodable"
            continue
        if kind == _HEADER and current is not None and current.kind == "message" \
                and current.has_content and _is_quoted_time(item, position, kinds, header_counts):
            kind = _TEXT
        if kind == _BLANK:
            if current is not None and current.kind == "message":
                current.content.append(line)
        elif kind == _HEADER:
            current = _Block("message", number, item.nickname, item.stamp)
            blocks.append(current)
        elif kind == _NOTICE:
            if current is not None and current.kind == "message" and not current.has_content:
                # The notice is the header's only content: the header dates it.
                current.kind, current.notice, current.content = "notice", item, [line]
            else:
                current = _Block("notice", number, _notice_sender(item), None, [line], item)
                blocks.append(current)
            follows = "notice"
        elif kind == _STATUS_LINE and current is not None and (
                current.kind == "notice" or (current.kind == "message" and current.has_content)):
            continue  # belongs to the message above; not part of its text
        elif current is not None and current.kind in ("message", "headless"):
            current.append(line)
        else:
            current = _Block("headless", number, follows=follows)
            current.append(line)
            blocks.append(current)
    for block in blocks:
        block.finish()
    return blocks


def _is_quoted_time(header: _Header, position: int, kinds: list[tuple[int, object]],
                    header_counts: Counter) -> bool:
    """A header-shaped line that is really the last content line of the message above.

    Only a plain header whose nickname occurs nowhere else and which would open an empty
    message qualifies: nothing but blank, status or notice lines between it and the end of the
    file or a header that is surely one (a chain of one-off headers stays a chain of headers).
    """
    if _surely_a_header(header, header_counts):
        return False
    for following in range(position + 1, len(kinds)):
        kind, item = kinds[following]
        if kind == _HEADER:
            return _surely_a_header(item, header_counts)
        if kind == _TEXT:
            return False
    return True


def _surely_a_header(header: _Header, header_counts: Counter) -> bool:
    return (header.bracketed or header_counts[header.nickname] > 1
            or is_sub_account(header.nickname) or _is_bot_nickname(header.nickname))


def _notice_sender(notice: _Notice) -> str:
    account = notice.accounts[0]
    return "" if account in (_SELF, _OTHER_PARTY) else account


# --- roles and conversations ----------------------------------------------------------------

def _is_auto_reply(text: str) -> bool:
    return text.lstrip().startswith(_AUTO_REPLY_PREFIXES)


def _is_bot_nickname(nickname: str) -> bool:
    return any(mark in nickname for mark in _BOT_MARKS)


def _shop_accounts(blocks: list[_Block]) -> set[str]:
    senders = {block.sender for block in blocks if block.kind == "message"}
    accounts = {sender for sender in senders if is_sub_account(sender) or _is_bot_nickname(sender)}
    for block in blocks:
        if block.kind == "message" and _is_auto_reply(block.text):
            accounts.add(block.sender)
        elif block.kind == "notice" and block.notice.kind == "transfer":
            accounts.update(block.notice.accounts)
    shop_names = {name for account in accounts if (name := _shop_name(account))}
    return accounts | (senders & shop_names)


def _role(block: _Block, shop_accounts: set[str]) -> str:
    if block.kind == "notice":
        return "system"
    if _is_bot_nickname(block.sender) or _is_auto_reply(block.text):
        return "bot"
    return "agent" if block.sender in shop_accounts else "buyer"


def _buyer_named_by(block: _Block, role: str, shop_accounts: set[str]) -> str | None:
    """The buyer a block names by itself: its sender if a buyer, or the buyer who recalled."""
    if role == "buyer":
        return block.sender
    if block.kind == "notice" and block.notice.kind == "recall":
        account = block.notice.accounts[0]
        if account in (_SELF, _OTHER_PARTY):
            account = block.sender  # the header's nickname when the notice has one, else ""
        if account and not (account in shop_accounts or is_sub_account(account)
                            or _is_bot_nickname(account)):
            return account
    return None


def _conversation_ids(blocks: list[_Block], roles: list[str], shop_accounts: set[str]) -> list[str]:
    ids: list[str] = [""] * len(blocks)
    current_buyer: str | None = None
    waiting: list[int] = []  # shop messages and notices before any buyer
    for position, (block, role) in enumerate(zip(blocks, roles)):
        if block.kind == "headless":
            continue
        buyer = _buyer_named_by(block, role, shop_accounts)
        if buyer is not None:
            current_buyer = buyer
            for earlier in waiting:
                ids[earlier] = ID_PREFIX + buyer
            waiting.clear()
        if current_buyer is None:
            waiting.append(position)
        else:
            ids[position] = ID_PREFIX + current_buyer
    if waiting:
        first_shop = next((blocks[p].sender for p in waiting if blocks[p].sender), _NO_BUYER)
        for position in waiting:
            ids[position] = ID_PREFIX + first_shop
    return ids


# --- the parser -----------------------------------------------------------------------------

def parse_qianniu(path: Path, builder: ConversationBuilder, encoding: str = "auto") -> str:
    """Read a 千牛/旺旺 transcript into ``builder``; return the encoding used.

    Raises FileUnreadable when no line of the file is a message header.
    """
    undecodable: set[int] = set()

    def report_undecodable(line: int, reason: str) -> None:
        undecodable.add(line)
        builder.problem(line, reason)

    text, used = decode_bytes(read_bounded(path), encoding, on_bad_line=report_undecodable)
    blocks = _read_blocks(_split_lines(text), undecodable)
    if not any(block.kind in ("message", "notice") for block in blocks):
        raise FileUnreadable(1, "no 千牛 message header ('nickname YYYY-MM-DD HH:MM:SS') found")
    shop_accounts = _shop_accounts(blocks)
    roles = [_role(block, shop_accounts) for block in blocks]
    ids = _conversation_ids(blocks, roles, shop_accounts)
    for block, role, conversation_id in zip(blocks, roles, ids):
        if block.kind == "headless":
            builder.problem(block.line, _headless_reason(block))
            continue
        builder.add(block.line, {
            "conversation_id": conversation_id, "timestamp": block.stamp, "role": role,
            "sender": block.sender, "text": block.text,
        })
    return used


def _headless_reason(block: _Block) -> str:
    lines = sum(1 for text in block.content if text.strip())
    count = f"{lines} line{'s' if lines != 1 else ''}"
    where = {
        "start": "before the first message header ('nickname YYYY-MM-DD HH:MM:SS')",
        "notice": "after a recall or transfer notice, with no message header above them",
        "undecodable": "after a line that could not be decoded, with no message header above them",
    }[block.follows]
    return f"{count} {where}: not part of any message"


# --- sniffing -------------------------------------------------------------------------------

_SNIFF_WINDOW = 65_536  # parsers.SNIFF_BYTES: a head this long was cut short
_SNIFF_FIRST_LINES = 5


def sniff_qianniu(head: bytes, path: Path) -> bool:
    """Whether the start of a file reads as a 千牛 transcript: a message header line among its
    first five non-blank lines (room for a title line or two before the first message).

    CSV, TSV and JSON rows never qualify (a nickname holds no comma or tab and a JSON line does
    not end with a time), nor do WeChat TXT headers, which put the time first.
    """
    lines = [line for line in _split_lines(sniff_text(head)) if line.strip()]
    if len(head) >= _SNIFF_WINDOW and len(lines) > 1:
        lines.pop()  # probably cut in the middle
    return any(read_header(line) is not None for line in lines[:_SNIFF_FIRST_LINES])


