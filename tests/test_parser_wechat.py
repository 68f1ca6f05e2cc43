"""WeChat exports (企业微信 shops): the 留痕 CSV and its TXT form."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_audit.parsers import collect_paths, parse_file, sniff_format
from cs_audit.parsers.wechat import TXT_BUYER_MARKER, TXT_HEADER, sniff_wechat
from conftest import SAMPLES, assert_golden_document

GOLDEN_DIR = Path(__file__).parent / "golden"
MY_SAMPLES = ("wechat_export.csv", "wechat_chat.txt")
COLUMNS = ("localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime", "Status",
           "StrContent", "StrTime", "Remark", "NickName", "Sender")
STAMP = 1713146400  # 2024-04-15 10:00:00 shop time


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


def row(talker="wmBuyer01", type_=1, sub=0, is_sender=0, stamp=STAMP, content="在吗", str_time="",
        remark="陈女士", nickname="晴天", sender="wmBuyer01", local_id=1) -> list:
    return [local_id, talker, type_, sub, is_sender, stamp, 2, content, str_time, remark, nickname, sender]


def write_wechat_csv(path: Path, rows, header=COLUMNS, encoding="utf-8-sig") -> Path:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def write_txt(path: Path, text: str, encoding="utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def messages(parsed) -> list[tuple[str, str, str]]:
    return [(m.role, m.sender, m.text) for c in parsed.conversations for m in c.messages]


def reasons(parsed) -> list[tuple[int, str]]:
    return [(p.line, p.reason) for p in parsed.summary.problems]


# --- the samples ---------------------------------------------------------------------------

def test_golden_wechat_csv_sample():
    parsed = parse_file(SAMPLES / "wechat_export.csv")
    assert parsed.summary.rows == parsed.summary.messages + len(parsed.summary.problems)
    assert_golden(parsed, "wechat_csv.json")


def test_golden_wechat_txt_sample():
    parsed = parse_file(SAMPLES / "wechat_chat.txt")
    assert parsed.summary.rows == parsed.summary.messages + len(parsed.summary.problems)
    assert_golden(parsed, "wechat_txt.json")


def test_samples_hold_exactly_their_one_deliberately_bad_record():
    csv_sample = parse_file(SAMPLES / "wechat_export.csv")
    assert [reason for _, reason in reasons(csv_sample)] == ["expected 12 fields, found 7"]
    txt_sample = parse_file(SAMPLES / "wechat_chat.txt")
    assert ["2024-04-31" in reason for _, reason in reasons(txt_sample)] == [True]


# --- CSV -----------------------------------------------------------------------------------

def test_is_sender_makes_the_shop_account_the_agent_named_by_its_nickname(tmp_path):
    rows = [row(content="在吗"),
            row(is_sender=1, stamp=STAMP + 30, content="在的亲", remark="", nickname="禾木茶舍-小禾",
                sender="hemu-xiaohe")]
    parsed = parse_file(write_wechat_csv(tmp_path / "c.csv", rows))
    assert parsed.summary.format == "wechat"
    assert messages(parsed) == [("buyer", "陈女士", "在吗"), ("agent", "禾木茶舍-小禾", "在的亲")]
    assert parsed.conversations[0].id == "wmBuyer01"
    assert parsed.conversations[0].messages[1].timestamp == datetime(2024, 4, 15, 10, 0, 30)


@pytest.mark.parametrize("remark, nickname, sender, expected", [
    ("陈女士", "晴天", "wmBuyer01", "陈女士"),
    ("", "晴天", "wmBuyer01", "晴天"),
    ("", "", "wmBuyer01", "wmBuyer01"),
])
def test_a_buyer_is_named_by_the_shops_remark_then_nickname_then_id(tmp_path, remark, nickname,
                                                                    sender, expected):
    parsed = parse_file(write_wechat_csv(tmp_path / "c.csv", [row(remark=remark, nickname=nickname,
                                                                  sender=sender)]))
    assert messages(parsed) == [("buyer", expected, "在吗")]


@pytest.mark.parametrize("type_, sub, content, text", [
    (3, 0, "", "[图片]"),
    (34, 0, "", "[语音]"),
    (43, 0, "", "[视频]"),
    (47, 0, '<msg><emoji md5="x"/></msg>', "[表情]"),
    (42, 0, "", "[名片]"),
    (48, 0, "", "[位置]"),
    (49, 5, "<msg><appmsg><title>新品 &amp; 优惠</title></appmsg></msg>", "[链接] 新品 & 优惠"),
    (49, 6, "<msg><appmsg><title>发票.pdf</title></appmsg></msg>", "[文件] 发票.pdf"),
    (49, 6, "", "[文件]"),
    (49, 57, "", "[引用消息]"),
    (49, 2000, "", "[转账]"),
    (49, 999, "", "[链接]"),
    (66, 0, "whatever", "[其他消息]"),
])
def test_non_text_messages_are_kept_as_placeholders(tmp_path, type_, sub, content, text):
    parsed = parse_file(write_wechat_csv(tmp_path / "c.csv", [row(type_=type_, sub=sub, content=content)]))
    assert messages(parsed) == [("buyer", "陈女士", text)]
    assert parsed.conversations[0].messages[0].timestamp is not None


@pytest.mark.parametrize("type_, content, text", [
    (10000, '"晴天" 撤回了一条消息', '"晴天" 撤回了一条消息'),
    (10000, '你撤回了一条消息 <a href="weixin://revoke_edit_click">重新编辑</a>', "你撤回了一条消息"),
    (10000, "", "[系统消息]"),
    (10000, '你邀请"<a href="weixin://contacts/profile/wxid_a">茶小白</a>"加入了群聊', '你邀请"茶小白"加入了群聊'),
    (10002, '<sysmsg type="revokemsg"><revokemsg><replacemsg><![CDATA["老周" 撤回了一条消息]]>'
            "</replacemsg></revokemsg></sysmsg>", '"老周" 撤回了一条消息'),
])
def test_system_notices_are_system_messages_whoever_the_sender_column_says(tmp_path, type_, content, text):
    parsed = parse_file(write_wechat_csv(tmp_path / "c.csv", [row(type_=type_, is_sender="", content=content)]))
    assert messages(parsed) == [("system", "", text)]


def test_group_chat_members_are_buyers_and_their_id_prefix_is_dropped(tmp_path):
    group = "20614538921@chatroom"
    rows = [row(talker=group, is_sender=1, content="新茶到了", remark="", nickname="禾木茶舍-小禾",
                sender="hemu"),
            row(talker=group, stamp=STAMP + 60, content="wxid_a:\n要放冰箱吗", remark="",
                nickname="茶小白", sender="wxid_a"),
            row(talker=group, stamp=STAMP + 90, content="批发价呢", remark="周先生", nickname="老周",
                sender="wxid_b")]
    parsed = parse_file(write_wechat_csv(tmp_path / "g.csv", rows))
    assert [c.id for c in parsed.conversations] == [group]
    assert messages(parsed) == [("agent", "禾木茶舍-小禾", "新茶到了"), ("buyer", "茶小白", "要放冰箱吗"),
                                ("buyer", "周先生", "批发价呢")]


def test_create_time_is_used_and_str_time_only_when_it_is_empty(tmp_path):
    rows = [row(stamp=STAMP, str_time="2030-01-01 00:00:00"),
            row(stamp="", str_time="2024-04-15 10:05:00", content="第二条")]
    parsed = parse_file(write_wechat_csv(tmp_path / "c.csv", rows))
    stamps = [m.timestamp for m in parsed.conversations[0].messages]
    assert stamps == [datetime(2024, 4, 15, 10, 0, 0), datetime(2024, 4, 15, 10, 5, 0)]


def test_messages_are_ordered_by_create_time(tmp_path):
    rows = [row(stamp=STAMP + 60, content="后"), row(stamp=STAMP, content="先")]
    parsed = parse_file(write_wechat_csv(tmp_path / "c.csv", rows))
    assert [m.text for m in parsed.conversations[0].messages] == ["先", "后"]


@pytest.mark.parametrize("bad, reason", [
    (row(is_sender=2), "IsSender must be 1"),
    (row(is_sender=""), "IsSender must be 1"),
    (row(type_="文本"), "Type must be a message type number"),
    (row(type_="²"), "Type must be a message type number"),  # isdigit() takes it, int() does not
    (row(type_="1" * 5000), "Type must be a message type number"),  # past int()'s 4,300 digits
    (row(content="  "), "missing text"),
    (row(stamp="昨天", str_time=""), "bad timestamp"),
    (row(talker=""), "missing conversation_id"),
    (row()[:7], "expected 12 fields, found 7"),
    (row(content="bin\x00ary"), "NUL"),
])
def test_unusable_rows_are_problems_with_their_line(tmp_path, bad, reason):
    rows = [row(content="第一条"), bad, row(stamp=STAMP + 9, content="第三条")]
    parsed = parse_file(write_wechat_csv(tmp_path / "c.csv", rows))
    assert [m.text for c in parsed.conversations for m in c.messages] == ["第一条", "第三条"]
    assert [(line, reason in text) for line, text in reasons(parsed)] == [(3, True)]
    assert parsed.summary.rows == 3


def test_a_quoted_multiline_message_keeps_its_lines_and_the_next_row_its_line_number(tmp_path):
    rows = [row(content="第一行\n第二行"), row(type_="x")]
    parsed = parse_file(write_wechat_csv(tmp_path / "c.csv", rows))
    assert [m.text for m in parsed.conversations[0].messages] == ["第一行\n第二行"]
    assert [line for line, _ in reasons(parsed)] == [4]


def test_columns_are_found_by_name_in_any_order_and_extra_ones_ignored(tmp_path):
    header = ("MsgSvrID", "StrContent", "IsSender", "Type", "TalkerId", "StrTime")
    rows = [["8812", "在吗", "0", "1", "wmX", "2024-04-15 10:00:00"]]
    parsed = parse_file(write_wechat_csv(tmp_path / "c.csv", rows, header=header))
    assert messages(parsed) == [("buyer", "", "在吗")]
    assert parsed.conversations[0].messages[0].timestamp == datetime(2024, 4, 15, 10, 0, 0)


def test_a_header_without_the_needed_columns_is_unreadable(tmp_path):
    header = ("localId", "TalkerId", "Type", "IsSender", "StrContent", "Status")
    parsed = parse_file(write_wechat_csv(tmp_path / "c.csv", [[1, "wmX", 1, 0, "hi", 2]], header=header),
                        input_format="wechat")
    assert not parsed.summary.readable
    assert "CreateTime or StrTime" in parsed.summary.error


@pytest.mark.parametrize("encoding, reported", [("utf-8-sig", "utf-8-sig"), ("utf-8", "utf-8"),
                                                ("gb18030", "gb18030"), ("utf-16", "utf-16")])
def test_csv_encodings(tmp_path, encoding, reported):
    path = write_wechat_csv(tmp_path / "c.csv", [row(content="这款有货吗")], encoding=encoding)
    parsed = parse_file(path)
    assert (parsed.summary.format, parsed.summary.encoding) == ("wechat", reported)
    assert messages(parsed) == [("buyer", "陈女士", "这款有货吗")]


# --- TXT -----------------------------------------------------------------------------------

TXT = """2024-04-16 13:58:02 王女士
白茶饼还没发货

2024-04-16 13:58:40 禾木茶舍-小禾
您好～麻烦发一下订单号

"""


def test_txt_the_file_name_names_the_buyer_and_every_other_speaker_is_the_shop(tmp_path):
    parsed = parse_file(write_txt(tmp_path / "王女士.txt", TXT))
    assert parsed.summary.format == "wechat"
    conv = parsed.conversations[0]
    assert conv.id == "王女士"
    assert [(m.role, m.sender, m.text) for m in conv.messages] == [
        ("buyer", "王女士", "白茶饼还没发货"), ("agent", "禾木茶舍-小禾", "您好～麻烦发一下订单号")]
    assert [m.line for m in conv.messages] == [1, 4]
    assert conv.messages[1].timestamp == datetime(2024, 4, 16, 13, 58, 40)


@pytest.mark.parametrize("marker", ["买家：王女士", "买家: 王女士", "buyer: 王女士", "BUYER：王女士  "])
def test_txt_a_first_line_marker_names_the_buyer_and_is_not_a_record(tmp_path, marker):
    parsed = parse_file(write_txt(tmp_path / "chat-0416.txt", f"{marker}\n\n{TXT}"))
    conv = parsed.conversations[0]
    assert conv.id == "chat-0416"
    assert [m.role for m in conv.messages] == ["buyer", "agent"]
    assert [m.line for m in conv.messages] == [3, 6]
    assert parsed.summary.rows == 2 and parsed.summary.problems == ()


def test_txt_the_marker_wins_over_the_file_name(tmp_path):
    parsed = parse_file(write_txt(tmp_path / "王女士.txt", "买家: 禾木茶舍-小禾\n" + TXT))
    assert [m.role for m in parsed.conversations[0].messages] == ["agent", "buyer"]


def test_txt_without_a_named_buyer_the_file_is_refused_not_guessed(tmp_path):
    parsed = parse_file(write_txt(tmp_path / "export.txt", TXT))
    assert not parsed.summary.readable
    assert "cannot tell the buyer from the shop" in parsed.summary.error
    assert "买家:" in parsed.summary.error


def test_txt_multiline_content_keeps_inner_blank_lines_and_drops_the_separators(tmp_path):
    text = ("2024-04-16 13:58:02 王女士\n第一段\n\n第二段\n\n\n"
            "2024-04-16 13:59:00 小禾\n  缩进保留\n")
    parsed = parse_file(write_txt(tmp_path / "王女士.txt", text))
    assert [m.text for m in parsed.conversations[0].messages] == ["第一段\n\n第二段", "  缩进保留"]


def test_txt_a_header_without_content_is_a_system_notice_unless_it_names_a_speaker(tmp_path):
    text = ("2024-04-16 13:58:02 王女士\n在吗\n\n"
            '2024-04-16 13:58:10 "王女士" 撤回了一条消息\n\n'
            "2024-04-16 13:58:20 你已添加了王女士，现在可以开始聊天了。\n"
            "2024-04-16 13:58:40 小禾\n在的\n\n"
            "2024-04-16 13:59:00 小禾\n\n"
            "2024-04-16 13:59:30 王女士\n")
    parsed = parse_file(write_txt(tmp_path / "王女士.txt", text))
    assert messages(parsed) == [("buyer", "王女士", "在吗"), ("system", "", '"王女士" 撤回了一条消息'),
                                ("system", "", "你已添加了王女士，现在可以开始聊天了。"),
                                ("agent", "小禾", "在的")]
    assert reasons(parsed) == [(10, "message from '小禾' has no content"),
                               (12, "message from '王女士' has no content")]
    assert parsed.summary.rows == 6


def test_txt_text_before_the_first_header_is_one_problem(tmp_path):
    text = "聊天记录导出\n导出时间 2024-04-20\n\n" + TXT
    parsed = parse_file(write_txt(tmp_path / "王女士.txt", text), input_format="wechat")
    assert [m.text for m in parsed.conversations[0].messages] == ["白茶饼还没发货", "您好～麻烦发一下订单号"]
    assert [(line, "outside any message" in reason) for line, reason in reasons(parsed)] == [(1, True)]
    assert parsed.summary.rows == 3


def test_txt_a_bad_time_is_a_problem_and_the_rest_is_read(tmp_path):
    text = TXT.replace("2024-04-16 13:58:40", "2024-04-31 13:58:40") + "2024-04-16 14:00:00 王女士\n好的\n"
    parsed = parse_file(write_txt(tmp_path / "王女士.txt", text))
    assert [m.text for m in parsed.conversations[0].messages] == ["白茶饼还没发货", "好的"]
    assert [(line, "bad timestamp" in reason) for line, reason in reasons(parsed)] == [(4, True)]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_txt_encodings_and_crlf(tmp_path, encoding):
    path = write_txt(tmp_path / "王女士.txt", ("买家：王女士\n" + TXT).replace("\n", "\r\n"), encoding)
    parsed = parse_file(path)
    assert parsed.summary.format == "wechat"
    assert [m.text for m in parsed.conversations[0].messages] == ["白茶饼还没发货", "您好～麻烦发一下订单号"]


def test_txt_an_undecodable_line_cuts_its_block_and_what_follows_it_is_a_problem(tmp_path):
    data = ("2024-04-16 13:58:02 王女士\n第一行\n".encode("utf-8") + "第二行\n".encode("gb18030")
            + "第三行\n\n2024-04-16 13:58:40 小禾\n在的\n".encode("utf-8"))
    path = tmp_path / "王女士.txt"
    path.write_bytes(data)
    parsed = parse_file(path)
    assert [m.text for m in parsed.conversations[0].messages] == ["第一行", "在的"]
    assert [line for line, _ in reasons(parsed)] == [3, 4]
    assert "GB18030" in reasons(parsed)[0][1] and "outside any message" in reasons(parsed)[1][1]
    assert parsed.summary.rows == parsed.summary.messages + len(parsed.summary.problems)


def test_txt_without_any_header_is_unreadable(tmp_path):
    parsed = parse_file(write_txt(tmp_path / "x.txt", "随便写的\n几行字\n"), input_format="wechat")
    assert "no WeChat message header" in parsed.summary.error


# --- sniffing ------------------------------------------------------------------------------

def test_the_samples_are_sniffed_as_wechat():
    assert [sniff_format(SAMPLES / name) for name in MY_SAMPLES] == ["wechat", "wechat"]


def test_other_formats_samples_are_not_claimed():
    for path in collect_paths([SAMPLES]):
        if path.name not in MY_SAMPLES:
            assert not sniff_wechat(path.read_bytes()[:65536], path), path.name


@pytest.mark.parametrize("content, encoding, expected", [
    (",".join(COLUMNS) + "\r\n1,wmX,1,0,0,1713146400,2,hi,,,,\r\n", "utf-8-sig", True),
    (",".join(COLUMNS) + "\n", "utf-16", True),
    ("conversation_id,timestamp,role,sender,text\nC1,,buyer,,hi\n", "utf-8", False),
    (TXT, "utf-8", True),
    ("买家：王女士\n\n" + TXT, "gb18030", True),
    ("王女士 2024-04-16 13:58:02\n在吗\n", "utf-8", False),  # 千牛: the name comes first
    ("[王女士] 2024-04-16 13:58:02\n在吗\n", "utf-8", False),
    ('{"conversation_id": "1", "text": "2024-04-16 13:58:02 x"}\n', "utf-8", False),
    ("", "utf-8", False),
])
def test_sniffing_by_content(tmp_path, content, encoding, expected):
    head = content.encode(encoding)
    assert sniff_wechat(head, tmp_path / "x") is expected


def test_a_sniff_survives_the_head_being_cut_mid_character(tmp_path):
    head = ("买家：王女士\n" + TXT).encode("utf-8")
    cut = head[:head.index("白".encode("utf-8")) + 1]
    assert sniff_wechat(cut, tmp_path / "x")


# --- properties ----------------------------------------------------------------------------

chat_text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                    min_size=1, max_size=30).filter(lambda s: s.strip())
junk_line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters='\x00\r\n",'),
                    max_size=30)
csv_message = st.tuples(st.sampled_from(["wmA", "wmB", "wx_客户3"]), st.sampled_from([0, 1]),
                        st.integers(1_700_000_000, 1_800_000_000), chat_text)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.lists(st.tuples(csv_message, st.lists(junk_line, max_size=2)), min_size=1, max_size=15),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]))
def test_any_wechat_csv_gives_back_every_message_and_counts_the_junk(tmp_path, records, encoding):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for number, ((talker, is_sender, stamp, text), junk) in enumerate(records, start=1):
        writer.writerow(row(talker=talker, is_sender=is_sender, stamp=stamp, content=text,
                            sender=talker, local_id=number))
        for line in junk:
            out.write(line + "\r\n")
    path = tmp_path / "p.csv"
    path.write_bytes(out.getvalue().encode(encoding))
    parsed = parse_file(path)
    summary = parsed.summary
    assert summary.rows == summary.messages + len(summary.problems)
    junk_rows = sum(1 for _, junk in records for line in junk if line.strip())
    assert len(summary.problems) == junk_rows
    got = sorted((c.id, m.role, m.text) for c in parsed.conversations for m in c.messages)
    assert got == sorted((talker, "agent" if is_sender else "buyer", text)
                         for (talker, is_sender, _, text), _ in records)


txt_line = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"),
                   max_size=25).filter(lambda s: not TXT_HEADER.match(s))
txt_content = st.lists(txt_line, min_size=1, max_size=3).filter(lambda lines: lines[-1].strip())
txt_block = st.tuples(st.sampled_from(["王女士", "禾木茶舍-小禾", "禾木茶舍-阿青"]),
                      st.datetimes(datetime(2024, 1, 1), datetime(2024, 12, 31)), txt_content)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blocks=st.lists(txt_block, min_size=1, max_size=12),
       preamble=st.lists(txt_line.filter(lambda s: not TXT_BUYER_MARKER.match(s)), max_size=3),
       line_end=st.sampled_from(["\n", "\r\n"]))
def test_any_wechat_txt_gives_back_every_block_and_counts_the_preamble(tmp_path, blocks, preamble, line_end):
    parts = ["买家: 王女士", *preamble, ""]
    for name, moment, content in blocks:
        parts += [f"{moment:%Y-%m-%d %H:%M:%S} {name}", *content, ""]
    path = tmp_path / "p.txt"
    path.write_text(line_end.join(parts), encoding="utf-8", newline="")
    parsed = parse_file(path, input_format="wechat")
    summary = parsed.summary
    assert summary.rows == summary.messages + len(summary.problems)
    assert len(summary.problems) == (1 if any(line.strip() for line in preamble) else 0)
    got = [(m.role, m.sender, m.text) for c in parsed.conversations for m in c.messages]
    expected = [("buyer" if name == "王女士" else "agent", name, "\n".join(content))
                for name, _, content in blocks]
    assert sorted(got) == sorted(expected)
