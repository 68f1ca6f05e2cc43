"""Write a large, realistic canonical chat corpus (SPEC §2 columns) for the benchmark.

Run from the repository root:

    python bench/make_corpus.py --messages 100000 --out bench/corpus/n100000-s7 [--seed 7] [--xlsx]

writes ``DIR/chats.csv`` (UTF-8, columns conversation_id, timestamp, role, sender, text), with
``--xlsx`` also ``DIR/chats.xlsx`` (the same rows, first sheet, written in openpyxl's write-only
mode), and ``DIR/corpus.json`` with the figures it prints: messages, conversations, distinct
texts, mean length.

What it imitates: eight shops (home goods, clothing, electronics, food, cosmetics, baby, outdoor,
stationery), several agents each, some with a bot; conversations of 4-40 messages over a week,
mostly routine pre-sale questions, then disputes (logistics, quality, refunds), angry buyers who
threaten complaints, evasive off-platform requests (加v信, 薇信, 扣扣, spaced phone numbers),
review bribes, rude replies and personal data. Agent templates (greetings, "please wait",
closings) repeat verbatim as in real exports; buyer messages are assembled from fragment pools
with random slots, so most texts are distinct. Risky and rude lines are drawn from the labelled
example tables in ``lexicons/examples/`` (their 'fire' rows, and the 'pass' rows as look-alikes).
Waits are mostly seconds, some minutes, and buyer messages sent at night are answered the next
morning. Everything is deterministic for a seed.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "lexicons" / "examples"
COLUMNS = ("conversation_id", "timestamp", "role", "sender", "text")
FIRST_DAY = datetime(2024, 6, 3)
DAYS = 7
# Conversations started per hour of the day (relative): quiet nights, busy late mornings and
# evenings, as in the platforms' published traffic curves.
HOUR_WEIGHTS = (3, 2, 1, 1, 1, 1, 2, 4, 8, 12, 15, 14, 10, 11, 13, 14, 13, 11, 10, 13, 16, 17, 14, 8)
SERVICE_OPENS, SERVICE_CLOSES = 8, 23


@dataclass(frozen=True)
class Shop:
    code: str
    name: str
    agents: tuple[str, ...]
    has_bot: bool
    products: tuple[str, ...]
    specs: tuple[str, ...]
    facts: tuple[str, ...]


SHOPS = (
    Shop("MZJJ", "木子家居旗舰店", ("小美", "阿杰", "晓雯"), True,
         ("四件套", "窗帘", "置物架", "懒人沙发", "乳胶枕", "收纳箱", "地毯", "凉席"),
         ("1.5米", "1.8米", "2米", "60cm宽", "燕麦色", "灰色", "浅蓝"),
         ("是100%长绒棉的，洗了不会起球", "每层承重约30kg", "可以按尺寸定做", "包装里有安装说明",
          "乳胶含量93%，泰国原料")),
    Shop("SYNZ", "森屿女装", ("安安", "小鹿", "可可", "七七"), True,
         ("连衣裙", "衬衫", "牛仔裤", "风衣", "针织开衫", "半身裙", "西装外套"),
         ("S码", "M码", "L码", "XL码", "杏色", "黑色", "雾霾蓝"),
         ("版型偏大一码", "面料是醋酸混纺，有垂感", "模特身高168穿M码", "深色建议手洗",
          "腰围有松紧，比较宽容")),
    Shop("JKSM", "极客数码专营店", ("阿飞", "小林", "大熊"), False,
         ("蓝牙耳机", "充电宝", "数据线", "机械键盘", "手机壳", "平板保护套", "快充头"),
         ("20000毫安", "Type-C", "红轴", "茶轴", "iPhone 15", "PD 20W", "白色"),
         ("支持PD快充，30分钟充到50%", "全国联保一年", "降噪深度35dB", "可以开专票",
          "固件可以在官网升级")),
    Shop("SYNC", "山野农场", ("小麦", "阿禾"), True,
         ("五常大米", "土蜂蜜", "核桃", "小米", "红枣", "腊肉", "笋干"),
         ("5斤装", "10斤装", "礼盒装", "500g", "散装"), 
         ("今年新米，9月收割", "冷链发货，江浙沪次日达", "保质期18个月", "不含添加剂",
          "偏远地区需要补运费")),
    Shop("QYMZ", "清颜美妆", ("糖糖", "露露", "小雅"), True,
         ("精华液", "面霜", "防晒霜", "洁面乳", "口红", "粉底液", "卸妆油"),
         ("30ml", "50ml", "自然色", "象牙白", "豆沙色", "正装", "小样"),
         ("敏感肌可以用，建议先耳后测试", "SPF50+ PA++++", "开封后保质期12个月", "是品牌授权店，支持验货",
          "孕妇慎用含酸产品")),
    Shop("MBMY", "萌宝母婴", ("果果", "暖暖"), True,
         ("纸尿裤", "奶瓶", "婴儿车", "连体衣", "辅食机", "安抚奶嘴"),
         ("NB码", "S码", "M码", "240ml", "新生儿", "6个月以上"),
         ("材质是PPSU，可以高温消毒", "婴儿车可以一键收车", "A类面料，可以直接贴身", "三个月内质量问题包换",
          "奶嘴建议两个月换一次")),
    Shop("DLHW", "动力户外", ("阿强", "小周", "老杨"), False,
         ("登山鞋", "冲锋衣", "帐篷", "睡袋", "登山杖", "速干衣"),
         ("42码", "43码", "44码", "三人帐", "零下5度款", "男款", "女款"),
         ("防水等级10000mm", "鞋码正常，脚宽建议大一码", "帐篷两分钟速开", "睡袋舒适温度0度",
          "支持30天无忧退换")),
    Shop("CGWJ", "晨光文具旗舰店", ("豆豆", "小北"), False,
         ("中性笔", "笔记本", "书包", "文件夹", "彩铅", "便利贴"),
         ("0.5mm", "A5", "B5", "36色", "12支装", "黑色"),
         ("书包有护脊设计", "笔芯是瑞士进口的", "可以印logo，50个起", "开学季满99减20",
          "学校团购可以开发票")),
)

# Agent templates reused verbatim (per agent or per shop): the repeats canned replies produce.
GREETINGS = (
    "您好，很高兴为您服务，请问有什么可以帮您？",
    "亲，您好！我是客服{agent}，很高兴为您服务😊",
    "在的亲，请问有什么可以帮到您呢",
    "您好呀，欢迎光临{shop}，{agent}在线为您解答～",
    "亲在的，您说",
)
WAITS = (
    "亲，稍等一下，我帮您查一下哦",
    "好的亲，请稍等，马上为您核实",
    "亲亲稍等哈，这边帮您看一下",
    "请您稍候，正在为您查询",
)
CLOSINGS = (
    "不客气亲，祝您生活愉快～",
    "感谢您的支持，有任何问题随时联系{agent}哦",
    "好的亲，有需要随时找我们，祝您购物愉快！",
    "亲，还有其他可以帮您的吗？没有的话{agent}就先不打扰您啦",
    "感谢光临{shop}，期待您的再次光临～",
)
THANKS = ("谢谢亲的支持！", "感谢亲的耐心等待", "谢谢您的理解和支持", "感谢亲的信任❤️")
BOT_WELCOME = "亲，欢迎光临{shop}～我是智能助手，人工客服马上就来哦（自动回复）"
BOT_NIGHT = ("亲，现在是非工作时间，人工客服服务时间为08:00-23:00，"
             "您的留言我们上班后第一时间回复（自动回复）")
BOT_FAQ = (
    "亲，下午4点前付款当天发货，默认发中通快递哦（自动回复）",
    "亲，本店支持七天无理由退换货，退货请在订单页申请（自动回复）",
    "亲，关于尺码可以参考详情页的尺码表哦（自动回复）",
)
SYSTEM_EVENTS = ("买家已付款，订单号{order}", "买家已申请退款，退款编号{refund}", "[系统消息] 买家确认收货")
SYSTEM_ENDINGS = ("系统已邀请买家对本次服务进行评价", "会话已结束")

OPENERS = ("在吗", "你好", "亲", "客服在吗", "老板", "hello", "哈喽", "亲亲", "掌柜的", "您好", "有人吗", "在不在")
PRESALE_QUESTIONS = (
    "这个{product}什么时候发货", "{product}有现货吗", "有没有{spec}的", "{spec}的还有吗",
    "我{height}cm{weight}斤穿什么码", "包邮吗", "可以便宜点吗", "有优惠券吗", "发什么快递",
    "几天能到{city}", "是正品吗", "支持七天无理由吗", "怎么修改地址", "什么时候补货",
    "颜色和图片一样吗", "能开发票吗", "赠品还有吗", "{product}和{product2}一起买能优惠吗",
    "{spec}和{spec2}哪个好", "拍两件能便宜多少", "{product}质量怎么样", "今天下单明天能到吗",
    "有没有视频看看", "这个价格还能少吗", "{product}适合送人吗", "会员有折扣吗",
)
FOLLOW_UPS = (
    "那我拍了", "好的我考虑下", "那就{spec}吧", "行，我下单了", "能备注一下吗", "帮我改成{spec}",
    "那我再看看", "拍了，尽快发哦", "地址写错了能改吗", "我拍了两件", "怎么还没发", "嗯嗯知道了",
)
ACKS = ("好的", "嗯", "哦", "好", "行", "ok", "OK", "知道了", "嗯嗯", "好的谢谢", "谢谢", "收到",
        "好的谢谢亲", "👍", "[微笑]", "好吧", "谢谢啦")
PRAISE = ("收到了很喜欢", "质量很好", "物流很快", "客服态度很好", "下次还来", "已经好评了",
          "孩子很喜欢", "性价比很高", "麻烦你了", "辛苦了", "比想象中好")
BUYER_CONTEXT = (
    "我{days}号买的{product}", "昨天拍的{product}", "订单{order}", "刚下单的那个{product}", "上次买的{spec}",
    "我在你们家买了{product}", "前天拍的{spec}{product}", "帮我看下这个单", "{product}，{spec}的",
    "给我妈买的{product}", "双十一囤的{product}", "之前咨询过的{product}",
)
BUYER_DETAILS = (
    "急用", "送人的", "明天要出门", "孩子要用", "我{height}cm{weight}斤", "在{city}", "周末之前要",
    "之前买过一次", "朋友推荐的", "看了好久了", "比别家贵一点", "想多买几件", "第一次买", "老客户了",
    "给公司买的", "详情页没写", "直播间说有赠品", "要{spec}的", "尽快回复一下",
)
AGENT_TAILS = (
    "有其他问题随时问我哦", "您看可以吗", "给您带来不便非常抱歉", "您放心", "这边会一直跟进的",
    "有需要随时找{agent}", "麻烦您留意一下物流信息", "祝您生活愉快", "感谢您的理解", "您先看看",
)
ANGRY_EXTRAS = ("你们到底管不管", "太失望了", "什么破店", "说话啊", "人呢？？", "别装死",
                "等了一上午了", "气死我了", "一直敷衍我", "这都第几次了")
EMOJI = ("😭", "😡", "👍", "🙏", "😂", "😊", "[微笑]", "[大哭]", "[抓狂]", "💔", "❤️", "[捂脸]")
PUNCTUATION = ("，", "。", "！", "？", "!!", "??", " ", "", "", "~", "…")
CITIES = ("北京", "上海", "广州", "成都", "乌鲁木齐", "哈尔滨", "深圳", "杭州", "拉萨", "西安", "长沙")
PRESALE_ANSWERS = (
    "亲，{fact}", "{fact}哦亲", "有的亲，{spec}有现货", "{spec}的暂时缺货，预计{days}天后补货",
    "亲，今天下单{hour}点前付款当天发货", "发中通和韵达，{city}一般{days}天左右到",
    "亲，现在领券立减{coupon}元，到手{price}元", "是正品的亲，支持专柜验货",
    "您{height}cm的话建议选{spec}", "可以的亲，已经帮您备注了", "亲，{product}是我们家的爆款哦，{fact}",
    "拍两件可以再减{coupon}元哦", "这款{product}不包邮偏远地区，其他地区都包邮的",
)
DISPUTE_ANSWERS = (
    "亲，物流显示包裹在{city}中转，预计{days}天内到", "我这边帮您催一下快递，有消息第一时间告诉您",
    "亲，麻烦提供一下订单号，我帮您查询", "已经帮您登记了补发，单号稍后同步给您",
    "亲，这边给您申请了{coupon}元补偿，您看可以吗", "您申请退货退款就可以，运费我们承担",
    "麻烦拍一下商品问题的照片发我看看", "质检那边确认后会给您处理的，请放心",
    "退款已经同意了，1-3个工作日原路退回", "亲，这个情况我们需要跟仓库核实，今天内给您答复",
)
PRODUCT_ISSUES = ("{product}收到就是坏的", "{product}质量太差了，跟描述完全不一样",
                  "{product}少发了一件", "颜色发错了，我要的是{spec}", "{product}有异味",
                  "用了{days}天就坏了", "包装都破了，{product}也压坏了", "尺码不对，穿不了")
LOGISTICS_ISSUES = ("等了{days}天还没到", "物流{days}天没更新了", "快递显示签收了，我没收到啊",
                    "都{days}天了还不发货", "单号{tracking}查不到", "快递员态度很差", "怎么又发错地址了")
REFUND_ISSUES = ("我要退款", "退款怎么还没到账", "申请退货了，什么时候处理", "退款被拒绝了为什么",
                 "退货运费谁出", "我不要了，直接退款吧", "退货寄回去{days}天了还没退款")
EVASIVE_CONTACT = (
    "加v信{handle}聊吧", "加我薇信{handle}，发你实拍", "扣扣{qq}，加我详聊", "加个V：{handle}",
    "我电话{spaced_phone}，打给我", "私聊吧，威信号{handle}", "VX同号{spaced_phone}", "q{qq}，拉你进群",
    "这里不方便说，加微 {handle}", "有事打我手机 {spaced_phone}",
)
PII_BUYER = (
    "我电话{phone}，到了打我", "收件人{name} {spaced_phone}", "身份证号{id_card}，麻烦登记一下",
    "退款打到这张卡吧 {bank_card}", "卡号{bank_card}，开户行{bank}", "我的身份证{id_card}",
    "收货电话改成{phone}",
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ("伟", "芳", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军", "杰", "娟", "涛", "明", "超", "霞")
NICK_HEADS = ("小鹿", "晚风", "居家", "Cindy", "阿狸", "柠檬", "星河", "大橘", "tb", "jd_", "momo",
              "糖果", "北北", "菠萝", "一只", "快乐", "路过的", "老李", "Mia", "夏天")
NICK_TAILS = ("斑比", "不晚", "小能手", "窗边的猫", "爱吃鱼", "酱", "宝妈", "的猫", "同学", "_77",
              "12", "2023", "呀", "喵", "大叔", "很忙", "ing", "001", "")
BANKS = ("工商银行", "建设银行", "招商银行", "农业银行", "中国银行")
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

# Scenario weights (relative): most chats are routine; the risky ones are rare but present.
SCENARIOS = (("presale", 48), ("after_sale", 8), ("logistics", 12), ("quality", 9), ("refund", 8),
             ("angry", 6), ("off_platform", 3), ("review_bribe", 2), ("rude_agent", 2), ("pii", 2))


def read_examples() -> dict[tuple[str, str, str], list[str]]:
    """Example rows of every table, keyed (table, label, role)."""
    pools: dict[tuple[str, str, str], list[str]] = {}
    for path in sorted(EXAMPLES.glob("*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                continue
            label, role, text = parts
            pools.setdefault((path.stem, label, role), []).append(text)
    return pools


def _luhn_complete(digits: str) -> str:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        value = int(digit)
        if position % 2 == 0:
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return digits + str((10 - total % 10) % 10)


class Writer:
    """Assembles messages from the pools; one instance per corpus, driven by one seeded RNG."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.examples = read_examples()
        self.order_counter = rng.randint(10**17, 2 * 10**17)

    # --- slots --------------------------------------------------------------------------------
    def phone(self) -> str:
        rng = self.rng
        return rng.choice(("13", "15", "17", "18", "19")) + str(rng.randint(0, 9)) + f"{rng.randint(0, 10**8 - 1):08d}"

    def spaced_phone(self) -> str:
        number = self.phone()
        separator = self.rng.choice((" ", "-", " ", "  ", "—"))
        return separator.join((number[:3], number[3:7], number[7:]))

    def id_card(self) -> str:
        rng = self.rng
        birth = FIRST_DAY - timedelta(days=rng.randint(18 * 365, 60 * 365))
        body = (rng.choice(("110105", "310104", "330106", "440305", "510107", "420111"))
                + birth.strftime("%Y%m%d") + f"{rng.randint(0, 999):03d}")
        check = ID_CHECK[sum(int(d) * w for d, w in zip(body, ID_WEIGHTS)) % 11]
        return body + check

    def bank_card(self) -> str:
        rng = self.rng
        number = _luhn_complete(rng.choice(("622202", "621700", "622588", "622848", "621661"))
                                + "".join(str(rng.randint(0, 9)) for _ in range(12)))
        if rng.random() < 0.4:
            return " ".join(number[i:i + 4] for i in range(0, len(number), 4))
        return number

    def fill(self, template: str, shop: Shop, agent: str) -> str:
        rng = self.rng
        if "{" not in template:
            return template
        self.order_counter += rng.randint(1, 5000)
        slots = {
            "product": rng.choice(shop.products), "product2": rng.choice(shop.products),
            "spec": rng.choice(shop.specs), "spec2": rng.choice(shop.specs), "fact": rng.choice(shop.facts),
            "city": rng.choice(CITIES), "days": rng.randint(2, 15), "hour": rng.choice((15, 16, 17)),
            "height": rng.randint(150, 190), "weight": rng.randint(80, 200),
            "coupon": rng.choice((5, 10, 15, 20, 30)), "price": rng.randint(19, 899),
            "order": self.order_counter, "refund": rng.randint(10**14, 10**15 - 1),
            "tracking": rng.choice(("SF", "YT", "ZTO", "JD")) + str(rng.randint(10**11, 10**12 - 1)),
            "agent": agent, "shop": shop.name,
            "handle": rng.choice(("xm", "shop", "kf", "vip", "tb")) + str(rng.randint(100, 99999)),
            "qq": rng.randint(10**7, 10**10), "phone": "", "spaced_phone": "", "id_card": "",
            "bank_card": "", "bank": rng.choice(BANKS),
            "name": rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.5 else ""),
        }
        for costly in ("phone", "spaced_phone", "id_card", "bank_card"):
            if "{" + costly + "}" in template:
                slots[costly] = getattr(self, costly)()
        return template.format(**slots)

    def example(self, table: str, label: str, role: str) -> str:
        return self.rng.choice(self.examples[(table, label, role)])

    # --- messages -------------------------------------------------------------------------------
    def buyer(self, pool: tuple[str, ...], shop: Shop, angry: bool = False) -> str:
        """A buyer message: sometimes an opener, one or two fragments, punctuation, emoji."""
        rng = self.rng
        parts = []
        if rng.random() < 0.12:
            parts.append(rng.choice(OPENERS))
        if rng.random() < 0.5:
            parts.append(self.fill(rng.choice(BUYER_CONTEXT), shop, ""))
        parts.append(self.fill(rng.choice(pool), shop, ""))
        if rng.random() < (0.6 if angry else 0.4):
            parts.append(rng.choice(ANGRY_EXTRAS) if angry else self.fill(rng.choice(BUYER_DETAILS), shop, ""))
        if rng.random() < 0.2:
            parts.append(self.fill(rng.choice(pool), shop, ""))
        text = "".join(part + rng.choice(PUNCTUATION) for part in parts).rstrip()
        if rng.random() < 0.12:
            text += rng.choice(EMOJI) * rng.randint(1, 2)
        return text or "？"

    def ack(self) -> str:
        return self.rng.choice(ACKS)

    def agent_answer(self, pool: tuple[str, ...], shop: Shop, agent: str) -> str:
        rng = self.rng
        text = self.fill(rng.choice(pool), shop, agent)
        if rng.random() < 0.5:
            text += "，" + self.fill(rng.choice(pool), shop, agent)
        if not text.startswith("亲") and rng.random() < 0.3:
            text = rng.choice(("亲，", "亲亲，", "好的亲，", "您好，")) + text
        if not text.endswith(("哦", "的")):
            text += rng.choice(("", "", "哦", "～", "。", "呢"))
        if rng.random() < 0.65:
            text += rng.choice(("，", "。", " ")) + self.fill(rng.choice(AGENT_TAILS), shop, agent)
        return text


@dataclass
class Draft:
    """One message before its timestamp is fixed."""

    role: str
    sender: str
    text: str


def _conversation_length(rng: random.Random) -> int:
    # Most chats are short exchanges; a tail of long disputes reaches 40 messages.
    return min(40, max(4, int(rng.lognormvariate(2.25, 0.55))))


def draft_conversation(writer: Writer, shop: Shop, night_start: bool) -> list[Draft]:
    """The messages of one conversation, in order, shaped by a scenario."""
    rng = writer.rng
    scenario = rng.choices([s for s, _ in SCENARIOS], [w for _, w in SCENARIOS])[0]
    length = _conversation_length(rng)
    if scenario in ("angry", "logistics", "quality", "refund") and length < 8:
        length += rng.randint(2, 8)
    agents = [rng.choice(shop.agents)]
    buyer_name = rng.choice(NICK_HEADS) + rng.choice(NICK_TAILS) + (str(rng.randint(1, 999)) if rng.random() < 0.3 else "")
    bot = f"{shop.name}:店小蜜"
    drafts: list[Draft] = []

    def agent_name() -> str:
        return f"{shop.name}:{agents[-1]}"

    def say_buyer(text: str) -> None:
        drafts.append(Draft("buyer", buyer_name, text))

    def say_agent(text: str) -> None:
        drafts.append(Draft("agent", agent_name(), text))

    def canned(pool: tuple[str, ...]) -> str:
        return writer.fill(rng.choice(pool), shop, agents[-1])

    issue_pool = {"logistics": LOGISTICS_ISSUES, "quality": PRODUCT_ISSUES, "refund": REFUND_ISSUES,
                  "angry": LOGISTICS_ISSUES + PRODUCT_ISSUES + REFUND_ISSUES,
                  "after_sale": REFUND_ISSUES + PRODUCT_ISSUES}.get(scenario, PRESALE_QUESTIONS)
    dispute_type = {"logistics": "logistics", "quality": "quality", "refund": "after_sales",
                    "after_sale": "after_sales", "angry": "attitude"}.get(scenario)

    say_buyer(rng.choice(OPENERS) if rng.random() < 0.35 else writer.buyer(issue_pool, shop))
    if shop.has_bot and (night_start or rng.random() < 0.5):
        drafts.append(Draft("bot", bot, BOT_NIGHT if night_start else writer.fill(BOT_WELCOME, shop, "")))
    say_agent(canned(GREETINGS))

    while len(drafts) < length - 2:
        roll = rng.random()
        # Buyer side of the exchange.
        if scenario == "presale" or roll < 0.25:
            say_buyer(writer.buyer(PRESALE_QUESTIONS if scenario == "presale" else issue_pool, shop))
        elif dispute_type and roll < 0.5:
            say_buyer(writer.example("dispute.type", dispute_type, "buyer"))
        else:
            say_buyer(writer.buyer(issue_pool, shop, angry=scenario == "angry"))
        if rng.random() < 0.3:
            say_buyer(writer.buyer(FOLLOW_UPS, shop) if rng.random() < 0.6 else writer.ack())
        if scenario == "angry" and rng.random() < 0.35:
            say_buyer(writer.example("buyer.escalation", "fire", "buyer"))
        if scenario == "pii" and rng.random() < 0.5:
            say_buyer(writer.fill(rng.choice(PII_BUYER), shop, ""))
        if scenario == "off_platform" and rng.random() < 0.3:
            say_buyer(writer.fill(rng.choice(EVASIVE_CONTACT), shop, "") if rng.random() < 0.5
                      else writer.example("risk.contact", "fire", "buyer"))
        if rng.random() < 0.03:
            say_buyer(writer.example(rng.choice(("buyer.escalation", "pii.phone", "risk.contact")), "pass", "buyer"))
        if rng.random() < 0.03:
            drafts.append(Draft("system", "系统", canned(SYSTEM_EVENTS)))
        # Agent side.
        if rng.random() < 0.15:
            say_agent(canned(WAITS))
        if rng.random() < 0.08 and len(shop.agents) > 1:
            agents.append(rng.choice([a for a in shop.agents if a != agents[-1]]))
            drafts.append(Draft("system", "系统", writer.fill("会话已转接给客服{agent}", shop, agents[-1])))
        if scenario == "rude_agent" and rng.random() < 0.4:
            say_agent(writer.example("tone.rude", "fire", "agent"))
        elif scenario == "off_platform" and rng.random() < 0.35:
            say_agent(writer.fill(rng.choice(EVASIVE_CONTACT), shop, agents[-1]) if rng.random() < 0.4
                      else writer.example(rng.choice(("risk.contact", "risk.payment")), "fire", "agent"))
        elif scenario == "review_bribe" and rng.random() < 0.4:
            say_agent(writer.example("risk.review", "fire", "agent"))
        elif dispute_type and rng.random() < 0.45:
            step = rng.choice(("apologise", "ask_evidence", "explain", "remedy", "follow_up"))
            step_line = writer.example("dispute.steps", step, "agent")
            if rng.random() < 0.5:
                step_line += "，" + writer.agent_answer(DISPUTE_ANSWERS, shop, agents[-1])
            say_agent(step_line)
        elif scenario == "presale":
            say_agent(writer.agent_answer(PRESALE_ANSWERS, shop, agents[-1]))
        else:
            say_agent(writer.agent_answer(DISPUTE_ANSWERS, shop, agents[-1]))
        if rng.random() < 0.04:
            table = rng.choice(("tone.rude", "tone.apology", "tone.empathy", "risk.contact", "risk.payment",
                                "risk.refusal", "tone.wait"))
            say_agent(writer.example(table, rng.choice(("fire", "pass")) if table != "tone.rude" else "pass", "agent"))
        if rng.random() < 0.1:
            say_agent(canned(THANKS))

    if rng.random() < 0.7:
        say_buyer(writer.ack() if rng.random() < 0.7 else rng.choice(PRAISE))
    if rng.random() < 0.75:
        say_agent(canned(CLOSINGS))
    if rng.random() < 0.15:
        drafts.append(Draft("system", "系统", canned(SYSTEM_ENDINGS)))
    while len(drafts) < 4:
        say_buyer(writer.ack())
        say_agent(canned(CLOSINGS))
    return drafts[:40]


def _next_opening(moment: datetime) -> datetime:
    opening = moment.replace(hour=SERVICE_OPENS, minute=0, second=0)
    return opening if moment < opening else opening + timedelta(days=1)


def _after_hours(moment: datetime) -> bool:
    return not SERVICE_OPENS <= moment.hour < SERVICE_CLOSES


def timestamps(drafts: list[Draft], start: datetime, rng: random.Random) -> list[datetime]:
    """Realistic times: quick bots, agents mostly within a minute, some slow, nights wait."""
    times = []
    moment = start
    previous_role = None
    for draft in drafts:
        if previous_role is not None:
            if draft.role == "bot" or draft.role == "system":
                moment += timedelta(seconds=rng.randint(0, 2))
            elif draft.role == "agent" and previous_role == "agent":
                moment += timedelta(seconds=rng.randint(3, 40))
            elif draft.role == "agent":
                roll = rng.random()
                wait = (rng.randint(3, 45) if roll < 0.72 else rng.randint(45, 180) if roll < 0.92
                        else rng.randint(180, 900) if roll < 0.985 else rng.randint(900, 3600))
                moment += timedelta(seconds=wait)
                if _after_hours(moment):
                    moment = _next_opening(moment) + timedelta(seconds=rng.randint(30, 1800))
            elif previous_role == "buyer":
                moment += timedelta(seconds=rng.randint(2, 60))
            else:
                moment += timedelta(seconds=rng.randint(8, 400))
        times.append(moment)
        previous_role = draft.role
    return times


def generate(messages: int, seed: int, order: str = "conversation") -> Iterator[tuple[str, str, str, str, str]]:
    """Rows (conversation_id, timestamp, role, sender, text) of about ``messages`` messages."""
    rng = random.Random(seed)
    writer = Writer(rng)
    counters = {shop.code: 0 for shop in SHOPS}
    produced = 0
    held: list[tuple[datetime, int, tuple[str, str, str, str, str]]] = []
    while produced < messages:
        shop = rng.choices(SHOPS, weights=(20, 25, 15, 8, 14, 8, 6, 4))[0]
        counters[shop.code] += 1
        start = (FIRST_DAY + timedelta(days=rng.randrange(DAYS), hours=rng.choices(range(24), HOUR_WEIGHTS)[0],
                                       seconds=rng.randrange(3600)))
        drafts = draft_conversation(writer, shop, _after_hours(start))
        conversation_id = f"{shop.code}-{counters[shop.code]:07d}"
        for draft, moment in zip(drafts, timestamps(drafts, start, rng)):
            row = (conversation_id, moment.strftime("%Y-%m-%d %H:%M:%S"), draft.role, draft.sender, draft.text)
            if order == "time":
                held.append((moment, len(held), row))
            else:
                yield row
        produced += len(drafts)
    if order == "time":
        held.sort()
        for _, _, row in held:
            yield row


def write_xlsx(rows: list[tuple[str, ...]], path: Path) -> None:
    """The same rows as the first sheet of a workbook (write-only mode: constant memory)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("chats")
    sheet.append(COLUMNS)
    for row in rows:
        sheet.append(row)
    workbook.save(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, required=True, help="about this many messages")
    parser.add_argument("--out", type=Path, required=True, help="folder for chats.csv (created)")
    parser.add_argument("--seed", type=int, default=7, help="generator seed (7)")
    parser.add_argument("--xlsx", action="store_true", help="also write chats.xlsx with the same rows")
    parser.add_argument("--order", choices=("conversation", "time"), default="conversation",
                        help="rows grouped by conversation (like 千牛 exports, default) or interleaved by time")
    args = parser.parse_args(argv)

    args.out.mkdir(parents=True, exist_ok=True)
    rows = list(generate(args.messages, args.seed, args.order))
    with open(args.out / "chats.csv", "w", encoding="utf-8", newline="") as stream:
        out = csv.writer(stream)
        out.writerow(COLUMNS)
        out.writerows(rows)
    if args.xlsx:
        write_xlsx(rows, args.out / "chats.xlsx")
    texts = [row[4] for row in rows]
    figures = {
        "messages": len(rows),
        "conversations": len({row[0] for row in rows}),
        "distinct_texts": len(set(texts)),
        "mean_length": round(sum(map(len, texts)) / len(texts), 2),
        "buyer_share": round(sum(row[2] == "buyer" for row in rows) / len(rows), 3),
        "seed": args.seed,
        "order": args.order,
    }
    (args.out / "corpus.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"{args.out / 'chats.csv'}: {figures['messages']:,} messages, {figures['conversations']:,} "
          f"conversations, {figures['distinct_texts']:,} distinct texts, mean length "
          f"{figures['mean_length']} characters, {figures['buyer_share']:.0%} from buyers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
