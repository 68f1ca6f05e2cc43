"""Write ``qianniu_records.txt``: an invented 千牛 chat-record export of 木子家居旗舰店.

The file is GB18030 with CRLF line ends, as the Windows client saves it. Run
``python samples/make_qianniu_sample.py``; the output is byte-identical from run to run.

What it holds (all times 2024-04-14, shop time):

* a title line before the first message header (an input problem, line 1);
* 阳光明媚2024 — a follow-up (回访) the shop starts at 09:05 before the buyer says anything;
  the buyer answers at 09:40 (nickname ending in digits);
* 快乐的 小鱼88 — pre-sale questions (nickname with a space and digits): the sub-account's
  ``[自动回复]`` auto-reply (a bot message), a multi-line buyer message, 已读/未读 status lines;
  the buyer comes back at 15:30 after other chats, so her chat is split in two places in the file;
* tb0731wang — headers glued to the time (``tb0731wang2024-04-14 10:12:05``); a message with
  date-like lines (``下单时间：2024-04-12 09:15:33`` and a bare time); a recall notice; a
  transfer from 小美 to 阿杰, whose account is written with a full-width colon;
* 木头人 阿木 — headers in the bracketed form ``[nickname] time``; the 店小蜜 bot answers
  first, then the agent handles a scratched mirror.
"""

from __future__ import annotations

from pathlib import Path

XIAOMEI = "木子家居旗舰店:小美"
AJIE = "木子家居旗舰店：阿杰"
BOT = "木子家居旗舰店:店小蜜"

LINES = [
    "===== 木子家居旗舰店 聊天记录导出 2024-04-14 =====",
    "",
    f"{XIAOMEI} 2024-04-14 09:05:12",
    "亲，您好，我是木子家居的客服小美~",
    "您购买的北欧实木床头柜物流显示已经签收啦，收到的东西还满意吗？有任何问题随时找我哦",
    "未读",
    "阳光明媚2024 2024-04-14 09:40:03",
    "收到了，挺好看的，就是抽屉里有点木头味",
    f"{XIAOMEI} 2024-04-14 09:40:41",
    "新家具刚拆封有点木头味是正常的，放在通风的地方三到五天就会散掉，抽屉可以先打开晾一晾",
    "已读",
    "阳光明媚2024 2024-04-14 09:41:30",
    "好的谢谢",
    "",
    "快乐的 小鱼88 2024-04-14 10:02:15",
    "在吗",
    f"{XIAOMEI} 2024-04-14 10:02:16",
    "[自动回复]亲，欢迎光临木子家居旗舰店！客服小美马上为您服务，请稍等~",
    "快乐的 小鱼88 2024-04-14 10:03:02",
    "这款床头柜我想问一下：",
    "1. 宽度是多少",
    "2. 有没有白色",
    "3. 需要自己安装吗",
    f"{XIAOMEI} 2024-04-14 10:03:40",
    "亲，您好~ 宽度是45厘米，有原木色和白色两种，整体发货不用安装的哦",
    "已读",
    "快乐的 小鱼88 2024-04-14 10:04:25",
    "白色的什么时候能发货",
    f"{XIAOMEI} 2024-04-14 10:04:58",
    "白色现货，今天下午四点前拍下当天就能发出",
    "已读",
    "",
    "tb0731wang2024-04-14 10:12:05",
    "你好，我的订单怎么还没发货",
    f"{XIAOMEI}2024-04-14 10:12:31",
    "亲，您好，麻烦提供一下订单号，我帮您查一下",
    "已读",
    "tb0731wang2024-04-14 10:13:20",
    "订单号 3589012345678901",
    "下单时间：2024-04-12 09:15:33",
    "说好48小时发货的",
    "tb0731wang 撤回了一条消息",
    "tb0731wang2024-04-14 10:13:52",
    "我是12号早上下的单，付款时间",
    "2024-04-12 09:16:02",
    "到现在都没发",
    f"{XIAOMEI}2024-04-14 10:14:30",
    "非常抱歉让您久等了，这个单子仓库那边备货延误了，我帮您转给售后同事跟进",
    f"{XIAOMEI} --> {AJIE}",
    f"{AJIE}2024-04-14 10:15:45",
    "亲，您好，我是售后阿杰，已经帮您催了仓库，今天下午一定发出，发货后把单号发给您",
    "已读",
    "tb0731wang2024-04-14 10:16:20",
    "行吧，尽快",
    "",
    "[木头人 阿木] 2024-04-14 11:20:08",
    "镜子到了，边框上有一道划痕",
    "[图片]你们看看",
    f"[{BOT}] 2024-04-14 11:20:09",
    "亲，非常抱歉给您带来不好的体验，人工客服正在赶来，请稍等~",
    f"[{XIAOMEI}] 2024-04-14 11:21:30",
    "非常抱歉，看到您的图片了，划痕确实比较明显",
    "给您两个方案：一是免费补寄一个新边框，二是直接退货退款，运费我们承担，您看哪个方便？",
    "已读",
    "[木头人 阿木] 2024-04-14 11:23:10",
    "补寄吧",
    f"[{XIAOMEI}] 2024-04-14 11:23:42",
    "好的，已经给您登记补寄，明天发出，祝您生活愉快",
    "已读",
    "",
    "快乐的 小鱼88 2024-04-14 15:30:18",
    "白色的已经拍了，记得今天发哦",
    f"{XIAOMEI} 2024-04-14 15:31:02",
    "收到，今天一定发出，感谢您的支持~",
    "未读",
]


def main() -> None:
    target = Path(__file__).resolve().parent / "qianniu_records.txt"
    target.write_bytes("".join(line + "\r\n" for line in LINES).encode("gb18030"))


if __name__ == "__main__":
    main()
