"""Benchmark: SentimentModel.score against SnowNLP(text).sentiments on buyer-like messages.

Run from the repository root:

    python bench/sentiment_bench.py --messages 5000

Prints the load cost of each side (measured in fresh interpreters), the throughput of snownlp,
of the fast path on a fresh model over distinct texts (cold), over the same texts again (warm)
and with its text and run caches off (every message segmented afresh), the ratios taken in this
run, and the largest score difference seen.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time

OPENERS = ["亲", "在吗", "你好", "客服在吗", "老板", "hello", "哈喽", "亲亲", "掌柜的", "您好"]
QUESTIONS = [
    "这个什么时候发货",
    "能不能今天发",
    "有没有{size}码",
    "我{height}cm{weight}斤穿多大",
    "这款有现货吗",
    "包邮吗",
    "可以便宜点吗",
    "有优惠券吗",
    "发什么快递",
    "几天能到{city}",
    "是正品吗",
    "支持七天无理由吗",
    "怎么修改地址",
    "订单{order}帮我看下",
    "什么时候补货",
    "颜色和图片一样吗",
    "能开发票吗",
    "赠品还有吗",
]
COMPLAINTS = [
    "质量太差了",
    "跟描述完全不一样",
    "等了{days}天还没到",
    "物流一直不更新",
    "收到就是坏的",
    "少发了一件",
    "尺码偏小穿不了",
    "颜色发错了",
    "你们客服怎么不回消息",
    "我要退货",
    "我要退款",
    "再不处理我就投诉了",
    "打12315投诉你们",
    "差评",
    "太失望了",
    "垃圾",
    "都{days}天了还不发货",
    "味道很大",
    "一洗就掉色",
    "快递员态度很差",
    "包装都破了",
    "退款怎么还没到账",
]
PRAISE = [
    "谢谢",
    "好的谢谢亲",
    "收到了很喜欢",
    "质量很好",
    "物流很快",
    "客服态度很好",
    "下次还来",
    "已经好评了",
    "孩子很喜欢",
    "性价比很高",
    "麻烦你了",
    "辛苦了",
]
FILLERS = ["嗯", "哦", "好", "好的", "行", "ok", "OK", "知道了", "嗯嗯", "哦哦", "？", "...", "收到"]
TRADITIONAL = ["謝謝", "這個質量太差了", "請問什麼時候發貨", "還沒收到", "運費怎麼算", "退貨流程"]
EMOJI = ["😭", "😡", "👍", "🙏", "😂", "😊", "[微笑]", "[大哭]", "[抓狂]", "💔", "❤️"]
ENGLISH = ["thanks", "sorry", "size M", "iPhone 13", "please", "refund", "OK?", "XL"]
PUNCTUATION = ["，", "。", "！", "？", "!!", "??", " ", "", "~", "…"]
SIZES = ["S", "M", "L", "XL", "XXL", "36", "37", "38", "39", "40"]
CITIES = ["北京", "上海", "广州", "成都", "乌鲁木齐", "哈尔滨", "深圳", "杭州"]


def _fill(fragment: str, rng: random.Random) -> str:
    return fragment.format(
        size=rng.choice(SIZES),
        height=rng.randint(150, 190),
        weight=rng.randint(80, 200),
        city=rng.choice(CITIES),
        order=rng.randint(10**15, 10**16 - 1),
        days=rng.randint(2, 15),
    )


def buyer_message(rng: random.Random) -> str:
    """One made-up buyer message: a mood, one to four fragments, punctuation and extras."""
    mood = rng.random()
    if mood < 0.12:
        return rng.choice(FILLERS) + rng.choice(PUNCTUATION)
    pools = [QUESTIONS] * 3 + [COMPLAINTS] * (4 if mood < 0.6 else 1) + [PRAISE] * 2
    parts = []
    if rng.random() < 0.4:
        parts.append(rng.choice(OPENERS))
    for _ in range(rng.randint(1, 4)):
        parts.append(_fill(rng.choice(rng.choice(pools)), rng))
    if rng.random() < 0.1:
        parts.append(rng.choice(TRADITIONAL))
    if rng.random() < 0.1:
        parts.append(rng.choice(ENGLISH))
    text = ""
    for part in parts:
        text += part + rng.choice(PUNCTUATION)
    if rng.random() < 0.25:
        text += rng.choice(EMOJI) * rng.randint(1, 3)
    return text


def distinct_messages(count: int, seed: int) -> list[str]:
    """``count`` different buyer messages, deterministic for a seed."""
    rng = random.Random(seed)
    seen: dict[str, None] = {}
    while len(seen) < count:
        text = buyer_message(rng)
        if text not in seen:
            seen[text] = None
        elif rng.random() < 0.5:
            # Short stock replies repeat; make a new variant rather than loop on them.
            seen.setdefault(text + str(rng.randint(0, 9999)), None)
    return list(seen)[:count]


LOAD_PROBE = """
import json, resource, sys, time
def rss_mb():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
import cs_audit.model  # the package itself is not what is being measured
before = rss_mb()
start = time.perf_counter()
if sys.argv[1] == "snownlp":
    import snownlp
else:
    from cs_audit.analysis.sentiment import SentimentModel
    model = SentimentModel()
print(json.dumps({"seconds": time.perf_counter() - start, "rss_mb": rss_mb() - before}))
"""


def measure_load(which: str) -> dict:
    """Seconds and resident megabytes to get ``which`` ready, in a fresh interpreter."""
    output = subprocess.run(
        [sys.executable, "-c", LOAD_PROBE, which], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def throughput(score, texts: list[str]) -> tuple[float, list[float]]:
    """Messages per second of ``score`` over ``texts``, and the scores."""
    start = time.perf_counter()
    scores = [score(text) for text in texts]
    return len(texts) / (time.perf_counter() - start), scores


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000, help="distinct messages (5000)")
    parser.add_argument("--seed", type=int, default=20240611, help="message generator seed")
    args = parser.parse_args(argv)

    texts = distinct_messages(args.messages, args.seed)
    chars = sum(map(len, texts)) / len(texts)
    print(f"{len(texts)} distinct buyer-like messages, {chars:.1f} characters on average")

    fast_load = measure_load("fast")
    snow_load = measure_load("snownlp")
    print(
        f"load  SentimentModel(): {fast_load['seconds']:.2f} s, +{fast_load['rss_mb']:.0f} MB"
        f" | import snownlp: {snow_load['seconds']:.2f} s, +{snow_load['rss_mb']:.0f} MB"
        f" | ratio {snow_load['seconds'] / fast_load['seconds']:.2f}x"
    )

    from snownlp import SnowNLP

    from cs_audit.analysis.sentiment import SentimentModel

    model = SentimentModel()
    snow_rate, expected = throughput(lambda text: SnowNLP(text).sentiments, texts)
    cold_rate, cold = throughput(model.score, texts)
    warm_rate, warm = throughput(model.score, texts)
    del model
    # The worst case for new text: no run of Chinese characters seen before.
    uncached = SentimentModel(text_cache_size=0, run_cache_size=0)
    uncached_rate, uncached_scores = throughput(uncached.score, texts)
    worst = max(abs(a - b) for a, b in zip(expected, cold))
    identical = sum(a == b for a, b in zip(expected, cold))
    assert cold == warm == uncached_scores

    print(f"snownlp  SnowNLP(text).sentiments      : {snow_rate:10,.0f} msg/s")
    for label, rate in (
        ("fast     cold (fresh model)            ", cold_rate),
        ("fast     warm (same texts again)       ", warm_rate),
        ("fast     cold, text and run caches off ", uncached_rate),
    ):
        print(f"{label}: {rate:10,.0f} msg/s  {rate / snow_rate:7.1f}x")
    print(f"max |fast - snownlp| = {worst:.3g}; bit-identical {identical}/{len(texts)}")


if __name__ == "__main__":
    main()
