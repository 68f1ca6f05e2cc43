"""Write the platform-format samples: 拼多多 JSON chat records and back-end export, 京东 JDDC TSV.

The conversations below are the single source of truth for ``pdd_records.json``,
``pdd_export.xlsx`` and ``jd_sessions.tsv``. Regenerate with:

    python samples/make_platform_samples.py

The output is byte-identical from run to run (the workbook's document properties and zip
entries carry a fixed date). Each file holds one deliberately bad record, so that
``cs-audit audit`` shows how an input problem is reported:

- ``pdd_records.json``: in PDDJ-0002 a message whose msg_ts has hour 24;
- ``pdd_export.xlsx``: in the 小雨点 chat a row with an empty 消息内容 (a product card the
  back end exported without text);
- ``jd_sessions.tsv``: in the third session a buyer message with a line break, whose second
  line is a line of one field.

All times are local shop time (UTC+8). Names, ids, accounts and order numbers are made up.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl
from openpyxl.writer.excel import ExcelWriter

SAMPLES_DIR = Path(__file__).resolve().parent
WORKBOOK_TIMESTAMP = datetime(2024, 4, 20, 12, 0, 0)

# ---------------------------------------------------------------------------------------------
# 拼多多 JSON chat records: 暖暖家纺旗舰店. from_type: 0 buyer, 1 robot, 2 agent, 3 system.
# Each message: (msg_ts, from_type, sender, text).
# ---------------------------------------------------------------------------------------------
PDD_MALL = "暖暖家纺旗舰店"
PDD_CONVERSATIONS = (
    ("PDDJ-0001", "7235590013", "晴天**", (
        ("2024-04-16 09:12:03", 0, "晴天**", "在吗？这个四件套是纯棉的吗"),
        ("2024-04-16 09:12:04", 1, "暖暖家纺:机器人", "亲亲，欢迎光临暖暖家纺～客服小暖正在赶来，请稍等哦（机器人自动回复）"),
        ("2024-04-16 09:12:40", 2, "暖暖家纺:小暖", "您好亲，在的～这款是100%新疆长绒棉，A类标准，宝宝也可以放心用"),
        ("2024-04-16 09:13:15", 0, "晴天**", "1.5米的床选哪个规格"),
        ("2024-04-16 09:13:38", 2, "暖暖家纺:小暖", "1.5米的床选被套200×230cm、床单245×250cm的规格，铺上去四边都能垂下来"),
        ("2024-04-16 09:14:02", 0, "晴天**", "洗了会不会起球掉色"),
        ("2024-04-16 09:14:30", 2, "暖暖家纺:小暖", "长绒棉纱线长，正常洗护不容易起球；第一次洗建议用冷水，加一点盐，颜色会更稳定哦"),
        ("2024-04-16 09:15:10", 3, "", "买家已拍下，待付款"),
        ("2024-04-16 09:15:40", 2, "暖暖家纺:小暖", "感谢亲的支持～下午4点前付款当天就能发出，有问题随时找我"),
        ("2024-04-16 09:16:05", 0, "晴天**", "好的谢谢"),
    )),
    ("PDDJ-0002", "6918824470", "木木妈妈", (
        ("2024-04-16 20:31:10", 0, "木木妈妈", "收到了，枕套少了一个，只有一个枕套"),
        ("2024-04-16 20:31:11", 1, "暖暖家纺:机器人", "亲，您的消息已收到，人工客服会尽快回复您～"),
        ("2024-04-16 20:33:45", 2, "暖暖家纺:小暖", "亲，非常抱歉给您添麻烦了！麻烦拍一下包裹里所有东西和快递面单，我核对一下"),
        ("2024-04-16 20:35:02", 0, "木木妈妈", "[图片]"),
        ("2024-04-16 20:35:20", 0, "木木妈妈", "就这些"),
        ("2024-04-16 20:37:00", 2, "暖暖家纺:小暖", "看到了亲，确实是仓库漏发了一个枕套，实在抱歉。马上给您补发，明天发出，单号出来第一时间发给您"),
        ("2024-04-16 24:38:10", 0, "木木妈妈", "那要多久能到"),
        ("2024-04-16 20:39:30", 2, "暖暖家纺:小暖", "一般2-3天就能到，收到后您看一下，有问题随时联系我"),
        ("2024-04-16 20:40:02", 0, "木木妈妈", "好"),
    )),
    ("PDDJ-0003", "7102265389", "阿杰不吃香菜", (
        ("2024-04-17 14:02:11", 0, "阿杰不吃香菜", "昨天买的床单收到了，质量还可以"),
        ("2024-04-17 14:03:40", 2, "暖暖家纺:阿凯", "谢谢亲的认可～给个五星好评带三张图，截图发我，返您3元红包哦"),
        ("2024-04-17 14:04:10", 0, "阿杰不吃香菜", "怎么返？"),
        ("2024-04-17 14:04:55", 2, "暖暖家纺:阿凯", "加我微信 nuannuan_kf88，好评截图发过来，我微信转给您"),
        ("2024-04-17 14:05:30", 0, "阿杰不吃香菜", "行吧"),
    )),
    ("PDDJ-0004", "6833019245", "老陈", (
        ("2024-04-18 10:20:05", 0, "老陈", "我的快递三天了还没动，怎么回事"),
        ("2024-04-18 10:20:06", 1, "暖暖家纺:机器人", "亲，您好，人工客服正在忙碌中，请稍等～"),
        ("2024-04-18 10:31:40", 0, "老陈", "人呢？？"),
        ("2024-04-18 10:38:22", 2, "暖暖家纺:阿凯", "不好意思亲，让您久等了。我帮您查一下，麻烦发一下订单号"),
        ("2024-04-18 10:39:01", 0, "老陈", "240415-059882331456712 就是这个"),
        ("2024-04-18 10:44:50", 2, "暖暖家纺:阿凯", "查到了，是快递中转站爆仓，我已经联系快递加急处理，预计明天恢复运输"),
        ("2024-04-18 10:45:30", 0, "老陈", "再不到我就投诉了"),
        ("2024-04-18 10:46:10", 2, "暖暖家纺:阿凯", "理解您着急的心情，我这边会一直跟进，明天下午给您回复最新进度"),
    )),
)

# ---------------------------------------------------------------------------------------------
# 拼多多 back-end chat export: 宝贝星球母婴专营店. One conversation per buyer (no 会话ID column).
# Each row: (消息时间, 发送方, 消息内容, 订单编号).
# ---------------------------------------------------------------------------------------------
EXPORT_TITLE = "聊天记录导出（2024-04-15 00:00:00 至 2024-04-18 23:59:59）"
EXPORT_HEADER = ("买家ID", "买家昵称", "客服账号", "发送方", "消息时间", "消息内容", "订单编号")
EXPORT_CHATS = (
    ("5823345501", "豆豆妈", "宝贝星球:小米", (
        ("2024-04-15 10:02:15", "买家", "在吗？宝宝11斤穿什么码的纸尿裤", ""),
        ("2024-04-15 10:02:16", "机器人", "亲，欢迎光临宝贝星球～人工客服马上为您服务哦", ""),
        ("2024-04-15 10:02:48", "客服", "亲，您好～11斤的宝宝一般穿S码，S码适合8-13斤；宝宝长得快的话也可以直接拍M码哦", ""),
        ("2024-04-15 10:03:30", "买家", "腿比较粗，会不会勒", ""),
        ("2024-04-15 10:03:55", "客服", "这款是高腰立体护围，腿围弹力很好，不会勒出红印；宝宝腿比较肉的话，选M码会更舒服", ""),
        ("2024-04-15 10:04:20", "买家", "那我拍M码两包", ""),
        ("2024-04-15 10:04:22", "系统", "买家已下单", "240415-356820114729301"),
        ("2024-04-15 10:04:50", "客服", "收到亲～今天下午4点前发货，用着好再来找我们，祝宝宝健康成长", "240415-356820114729301"),
        ("2024-04-15 10:05:05", "买家", "好的谢谢", ""),
    )),
    ("6120778342", "小雨点", "宝贝星球:阿杰", (
        ("2024-04-16 19:40:03", "买家", "奶瓶收到了，瓶身有一道裂痕", "240414-771203958812406"),
        ("2024-04-16 19:40:04", "机器人", "亲，您的问题已收到，客服会尽快处理～", ""),
        ("2024-04-16 19:41:10", "买家", "", "240414-771203958812406"),
        ("2024-04-16 19:42:30", "客服", "亲，非常抱歉！麻烦拍一张裂痕的照片发过来，我马上帮您处理", ""),
        ("2024-04-16 19:43:12", "买家", "[图片]", ""),
        ("2024-04-16 19:44:05", "客服", "看到了，是运输途中磕坏的，给您添麻烦了。您可以申请仅退款，我马上同意，钱原路退回；"
                                      "或者我们重新补发一个新的，您看哪种方便？", ""),
        ("2024-04-16 19:44:40", "买家", "补发吧，宝宝等着用", ""),
        ("2024-04-16 19:45:20", "客服", "好的，已经给您登记补发，明天上午发出，坏的那个不用寄回，直接处理掉就好", ""),
        ("2024-04-16 19:45:45", "买家", "好的，谢谢", ""),
    )),
    ("5900123876", "Lily", "宝贝星球:阿杰", (
        ("2024-04-17 15:10:02", "买家", "这个婴儿车能带上飞机吗", ""),
        ("2024-04-17 15:16:45", "客服", "详情页有写", ""),
        ("2024-04-17 15:17:20", "买家", "我没找到，你直接告诉我不行吗", ""),
        ("2024-04-17 15:20:33", "客服", "自己看详情页", ""),
        ("2024-04-17 15:21:05", "买家", "什么态度，我要投诉你", ""),
        ("2024-04-17 15:27:40", "客服", "不知道", ""),
    )),
)

# ---------------------------------------------------------------------------------------------
# 京东 JDDC-style TSV. Each line: (waiter_send, is_transfer, is_repeat, sku, content).
# A content with "\n" is written as is: that is the deliberately broken record.
# ---------------------------------------------------------------------------------------------
JD_SESSIONS = (
    ("6a1f0c2e9b8d4e07a3c5f1d2b4e6a8c0", "USERID_10503190", (
        (0, 0, 0, "", "你好，我买的那个加湿器不出雾"),
        (1, 0, 0, "", "您好，京东客服很高兴为您服务！请问是订单号[订单x]的这款加湿器吗？"),
        (0, 0, 0, "", "对的"),
        (1, 0, 0, "", "麻烦您看一下水箱有没有装到位，底座的浮子有没有卡住呢"),
        (0, 0, 0, "", "都试过了，还是不行"),
        (1, 0, 0, "", "非常抱歉给您带来不便，商品签收[数字x]天内可以换货，我帮您提交换货申请，上门取件时间[日期x][时间x]可以吗"),
        (0, 0, 0, "", "可以"),
        (1, 0, 0, "", "已经为您提交成功，快递员取件前会联系您的手机[电话x]，请保持电话畅通#E-s[数字x]"),
        (0, 0, 0, "", "好的谢谢"),
        (1, 0, 0, "", "不客气，请问还有其他可以帮您的吗"),
    )),
    ("0b9e2d7c4a6f8e1d3c5b7a9f2e4d6c8b", "USERID_10774522", (
        (0, 0, 0, "", "订单[订单x]地址写错了，能改吗"),
        (1, 0, 0, "", "您好，请问您要改成什么地址呢"),
        (0, 0, 0, "", "[地址x]"),
        (1, 1, 0, "", "商品已经出库了，这边没办法直接修改，帮您转接配送站处理，请稍等"),
        (1, 0, 0, "", "您好，配送站已经收到您的改址申请，会按新地址[地址x]为您配送"),
        (0, 0, 0, "", "谢谢"),
    )),
    ("c3e5a7f9b1d2e4f6a8c0b2d4f6e8a0c1", "USERID_11028937", (
        (0, 0, 0, "", "我退货的钱什么时候到账"),
        (0, 0, 1, "", "我退货的钱什么时候到账"),
        (1, 0, 0, "", "您好，请稍等，马上帮您查询"),
        (1, 0, 0, "", "您的退款[金额x]元已于[日期x]原路退回到您的[组织机构x]银行卡，一般[数字x]个工作日到账"),
        (0, 0, 0, "", "[数字x]个工作日了还没到\n还没到的话怎么办"),
        (1, 0, 0, "", "您可以拿退款单号[数字x]联系银行查询；如果超过[数字x]个工作日仍未到账，可以再联系我们哦#E-s[数字x]"),
        (0, 0, 0, "", "好的，我再等等"),
    )),
    ("9f8e7d6c5b4a39281706f5e4d3c2b1a0", "USERID_10916548", (
        (0, 0, 0, "100012043978", "这款手机支持[数字x]w快充吗"),
        (1, 0, 0, "100012043978", "您好，这款支持[数字x]W有线快充，盒子里自带充电器的哦"),
        (0, 0, 0, "100012043978", "内存是[数字x]G+[数字x]G的吗"),
        (1, 0, 0, "100012043978", "是的呢，[数字x]G+[数字x]G版本到手价[金额x]元，今天下单还送原装保护壳"),
        (0, 0, 0, "100012043978", "能开发票吗"),
        (1, 0, 0, "100012043978", "可以的，下单时选择电子发票，抬头填[组织机构x]就行，确认收货后发到您的邮箱[邮箱x]"),
        (0, 0, 0, "100012043978", "好的#E-s[数字x]"),
        (1, 0, 0, "100012043978", "感谢您的咨询，祝您购物愉快#E-s[数字x]"),
    )),
)


def write_pdd_json() -> None:
    """Write the JSON chat records, indented as the back end's API returns them."""
    document = {
        "mall_name": PDD_MALL,
        "export_time": "2024-04-20 12:00:00",
        "conversations": [
            {
                "conversation_id": conversation_id,
                "uid": uid,
                "nickname": nickname,
                "message_infos": [
                    {"msg_id": f"{conversation_id[-4:]}{number:03d}", "msg_ts": msg_ts,
                     "from_type": from_type, "sender": sender, "text": text}
                    for number, (msg_ts, from_type, sender, text) in enumerate(messages, start=1)
                ],
            }
            for conversation_id, uid, nickname, messages in PDD_CONVERSATIONS
        ],
    }
    (SAMPLES_DIR / "pdd_records.json").write_text(
        json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8", newline="\n")


def write_pdd_export() -> None:
    """Write the back-end export: a title line, the header, one row a message."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "聊天记录"
    sheet.append((EXPORT_TITLE,))
    sheet.append(EXPORT_HEADER)
    for buyer_id, nickname, account, rows in EXPORT_CHATS:
        for msg_time, sender_type, text, order in rows:
            sheet.append((buyer_id, nickname, account, sender_type, msg_time, text or None, order or None))
    for column, width in zip("ABCDEFG", (14, 12, 16, 8, 20, 80, 24)):
        sheet.column_dimensions[column].width = width
    save_workbook(workbook, SAMPLES_DIR / "pdd_export.xlsx")


def save_workbook(workbook: openpyxl.Workbook, path: Path) -> None:
    """Save ``workbook`` byte-identically on every run (fixed properties and zip entry dates)."""
    workbook.properties.creator = "cs-audit samples"
    workbook.properties.created = WORKBOOK_TIMESTAMP
    workbook.properties.modified = WORKBOOK_TIMESTAMP
    # openpyxl's save() stamps "modified" with the current time, so use its writer directly,
    # then rewrite the zip so every entry carries the same fixed date.
    buffer = io.BytesIO()
    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    with zipfile.ZipFile(buffer) as written, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in written.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=WORKBOOK_TIMESTAMP.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(fixed, written.read(entry.filename))


def write_jd_tsv() -> None:
    """Write the JDDC-style TSV: no header, seven tab-separated fields, LF line ends."""
    lines = [
        "\t".join((session_id, user_id, str(waiter_send), str(is_transfer), str(is_repeat), sku, content))
        for session_id, user_id, messages in JD_SESSIONS
        for waiter_send, is_transfer, is_repeat, sku, content in messages
    ]
    (SAMPLES_DIR / "jd_sessions.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def main() -> None:
    """Write every platform-format sample."""
    write_pdd_json()
    write_pdd_export()
    write_jd_tsv()


if __name__ == "__main__":
    main()
