"""千牛/旺旺 text transcripts: header forms, status lines, notices, roles, buyers, problems, sniffing."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_audit.parsers import collect_paths, parse_file, sniff_format
from cs_audit.parsers.qianniu import sniff_qianniu
from conftest import SAMPLES, assert_golden_document

GOLDEN = Path(__file__).parent / "golden" / "qianniu.json"
SAMPLE = SAMPLES / "qianniu_records.txt"
SHOP = "木子家居旗舰店"
AMY = f"{SHOP}:小美"


def write(tmp_path, lines, encoding="utf-8", newline="\r\n", name="chat.txt") -> Path:
    path = tmp_path / name
    path.write_bytes("".join(line + newline for line in lines).encode(encoding))
    return path


def parse(tmp_path, lines, **options):
    return parse_file(write(tmp_path, lines, **options), "qianniu")


def rendered(parsed):
    """Conversations as (id, [(role, sender, time, text)])."""
    return [(c.id, [(m.role, m.sender, m.timestamp.strftime("%H:%M:%S") if m.timestamp else None, m.text)
                    for m in c.messages])
            for c in parsed.conversations]


def problems(parsed):
    return [(p.line, p.reason) for p in parsed.summary.problems]


def assert_counted(parsed):
    summary = parsed.summary
    assert summary.rows == summary.messages + len(summary.problems)
    assert summary.messages == sum(len(c.messages) for c in parsed.conversations)


# --- golden ---------------------------------------------------------------------------------

def compact(parsed) -> dict:
    summary = parsed.summary
    return {
        "format": summary.format, "encoding": summary.encoding, "rows": summary.rows,
        "messages": summary.messages,
        "problems": [{"line": p.line, "reason": p.reason} for p in summary.problems],
        "conversations": [
            {"id": c.id, "messages": [
                {"line": m.line, "role": m.role, "sender": m.sender,
                 "timestamp": m.timestamp.isoformat(sep=" ") if m.timestamp else None, "text": m.text}
                for m in c.messages]}
            for c in parsed.conversations
        ],
    }


def test_golden_sample_transcript():
    parsed = parse_file(SAMPLE)
    document = compact(parsed)
    assert_golden_document(document, GOLDEN)


def test_sample_is_gb18030_with_crlf_and_every_record_is_counted():
    data = SAMPLE.read_bytes()
    assert b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    parsed = parse_file(SAMPLE)
    assert (parsed.summary.format, parsed.summary.encoding) == ("qianniu", "gb18030")
    assert_counted(parsed)
    assert [c.id for c in parsed.conversations] == [
        "qianniu:阳光明媚2024", "qianniu:快乐的 小鱼88", "qianniu:tb0731wang", "qianniu:木头人 阿木"]
    assert [p.line for p in parsed.summary.problems] == [1]


# --- headers --------------------------------------------------------------------------------

def test_three_header_forms_and_nicknames_with_spaces_and_digits(tmp_path):
    parsed = parse(tmp_path, [
        "快乐的 小鱼88 2024-04-14 10:30:00", "在吗",
        f"{AMY}2024-04-14 10:30:20", "在的亲",
        "[快乐的 小鱼88] 2024-04-14 10:31:00", "有白色吗",
        "阳光明媚20242024-04-14 10:32:00", "我也问一下",
    ])
    assert rendered(parsed) == [
        ("qianniu:快乐的 小鱼88", [("buyer", "快乐的 小鱼88", "10:30:00", "在吗"),
                                 ("agent", AMY, "10:30:20", "在的亲"),
                                 ("buyer", "快乐的 小鱼88", "10:31:00", "有白色吗")]),
        ("qianniu:阳光明媚2024", [("buyer", "阳光明媚2024", "10:32:00", "我也问一下")]),
    ]
    assert problems(parsed) == []


def test_multi_line_message_keeps_inner_breaks_and_drops_edge_blank_lines(tmp_path):
    parsed = parse(tmp_path, ["tb1 2024-04-14 10:00:00", "", "第一行", "", "第三行", "", "",
                              f"{AMY} 2024-04-14 10:00:30", "好的"])
    assert rendered(parsed)[0][1][0][3] == "第一行\n\n第三行"
    assert parsed.summary.rows == 2


@pytest.mark.parametrize("date_like", [
    "2024-04-12 09:15:33",              # nothing before the time
    "下单时间：2024-04-12 09:15:33",      # the 'nickname' ends in a colon
    "付款时间: 2024-04-12 09:16:02",
    "  预约 2024-04-20 10:00:00",         # indented
    "好的，那就 2024-04-20 10:00:00",      # sentence punctuation
    "2024-04-20 10:00:00 送到",           # the time does not end the line
])
def test_content_lines_that_look_like_dates_stay_in_the_message(tmp_path, date_like):
    parsed = parse(tmp_path, ["tb1 2024-04-14 10:00:00", "我的订单", date_like, "怎么还没发",
                              f"{AMY} 2024-04-14 10:00:30", "我查一下"])
    assert rendered(parsed)[0][1][0][3] == f"我的订单\n{date_like}\n怎么还没发"
    assert parsed.summary.rows == 2


def test_a_one_off_word_and_time_on_the_last_line_is_content_not_an_empty_message(tmp_path):
    parsed = parse(tmp_path, ["tb1 2024-04-14 10:00:00", "能约到这个时间送货吗", "预约 2024-04-20 10:00:00",
                              "已读", f"{AMY} 2024-04-14 10:00:30", "可以的"])
    assert [m.text for m in parsed.conversations[0].messages] == [
        "能约到这个时间送货吗\n预约 2024-04-20 10:00:00", "可以的"]
    assert problems(parsed) == []


def test_one_off_headers_without_content_stay_headers_and_are_not_glued_to_a_message(tmp_path):
    parsed = parse(tmp_path, ["tb1 2024-04-14 10:00:00", "在吗",
                              "tb2 2024-04-14 10:01:00", "tb3 2024-04-14 10:02:00",
                              "tb1 2024-04-14 10:03:00", "好"])
    assert problems(parsed) == [(3, "missing text (内容)"), (4, "missing text (内容)")]
    assert [m.text for m in parsed.conversations[0].messages] == ["在吗", "好"]


def test_a_header_with_an_impossible_time_is_a_problem_with_its_content(tmp_path):
    parsed = parse(tmp_path, ["tb1 2024-04-14 10:00:00", "在吗",
                              "tb1 2024-04-31 10:01:00", "这条的时间坏了", "第二行",
                              f"{AMY} 2024-04-14 10:02:00", "在的"])
    assert problems(parsed) == [(3, "bad timestamp: not a timestamp: '2024-04-31 10:01:00'")]
    assert [m.text for m in parsed.conversations[0].messages] == ["在吗", "在的"]
    assert_counted(parsed)


def test_a_header_without_content_is_a_problem(tmp_path):
    parsed = parse(tmp_path, ["tb1 2024-04-14 10:00:00", "在吗",
                              f"{AMY} 2024-04-14 10:00:30",
                              f"{AMY} 2024-04-14 10:00:40", "在的"])
    assert problems(parsed) == [(3, "missing text (内容)")]
    assert parsed.summary.messages == 2


def test_lines_before_the_first_header_are_one_problem(tmp_path):
    parsed = parse(tmp_path, ["聊天记录导出", "", "木子家居旗舰店 2024-04", "已读",
                              "tb1 2024-04-14 10:00:00", "在吗"])
    assert [(line, reason.split(" before")[0]) for line, reason in problems(parsed)] == [(1, "3 lines")]
    assert parsed.summary.rows == 2 and parsed.summary.messages == 1


# --- status lines and notices ---------------------------------------------------------------

def test_read_status_lines_belong_to_the_message_above_and_are_not_records(tmp_path):
    parsed = parse(tmp_path, ["tb1 2024-04-14 10:00:00", "在吗", "已读",
                              f"{AMY} 2024-04-14 10:00:30", "在的亲", "未读", "[已读]", ""])
    assert [m.text for m in parsed.conversations[0].messages] == ["在吗", "在的亲"]
    assert parsed.summary.rows == 2 and problems(parsed) == []


def test_a_message_that_only_says_yi_du_is_a_message(tmp_path):
    parsed = parse(tmp_path, ["tb1 2024-04-14 10:00:00", "已读", f"{AMY} 2024-04-14 10:00:30", "好的"])
    assert [m.text for m in parsed.conversations[0].messages] == ["已读", "好的"]


def test_recall_is_a_system_message_of_the_recaller_without_a_time(tmp_path):
    parsed = parse(tmp_path, [
        "tb1 2024-04-14 10:00:00", "在吗",
        "tb2 2024-04-14 10:00:10", "有货吗",
        "tb1 撤回了一条消息",
        f"{AMY} 2024-04-14 10:00:30", "在的亲",
    ])
    assert rendered(parsed) == [
        ("qianniu:tb1", [("buyer", "tb1", "10:00:00", "在吗"), ("system", "tb1", None, "tb1 撤回了一条消息"),
                         ("agent", AMY, "10:00:30", "在的亲")]),
        ("qianniu:tb2", [("buyer", "tb2", "10:00:10", "有货吗")]),
    ]


def test_a_recall_as_the_only_content_of_a_header_takes_its_time(tmp_path):
    parsed = parse(tmp_path, ["tb1 2024-04-14 10:00:00", "在吗",
                              f"{AMY} 2024-04-14 10:00:30", "你撤回了一条消息", "已读"])
    assert rendered(parsed)[0][1][1] == ("system", AMY, "10:00:30", "你撤回了一条消息")
    assert parsed.summary.rows == 2


def test_transfer_is_a_system_message_and_full_width_colon_names_the_same_agent(tmp_path):
    parsed = parse(tmp_path, [
        "tb1 2024-04-14 10:00:00", "退货怎么弄",
        f"{SHOP}：小美 2024-04-14 10:00:30", "我帮您转售后",
        f"{SHOP}：小美 --> {SHOP}:阿杰",
        f"{SHOP}:阿杰 2024-04-14 10:01:00", "您好，我是售后",
        f"{SHOP}:小美 2024-04-14 10:02:00", "还有什么可以帮您",
    ])
    conversation = parsed.conversations[0]
    assert [(m.role, m.sender) for m in conversation.messages] == [
        ("buyer", "tb1"), ("agent", AMY), ("system", AMY), ("agent", f"{SHOP}:阿杰"), ("agent", AMY)]
    assert conversation.messages[2].text == f"{SHOP}：小美 --> {SHOP}:阿杰"
    assert conversation.agents == (AMY, f"{SHOP}:阿杰")


def test_an_arrow_between_two_buyer_words_is_content(tmp_path):
    parsed = parse(tmp_path, ["tb1 2024-04-14 10:00:00", "换颜色", "白色 --> 原木色"])
    assert rendered(parsed)[0][1] == [("buyer", "tb1", "10:00:00", "换颜色\n白色 --> 原木色")]


def test_text_after_a_notice_without_a_header_is_a_problem(tmp_path):
    parsed = parse(tmp_path, ["tb1 2024-04-14 10:00:00", "在吗", "tb1 撤回了一条消息", "孤儿行", "",
                              "第二行", f"{AMY} 2024-04-14 10:00:30", "在的"])
    assert problems(parsed) == [
        (4, "2 lines after a recall or transfer notice, with no message header above them: "
            "not part of any message")]
    assert_counted(parsed)


# --- roles and conversations ----------------------------------------------------------------

def test_bots_by_nickname_and_by_auto_reply_prefix(tmp_path):
    parsed = parse(tmp_path, [
        "tb1 2024-04-14 10:00:00", "在吗",
        f"{SHOP}:店小蜜 2024-04-14 10:00:01", "亲，欢迎光临",
        f"{AMY} 2024-04-14 10:00:02", "[自动回复]客服马上就来",
        "售前机器人 2024-04-14 10:00:03", "请问有什么可以帮您",
        f"{AMY} 2024-04-14 10:00:30", "您好",
    ])
    assert [m.role for m in parsed.conversations[0].messages] == ["buyer", "bot", "bot", "bot", "agent"]
    assert [c.id for c in parsed.conversations] == ["qianniu:tb1"]


def test_the_main_account_is_the_shop_when_a_sub_account_of_it_appears(tmp_path):
    parsed = parse(tmp_path, ["tb1 2024-04-14 10:00:00", "在吗",
                              f"{SHOP} 2024-04-14 10:00:10", "在的",
                              f"{AMY} 2024-04-14 10:00:20", "我来接待您"])
    assert [m.role for m in parsed.conversations[0].messages] == ["buyer", "agent", "agent"]


def test_a_main_account_that_sent_an_auto_reply_is_the_shop(tmp_path):
    parsed = parse(tmp_path, ["小店 2024-04-14 09:59:00", "亲，发货通知",
                              "tb1 2024-04-14 10:00:00", "在吗",
                              "小店 2024-04-14 10:00:01", "[自动回复]欢迎光临"])
    assert rendered(parsed) == [("qianniu:tb1", [("agent", "小店", "09:59:00", "亲，发货通知"),
                                                 ("buyer", "tb1", "10:00:00", "在吗"),
                                                 ("bot", "小店", "10:00:01", "[自动回复]欢迎光临")])]


def test_buyers_are_split_and_a_returning_buyer_rejoins_their_conversation(tmp_path):
    parsed = parse(tmp_path, [
        "tb1 2024-04-14 10:00:00", "在吗", f"{AMY} 2024-04-14 10:00:30", "在的",
        "tb2 2024-04-14 10:05:00", "发货了吗", f"{AMY} 2024-04-14 10:05:30", "发了",
        "tb1 2024-04-14 15:00:00", "拍了", f"{AMY} 2024-04-14 15:00:20", "收到",
    ])
    assert [(c.id, [m.text for m in c.messages]) for c in parsed.conversations] == [
        ("qianniu:tb1", ["在吗", "在的", "拍了", "收到"]), ("qianniu:tb2", ["发货了吗", "发了"])]


def test_a_follow_up_the_shop_starts_belongs_to_the_next_buyer(tmp_path):
    parsed = parse(tmp_path, [f"{AMY} 2024-04-14 09:00:00", "亲，收到货了吗",
                              "tb1 2024-04-14 09:30:00", "收到了"])
    assert rendered(parsed) == [("qianniu:tb1", [("agent", AMY, "09:00:00", "亲，收到货了吗"),
                                                 ("buyer", "tb1", "09:30:00", "收到了")])]


def test_messages_of_the_shop_alone_form_a_conversation_named_after_the_account(tmp_path):
    parsed = parse(tmp_path, [f"{AMY} 2024-04-14 09:00:00", "亲，收到货了吗",
                              f"{AMY} 2024-04-15 09:00:00", "亲，还在吗"])
    assert [(c.id, [m.role for m in c.messages]) for c in parsed.conversations] == [
        (f"qianniu:{AMY}", ["agent", "agent"])]


# --- encodings and files --------------------------------------------------------------------

@pytest.mark.parametrize("encoding, newline", [("utf-8", "\n"), ("gb18030", "\r\n"), ("utf-8-sig", "\r\n")])
def test_encodings_and_line_ends(tmp_path, encoding, newline):
    parsed = parse_file(write(tmp_path, ["[快乐的 小鱼88] 2024-04-14 10:00:00", "在吗 😀", "已读"],
                              encoding=encoding, newline=newline))
    assert parsed.summary.format == "qianniu" and parsed.summary.encoding == encoding
    assert rendered(parsed) == [("qianniu:快乐的 小鱼88", [("buyer", "快乐的 小鱼88", "10:00:00", "在吗 😀")])]


def test_a_gb18030_line_in_a_utf8_file_is_a_problem_and_ends_its_block(tmp_path):
    data = ("tb1 2024-04-14 10:00:00\r\n在吗\r\n".encode()
            + "乙买家 2024-04-14 10:00:05\r\n".encode("gb18030") + "我是乙\r\n".encode()
            + f"{AMY} 2024-04-14 10:00:30\r\n在的\r\n".encode())
    path = tmp_path / "mixed.txt"
    path.write_bytes(data)
    parsed = parse_file(path)
    assert [line for line, _ in problems(parsed)] == [3, 4]
    assert "after a line that could not be decoded" in problems(parsed)[1][1]
    assert [m.text for m in parsed.conversations[0].messages] == ["在吗", "在的"]
    assert_counted(parsed)


@pytest.mark.parametrize("short_line", ["[图片]", "谢谢"])
def test_gb18030_transcript_with_a_line_that_is_also_valid_utf8(tmp_path, short_line):
    parsed = parse(tmp_path, ["tb1 2024-04-14 10:00:00", "镜子有划痕", short_line], encoding="gb18030")
    assert parsed.summary.encoding == "gb18030"
    assert rendered(parsed)[0][1][0][3] == f"镜子有划痕\n{short_line}"


def test_a_file_without_any_header_is_unreadable(tmp_path):
    parsed = parse(tmp_path, ["这不是聊天记录", "只是一些文字"])
    assert not parsed.summary.readable
    assert "no 千牛 message header" in parsed.summary.error


# --- sniffing -------------------------------------------------------------------------------

def test_the_sample_is_sniffed_and_no_other_sample_is_claimed():
    for path in collect_paths([SAMPLES]):
        with path.open("rb") as handle:
            head = handle.read(65_536)
        assert sniff_qianniu(head, path) == (path == SAMPLE), path
    assert sniff_format(SAMPLE) == "qianniu"


def test_sniffed_from_content_whatever_the_extension(tmp_path):
    path = write(tmp_path, ["标题", "tb1 2024-04-14 10:00:00", "在吗"], encoding="gb18030", name="export.log")
    assert sniff_format(path) == "qianniu"


@pytest.mark.parametrize("lines", [
    ["2024-04-14 10:00:00 张三", "在吗", "2024-04-14 10:00:30 小美", "在的"],    # WeChat TXT: time first
    ["id,text,time", "1,在吗,2024-04-14 10:00:00", "2,在的,2024-04-14 10:00:30"],  # CSV ending in a time
    ["第一段", "第二段", "第三段", "第四段", "第五段", "结尾 2024-04-14 10:00:00"],  # header too late
    ['{"conversation_id": "1", "time": "2024-04-14 10:00:00"}'],                 # JSON
    ["1\tu1\t0\t2024-04-14 10:00:00"],                                           # TSV
])
def test_other_text_is_not_claimed(tmp_path, lines):
    head = write(tmp_path, lines).read_bytes()
    assert not sniff_qianniu(head, tmp_path / "x.txt")


# --- properties -----------------------------------------------------------------------------

BUYERS = ["快乐的 小鱼88", "tb0731wang", "木头人 阿木", "阳光明媚2024", "user 2024 x"]
SHOP_ACCOUNTS = [AMY, f"{SHOP}：阿杰", f"{SHOP}:店小蜜"]
# No ':' '-' '>' and no 读/撤: a generated line can be neither a header, a notice nor a status line.
# No 谢/图/片 either: their GB18030 bytes are valid UTF-8 on their own (see the test above).
plain_line = st.text(st.sampled_from(list("亲在吗发货了退款好的 abc123，。！？[语音]😀")),
                     min_size=1, max_size=20).filter(lambda s: s.strip())
# (Not 预约: its GB18030 bytes are valid UTF-8 too.)
DATE_LIKE = ["2024-04-12 09:15:33", "下单时间：2024-04-12 09:15:33", "  送货 2024-04-20 10:00:00"]
content = st.lists(st.one_of(plain_line, st.sampled_from(DATE_LIKE)), min_size=1, max_size=4)
message = st.tuples(st.sampled_from(BUYERS + SHOP_ACCOUNTS), st.sampled_from(["space", "glued", "bracket"]),
                    st.integers(0, 600), st.booleans(), content,
                    st.sampled_from([None, "已读", "未读", "", "recall", "recall+orphan"]))

def header(nickname, form, stamp):
    if form == "bracket":
        return f"[{nickname}] {stamp}"
    return f"{nickname}{' ' if form == 'space' else ''}{stamp}"


def canonical(nickname):
    return nickname.replace("：", ":")


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(message, min_size=1, max_size=25), preamble=st.lists(plain_line, max_size=3),
       encoding=st.sampled_from(["utf-8", "gb18030"]), newline=st.sampled_from(["\r\n", "\n"]))
def test_any_transcript_counts_every_record_and_returns_every_message(
        tmp_path, messages, preamble, encoding, newline):
    lines = list(preamble)
    moment = datetime(2024, 4, 14, 9, 0, 0)
    expected = []  # (sender, time, text); a notice has no time ("")
    expected_problems = 1 if preamble else 0
    for nickname, form, gap, bad_time, body, after in messages:
        moment += timedelta(seconds=gap)
        stamp = moment.strftime("%Y-%m-%d %H:%M:%S")
        if bad_time:  # the right shape, not a real time: a problem with its content lines
            lines += [header(nickname, form, stamp.replace("-04-", "-13-")), *body]
            expected_problems += 1
        else:
            lines += [header(nickname, form, stamp), *body]
            expected.append((canonical(nickname), stamp, "\n".join(body)))
        if after and after.startswith("recall"):
            lines.append(f"{nickname} 撤回了一条消息")
            expected.append((canonical(nickname), "", f"{nickname} 撤回了一条消息"))
            if after.endswith("orphan"):  # text after a notice, no header: a problem
                lines += ["没有抬头的一行", "再一行"]
                expected_problems += 1
        elif after is not None:
            lines.append(after)
    path = tmp_path / "p.txt"
    path.write_bytes("".join(line + newline for line in lines).encode(encoding))
    parsed = parse_file(path)
    assert parsed.summary.format == "qianniu"
    assert_counted(parsed)
    assert len(parsed.summary.problems) == expected_problems
    got = sorted((m.sender, m.timestamp.strftime("%Y-%m-%d %H:%M:%S") if m.timestamp else "", m.text)
                 for c in parsed.conversations for m in c.messages)
    assert got == sorted(expected)
    for conversation in parsed.conversations:
        buyers = {m.sender for m in conversation.messages if m.role == "buyer"}
        assert len(buyers) <= 1
        if buyers:
            assert conversation.id == "qianniu:" + buyers.pop()
