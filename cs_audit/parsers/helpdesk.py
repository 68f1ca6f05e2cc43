"""Helpdesk JSON exports: Zendesk ticket comments and Intercom conversations.

Accepted layouts (one JSON document, UTF-8; told apart by their top-level keys):

**Zendesk** — ``{"tickets": [{"id", "requester_id"?, "comments": [...], "users"?: [...]}],
"users": [...]}`` (several tickets bundled), or one ticket's ``/api/v2/tickets/{id}/comments.json``
response ``{"comments": [...], "users"?: [...], "ticket_id"?}`` (its id is ``ticket_id``, else
the file name without extension). A comment is ``{"id", "author_id", "body", "plain_body",
"html_body", "public", "created_at" (ISO 8601), "attachments"?}``; its text is ``body``, else
``plain_body``, else ``html_body`` reduced to text. The author's role comes from the sideloaded
``users[]`` (``role`` end-user → buyer, agent/admin → agent; ticket-level users win over
top-level ones); an author missing there but equal to the ticket's ``requester_id`` is the buyer.

**Intercom** — ``{"conversations": [...]}`` (or one conversation object). A conversation is
``{"id", "created_at", "source": {...}, "conversation_parts": {"conversation_parts": [...]}}``
(a bare list of parts is accepted too); ``source`` is the first message, timed by the
conversation's ``created_at``; a part is ``{"part_type", "body" (HTML), "created_at" (Unix
seconds), "author": {"type", "name"}, "attachments"?}``. Author type user/lead/contact → buyer,
admin/team → agent, bot → bot.

A *record* is one Zendesk comment, one Intercom source or part, or one ticket/conversation entry
that is not usable as a whole (not an object, no comments list); its line is where its ``{``
is. Internal notes (Zendesk ``public: false``, Intercom ``note`` parts) are records but never
messages: the buyer does not see them, so they are listed as problems saying so, and so are
events with no text (Intercom assignments, opens, closes). A message whose only content is
attachments becomes placeholders (``[图片]``, ``[视频]``, ``[语音]``, ``[文件]``) so response
times stay right. A file that is not valid JSON, or has neither layout, cannot be read at all.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from cs_audit.parsers.canonical_csv import FileUnreadable
from cs_audit.parsers.json_text import JsonUnreadable, decode_json, parse_integer
from cs_audit.parsers.records import ConversationBuilder
from cs_audit.parsers.text import decode_bytes, read_bounded, sniff_text

ZENDESK_ROLES = {"end-user": "buyer", "agent": "agent", "admin": "agent"}
INTERCOM_ROLES = {"user": "buyer", "lead": "buyer", "contact": "buyer",
                  "admin": "agent", "team": "agent", "bot": "bot"}
INTERCOM_NOTE_PARTS = ("note", "note_and_reopen")
NOTE_REASON = "internal note, not shown to the buyer: not a chat message"
ATTACHMENT_PLACEHOLDERS = (("image/", "[图片]"), ("video/", "[视频]"), ("audio/", "[语音]"))
FILE_PLACEHOLDER = "[文件]"

_KEY = r'(?<!\\)"{}"\s*:'
_ZENDESK_COMMENTS = re.compile(_KEY.format("comments") + r"\s*\[")
_ZENDESK_SIGNS = (re.compile(_KEY.format("author_id")), re.compile(_KEY.format("tickets") + r"\s*\["))
_INTERCOM_PARTS = re.compile(_KEY.format("conversation_parts"))
_INTERCOM_LIST = (re.compile(_KEY.format("conversations") + r"\s*\["), re.compile(_KEY.format("source")))


def sniff_helpdesk(head: bytes, path: Path) -> bool:
    """Whether the file is a JSON object with Zendesk comments or Intercom conversations."""
    text = sniff_text(head).lstrip("\ufeff \t\r\n")
    if not text.startswith("{"):
        return False
    if _ZENDESK_COMMENTS.search(text) and any(sign.search(text) for sign in _ZENDESK_SIGNS):
        return True
    return bool(_INTERCOM_PARTS.search(text)) or all(sign.search(text) for sign in _INTERCOM_LIST)


def parse_helpdesk(path: Path, builder: ConversationBuilder, encoding: str = "auto") -> str:
    """Read a Zendesk or Intercom JSON export into ``builder``; return the encoding used."""
    text, used = decode_bytes(read_bounded(path), encoding)
    document = _load_located(text)
    lines = _LineFinder(text)
    if not isinstance(document, dict):
        raise FileUnreadable(1, f"expected a JSON object at the top, found {_kind(document)}")
    if isinstance(document.get("conversations"), list):
        for conversation in document["conversations"]:
            _add_intercom_conversation(conversation, lines, builder)
    elif document.get("type") == "conversation" and "source" in document:
        _add_intercom_conversation(document, lines, builder)
    elif isinstance(document.get("tickets"), list):
        users = _users(document.get("users"))
        for ticket in document["tickets"]:
            _add_zendesk_ticket(ticket, users, lines, builder)
    elif isinstance(document.get("comments"), list):
        ticket_id = document.get("ticket_id")
        ticket_id = path.stem if ticket_id in (None, "") else ticket_id
        _add_zendesk_ticket({**document, "id": ticket_id}, {}, lines, builder)
    else:
        raise FileUnreadable(1, 'neither a Zendesk export ({"tickets": [...]} or {"comments": [...]})'
                                ' nor an Intercom export ({"conversations": [...]})')
    return used


# --- JSON with positions -----------------------------------------------------------------------

class _LocatedObject(dict):
    """A JSON object that remembers where its opening brace was."""

    offset: int = 0


def _load_located(text: str) -> Any:
    decoder = json.JSONDecoder(object_pairs_hook=_LocatedObject, parse_int=parse_integer)

    def parse_object(s_and_end, *args):
        located, end = json.decoder.JSONObject(s_and_end, *args)
        located.offset = s_and_end[1] - 1
        return located, end

    decoder.parse_object = parse_object
    decoder.scan_once = json.scanner.py_make_scanner(decoder)
    try:
        return decode_json(text, decoder)
    except JsonUnreadable as error:
        raise FileUnreadable(error.line, error.reason) from None


class _LineFinder:
    def __init__(self, text: str):
        self._newlines = [match.start() for match in re.finditer("\n", text)]

    def of(self, value: Any, fallback: int = 1) -> int:
        """1-based line of a JSON object's opening brace; ``fallback`` for anything else."""
        if not isinstance(value, _LocatedObject):
            return fallback
        return bisect.bisect_left(self._newlines, value.offset) + 1


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    for kind, name in ((dict, "an object"), (list, "a list"), (str, "a string"), ((int, float), "a number")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


# --- Zendesk -----------------------------------------------------------------------------------

def _users(raw: Any) -> dict[str, dict]:
    if not isinstance(raw, list):
        return {}
    return {str(user.get("id")): user for user in raw if isinstance(user, dict) and "id" in user}


def _add_zendesk_ticket(ticket: Any, users: dict[str, dict], lines: _LineFinder,
                        builder: ConversationBuilder) -> None:
    if not isinstance(ticket, dict):
        builder.problem(lines.of(ticket), f"ticket entry is {_kind(ticket)}, not an object")
        return
    ticket_id = ticket.get("id")
    if not isinstance(ticket.get("comments"), list):
        builder.problem(lines.of(ticket), f"ticket {ticket_id!r} has no comments list")
        return
    users = {**users, **_users(ticket.get("users"))}
    requester = ticket.get("requester_id")
    for comment in ticket["comments"]:
        line = lines.of(comment, lines.of(ticket))
        if not isinstance(comment, dict):
            builder.problem(line, f"comment is {_kind(comment)}, not an object")
            continue
        if comment.get("public") is False:
            builder.problem(line, f"Zendesk comment {comment.get('id')!r} is an {NOTE_REASON}")
            continue
        author_id = comment.get("author_id")
        user = users.get(str(author_id))
        if user is not None:
            role = ZENDESK_ROLES.get(str(user.get("role", "")).strip().casefold())
            if role is None:
                builder.problem(line, f"user {author_id!r} has role {user.get('role')!r}; "
                                      "expected end-user, agent or admin")
                continue
            sender = str(user.get("name") or author_id)
        elif author_id is not None and author_id == requester:
            role, sender = "buyer", str(author_id)
        else:
            builder.problem(line, f"author_id {author_id!r} is neither in users[] nor the "
                                  "ticket's requester: cannot tell buyer from agent")
            continue
        text = _first_text(comment.get("body"), comment.get("plain_body"))
        if not text:
            text = html_to_text(comment.get("html_body"))
        builder.add(line, {"conversation_id": ticket_id, "timestamp": comment.get("created_at"),
                           "role": role, "sender": sender,
                           "text": text or _attachment_text(comment.get("attachments"))})


def _first_text(*values: Any) -> str:
    return next((value.strip() for value in values if isinstance(value, str) and value.strip()), "")


# --- Intercom ----------------------------------------------------------------------------------

def _add_intercom_conversation(conversation: Any, lines: _LineFinder,
                               builder: ConversationBuilder) -> None:
    if not isinstance(conversation, dict):
        builder.problem(lines.of(conversation), f"conversation entry is {_kind(conversation)}, "
                                                "not an object")
        return
    conversation_id = conversation.get("id")
    source = conversation.get("source")
    if isinstance(source, dict):
        _add_intercom_part(conversation_id, source, conversation.get("created_at"), "source",
                           lines, builder)
    parts = conversation.get("conversation_parts")
    if isinstance(parts, dict):
        parts = parts.get("conversation_parts")
    if parts is None:
        return
    if not isinstance(parts, list):
        builder.problem(lines.of(conversation), f"conversation {conversation_id!r}: "
                                                "conversation_parts is not a list")
        return
    for part in parts:
        if not isinstance(part, dict):
            builder.problem(lines.of(part, lines.of(conversation)),
                            f"conversation part is {_kind(part)}, not an object")
            continue
        _add_intercom_part(conversation_id, part, part.get("created_at"),
                           str(part.get("part_type") or "comment"), lines, builder)


def _add_intercom_part(conversation_id: Any, part: dict, created_at: Any, part_type: str,
                       lines: _LineFinder, builder: ConversationBuilder) -> None:
    line = lines.of(part)
    if part_type in INTERCOM_NOTE_PARTS:
        builder.problem(line, f"Intercom {part_type} part is an {NOTE_REASON}")
        return
    text = html_to_text(part.get("body")) or _attachment_text(part.get("attachments"))
    if not text:
        builder.problem(line, f"Intercom {part_type} part has no message text (an event, "
                              "not a chat message)")
        return
    author = part.get("author")
    if not isinstance(author, dict):
        builder.problem(line, f"Intercom {part_type} part has no author")
        return
    role = INTERCOM_ROLES.get(str(author.get("type", "")).strip().casefold())
    if role is None:
        builder.problem(line, f"Intercom author type {author.get('type')!r}; expected user, "
                              "lead, contact, admin, team or bot")
        return
    sender = _first_text(author.get("name"), author.get("email"), str(author.get("id") or ""))
    builder.add(line, {"conversation_id": conversation_id, "timestamp": created_at,
                       "role": role, "sender": sender, "text": text})


def _attachment_text(attachments: Any) -> str:
    if not isinstance(attachments, list):
        return ""
    placeholders = []
    for attachment in attachments:
        if not isinstance(attachment, dict):
            continue
        content_type = str(attachment.get("content_type") or "").casefold()
        placeholders.append(next((placeholder for prefix, placeholder in ATTACHMENT_PLACEHOLDERS
                                  if content_type.startswith(prefix)), FILE_PLACEHOLDER))
    return " ".join(placeholders)


# --- HTML --------------------------------------------------------------------------------------

_BLOCK_TAGS = frozenset({
    "p", "div", "li", "ul", "ol", "tr", "table", "blockquote", "pre", "section", "article",
    "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
})
_HIDDEN_TAGS = frozenset({"script", "style", "head", "title", "template"})
_HTML_SPACE = re.compile(r"[ \t\n\r\f]+")


class _HtmlText(HTMLParser):
    """Collects the visible text of an HTML fragment, paragraphs and <br> as line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._hidden = 0
        self._pre = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        elif tag == "br":
            self.pieces.append("\n")
        elif tag == "img":
            self.pieces.append("[图片]")
        elif tag in _BLOCK_TAGS:
            self._break()
            self._pre += tag == "pre"

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCK_TAGS:
            self._break()
            self._pre = max(0, self._pre - (tag == "pre"))

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.pieces.append(data if self._pre else _HTML_SPACE.sub(" ", data))

    def _break(self) -> None:
        if self.pieces and not self.pieces[-1].endswith("\n"):
            self.pieces.append("\n")


def html_to_text(markup: Any) -> str:
    """The text a reader sees in an HTML message body: tags gone, entities decoded.

    ``<p>``/``<div>`` and other blocks and ``<br>`` become line breaks, runs of spaces collapse
    as a browser would, scripts and styles are dropped and images become ``[图片]``.
    """
    if not isinstance(markup, str) or not markup.strip():
        return ""
    parser = _HtmlText()
    parser.feed(markup)
    parser.close()
    lines = [line.replace("\xa0", " ").strip() for line in "".join(parser.pieces).split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
