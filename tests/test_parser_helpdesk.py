"""Helpdesk JSON: Zendesk ticket comments and Intercom conversation parts."""

from __future__ import annotations

import html
import json
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_audit.parsers import collect_paths, parse_file, sniff_format
from cs_audit.parsers.helpdesk import html_to_text, sniff_helpdesk
from conftest import SAMPLES, assert_golden_document

GOLDEN_DIR = Path(__file__).parent / "golden"
MY_SAMPLES = ("zendesk_tickets.json", "intercom_conversations.json")
STAMP = 1713146400  # 2024-04-15 10:00:00 shop time

USERS = [{"id": 1, "name": "赵敏", "role": "end-user"}, {"id": 2, "name": "客服-林夕", "role": "agent"},
         {"id": 3, "name": "客服-老陈", "role": "admin"}]


def rendering(parsed) -> dict:
    """A compact, stable view of a parsed file for golden comparison."""
    summary = parsed.summary
    return {
        "format": summary.format, "encoding": summary.encoding, "rows": summary.rows,
        "messages": summary.messages,
        "conversations": [
            {"id": conv.id, "messages": [
                {"line": m.line, "role": m.role, "sender": m.sender,
                 "timestamp": m.timestamp.isoformat(sep=" ") if m.timestamp else None, "text": m.text}
                for m in conv.messages]}
            for conv in parsed.conversations
        ],
        "problems": [{"line": p.line, "reason": p.reason} for p in summary.problems],
    }


def assert_golden(parsed, name: str) -> None:
    assert_golden_document(rendering(parsed), GOLDEN_DIR / name)


def write_json(path: Path, document, indent: int | None = 2) -> Path:
    path.write_text(json.dumps(document, ensure_ascii=False, indent=indent), encoding="utf-8")
    return path


def comment(author=1, body="在吗", at="2024-04-15T02:00:00Z", **extra) -> dict:
    return {"id": 100, "author_id": author, "body": body, "public": True, "created_at": at, **extra}


def zendesk(*comments, users=USERS, **ticket) -> dict:
    return {"tickets": [{"id": 4711, "requester_id": 1, "comments": list(comments), **ticket}],
            "users": users}


def part(body="<p>在的</p>", kind="admin", name="小满", part_type="comment", at=STAMP + 60, **extra) -> dict:
    return {"type": "conversation_part", "part_type": part_type, "body": body, "created_at": at,
            "author": {"type": kind, "id": "a1", "name": name}, **extra}


def intercom(*parts, source_body="<p>在吗</p>", source_kind="user") -> dict:
    return {"conversations": [{
        "type": "conversation", "id": "8801", "created_at": STAMP,
        "source": {"type": "conversation", "body": source_body,
                   "author": {"type": source_kind, "id": "u1", "name": "林小姐"}},
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": list(parts)},
    }]}


def messages(parsed) -> list[tuple[str, str, str]]:
    return [(m.role, m.sender, m.text) for c in parsed.conversations for m in c.messages]


def reasons(parsed) -> list[tuple[int, str]]:
    return [(p.line, p.reason) for p in parsed.summary.problems]


# --- the samples ---------------------------------------------------------------------------

@pytest.mark.parametrize("sample, golden", [("zendesk_tickets.json", "zendesk.json"),
                                            ("intercom_conversations.json", "intercom.json")])
def test_golden_helpdesk_samples(sample, golden):
    parsed = parse_file(SAMPLES / sample)
    assert parsed.summary.rows == parsed.summary.messages + len(parsed.summary.problems)
    assert_golden(parsed, golden)


def test_samples_list_their_notes_events_and_one_bad_record():
    zendesk_reasons = [reason for _, reason in reasons(parse_file(SAMPLES / "zendesk_tickets.json"))]
    assert ["internal note" in r for r in zendesk_reasons] == [True, False]
    assert "cannot tell buyer from agent" in zendesk_reasons[1]
    intercom_reasons = [reason for _, reason in reasons(parse_file(SAMPLES / "intercom_conversations.json"))]
    assert ["no message text" in r for r in intercom_reasons] == [True, True, False, False]
    assert "internal note" in intercom_reasons[2] and "no author" in intercom_reasons[3]


# --- Zendesk -------------------------------------------------------------------------------

def test_zendesk_roles_come_from_the_sideloaded_users(tmp_path):
    document = zendesk(comment(1, "在吗"), comment(2, "在的", at="2024-04-15T02:00:30Z"),
                       comment(3, "已处理", at="2024-04-15T02:01:00Z"))
    parsed = parse_file(write_json(tmp_path / "z.json", document))
    assert parsed.summary.format == "helpdesk"
    assert [c.id for c in parsed.conversations] == ["4711"]
    assert messages(parsed) == [("buyer", "赵敏", "在吗"), ("agent", "客服-林夕", "在的"),
                                ("agent", "客服-老陈", "已处理")]


def test_zendesk_created_at_in_utc_becomes_shop_time(tmp_path):
    parsed = parse_file(write_json(tmp_path / "z.json", zendesk(comment(at="2024-04-15T02:00:00Z"))))
    assert parsed.conversations[0].messages[0].timestamp == datetime(2024, 4, 15, 10, 0, 0)


def test_zendesk_the_requester_is_the_buyer_when_users_are_not_sideloaded(tmp_path):
    parsed = parse_file(write_json(tmp_path / "z.json", zendesk(comment(1), users=[])))
    assert messages(parsed) == [("buyer", "1", "在吗")]


def test_zendesk_ticket_level_users_are_used(tmp_path):
    document = zendesk(comment(9, "在的"), users=[])
    document["tickets"][0]["users"] = [{"id": 9, "name": "客服-阿青", "role": "agent"}]
    parsed = parse_file(write_json(tmp_path / "z.json", document))
    assert messages(parsed) == [("agent", "客服-阿青", "在的")]


@pytest.mark.parametrize("bad, reason", [
    (comment(99), "author_id 99 is neither in users[] nor the ticket's requester"),
    (comment(2, public=False), "internal note, not shown to the buyer"),
    (comment(1, body=""), "missing text"),
    (comment(1, at="昨天"), "bad timestamp"),
    ("a string", "comment is a string, not an object"),
])
def test_zendesk_unusable_comments_are_problems(tmp_path, bad, reason):
    document = zendesk(comment(1, "第一条"), bad, comment(2, "第三条", at="2024-04-15T02:05:00Z"))
    parsed = parse_file(write_json(tmp_path / "z.json", document))
    assert [text for _, _, text in messages(parsed)] == ["第一条", "第三条"]
    assert [reason in text for _, text in reasons(parsed)] == [True]
    assert parsed.summary.rows == 3


def test_zendesk_a_user_with_an_unknown_role_is_a_problem(tmp_path):
    users = [*USERS, {"id": 7, "name": "x", "role": "light-agent"}]
    parsed = parse_file(write_json(tmp_path / "z.json", zendesk(comment(7), users=users)))
    assert "role 'light-agent'" in reasons(parsed)[0][1]


def test_zendesk_body_then_plain_body_then_html_body(tmp_path):
    document = zendesk(
        comment(1, "正文", plain_body="纯文本", html_body="<p>网页</p>"),
        {**comment(1, None, plain_body="纯文本", html_body="<p>网页</p>")},
        {**comment(1, "", html_body="<p>第一段</p><p>第二段&amp;<br>换行</p>")},
    )
    parsed = parse_file(write_json(tmp_path / "z.json", document))
    assert [text for _, _, text in messages(parsed)] == ["正文", "纯文本", "第一段\n第二段&\n换行"]


def test_zendesk_attachments_without_text_become_placeholders(tmp_path):
    attachments = [{"content_type": "image/jpeg"}, {"content_type": "video/mp4"},
                   {"content_type": "audio/amr"}, {"content_type": "application/pdf"}]
    parsed = parse_file(write_json(tmp_path / "z.json", zendesk(comment(1, "", attachments=attachments))))
    assert messages(parsed) == [("buyer", "赵敏", "[图片] [视频] [语音] [文件]")]


def test_zendesk_a_single_comments_response_takes_ticket_id_or_the_file_name(tmp_path):
    document = {"comments": [comment(1), comment(2, "在的")], "users": USERS}
    parsed = parse_file(write_json(tmp_path / "ticket_5512.json", document))
    assert [c.id for c in parsed.conversations] == ["ticket_5512"]
    assert [role for role, _, _ in messages(parsed)] == ["buyer", "agent"]
    parsed = parse_file(write_json(tmp_path / "t.json", {**document, "ticket_id": 5512}))
    assert [c.id for c in parsed.conversations] == ["5512"]


def test_zendesk_a_ticket_without_comments_is_one_problem(tmp_path):
    document = zendesk(comment(1))
    document["tickets"].append({"id": 4712, "subject": "没有评论"})
    document["tickets"].append(["not", "a", "ticket"])
    parsed = parse_file(write_json(tmp_path / "z.json", document))
    assert [reason for _, reason in reasons(parsed)] == ["ticket 4712 has no comments list",
                                                         "ticket entry is a list, not an object"]
    assert parsed.summary.rows == 3


def test_records_are_reported_at_the_line_of_their_opening_brace(tmp_path):
    document = zendesk(comment(1), comment(99))
    path = write_json(tmp_path / "z.json", document, indent=2)
    lines = path.read_text(encoding="utf-8").split("\n")
    braces = [number for number, line in enumerate(lines, start=1) if line.strip() == "{"]
    parsed = parse_file(path)
    # The document, the ticket, then the comments (users come after them).
    assert parsed.conversations[0].messages[0].line == braces[2]
    assert reasons(parsed)[0][0] == braces[3]


# --- Intercom ------------------------------------------------------------------------------

@pytest.mark.parametrize("kind, role", [("user", "buyer"), ("lead", "buyer"), ("contact", "buyer"),
                                        ("admin", "agent"), ("team", "agent"), ("bot", "bot")])
def test_intercom_author_types_become_roles(tmp_path, kind, role):
    parsed = parse_file(write_json(tmp_path / "i.json", intercom(part(kind=kind))))
    assert parsed.summary.format == "helpdesk"
    assert messages(parsed)[1][0] == role


def test_intercom_the_source_is_the_first_message_at_the_conversations_time(tmp_path):
    parsed = parse_file(write_json(tmp_path / "i.json", intercom(part())))
    conv = parsed.conversations[0]
    assert conv.id == "8801"
    assert [(m.role, m.sender, m.text, m.timestamp) for m in conv.messages] == [
        ("buyer", "林小姐", "在吗", datetime(2024, 4, 15, 10, 0, 0)),
        ("agent", "小满", "在的", datetime(2024, 4, 15, 10, 1, 0))]


def test_intercom_an_admin_initiated_conversation_starts_with_the_agent(tmp_path):
    parsed = parse_file(write_json(tmp_path / "i.json", intercom(
        part(kind="user", name="吴先生", body="<p>好的</p>"), source_kind="admin", source_body="<p>回访</p>")))
    assert [role for role, _, _ in messages(parsed)] == ["agent", "buyer"]


@pytest.mark.parametrize("bad, reason", [
    (part(part_type="note", body="<p>留意这个客户</p>"), "note part is an internal note"),
    (part(part_type="note_and_reopen", body="<p>重开</p>"), "internal note"),
    (part(part_type="assignment", body=None), "assignment part has no message text"),
    (part(part_type="close", body=""), "close part has no message text"),
    (part(body="<p></p>"), "no message text"),
    (part(kind="visitor"), "Intercom author type 'visitor'"),
    ({**part(), "author": None}, "has no author"),
    (part(at="昨天"), "bad timestamp"),
    (42, "conversation part is a number, not an object"),
])
def test_intercom_notes_events_and_unusable_parts_are_problems(tmp_path, bad, reason):
    parsed = parse_file(write_json(tmp_path / "i.json", intercom(part(body="<p>第一条</p>"), bad,
                                                                 part(body="<p>第三条</p>", at=STAMP + 90))))
    assert [text for _, _, text in messages(parsed)] == ["在吗", "第一条", "第三条"]
    assert [reason in text for _, text in reasons(parsed)] == [True]
    assert parsed.summary.rows == 4


def test_intercom_a_closing_message_with_text_is_a_message(tmp_path):
    parsed = parse_file(write_json(tmp_path / "i.json", intercom(part(part_type="close", body="<p>再见</p>"))))
    assert messages(parsed)[-1] == ("agent", "小满", "再见")


def test_intercom_attachments_without_text_become_placeholders(tmp_path):
    bare = part(kind="user", name="林小姐", body=None,
                attachments=[{"type": "upload", "name": "a.jpg", "content_type": "image/jpeg"}])
    parsed = parse_file(write_json(tmp_path / "i.json", intercom(bare)))
    assert messages(parsed)[-1] == ("buyer", "林小姐", "[图片]")


def test_intercom_a_bare_list_of_parts_and_a_single_conversation_are_accepted(tmp_path):
    document = intercom(part())
    conversation = document["conversations"][0]
    conversation["conversation_parts"] = [part()]
    parsed = parse_file(write_json(tmp_path / "single.json", conversation), input_format="helpdesk")
    assert messages(parsed) == [("buyer", "林小姐", "在吗"), ("agent", "小满", "在的")]


def test_intercom_a_conversation_that_is_not_an_object_is_one_problem(tmp_path):
    document = intercom(part())
    document["conversations"].append("oops")
    parsed = parse_file(write_json(tmp_path / "i.json", document))
    assert [reason for _, reason in reasons(parsed)] == ["conversation entry is a string, not an object"]


# --- files that cannot be read --------------------------------------------------------------

def test_invalid_json_is_unreadable_with_its_line(tmp_path):
    path = tmp_path / "z.json"
    path.write_text('{"tickets": [\n  {"id": 1,\n   "comments": [}\n]}', encoding="utf-8")
    parsed = parse_file(path, input_format="helpdesk")
    assert not parsed.summary.readable
    assert parsed.summary.problems[0].line == 3 and "invalid JSON" in parsed.summary.error


@pytest.mark.parametrize("document, words", [
    ({"message_infos": []}, "neither a Zendesk export"),
    ([1, 2], "expected a JSON object at the top, found a list"),
])
def test_other_json_is_unreadable(tmp_path, document, words):
    parsed = parse_file(write_json(tmp_path / "x.json", document), input_format="helpdesk")
    assert words in parsed.summary.error


# --- HTML ----------------------------------------------------------------------------------

@pytest.mark.parametrize("markup, text", [
    ("<p>您好</p><p>第二段</p>", "您好\n第二段"),
    ("第一行<br>第二行<br/><br>第四行", "第一行\n第二行\n\n第四行"),
    ("<div>a</div><div><div>b</div></div>", "a\nb"),
    ("<p>  多个   空格\n 和换行  </p>", "多个 空格 和换行"),
    ("&lt;换新&gt; &amp; &quot;包邮&quot; &#128077; &nbsp;好", '<换新> & "包邮" 👍  好'),
    ("<p>看这里</p><script>alert('x')</script><style>p {color: red}</style>", "看这里"),
    ("<ul><li>一</li><li>二</li></ul>", "一\n二"),
    ("<pre>  保留\n  缩进</pre>", "保留\n缩进"),
    ('<p>截图：<img src="a.png"></p>', "截图：[图片]"),
    ("<b>¥199</b>，<a href='x'>链接</a>", "¥199，链接"),
    ("", ""),
    (None, ""),
])
def test_html_bodies_are_reduced_to_the_text_a_reader_sees(markup, text):
    assert html_to_text(markup) == text


# --- sniffing ------------------------------------------------------------------------------

def test_the_samples_are_sniffed_as_helpdesk():
    assert [sniff_format(SAMPLES / name) for name in MY_SAMPLES] == ["helpdesk", "helpdesk"]


def test_other_formats_samples_are_not_claimed():
    for path in collect_paths([SAMPLES]):
        if path.name not in MY_SAMPLES:
            assert not sniff_helpdesk(path.read_bytes()[:65536], path), path.name


@pytest.mark.parametrize("document, expected", [
    (zendesk(comment()), True),
    ({"comments": [comment()]}, True),
    ({"tickets": [{"id": 1, "comments": []}]}, True),
    (intercom(part()), True),
    ({"conversations": [{"id": "1", "source": {"body": "x"}}]}, True),
    ({"conversation_id": "1", "role": "buyer", "text": '"comments": [ "author_id": 1'}, False),
    ({"message_infos": [{"msg_ts": "2024-04-15 10:00:00", "from_type": 0, "text": "在吗"}]}, False),
    ({"comments": "none", "author": 1}, False),
])
def test_sniffing_by_content(tmp_path, document, expected):
    head = json.dumps(document, ensure_ascii=False).encode("utf-8")
    assert sniff_helpdesk(head, tmp_path / "x.json") is expected


def test_a_canonical_jsonl_file_is_not_claimed(tmp_path):
    line = json.dumps({"conversation_id": "1", "role": "buyer", "text": "comments"}) + "\n"
    assert not sniff_helpdesk(line.encode() * 3, tmp_path / "x.jsonl")


# --- properties ----------------------------------------------------------------------------

plain_text = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1,
                     max_size=12)
words = st.lists(plain_text, min_size=1, max_size=4).map(" ".join)
junk = st.one_of(st.integers(), st.text(max_size=10), st.lists(st.integers(), max_size=2), st.none())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tickets=st.lists(st.lists(st.one_of(
    st.tuples(st.sampled_from([1, 2, 3]), st.booleans(), words, st.integers(1_700_000_000, 1_800_000_000)),
    junk), max_size=6), min_size=1, max_size=4),
    indent=st.sampled_from([None, 1, 2]))
def test_any_zendesk_export_gives_back_every_public_comment(tmp_path, tickets, indent):
    document = {"tickets": [], "users": USERS}
    expected = []
    for number, comments in enumerate(tickets, start=1):
        entries = []
        for entry in comments:
            if isinstance(entry, tuple):
                author, public, text, stamp = entry
                entries.append({"id": len(entries), "author_id": author, "body": text, "public": public,
                                "created_at": datetime.fromtimestamp(stamp).isoformat()})
                if public:
                    expected.append((str(number), text.strip()))
            else:
                entries.append(entry)
        document["tickets"].append({"id": number, "comments": entries})
    parsed = parse_file(write_json(tmp_path / "z.json", document, indent=indent))
    summary = parsed.summary
    assert summary.rows == summary.messages + len(summary.problems)
    assert summary.rows == sum(len(comments) for comments in tickets)
    got = sorted((c.id, m.text) for c in parsed.conversations for m in c.messages)
    assert got == sorted(expected)


part_types = st.sampled_from(["comment", "comment", "note", "assignment", "close", "open"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(conversations=st.lists(st.lists(st.one_of(
    st.tuples(part_types, st.sampled_from(["user", "lead", "admin", "bot"]), st.one_of(st.none(), words)),
    junk), max_size=6), min_size=1, max_size=4),
    indent=st.sampled_from([None, 2]))
def test_any_intercom_export_gives_back_every_message_part(tmp_path, conversations, indent):
    document = {"conversations": []}
    expected, records = [], 0
    for number, parts in enumerate(conversations, start=1):
        entries = []
        for entry in parts:
            if isinstance(entry, tuple):
                part_type, kind, text = entry
                body = f"<p>{html.escape(text)}</p>" if text is not None else None
                entries.append(part(body=body, kind=kind, part_type=part_type, at=STAMP + len(entries)))
                if part_type not in ("note",) and text is not None:
                    expected.append((str(number), text.strip()))
            else:
                entries.append(entry)
        records += len(entries) + 1  # and the source
        expected.append((str(number), "在吗"))
        document["conversations"].append({
            "id": number, "created_at": STAMP,
            "source": {"body": "<p>在吗</p>", "author": {"type": "user", "name": "林小姐"}},
            "conversation_parts": {"conversation_parts": entries}})
    parsed = parse_file(write_json(tmp_path / "i.json", document, indent=indent))
    summary = parsed.summary
    assert summary.rows == summary.messages + len(summary.problems) == records
    got = sorted((c.id, m.text) for c in parsed.conversations for m in c.messages)
    assert got == sorted(expected)
