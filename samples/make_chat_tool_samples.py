"""Write the WeChat and helpdesk sample exports: shops that serve buyers outside the big platforms.

    python samples/make_chat_tool_samples.py

writes ``wechat_export.csv`` and ``wechat_chat.txt`` (禾木茶舍, a tea shop on 企业微信, exported with
a 留痕-style backup tool), ``zendesk_tickets.json`` (云栖家电官方商城 on Zendesk) and
``intercom_conversations.json`` (拾光咖啡器具 on Intercom). The output is deterministic. Each file
holds exactly one deliberately bad record (marked ``BAD`` below) that cs-audit must report as an
input problem, besides the records that are not messages by design (internal notes, events).
All times are shop-local (UTC+8), April 2024; names, numbers and links are made up.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parent
SHOP_TIMEZONE = timezone(timedelta(hours=8))


def epoch(local: str) -> int:
    """Unix seconds of a shop-local ``YYYY-MM-DD HH:MM:SS``."""
    return int(datetime.fromisoformat(local).replace(tzinfo=SHOP_TIMEZONE).timestamp())


def utc_iso(local: str) -> str:
    """Zendesk's ``created_at`` (UTC, ``Z``) for a shop-local time."""
    moment = datetime.fromisoformat(local).replace(tzinfo=SHOP_TIMEZONE).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------------------------
# WeChat 留痕 CSV — 禾木茶舍, account 禾木茶舍-小禾
# ---------------------------------------------------------------------------------------------
SHOP_ACCOUNT = ("", "禾木茶舍-小禾", "hemu-xiaohe")  # Remark, NickName, Sender of the shop side
BUYER_CHEN = ("陈女士-老客", "晴天", "wmQ3xKdAAAq1Vb8m")
BUYER_LIU = ("刘先生", "刘记面馆", "wmQ3xKdAAAr7Tz2p")
MEMBER_NEW = ("", "茶小白", "wxid_k2m9p0a1")
MEMBER_ZHOU = ("周先生-批发", "老周", "wxid_7yq4n2c8")
GROUP = "20614538921@chatroom"


def link_card(title: str, kind: int, url: str = "") -> str:
    return (f'<?xml version="1.0"?><msg><appmsg appid="" sdkver="0"><title>{title}</title>'
            f"<des></des><type>{kind}</type><url>{url}</url></appmsg></msg>")


# (talker, time, Type, SubType, who, StrContent); who is "shop", a buyer tuple, or "system".
WECHAT_ROWS = [
    # Pre-sale gift box: image, link card, voice and sticker placeholders; a two-line message.
    (BUYER_CHEN[2], "2024-04-15 10:02:11", 1, 0, BUYER_CHEN, "你好，想给长辈送茶，明前龙井的礼盒还有吗？"),
    (BUYER_CHEN[2], "2024-04-15 10:02:40", 3, 0, BUYER_CHEN, ""),
    (BUYER_CHEN[2], "2024-04-15 10:03:05", 1, 0, "shop",
     "您好陈姐，欢迎回来😊 图上这款2024明前龙井礼盒有现货的，250克两罐装，今天下单明天发顺丰。"),
    (BUYER_CHEN[2], "2024-04-15 10:03:20", 49, 5, "shop",
     link_card("禾木茶舍 · 2024明前龙井礼盒（250g）", 5, "https://shop.example.com/p/1024")),
    (BUYER_CHEN[2], "2024-04-15 10:04:02", 34, 0, BUYER_CHEN, ""),
    (BUYER_CHEN[2], "2024-04-15 10:04:45", 1, 0, "shop",
     "听到啦～礼盒里有手提袋和贺卡，贺卡可以帮您手写祝福语，您把想写的内容发我就行。"),
    (BUYER_CHEN[2], "2024-04-15 10:05:30", 1, 0, BUYER_CHEN, "写：祝爸爸身体健康，福寿安康。\n落款：女儿小雯"),
    (BUYER_CHEN[2], "2024-04-15 10:06:00", 1, 0, "shop",
     "好的，已经备注在订单里了，发货前拍照给您确认。还有其他需要随时找我哦～"),
    (BUYER_CHEN[2], "2024-04-15 10:06:12", 47, 0, BUYER_CHEN, '<msg><emoji fromusername="" md5="9f1c"/></msg>'),
    # After-sales: a crushed tin, two photos, the buyer's and the shop's recalls, a file card,
    # a message type the parser does not know (kept as [其他消息]).
    (BUYER_LIU[2], "2024-04-15 14:20:05", 1, 0, BUYER_LIU, "收到货了，罐子压扁了一个"),
    (BUYER_LIU[2], "2024-04-15 14:20:18", 3, 0, BUYER_LIU, ""),
    (BUYER_LIU[2], "2024-04-15 14:20:19", 3, 0, BUYER_LIU, ""),
    (BUYER_LIU[2], "2024-04-15 14:21:30", 1, 0, BUYER_LIU, "这还怎么送人"),
    (BUYER_LIU[2], "2024-04-15 14:22:02", 10000, 0, "system", '"刘先生" 撤回了一条消息'),
    (BUYER_LIU[2], "2024-04-15 14:23:40", 1, 0, "shop",
     "刘先生实在抱歉，路上压坏了让您糟心了。茶叶是独立真空包装的，不影响品质，我这边马上给您补发一个新罐子，今天下午就发出。"),
    (BUYER_LIU[2], "2024-04-15 14:24:02", 66, 0, BUYER_LIU, ""),
    (BUYER_LIU[2], "2024-04-15 14:24:10", 1, 0, BUYER_LIU, "行，那快点"),
    (BUYER_LIU[2], "2024-04-15 14:25:02", 49, 6, "shop", link_card("补发登记单.pdf", 6)),
    (BUYER_LIU[2], "2024-04-15 14:25:30", 1, 0, "shop", "登记单您看一下，快递单号出来第一时间发您。"),
    (BUYER_LIU[2], "2024-04-15 14:25:41", 10000, 0, "system",
     '你撤回了一条消息 <a href="weixin://revoke_edit_click">重新编辑</a>'),
    (BUYER_LIU[2], "2024-04-15 16:40:00", 1, 0, "shop",
     "刘先生，补发的罐子已经寄出，顺丰单号SF1402233445566，预计后天到。"),
    (BUYER_LIU[2], "2024-04-15 16:52:30", 1, 0, BUYER_LIU, "收到，谢谢"),
    # Customer group: the shop's post, two members asking, a member's recall as sysmsg XML.
    (GROUP, "2024-04-16 09:30:00", 1, 0, "shop",
     "各位茶友早上好～今年第一批明前龙井到货了，群内下单满300减30，活动到周日。"),
    (GROUP, "2024-04-16 09:41:12", 1, 0, MEMBER_NEW, "wxid_k2m9p0a1:\n新手想问下，绿茶要放冰箱吗？"),
    (GROUP, "2024-04-16 09:42:30", 1, 0, "shop",
     "@茶小白 开封后建议密封冷藏，别和有味道的东西放一起，一个月内喝完口感最好。"),
    (GROUP, "2024-04-16 09:50:03", 1, 0, MEMBER_ZHOU, "批发价怎么算？十盒以上"),
    (GROUP, "2024-04-16 09:50:40", 10002, 0, "system",
     '<sysmsg type="revokemsg"><revokemsg><session>20614538921@chatroom</session>'
     '<replacemsg><![CDATA["老周" 撤回了一条消息]]></replacemsg></revokemsg></sysmsg>'),
    (GROUP, "2024-04-16 09:52:40", 1, 0, "shop",
     "@老周 十盒以上按企业采购价，报价单我整理好后发在群里，您稍等。"),
]
# BAD: a row cut short (as happens when a CSV is edited by hand), after the group's last message.
WECHAT_BAD_ROW = ["29", GROUP, "1", "0", "0", str(epoch("2024-04-16 09:55:00")), "3"]


def write_wechat_csv() -> None:
    out = io.StringIO()
    writer = csv.writer(out)  # CRLF line ends, like the tool
    writer.writerow(["localId", "TalkerId", "Type", "SubType", "IsSender", "CreateTime", "Status",
                     "StrContent", "StrTime", "Remark", "NickName", "Sender"])
    for local_id, (talker, time, kind, sub, who, content) in enumerate(WECHAT_ROWS, start=1):
        is_sender = 1 if who == "shop" else 0
        names = SHOP_ACCOUNT if who == "shop" else ("", "", "") if who == "system" else who
        status = 4 if who == "system" else 2 if is_sender else 3
        writer.writerow([local_id, talker, kind, sub, is_sender, epoch(time), status, content,
                         time, *names])
    writer.writerow(WECHAT_BAD_ROW)
    # The tool writes UTF-8 with a BOM so that Excel opens it.
    (SAMPLES_DIR / "wechat_export.csv").write_bytes(out.getvalue().encode("utf-8-sig"))


# ---------------------------------------------------------------------------------------------
# WeChat TXT — 禾木茶舍, one chat with 王女士; the first line names the buyer
# ---------------------------------------------------------------------------------------------
WECHAT_TXT = """买家：王女士

2024-04-16 13:58:02 王女士
你好，我上周买的白茶饼还没发货

2024-04-16 13:58:40 禾木茶舍-小禾
王女士您好～我查一下，麻烦发一下订单号

2024-04-16 13:59:15 王女士
[图片]

2024-04-16 14:00:03 "王女士" 撤回了一条消息

2024-04-16 14:00:20 王女士
订单号 240409-778812
图片发错了

2024-04-16 14:01:30 禾木茶舍-小禾
查到了，这款老白茶饼是预售款，4月18日统一发货。
发货安排我请售后阿青跟进，她更清楚仓库那边的情况。

2024-04-16 14:03:05 禾木茶舍-阿青
王女士您好，我是售后阿青。仓库确认18号上午发出，发货后我把单号发您。让您久等了，实在抱歉。

2024-04-16 14:04:10 王女士
好吧，那茶饼怎么存放？
引用:禾木茶舍-小禾:查到了，这款老白茶饼是预售款，4月18日统一发货。

2024-04-16 14:05:20 禾木茶舍-阿青
放在阴凉干燥、没有异味的地方就行，不用放冰箱，用原来的棉纸包好。

2024-04-31 14:05:40 禾木茶舍-阿青
收到货有任何问题随时找我～

2024-04-16 14:06:02 王女士
好的谢谢

"""  # BAD: 2024-04-31 does not exist (a hand-edited time)


def write_wechat_txt() -> None:
    (SAMPLES_DIR / "wechat_chat.txt").write_bytes(WECHAT_TXT.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Zendesk — 云栖家电官方商城: tickets bundled with their comments and the sideloaded users
# ---------------------------------------------------------------------------------------------
ZENDESK_USERS = [
    {"id": 36100001, "name": "赵敏", "role": "end-user", "email": "zhaomin@example.com"},
    {"id": 36100002, "name": "孙磊", "role": "end-user", "email": "sunlei@example.com"},
    {"id": 36100003, "name": "周婷", "role": "end-user", "email": "zhouting@example.com"},
    {"id": 36200011, "name": "云栖客服-林夕", "role": "agent", "email": "linxi@yunqi.example.com"},
    {"id": 36200012, "name": "云栖客服-老陈", "role": "admin", "email": "laochen@yunqi.example.com"},
]


def comment(comment_id: int, author: int, local: str, body: str, *, public: bool = True,
            html_only: str | None = None, attachments: list | None = None) -> dict:
    paragraphs = "".join(f"<p>{line}</p>" for line in body.split("\n")) if body else ""
    record = {"id": comment_id, "type": "Comment", "author_id": author, "body": body,
              "html_body": f'<div class="zd-comment" dir="auto">{paragraphs}</div>',
              "plain_body": body, "public": public, "attachments": attachments or [],
              "created_at": utc_iso(local)}
    if html_only is not None:  # written by an integration that only keeps the HTML
        for key in ("body", "plain_body"):
            del record[key]
        record["html_body"] = html_only
    return record


ZENDESK_TICKETS = [
    {"id": 48101, "subject": "扫地机器人退货退款进度", "status": "solved", "requester_id": 36100001,
     "created_at": utc_iso("2024-04-15 09:12:30"), "comments": [
         comment(9001, 36100001, "2024-04-15 09:12:30",
                 "你好，我4月10号退回的扫地机器人，物流显示12号已签收，退款什么时候到？"),
         comment(9002, 36200011, "2024-04-15 09:20:10",
                 "赵女士您好，我是客服林夕。查到您的退货仓库已经签收，正在质检，今天之内会给您处理退款，请您放心。"),
         comment(9003, 36200011, "2024-04-15 09:21:00", "已找财务加急，今天务必退。", public=False),
         comment(9004, 36200011, "2024-04-15 15:40:25",
                 "赵女士，退款1299元已经原路退回到您的支付账户，一般1-3个工作日到账。\n感谢您的耐心等待，祝您生活愉快！"),
         comment(9005, 36100001, "2024-04-15 16:02:00", "收到了，谢谢"),
     ]},
    {"id": 48102, "subject": "空气炸锅到货无法通电", "status": "open", "requester_id": 36100002,
     "created_at": utc_iso("2024-04-15 20:31:00"), "comments": [
         comment(9011, 36100002, "2024-04-15 20:31:00", "",
                 attachments=[{"id": 77001, "file_name": "IMG_0412.jpg", "content_type": "image/jpeg"}]),
         comment(9012, 36100002, "2024-04-15 20:31:40", "新买的空气炸锅，插上电一点反应都没有，照片里是电源灯。"),
         comment(9013, 36200012, "2024-04-15 20:45:12", "", html_only=(
             '<div class="zd-comment" dir="auto"><p>孙先生您好，非常抱歉给您带来不便&nbsp;🙏</p>'
             "<p>麻烦您先确认：<br>1. 插座换一个试试；<br>2. 锅篮是否推到底（没推到位不会通电）。</p>"
             "<p>如果还是不行，我们直接给您&lt;换新&gt;，上门取件不用您付运费。</p>"
             "<style>p{margin:0}</style></div>")),
         # BAD: written by a deleted light-agent account that is in neither users[] nor the
         # requester, so nobody can tell whose side it is on.
         comment(9014, 36999999, "2024-04-15 20:50:00", "已登记换新。"),
         comment(9015, 36100002, "2024-04-15 21:02:33", "换了插座也不行，那就换新吧"),
         comment(9016, 36200012, "2024-04-15 21:05:10",
                 "好的，已为您登记换新，明天上午快递上门取件，新机同时发出。有进展我第一时间通知您。"),
     ]},
    {"id": 48103, "subject": "电热水壶漏水，三天没人处理", "status": "pending", "requester_id": 36100003,
     "created_at": utc_iso("2024-04-16 08:05:00"), "comments": [
         comment(9021, 36100003, "2024-04-16 08:05:00",
                 "水壶底部漏水，我三天前就提交了，到现在没人回复！再不处理我就投诉到12315。"),
         comment(9022, 36200011, "2024-04-16 08:16:45",
                 "周女士您好，真的很抱歉让您等了这么久，这是我们的失误。漏水存在安全隐患，请先停止使用。我现在为您办理退款，并安排快递免费上门取回水壶。"),
         comment(9023, 36100003, "2024-04-16 08:30:02", "那你们尽快吧"),
         comment(9024, 36200011, "2024-04-16 08:31:20",
                 "好的，退款已提交，取件单号稍后短信发您。再次向您道歉，给您添麻烦了。"),
     ]},
]


def write_zendesk() -> None:
    document = {"tickets": ZENDESK_TICKETS, "users": ZENDESK_USERS, "count": len(ZENDESK_TICKETS)}
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    (SAMPLES_DIR / "zendesk_tickets.json").write_bytes(text.encode("utf-8"))


# ---------------------------------------------------------------------------------------------
# Intercom — 拾光咖啡器具: conversations with their parts
# ---------------------------------------------------------------------------------------------
def author(kind: str, author_id: str, name: str | None, email: str | None = None) -> dict:
    return {"type": kind, "id": author_id, "name": name, "email": email}


LIN = author("user", "6618a0c1e4b0a1", "林小姐", "lin@example.com")
WU = author("user", "6618a0c1e4b0c7", "吴先生", "wu@example.com")
VISITOR = author("lead", "6618a0c1e4b0f3", None, None)
FIN = author("bot", "7001", "拾光智能助手")
XIAOMAN = author("admin", "5120001", "拾光-小满", "xiaoman@shiguang.example.com")
AJIE = author("admin", "5120002", "拾光-阿杰", "ajie@shiguang.example.com")


def part(part_id: str, part_type: str, local: str, who: dict | None, body: str | None,
         attachments: list | None = None) -> dict:
    return {"type": "conversation_part", "id": part_id, "part_type": part_type, "body": body,
            "created_at": epoch(local), "updated_at": epoch(local), "notified_at": epoch(local),
            "assigned_to": None, "author": who, "attachments": attachments or [],
            "external_id": None, "redacted": False}


def conversation(conversation_id: str, local: str, source_author: dict, body: str,
                 delivered_as: str, parts: list[dict]) -> dict:
    return {
        "type": "conversation", "id": conversation_id, "created_at": epoch(local),
        "updated_at": max([epoch(local)] + [p["created_at"] for p in parts]),
        "source": {"type": "conversation", "id": f"{conversation_id}0", "delivered_as": delivered_as,
                   "subject": "", "body": body, "author": source_author, "attachments": [],
                   "url": None, "redacted": False},
        "state": "closed", "open": False,
        "conversation_parts": {"type": "conversation_part.list", "conversation_parts": parts,
                               "total_count": len(parts)},
    }


INTERCOM_CONVERSATIONS = [
    # A bot greeting, an assignment and a close (events with no text), an HTML reply.
    conversation("215467339401", "2024-04-15 17:00:00", LIN,
                 "<p>你好，手冲壶的温控底座可以单独买吗？</p>", "customer_initiated", [
                     part("9801001", "comment", "2024-04-15 17:00:02", FIN,
                          "<p>您好！我是拾光智能助手，人工客服会尽快回复您～</p>"),
                     part("9801002", "assignment", "2024-04-15 17:00:05", XIAOMAN, None),
                     part("9801003", "comment", "2024-04-15 17:01:10", XIAOMAN,
                          "<p>林小姐您好～温控底座可以单独购买，<b>¥199</b>，和您的壶是通用的。</p>"
                          "<p>购买链接已发到您的邮箱，有问题随时找我。</p>"),
                     part("9801004", "comment", "2024-04-15 17:02:00", LIN, "<p>好的，谢谢&nbsp;👍</p>"),
                     part("9801005", "close", "2024-04-15 17:05:00", XIAOMAN, None),
                 ]),
    # A website visitor (lead) without a name, an internal note, and the BAD record.
    conversation("215467339522", "2024-04-15 21:10:00", VISITOR,
                 "<p>磨豆机保修多久？坏了要寄回去吗</p>", "customer_initiated", [
                     part("9802001", "comment", "2024-04-15 21:12:30", AJIE,
                          "<p>您好，磨豆机整机保修一年，电机保修两年。</p>"
                          "<p>保修期内有问题我们寄顺丰件给您，运费由我们承担。</p>"),
                     part("9802002", "note", "2024-04-15 21:13:00", AJIE,
                          "<p>这个访客上周问过批发价，留意一下</p>"),
                     # BAD: the author was removed when the visitor's data was deleted.
                     part("9802003", "comment", "2024-04-15 21:14:10", None, "<p>那还不错</p>"),
                     part("9802004", "comment", "2024-04-15 21:15:00", VISITOR,
                          "<p>明白了，谢谢</p>"),
                 ]),
    # The shop's follow-up (回访): the buyer answers with a photo only, then a question.
    conversation("215467339610", "2024-04-16 10:00:00", AJIE,
                 "<p>吴先生您好，您4月10日购买的磨豆机用得还顺手吗？</p><p>有任何问题可以直接回复这条消息～</p>",
                 "admin_initiated", [
                     part("9803001", "comment", "2024-04-16 11:20:45", WU, None, attachments=[
                         {"type": "upload", "name": "IMG_2231.jpg", "url": "https://files.example.com/IMG_2231.jpg",
                          "content_type": "image/jpeg", "filesize": 183244}]),
                     part("9803002", "comment", "2024-04-16 11:21:10", WU, "<p>刻度盘有点松，正常吗？</p>"),
                     part("9803003", "comment", "2024-04-16 11:23:30", AJIE,
                          "<p>看了照片，是刻度盘的固定螺丝松了，不影响研磨。</p>"
                          "<p>用附带的内六角扳手顺时针拧紧就好；<br>如果拧不紧，我给您寄一颗新螺丝。</p>"),
                     part("9803004", "comment", "2024-04-16 11:30:02", WU, "<p>拧好了，可以了</p>"),
                 ]),
]


def write_intercom() -> None:
    document = {"type": "conversation.list", "conversations": INTERCOM_CONVERSATIONS,
                "total_count": len(INTERCOM_CONVERSATIONS),
                "pages": {"type": "pages", "page": 1, "per_page": 20, "total_pages": 1}}
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    (SAMPLES_DIR / "intercom_conversations.json").write_bytes(text.encode("utf-8"))


def main() -> None:
    write_wechat_csv()
    write_wechat_txt()
    write_zendesk()
    write_intercom()


if __name__ == "__main__":
    main()
