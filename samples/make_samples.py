"""Write the bundled sample chat exports: the demo input of cs-audit and fixtures of its tests.

The conversations below are the single source of truth; every other file in ``samples/`` is
generated from them. After editing, regenerate with:

    python samples/make_samples.py

The output is deterministic: running the script twice gives byte-identical files, the XLSX
included (its zip entries and document properties carry fixed dates).

How to read the data: each ``Chat`` lists its messages as ``(time, speaker, text)``.
``time`` is ``"HH:MM:SS"`` on the chat's date, a full ``"YYYY-MM-DD HH:MM:SS"`` when the
conversation runs into another day, or ``None`` when the export carries no timestamps; all times
are local shop time (UTC+8). ``speaker`` is ``"buyer"``, ``"bot"``, ``"system"`` or the short name
of an agent of the shop. Messages are written in time order; ``file_order`` scrambles the rows of
one conversation in its file, as some exports do.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openpyxl
from openpyxl.writer.excel import ExcelWriter

SAMPLES_DIR = Path(__file__).resolve().parent
SHOP_TIMEZONE = timezone(timedelta(hours=8))
# Fixed so the generated workbook does not change from one run to the next.
WORKBOOK_TIMESTAMP = datetime(2024, 4, 20, 12, 0, 0)
ENGLISH_COLUMNS = ("conversation_id", "timestamp", "role", "sender", "text")
CHINESE_COLUMNS = ("会话ID", "时间", "角色", "发送人", "内容")
CHINESE_ROLES = {"buyer": "买家", "agent": "客服", "bot": "机器人", "system": "系统"}


@dataclass(frozen=True)
class Chat:
    """One conversation as authored: who said what, when, and what it is there to show."""

    id: str
    date: str | None
    buyer: str
    shows: str
    messages: tuple[tuple[str | None, str, str], ...]
    time_format: str = ""
    file_order: tuple[int, ...] | None = None


@dataclass(frozen=True)
class Shop:
    """A shop's export: its platform, the file it is written to, and its staff accounts."""

    name: str
    platform: str
    file_name: str
    file_format: str
    agents: dict[str, str]
    bot: str
    chats: tuple[Chat, ...]


# ---------------------------------------------------------------------------------------------
# 淘宝 / 千牛: 木子家居旗舰店 — UTF-8 CSV, English headers
# ---------------------------------------------------------------------------------------------
TAOBAO_CHATS = (
    Chat(
        "TB-0001", "2024-04-15", "小鹿斑比_77",
        "good service: bot welcome before the agent, greeting, replies in 15-50 s, size and price "
        "(¥89.00), polite 不清楚的地方随时问我, closing 祝您生活愉快; ends with the buyer's 好的谢谢 "
        "(acknowledgement, needs no reply); a message with an ASCII comma and quotes",
        (
            ("10:02:15", "buyer", "在吗"),
            ("10:02:16", "bot", "亲，欢迎光临木子家居旗舰店～我是智能助手，人工客服马上就来哦（自动回复）"),
            ("10:02:40", "buyer", "这款四件套1.8米的床能用吗？"),
            ("10:03:05", "小美", '您好亲，我是客服小美，很高兴为您服务😊 1.8米的床选"1.8m床, 被套220×240cm"这个规格就可以哦'),
            ("10:03:41", "buyer", "是纯棉的吗，洗了会不会起球"),
            ("10:04:02", "小美", "是100%新疆长绒棉的，60支，正常机洗不会起球。第一次洗建议冷水反面洗，颜色会更持久"),
            ("10:04:55", "buyer", "灰色和燕麦色哪个耐脏"),
            ("10:05:20", "小美", "燕麦色会更耐脏一些，灰色偏冷调，看您卧室的风格哦"),
            ("10:06:30", "buyer", "那我要燕麦色，现在多少钱"),
            ("10:06:52", "小美", "今天活动价¥89.00，领店铺券再减10元，到手¥79.00哦"),
            ("10:08:10", "buyer", "好，拍了"),
            ("10:08:31", "小美", "谢谢亲的支持！下午4点前付款当天发货，有什么不清楚的地方随时问我哦"),
            ("10:09:05", "buyer", "好的"),
            ("10:09:20", "小美", "祝您生活愉快～"),
            ("10:09:44", "buyer", "好的谢谢"),
        ),
    ),
    Chat(
        "TB-0002", "2024-04-15", "晚风不晚_",
        "night message: buyer writes at 23:40:12 (outside service hours 08:00-23:00), bot auto-reply, "
        "agent answers 2024-04-16 08:05:30 = 330 s from opening (30318 s on the clock); buyer gives "
        "phone 13812345678 (PII to mask); tracking number SF1234567890123 is not risky",
        (
            ("23:40:12", "buyer", "你好，我前天买的懒人沙发发货了吗"),
            ("23:40:13", "bot", "亲，现在是非工作时间，人工客服服务时间为08:00-23:00，您的留言我们上班后第一时间回复（自动回复）"),
            ("23:41:05", "buyer", "明天白天家里没人，能不能改送到公司？电话13812345678，地址江南大道588号恒鑫大厦12楼"),
            ("2024-04-16 08:05:30", "小美", "您好亲，早上好！抱歉让您久等了，小美这就帮您查一下"),
            ("2024-04-16 08:06:10", "小美", "您的包裹昨晚已经从杭州仓发出了，运单号SF1234567890123，预计今天下午送达"),
            ("2024-04-16 08:06:45", "小美", "已经联系快递改送到您公司的地址，送货前快递员会打您留的电话"),
            ("2024-04-16 08:10:02", "buyer", "太好了，麻烦你了"),
            ("2024-04-16 08:10:20", "小美", "不客气亲，祝您生活愉快～"),
        ),
    ),
    Chat(
        "TB-0003", "2024-04-16", "居家小能手",
        "slow replies: four answered waits over 180 s (403, 745, 290, 398 s); the buyer complains "
        "怎么回复这么慢; the agent apologises",
        (
            ("14:20:05", "buyer", "这个五层置物架每层能承重多少"),
            ("14:20:30", "buyer", "放微波炉和烤箱可以吗"),
            ("14:26:48", "小美", "亲您好，每层承重约30kg，放微波炉和烤箱是没问题的"),
            ("14:27:30", "buyer", "有60cm宽的吗，我家那个位置只有62"),
            ("14:39:55", "小美", "有的亲，规格里选“60×35×150cm”就是60宽的"),
            ("14:40:20", "buyer", "怎么回复这么慢啊，等半天了"),
            ("14:40:41", "buyer", "要自己装吗"),
            ("14:45:10", "小美", "抱歉亲，现在咨询的人比较多，回复慢了。需要自己安装，包装里有图文说明和工具，20分钟左右就能装好"),
            ("14:46:02", "buyer", "行吧，那我再看看"),
            ("14:52:40", "小美", "好的亲，有需要随时联系小美哦"),
        ),
    ),
    Chat(
        "TB-0004", "2024-04-16", "Cindy_窗边的猫",
        "CRITICAL: the agent asks the buyer to add WeChat with an evasive spelling (加我v信 muzi6688) "
        "and hints at a cheaper off-shop price",
        (
            ("15:10:11", "buyer", "你们窗帘可以定做吗？我家窗户3米2宽，2米7高"),
            ("15:10:40", "阿杰", "您好亲，可以定做的哦，按实际尺寸下单就行"),
            ("15:11:25", "buyer", "想看看不同颜色的实拍，还有遮光效果怎么样"),
            ("15:11:58", "阿杰", "这里发图不太方便，亲加我v信 muzi6688，实拍视频和布样我都发给你"),
            ("15:12:30", "buyer", "在这里发不行吗？"),
            ("15:12:52", "阿杰", "v信上方便，还能给你算个内部价，比店里便宜"),
            ("15:13:40", "buyer", "哦哦，那我加一下"),
            ("15:14:05", "阿杰", "好嘞，备注窗帘，我通过一下"),
        ),
    ),
    Chat(
        "TB-0005", "2024-04-17", "阿宁宁",
        "the buyer asks for WeChat or QQ and the agent refuses politely (平台规定只能在平台内沟通); "
        "the agent warns 请勿添加任何私人微信 (a warning, not a contact request); ASCII quotes in a "
        "message; ends with 嗯嗯 then the agent's closing",
        (
            ("09:30:02", "buyer", "你好，收纳柜的抽屉推不进去，卡住了"),
            ("09:30:20", "buyer", "我拍了视频，你给个微信或者QQ吧，我发给你看"),
            ("09:30:45", "小美", '您好亲，非常抱歉给您添麻烦了。平台规定只能在平台内沟通哦，视频在这个聊天窗口点"+"就能上传，小美在这边看'),
            ("09:31:40", "buyer", "[视频]"),
            ("09:32:30", "小美", "看到了亲，是右边滑轨的卡扣没扣到位。您把抽屉拉出来，按住滑轨上的黑色卡扣再推进去试试"),
            ("09:35:12", "buyer", "好了好了，可以了"),
            ("09:35:30", "小美", "太好了！另外提醒您，我们不会要求您加私人联系方式，请勿添加任何私人微信，谨防有人冒充客服诈骗"),
            ("09:36:01", "buyer", "嗯嗯 知道了"),
            ("09:36:15", "小美", "感谢您的理解，祝您生活愉快～"),
        ),
    ),
    Chat(
        "TB-0006", "2024-04-17", "momo家的猫",
        "damaged item (镜子破损) handled well; transfer from 小美 to 阿杰 with a system notice (two agents); "
        "order number 3589012345678901 and a check of the phone's last four digits are not PII; "
        "refund offer 原路退回; the agent follows up unprompted with the tracking number; ends with 好的谢谢",
        (
            ("13:02:10", "buyer", "你们家的镜子收到就碎了！！"),
            ("13:02:25", "buyer", "[图片]"),
            ("13:02:31", "buyer", "外箱都压扁了，这怎么弄"),
            ("13:02:58", "小美", "您好亲，真的非常抱歉！看到图片了，玻璃确实破损了，您先别碰碎片，小心划手"),
            ("13:03:40", "小美", "这个需要售后同事帮您处理，小美现在帮您转接售后阿杰哦"),
            ("13:03:45", "system", "会话已由 木子家居旗舰店:小美 转接给 木子家居旗舰店:阿杰"),
            ("13:04:20", "阿杰", "您好亲，我是售后客服阿杰，情况我已经了解了。麻烦提供一下订单号，我帮您登记"),
            ("13:05:02", "buyer", "订单号 3589012345678901"),
            ("13:05:40", "阿杰", "收到，为了核对信息，麻烦说一下收货手机号的后四位"),
            ("13:06:05", "buyer", "5678"),
            ("13:06:50", "阿杰", "核对无误。给您两个方案：一是免费补发一面新的，今天走顺丰；二是直接退款¥129.00，原路退回。碎的那面不用寄回，拍照留底后自行处理就好"),
            ("13:07:30", "buyer", "补发吧，这次包好一点"),
            ("13:07:58", "阿杰", "好的，已经给您登记补发，会加泡沫护角和木架包装，发出后把运单号发给您"),
            ("13:35:14", "阿杰", "亲，补发已寄出，顺丰运单号SF1307654321098，预计明天送达"),
            ("13:36:02", "buyer", "好的谢谢"),
        ),
    ),
    Chat(
        "TB-0007", "2024-04-17", "北方的南瓜",
        "rude agent: 详情页有写 / 你自己看详情页 / 不知道 / 没办法 / 爱买不买; the buyer threatens 投诉 "
        "and the last buyer turn (16:25:50) is never answered",
        (
            ("16:20:03", "buyer", "这个懒人沙发里面填的是什么？"),
            ("16:21:10", "阿杰", "详情页有写"),
            ("16:21:45", "buyer", "我看了没找到，所以才问你"),
            ("16:22:30", "阿杰", "你自己看详情页，第五张图"),
            ("16:23:10", "buyer", "第五张是尺寸图啊。到底是泡沫颗粒还是海绵？"),
            ("16:24:02", "阿杰", "不知道，这个要问厂家"),
            ("16:24:40", "buyer", "你是客服你不知道？那外套能不能拆洗？"),
            ("16:25:15", "阿杰", "能拆，别的没办法，爱买不买"),
            ("16:25:50", "buyer", "什么态度！我要投诉你"),
            ("16:26:05", "buyer", "已经截图了，等着吧"),
        ),
    ),
    Chat(
        "TB-0008", "2024-04-18", "Leo_林",
        "after-sales follow-up (回访) the agent starts before the buyer speaks; polite look-alike "
        "不知道您是否收到了货呢; ends with the buyer's 👍",
        (
            ("10:15:00", "阿杰", "您好亲，我是木子家居的售后客服阿杰～不知道您是否收到了货呢？书桌安装还顺利吗？"),
            ("10:32:18", "buyer", "收到了，前天装好的"),
            ("10:32:40", "buyer", "就是桌面有点晃"),
            ("10:33:05", "阿杰", "感谢您的反馈亲！晃一般是桌脚的调节垫没调平，您把四个脚底的旋钮拧一拧，调到桌面不晃就好"),
            ("10:40:12", "buyer", "调了一下，好多了"),
            ("10:40:35", "阿杰", "那就好～使用中有任何问题随时联系我们，祝您生活愉快！"),
            ("10:41:00", "buyer", "👍"),
        ),
    ),
    Chat(
        "TB-0009", "2024-04-18", "小胖丁",
        "ignored question: the buyer's 11:01:20 question gets no answer until the buyer nudges 在吗？？ "
        "at 11:09:30; the agent answers at 11:10:02 (one turn, wait 522 s); a message with line breaks",
        (
            ("11:00:10", "buyer", "亲，这款收纳盒有大号的吗"),
            ("11:00:35", "小美", "您好亲，有的～\n大号：50×35×28cm\n中号：40×30×24cm"),
            ("11:01:20", "buyer", "盖子是透明的吗"),
            ("11:01:52", "buyer", "能叠放吗，想放衣柜顶上"),
            ("11:09:30", "buyer", "在吗？？"),
            ("11:10:02", "小美", "在的亲，抱歉刚才消息太多漏看了🙏 盖子是半透明磨砂的，可以叠放3层，放衣柜顶上没问题"),
            ("11:11:00", "buyer", "买三个大号有优惠吗"),
            ("11:11:25", "小美", "拍3件享9折，下单时自动减哦"),
            ("11:12:04", "buyer", "行，那我下单了"),
            ("11:12:30", "小美", "感谢亲的支持，今天就给您发出～"),
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# 拼多多: 鲜果农场 — GB18030 CSV, Chinese headers and role values
# ---------------------------------------------------------------------------------------------
PDD_CHATS = (
    Chat(
        "PDD-0001", "2024-04-15", "拼单小能手",
        "good service with ISO 8601 times: bot welcome (with an emoji, so the file needs GB18030, not "
        "GBK), paying by 微信支付 at checkout is legitimate, system notice 买家已下单, closing; ends "
        "with 嗯嗯",
        (
            ("09:03:11", "buyer", "老板，脐橙还有货吗"),
            ("09:03:12", "bot", "您好，欢迎光临鲜果农场🍊 赣南脐橙现摘现发，人工客服马上为您服务"),
            ("09:03:40", "果果", "亲，您好！有货的哦，今天早上刚摘的"),
            ("09:04:15", "buyer", "10斤装大概多少个"),
            ("09:04:38", "果果", "中果（75-80mm）10斤大概28-32个，大果（80-85mm）大概22-26个"),
            ("09:05:30", "buyer", "付款只能用多多钱包吗，我想用微信支付"),
            ("09:05:52", "果果", "可以的亲，下单时在收银台选微信支付就行"),
            ("09:07:40", "system", "买家已下单"),
            ("09:07:58", "果果", "收到您的订单啦，谢谢亲！今天下午就发货，坏果包赔，有问题随时找果果。祝您生活愉快～"),
            ("09:08:20", "buyer", "嗯嗯"),
        ),
        time_format="iso",
    ),
    Chat(
        "PDD-0002", "2024-04-15", "阳光明媚",
        "missing item (少件: one of two boxes) handled well; ROWS NOT IN TIME ORDER in the file "
        "(file order of the messages: 2,0,1,4,3,7,5,6) — the auditor must sort them",
        (
            ("14:10:05", "buyer", "我拍的两箱芒果怎么只收到一箱？"),
            ("14:10:30", "buyer", "订单上写的是2件"),
            ("14:11:02", "果果", "亲您好，非常抱歉！我马上帮您查一下"),
            ("14:12:40", "果果", "查到了亲，另一箱是分开发的，单号YT7391028465512，还在路上，预计明天到"),
            ("14:13:20", "buyer", "那为什么不一起发，也没人说一声"),
            ("14:13:55", "果果", "是我们没有提前告知，真的很抱歉。两箱是从两个仓发的，明天没收到您直接找果果，给您补发或者退款"),
            ("14:14:30", "buyer", "行，明天再看"),
            ("14:14:50", "果果", "好的亲，给您添麻烦了，祝您生活愉快～"),
        ),
        file_order=(2, 0, 1, 4, 3, 7, 5, 6),
    ),
    Chat(
        "PDD-0003", "2024-04-16", "兔兔爱吃草莓",
        "CRITICAL: the agent offers cash for a good review (晒图好评返5元红包)",
        (
            ("10:20:11", "buyer", "草莓收到了，挺新鲜的"),
            ("10:20:40", "阿满", "收到就好😊 跟您说个活动：确认收货后给个五星好评，晒图好评返5元红包，评价截图发给客服就行"),
            ("10:21:30", "buyer", "怎么返，返到哪里"),
            ("10:21:58", "阿满", "截图发过来，我们给您发个小额打款，或者下次下单直接减5元"),
            ("10:22:40", "buyer", "好的我晚点弄"),
            ("10:22:55", "阿满", "好的亲，谢谢支持～"),
        ),
        time_format="iso",
    ),
    Chat(
        "PDD-0004", "2024-04-16", "路过的老哥",
        "malicious buyer: demands 50 元 or a bad review (差评, 投诉); the agent refuses to pay for a "
        "review and offers after-sales instead (a refusal, not a review deal)",
        (
            ("16:00:03", "buyer", "你们这猕猴桃硬得跟石头一样"),
            ("16:00:30", "阿满", "亲您好，猕猴桃是八成熟采摘的，收到后和苹果放在一起捂3-5天就软了，包裹里的卡片也有说明"),
            ("16:01:15", "buyer", "我不管，给我转50块钱，不然给你差评"),
            ("16:01:50", "阿满", "理解您想早点吃上的心情。捂熟以后如果有坏果，拍照给我们，坏多少赔多少"),
            ("16:02:20", "buyer", "少废话，50块，不给就差评加投诉，让你店铺扣分"),
            ("16:03:05", "阿满", "亲，我们不能拿评价做交换给您转钱，这违反平台规则。水果有质量问题我们一定负责，您可以申请售后，平台会介入核实"),
            ("16:03:40", "buyer", "行，那你等着差评吧"),
            ("16:04:10", "阿满", "评价是您的权利。捂熟后有任何问题随时联系我们，我们都会处理"),
        ),
    ),
    Chat(
        "PDD-0005", "2024-04-17", "冬天的橘子",
        "logistics stuck; rude agent (没办法, 不知道) and slow replies (400, 465, 760 s); the buyer "
        "ends with 投诉, unanswered (turn at 11:59:02)",
        (
            ("11:30:00", "buyer", "我的芒果发货三天了，物流一直不动"),
            ("11:36:40", "果果", "没办法，快递的事我们管不了"),
            ("11:37:20", "buyer", "那你帮我问问快递啊"),
            ("11:45:05", "果果", "问了，不知道。"),
            ("11:45:50", "buyer", "芒果放久了会烂的！你们到底管不管"),
            ("11:46:10", "buyer", "不行就给我退款"),
            ("11:58:30", "果果", "退款要等快递退回来"),
            ("11:59:02", "buyer", "太过分了，我要投诉"),
        ),
        time_format="iso",
    ),
    Chat(
        "PDD-0006", "2024-04-17", "葡萄控",
        "damaged fruit (烂果) handled well; the buyer gives a spaced phone number 139 1234 5678 "
        "(PII to mask)",
        (
            ("19:12:20", "buyer", "收到的葡萄烂了好几串，还有股酸味"),
            ("19:12:45", "buyer", "[图片]"),
            ("19:13:10", "果果", "亲，非常抱歉！看到图片了，是运输途中挤压坏的"),
            ("19:13:40", "果果", "坏的部分给您按比例退款，或者重新补发一箱，您选一个哦"),
            ("19:14:25", "buyer", "补发吧，能不能换个快递，上次那个老是放驿站。电话139 1234 5678，到了直接打我电话送上门"),
            ("19:15:00", "果果", "好的亲，补发走顺丰，备注送货上门并提前电话联系您，已经给您登记了"),
            ("19:15:31", "buyer", "谢谢啦"),
            ("19:15:50", "果果", "不客气亲，再次抱歉～"),
        ),
    ),
    Chat(
        "PDD-0007", "2024-04-18", "李女士",
        "unanswered: the buyer's last questions (turn from 08:48:30) never get a reply; bot welcome "
        "before the agent",
        (
            ("08:45:10", "buyer", "橙子能发新疆吗"),
            ("08:45:11", "bot", "您好，欢迎光临鲜果农场，人工客服马上为您服务"),
            ("08:46:00", "阿满", "亲，您好，新疆属于偏远地区，需要补运费15元哦"),
            ("08:46:40", "buyer", "那坏果怎么算"),
            ("08:47:05", "阿满", "坏果拍照联系客服，坏一个赔一个"),
            ("08:48:30", "buyer", "大概几天能到"),
            ("08:49:02", "buyer", "我下周三之前要用"),
        ),
        time_format="iso",
    ),
    Chat(
        "PDD-0008", "2024-04-18", "水果批发老王",
        "the BUYER proposes WeChat and a private transfer; the agent refuses (平台规定只能在平台内沟通和交易) "
        "and changes the price on the platform; system notice 买家已下单; not critical",
        (
            ("15:00:00", "buyer", "你们脐橙我要20箱，能不能便宜点"),
            ("15:00:30", "阿满", "您好，20箱可以给您批发价，每箱比店里便宜8元"),
            ("15:01:10", "buyer", "加个微信吧，我直接转账给你，省得平台扣钱，你也多赚点"),
            ("15:01:45", "阿满", "谢谢您的好意，平台规定只能在平台内沟通和交易，私下转账对您也没有保障。您直接拍下20箱，我给您改价就行"),
            ("15:02:30", "buyer", "那好吧，我拍了你改一下"),
            ("15:02:35", "system", "买家已下单"),
            ("15:03:00", "阿满", "已经改好价了，您刷新一下再付款就行"),
            ("15:04:10", "buyer", "付好了"),
            ("15:04:30", "阿满", "收到，谢谢老板！今天全部发出"),
        ),
    ),
)

# ---------------------------------------------------------------------------------------------
# 京东: 极速数码专营店 — JSONL; Unix milliseconds, ISO 8601 with +08:00, or no timestamp at all
# ---------------------------------------------------------------------------------------------
JD_CHATS = (
    Chat(
        "JD-0001", "2024-04-15", "jd_小王同学",
        "good return handling (Unix ms times): bot before the agent, order number, check of the "
        "phone's last four digits, refund ¥299.00 原路退回, closing 祝您生活愉快",
        (
            ("20:15:03", "buyer", "你好，耳机买错颜色了，还没拆封，可以退吗"),
            ("20:15:04", "bot", "您好，欢迎来到极速数码专营店，正在为您转接人工客服…"),
            ("20:15:30", "小林", "您好，我是客服小林，很高兴为您服务。未拆封支持7天无理由退货，麻烦提供一下订单号"),
            ("20:16:02", "buyer", "订单号：285473619024"),
            ("20:16:35", "小林", "好的，为了核实身份，麻烦提供下单手机号的后四位"),
            ("20:16:50", "buyer", "0921"),
            ("20:17:20", "小林", "核实无误～已为您提交退货申请，快递员明天上门取件，收到退货后货款¥299.00原路退回，一般1-3个工作日到账"),
            ("20:18:02", "buyer", "好的，那我直接重新拍个白色的可以吗"),
            ("20:18:25", "小林", "可以的，白色有现货，今天下单今天发。还有其他可以帮您的吗？"),
            ("20:18:50", "buyer", "没有了，谢谢"),
            ("20:19:05", "小林", "不客气，感谢您对极速数码的支持，祝您生活愉快！"),
        ),
        time_format="unix_ms",
    ),
    Chat(
        "JD-0002", "2024-04-15", "暴躁老哥",
        "lost parcel and an angry buyer (投诉, 12315, 差评; sentiment falls) with an apologetic, "
        "empathetic agent; full refund 原路退回",
        (
            ("11:02:00", "buyer", "我的充电宝一个星期了还没到"),
            ("11:02:30", "小林", "您好，非常抱歉让您久等了，麻烦提供一下订单号，我马上帮您查询"),
            ("11:03:05", "buyer", "285473619877"),
            ("11:04:10", "小林", "查到了，物流显示4月9日到达郑州中转站后就没有更新了，我先联系快递核实，请您稍等"),
            ("11:12:40", "小林", "您好，快递那边反馈包裹可能在中转时丢失了，还在找"),
            ("11:13:20", "buyer", "丢了？？你们怎么不早说"),
            ("11:13:45", "buyer", "我是买来出差用的，明天就走了"),
            ("11:14:20", "小林", "非常理解您的心情。给您两个方案：马上重新发一个，走次日达；或者直接全额退款"),
            ("11:15:02", "buyer", "明天都走了还次日达有什么用！一个星期都不处理，我要投诉"),
            ("11:15:30", "buyer", "再不给个说法我就打12315"),
            ("11:16:05", "小林", "实在抱歉给您造成这么大的不便。已经为您申请全额退款¥159.00，原路退回，另外补偿您一张20元京券，您看可以吗"),
            ("11:17:10", "buyer", "退款吧，差评是肯定的"),
            ("11:17:35", "小林", "好的，退款已提交，再次向您致歉"),
        ),
        time_format="iso_offset",
    ),
    Chat(
        "JD-0003", "2024-04-16", "科技宅",
        "CRITICAL: the agent proposes a private deal paid by 支付宝转账 outside the platform",
        (
            ("15:40:12", "buyer", "这款机械键盘公司要采购30把，能便宜吗"),
            ("15:40:50", "大鹏", "您好，30把量挺大的，可以给您特价"),
            ("15:41:30", "buyer", "多少钱一把"),
            ("15:42:10", "大鹏", "店里是¥349.00，走平台要扣点。您要是私下交易，直接支付宝转账给我，按280一把算，我这边直接发货"),
            ("15:43:00", "buyer", "私下转账有保障吗？能开发票吗"),
            ("15:43:40", "大鹏", "放心，老客户都这么弄，发票可以另外开。支付宝账号我一会儿发你"),
            ("15:44:20", "buyer", "我跟领导商量一下"),
            ("15:44:40", "大鹏", "好的，考虑好了随时找我"),
        ),
        time_format="unix_ms",
    ),
    Chat(
        "JD-0004", None, "数码小白",
        "NO TIMESTAMPS (the key is absent): response metrics are null, everything else works; the "
        "buyer sends an ID card number (PII to mask) and the agent tells them not to; ends with 好的谢谢",
        (
            (None, "buyer", "随身WiFi要实名认证吗"),
            (None, "小林", "您好，需要的哦，按规定插卡后要完成实名认证才能上网"),
            (None, "buyer", "我把身份证号发你，你帮我弄一下吧 110105199003071239"),
            (None, "小林", "亲，为了您的信息安全，请不要在聊天里发身份证号哦。实名需要您本人在运营商的官方页面操作，客服这边也看不到您的证件信息"),
            (None, "buyer", "哦哦，那在哪里操作"),
            (None, "小林", "设备通电后连上它的WiFi，用浏览器打开机身背面标签上的管理网址，按提示上传证件照片就可以了"),
            (None, "buyer", "好的谢谢"),
        ),
        time_format="none",
    ),
    Chat(
        "JD-0005", "2024-04-16", "西瓜不甜",
        "refund delay: the return was received on 4-10 and the money is still missing; the buyer "
        "sends a bank card number (PII to mask) and the agent explains refunds go 原路退回; the agent "
        "reports back at 16:10:20; ends with OK 谢谢",
        (
            ("09:20:00", "buyer", "退货你们4月10号就签收了，钱到现在还没退"),
            ("09:20:40", "小林", "您好，非常抱歉，我马上帮您查看，请提供一下订单号"),
            ("09:21:10", "buyer", "285473620145"),
            ("09:22:30", "小林", "查到了，退货10号确实已经签收，是我们仓库验货慢了，给您添麻烦了。我现在就催财务审核"),
            ("09:23:15", "buyer", "能不能直接打到我银行卡上，6222021234567890128"),
            ("09:23:50", "小林", "亲，退款只能原路退回到您付款的账户，没法转到其他银行卡，也请不要在聊天里发卡号哦。审核今天内完成，到账一般1-3个工作日"),
            ("09:24:30", "buyer", "那今天一定要给我处理好"),
            ("09:24:55", "小林", "好的，已经加急备注，今天下班前给您回复进度"),
            ("16:10:20", "小林", "您好，您的退款¥499.00已经审核通过，原路退回，请留意到账通知"),
            ("16:30:05", "buyer", "OK 谢谢"),
        ),
        time_format="iso_offset",
    ),
    Chat(
        "JD-0006", "2024-04-17", "路人甲",
        "unanswered: the buyer's last questions (turn from 10:08:15) never get a reply; bot welcome; "
        "first reply after 35 s (misses a 30 s first-reply target)",
        (
            ("10:05:10", "buyer", "这个路由器支持WiFi6吗"),
            ("10:05:11", "bot", "您好，欢迎光临极速数码专营店，人工客服正在赶来～"),
            ("10:05:45", "大鹏", "您好，支持的，是WiFi6 AX3000"),
            ("10:06:30", "buyer", "穿墙怎么样，三室两厅够用吗"),
            ("10:07:02", "大鹏", "110平以内一般够用，户型比较绕的话建议买两台组mesh"),
            ("10:08:15", "buyer", "两台装有优惠吗"),
            ("10:08:40", "buyer", "现在下单明天能到北京吗"),
        ),
        time_format="unix_ms",
    ),
    Chat(
        "JD-0007", "2024-04-18", "小鱼儿",
        "good pre-sale advice: polite look-alikes of 不知道/不清楚 (不知道叔叔平时主要用来做什么呢, "
        "不清楚的地方随时问我), price ¥1299.00, closing; ends with 👍",
        (
            ("14:00:05", "buyer", "想给我爸买个平板，不知道选哪个"),
            ("14:00:30", "小林", "您好，很高兴为您服务～不知道叔叔平时主要用来做什么呢？看视频、视频通话还是看新闻？"),
            ("14:01:20", "buyer", "主要看视频，还有跟我们视频通话"),
            ("14:01:55", "小林", "那推荐这款11英寸的，屏幕大字也清楚，8+128G够用了，现在¥1299.00，还送保护套"),
            ("14:02:40", "buyer", "老人用会不会太复杂"),
            ("14:03:05", "小林", "有“长辈模式”，图标和字都会放大，在设置里一键打开。不清楚的地方随时问我，收到后我也可以一步步教您设置"),
            ("14:04:10", "buyer", "好，那就这个了"),
            ("14:04:30", "小林", "感谢您的信任！今天下单明天就能送到，祝您和叔叔生活愉快～"),
            ("14:04:55", "buyer", "👍"),
        ),
        time_format="iso_offset",
    ),
    Chat(
        "JD-0008", "2024-04-18", "Mr_张",
        "not as described (opened box, scratches on a 'new' item): apology, exchange and a small "
        "goodwill gift; the buyer calms down",
        (
            ("19:30:00", "buyer", "新买的耳机盒子是拆过的，充电仓上还有划痕"),
            ("19:30:20", "buyer", "[图片]"),
            ("19:30:48", "buyer", "你们是不是把别人退回来的又卖给我了？"),
            ("19:31:15", "大鹏", "您好，非常抱歉给您带来不好的体验。图片我看到了，这种情况确实不应该出现"),
            ("19:31:50", "大鹏", "给您直接换一个全新未拆封的，上门取件和发新的同时进行，运费不用您垫付，您看可以吗"),
            ("19:32:40", "buyer", "可以，但我要个说法，说好的全新正品"),
            ("19:33:20", "大鹏", "理解您的心情，我已经把问题反馈给仓库排查。为表歉意，另外送您一个耳机保护套"),
            ("19:34:05", "buyer", "行吧，尽快换"),
            ("19:34:25", "大鹏", "好的，换货单已提交，快递员明天上午上门取件，新耳机今天就发出"),
        ),
        time_format="unix_ms",
    ),
)

# ---------------------------------------------------------------------------------------------
# 抖音 / 飞鸽: 潮搭女装 — XLSX, sheet 聊天记录, real datetime cells, an extra ignored column 店铺
# ---------------------------------------------------------------------------------------------
DOUYIN_CHATS = (
    Chat(
        "DY-0001", "2024-04-15", "是小羊呀",
        "good service on sizes: bot welcome, 宝/亲 address, replies in 15-28 s, closing 祝您生活愉快; "
        "ends with the agent",
        (
            ("20:30:10", "buyer", "宝，这条阔腿裤我160、100斤穿什么码"),
            ("20:30:11", "bot", "欢迎来到潮搭女装～直播间同款都有现货，客服小姐姐马上就来💕"),
            ("20:30:35", "糖糖", "亲，您好呀～160/100斤建议拿S码，腰围66cm，裤长100cm，穿平底鞋刚好到脚踝"),
            ("20:31:20", "buyer", "我腿有点粗，S会不会紧"),
            ("20:31:48", "糖糖", "S码大腿围58cm，是宽松版型不会紧的，担心的话拿M也可以，后腰有松紧"),
            ("20:32:30", "buyer", "那拿M吧，黑色的"),
            ("20:32:50", "糖糖", "好的宝，黑色M码现货，今晚12点前下单明天发货，支持7天无理由哦"),
            ("20:33:35", "buyer", "好的谢谢宝"),
            ("20:33:50", "糖糖", "不客气呀，祝您生活愉快，穿得美美哒～"),
        ),
    ),
    Chat(
        "DY-0002", "2024-04-16", "Ann安",
        "colour difference (色差, not as seen in the live stream): the agent admits it and offers a "
        "return with shipping paid, ¥129.00 原路退回; ends with 嗯",
        (
            ("12:05:00", "buyer", "收到了，这件衬衫跟直播间看到的颜色差太多了吧"),
            ("12:05:15", "buyer", "直播间是奶油黄，收到的像土黄色"),
            ("12:05:40", "可乐", "亲，您好，非常抱歉让您失望了！直播间有补光灯，可能会有色差，麻烦您在自然光下拍张照片给我看看"),
            ("12:07:02", "buyer", "[图片]"),
            ("12:07:40", "可乐", "看到了，确实和直播间效果差别挺大，是我们的问题。可以退货退款，运费我们承担；也可以给您换成白色"),
            ("12:08:30", "buyer", "退了吧"),
            ("12:08:55", "可乐", "好的，已经同意退货申请了，寄回时选上门取件，运费险会自动理赔，收到退货后¥129.00原路退回"),
            ("12:09:20", "buyer", "嗯"),
        ),
    ),
    Chat(
        "DY-0003", "2024-04-16", "甜甜圈",
        "CRITICAL: the agent asks the buyer to add her on WeChat spelled VX (加我VX：tangtang_520) for "
        "restock news and 'fan discounts'",
        (
            ("21:10:00", "buyer", "这件连衣裙还会补货吗，M码没了"),
            ("21:10:35", "糖糖", "亲，M码在补了，预计下周到"),
            ("21:11:10", "buyer", "到了能通知我吗"),
            ("21:11:40", "糖糖", "可以的宝，加我VX：tangtang_520，上新和补货都在朋友圈发，还有粉丝专属折扣"),
            ("21:12:20", "buyer", "好，我加你"),
            ("21:12:40", "糖糖", "加的时候备注抖音哦"),
        ),
    ),
    Chat(
        "DY-0004", "2024-04-17", "不吃香菜",
        "slow replies during a live stream: waits of 575 s and 458 s, each with an apology "
        "(抱歉久等了, 不好意思又让您等了), then a quick one (20 s)",
        (
            ("20:02:10", "buyer", "直播间那件针织开衫还有米白色吗"),
            ("20:02:30", "buyer", "要M码"),
            ("20:11:45", "可乐", "亲，抱歉久等了，直播期间咨询太多了。米白色M码还有最后几件哦"),
            ("20:12:20", "buyer", "会起球吗"),
            ("20:12:40", "buyer", "洗了会不会缩水"),
            ("20:19:58", "可乐", "不好意思又让您等了～是棉混纺的，正常穿不容易起球，建议手洗或者装洗衣袋轻柔洗，不会缩水"),
            ("20:20:30", "buyer", "好，拍了"),
            ("20:20:50", "可乐", "感谢宝的支持，明天给您发出～"),
        ),
    ),
    Chat(
        "DY-0005", "2024-04-18", "早起的鸟儿",
        "early message: the buyer writes at 07:31:20, before opening (08:00); bot notice; the agent "
        "answers at 08:02:30 = 150 s from opening (1870 s on the clock); last-four-digits check; "
        "ends with 谢谢",
        (
            ("07:31:20", "buyer", "昨天拍的那件风衣能改地址吗，小区写错了"),
            ("07:31:21", "bot", "亲，人工客服服务时间为08:00-23:00，您的问题已记录，上班后会第一时间处理哦"),
            ("07:32:05", "buyer", "改成阳光花园3栋，其他不变"),
            ("08:02:30", "糖糖", "早上好亲！看了一下，您的订单还没发货，地址可以改的"),
            ("08:02:58", "糖糖", "为了确认是您本人，麻烦报一下收件手机号的后四位"),
            ("08:03:40", "buyer", "3344"),
            ("08:04:10", "糖糖", "核对好了，已经改成阳光花园3栋，今天发出后就能看到物流"),
            ("08:04:35", "buyer", "谢谢"),
        ),
    ),
    Chat(
        "DY-0006", "2024-04-18", "Kiki",
        "size exchange handled well; the bot's safety notice 请勿添加任何私人微信 is a warning, not a "
        "contact request; ends with 嗯嗯好的",
        (
            ("13:15:00", "buyer", "你好，裙子买小了，想换大一码"),
            ("13:15:01", "bot", "温馨提示：潮搭女装客服不会以任何理由要求您添加私人联系方式，请勿添加任何私人微信，谨防诈骗。人工客服马上为您服务"),
            ("13:15:40", "可乐", "亲，您好～可以换的哦，在订单里申请换货，选L码就行"),
            ("13:16:25", "buyer", "运费谁出"),
            ("13:16:50", "可乐", "您买了运费险，寄回的运费会自动赔付，换的新裙子我们包邮寄给您"),
            ("13:17:30", "buyer", "那太好了，我现在就申请"),
            ("13:17:55", "可乐", "好的，收到退回的裙子当天就给您发L码，有问题随时找我哦"),
            ("13:18:20", "buyer", "嗯嗯好的"),
        ),
    ),
    Chat(
        "DY-0007", "2024-04-17", "火爆辣椒",
        "wrong item sent: the buyer is angry and threatens 投诉, the agent apologises, empathises and "
        "fixes it; sentiment recovers; the agent sends the tracking number unprompted at 15:20:00",
        (
            ("10:40:00", "buyer", "我买的是黑色L码，寄来的是白色S码！！"),
            ("10:40:10", "buyer", "你们怎么发货的？？"),
            ("10:40:25", "buyer", "我明天就要穿的"),
            ("10:41:00", "糖糖", "亲，您好，真的非常抱歉，是我们仓库发错了，给您添麻烦了"),
            ("10:41:40", "buyer", "道歉有什么用，明天穿不了了，我要投诉你们"),
            ("10:42:15", "糖糖", "非常理解您的心情，换我也会很着急。我现在给您加急补发黑色L码，走顺丰特快，今天下午发出，明天中午前送到"),
            ("10:42:50", "糖糖", "发错的那件不用急着退，收到新的再寄回，运费我们出"),
            ("10:43:40", "buyer", "明天中午前能到？确定？"),
            ("10:44:00", "糖糖", "确定的，发出后第一时间把单号发给您，我也会一直盯着物流"),
            ("10:45:10", "buyer", "好吧，这次别再发错了"),
            ("10:45:30", "糖糖", "一定不会，我亲自核对后再发！再次向您道歉"),
            ("15:20:00", "糖糖", "亲，黑色L码已经发出，顺丰单号SF1456789012345，预计明天上午送达"),
            ("15:21:15", "buyer", "好的谢谢"),
        ),
    ),
    Chat(
        "DY-0008", "2024-04-16", "大白菜",
        "agent-initiated delay notice (发货延迟) with an apology, a refund option and a coupon; the "
        "buyer's first message comes 25 minutes later",
        (
            ("09:00:00", "可乐", "亲，您好，我是潮搭女装客服可乐。您拍的卡其色风衣因为直播爆单，需要延迟2天，预计4月18日发出，非常抱歉"),
            ("09:00:30", "可乐", "如果您不想等，可以直接申请退款，我们马上同意，不影响您的任何权益"),
            ("09:25:40", "buyer", "啊？要等这么久"),
            ("09:26:05", "可乐", "真的很抱歉，工厂在加急赶工了，为表歉意给您补一张10元无门槛券"),
            ("09:27:00", "buyer", "那行吧，我等"),
            ("09:27:20", "可乐", "谢谢亲的理解，发货后第一时间通知您，祝您生活愉快～"),
        ),
    ),
)

SHOPS = (
    Shop(
        "木子家居旗舰店", "淘宝 / 千牛", "taobao_utf8.csv",
        "CSV, UTF-8 without BOM, LF line ends; English headers; times `YYYY-MM-DD HH:MM:SS`",
        {"小美": "木子家居旗舰店:小美", "阿杰": "木子家居旗舰店:阿杰"}, "木子家居旗舰店:店小蜜",
        TAOBAO_CHATS,
    ),
    Shop(
        "鲜果农场", "拼多多", "pdd_gb18030.csv",
        "CSV, GB18030, CRLF line ends (as Excel/WPS saves it); Chinese headers and role values; "
        "times `YYYY-MM-DD HH:MM:SS` or ISO 8601 `YYYY-MM-DDTHH:MM:SS`",
        {"果果": "鲜果农场_果果", "阿满": "鲜果农场_阿满"}, "鲜果农场_机器人",
        PDD_CHATS,
    ),
    Shop(
        "极速数码专营店", "京东", "jd_chat.jsonl",
        "JSONL, UTF-8; times as Unix milliseconds (integers) or ISO 8601 with `+08:00`; one "
        "conversation without a timestamp key",
        {"小林": "极速数码专营店-小林", "大鹏": "极速数码专营店-大鹏"}, "极速数码专营店-智能客服",
        JD_CHATS,
    ),
    Shop(
        "潮搭女装", "抖音 / 飞鸽", "douyin_chat.xlsx",
        "XLSX, first sheet `聊天记录`; English headers; times as Excel datetime cells; an extra "
        "column `店铺` that cs-audit ignores",
        {"糖糖": "潮搭女装-糖糖", "可乐": "潮搭女装-可乐"}, "潮搭女装-智能客服",
        DOUYIN_CHATS,
    ),
)


@dataclass(frozen=True)
class Row:
    """One message as it goes into a file."""

    conversation_id: str
    timestamp: datetime | None
    role: str
    sender: str
    text: str
    time_format: str


def parse_time(chat: Chat, time: str | None) -> datetime | None:
    """Read an authored time: ``HH:MM:SS`` on the chat's date, or a full date and time."""
    if time is None:
        return None
    if len(time) == len("HH:MM:SS"):
        time = f"{chat.date} {time}"
    return datetime.strptime(time, "%Y-%m-%d %H:%M:%S")


def role_and_sender(shop: Shop, chat: Chat, speaker: str) -> tuple[str, str]:
    """Map an authored speaker to the role and sender account written to the file."""
    if speaker == "buyer":
        return "buyer", chat.buyer
    if speaker == "bot":
        return "bot", shop.bot
    if speaker == "system":
        return "system", ""
    return "agent", shop.agents[speaker]


def check_chat(chat: Chat) -> None:
    """Refuse authored data that would make a misleading fixture."""
    if not 4 <= len(chat.messages) <= 20:
        raise ValueError(f"{chat.id}: {len(chat.messages)} messages, want 4-20")
    times = [parse_time(chat, time) for time, _, _ in chat.messages]
    if any(t is not None for t in times) and None in times:
        raise ValueError(f"{chat.id}: mixes messages with and without times")
    stamped = [t for t in times if t is not None]
    if any(later <= earlier for earlier, later in zip(stamped, stamped[1:])):
        raise ValueError(f"{chat.id}: times must strictly increase as written")
    if chat.file_order is not None and sorted(chat.file_order) != list(range(len(chat.messages))):
        raise ValueError(f"{chat.id}: file_order is not a permutation of the messages")


def rows_of(shop: Shop) -> list[Row]:
    """All rows of a shop's export, in file order."""
    rows = []
    for chat in shop.chats:
        check_chat(chat)
        chat_rows = []
        for time, speaker, text in chat.messages:
            role, sender = role_and_sender(shop, chat, speaker)
            chat_rows.append(
                Row(chat.id, parse_time(chat, time), role, sender, text, chat.time_format)
            )
        order = chat.file_order or range(len(chat_rows))
        rows.extend(chat_rows[i] for i in order)
    return rows


def format_timestamp(row: Row) -> str | int | None:
    """The timestamp as the row's export writes it."""
    if row.timestamp is None:
        return None
    if row.time_format == "iso":
        return row.timestamp.strftime("%Y-%m-%dT%H:%M:%S")
    if row.time_format == "iso_offset":
        return row.timestamp.replace(tzinfo=SHOP_TIMEZONE).isoformat()
    if row.time_format == "unix_ms":
        return int(row.timestamp.replace(tzinfo=SHOP_TIMEZONE).timestamp()) * 1000
    return row.timestamp.strftime("%Y-%m-%d %H:%M:%S")


def write_csv(shop: Shop, columns: tuple[str, ...], roles: dict[str, str] | None,
              encoding: str, line_end: str) -> None:
    """Write a shop's rows as CSV with the given headers, role names, encoding and line ends."""
    with open(SAMPLES_DIR / shop.file_name, "w", encoding=encoding, newline="") as out:
        writer = csv.writer(out, lineterminator=line_end)
        writer.writerow(columns)
        for row in rows_of(shop):
            role = roles[row.role] if roles else row.role
            writer.writerow(
                (row.conversation_id, format_timestamp(row), role, row.sender, row.text)
            )


def write_jsonl(shop: Shop) -> None:
    """Write a shop's rows as JSON lines; a row without a time has no timestamp key."""
    with open(SAMPLES_DIR / shop.file_name, "w", encoding="utf-8", newline="\n") as out:
        for row in rows_of(shop):
            record: dict[str, object] = {"conversation_id": row.conversation_id}
            if row.timestamp is not None:
                record["timestamp"] = format_timestamp(row)
            record.update(role=row.role, sender=row.sender, text=row.text)
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def write_xlsx(shop: Shop) -> None:
    """Write a shop's rows to the first sheet of a workbook, byte-identical on every run."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "聊天记录"
    sheet.append((*ENGLISH_COLUMNS, "店铺"))
    for row in rows_of(shop):
        sheet.append((row.conversation_id, row.timestamp, row.role, row.sender, row.text, shop.name))
        sheet.cell(sheet.max_row, 2).number_format = "yyyy-mm-dd hh:mm:ss"
    for column, width in zip("ABCDEF", (12, 20, 8, 18, 80, 12)):
        sheet.column_dimensions[column].width = width
    workbook.properties.creator = "cs-audit samples"
    workbook.properties.created = WORKBOOK_TIMESTAMP
    workbook.properties.modified = WORKBOOK_TIMESTAMP

    # openpyxl's save() stamps "modified" with the current time, so use its writer directly,
    # then rewrite the zip so every entry carries the same fixed date.
    buffer = io.BytesIO()
    ExcelWriter(workbook, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED)).save()
    with zipfile.ZipFile(buffer) as written, \
            zipfile.ZipFile(SAMPLES_DIR / shop.file_name, "w", zipfile.ZIP_DEFLATED) as out:
        for entry in written.infolist():
            fixed = zipfile.ZipInfo(entry.filename, date_time=WORKBOOK_TIMESTAMP.timetuple()[:6])
            fixed.compress_type = zipfile.ZIP_DEFLATED
            out.writestr(fixed, written.read(entry.filename))


PLATFORM_SAMPLES = (
    ("pdd_records.json", "拼多多 chat records, JSON (`pdd-json`)", "make_platform_samples.py"),
    ("pdd_export.xlsx", "拼多多 back-end chat export (`pdd-xlsx`)", "make_platform_samples.py"),
    ("jd_sessions.tsv", "京东 JDDC-style TSV (`jd-tsv`)", "make_platform_samples.py"),
    ("qianniu_records.txt", "千牛/旺旺 text transcript, GB18030 (`qianniu`)", "make_qianniu_sample.py"),
    ("wechat_export.csv", "WeChat 留痕 CSV (`wechat`)", "make_chat_tool_samples.py"),
    ("wechat_chat.txt", "WeChat TXT (`wechat`)", "make_chat_tool_samples.py"),
    ("zendesk_tickets.json", "Zendesk tickets with comments (`helpdesk`)", "make_chat_tool_samples.py"),
    ("intercom_conversations.json", "Intercom conversations (`helpdesk`)", "make_chat_tool_samples.py"),
)


def write_readme() -> None:
    """Write README.md: which file is which, and what each conversation is there to show."""
    lines = [
        "# Sample chat exports",
        "",
        "Invented customer-service conversations from four kinds of shop, in the canonical input",
        "format (SPEC §2). They are the demo input of cs-audit and fixtures of its tests:",
        "",
        "    cs-audit audit samples/",
        "",
        "Do not edit these files by hand: `make_samples.py` holds the conversations and writes the",
        "canonical files and this README. Regenerate with `python samples/make_samples.py`; the",
        "output is byte-identical from run to run. All times are local shop time (UTC+8), 2024-04;",
        "service hours in the notes are 08:00-23:00. Names, phone, ID and card numbers are made up.",
        "",
        "| file | platform | shop | format | conversations |",
        "| --- | --- | --- | --- | --- |",
    ]
    for shop in SHOPS:
        lines.append(
            f"| `{shop.file_name}` | {shop.platform} | {shop.name} | {shop.file_format} "
            f"| {len(shop.chats)} |"
        )
    for shop in SHOPS:
        lines += ["", f"## `{shop.file_name}` — {shop.name} ({shop.platform})", "",
                  "| conversation | what it demonstrates |", "| --- | --- |"]
        lines += [f"| {chat.id} | {chat.shows} |" for chat in shop.chats]
    lines += [
        "",
        "## Platform exports",
        "",
        "The other files show the platform layouts cs-audit also reads (see the main README,",
        "\"Platform exports\"); each has at least one deliberately bad record, to show how problems",
        "are reported. Their generators say which.",
        "",
        "| file | layout | written by |",
        "| --- | --- | --- |",
        *[f"| `{name}` | {layout} | `{script}` |" for name, layout, script in PLATFORM_SAMPLES],
        "",
    ]
    (SAMPLES_DIR / "README.md").write_text("\n".join(lines), encoding="utf-8", newline="\n")


def main() -> None:
    """Write every sample file."""
    taobao, pdd, jd, douyin = SHOPS
    write_csv(taobao, ENGLISH_COLUMNS, None, "utf-8", "\n")
    write_csv(pdd, CHINESE_COLUMNS, CHINESE_ROLES, "gb18030", "\r\n")
    write_jsonl(jd)
    write_xlsx(douyin)
    write_readme()


if __name__ == "__main__":
    main()
