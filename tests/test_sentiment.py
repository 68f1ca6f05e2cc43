"""SentimentModel: snownlp's sentiment score, reproduced exactly, and the buyer trajectory."""

from __future__ import annotations

import gc
import gzip
import marshal
import pickle
import random
from pathlib import Path
from statistics import fmean

import pytest

from cs_audit.analysis import sentiment
from cs_audit.analysis.sentiment import SentimentModel, snownlp_dir
from cs_audit.model import SentimentTrajectory

COMPLAINTS = [
    "质量太差了", "发错货了", "客服态度恶劣", "退款三天了还没到账", "你们是骗子吗", "差评",
    "再也不会买了", "衣服起球了", "鞋子开胶", "味道好刺鼻", "少了一个配件", "屏幕有划痕",
    "我要投诉", "给我退钱", "你们怎么回事", "等了一个星期", "都五天了还不发货", "根本没法用",
    "跟图片上的不一样", "说好的赠品呢", "你们家东西一次比一次差",
]
THANKS = [
    "谢谢亲", "太感谢了", "非常满意，五星好评", "包装很用心", "宝贝收到了", "很喜欢",
    "下次再来", "客服小姐姐真好", "辛苦啦", "物流超快",
]
QUESTIONS = [
    "请问有货吗", "多久能发货", "这个和那个有什么区别", "能便宜点吗", "运费险有吗",
    "快递到哪了", "显示已签收但我没收到", "能发顺丰吗", "可以改地址吗", "什么时候上新",
    "能开发票吗", "我一米七穿多大", "今天下单明天能到吗", "有没有优惠券", "这款还有别的颜色吗",
    "是正品吗", "支持七天无理由退换吗", "没有赠品吗", "成人能穿吗", "我若不满意能退吗",
    "没有发票吗", "成人用的有吗",
]
# Short replies. Runs that open with 是的, 只有, 就是说 ... are cut differently once snownlp's
# start-of-sentence trigrams count, so they pin that part of the model.
SHORT = ["嗯", "哦", "好", "？", "。。。", "ok", "1", "在", "啊", "行吧", "嗯嗯", "好滴", "是的",
         "只有", "就是说", "也就是", "不管怎样", "正在看", "网上比较便宜", "第一反应"]
EMOJI = ["😊", "😡😡", "👍🏻", "🙄", "[笑哭]", "❤", "🙏🙏🙏", "😭"]
NUMBERS = ["¥199", "99.9元", "3天", "2024-06-01", "138****1234", "订单号4012345678901234", "50%"]
ENGLISH = ["OK", "thank you", "WTF", "size S", "iPhone15 Pro Max", "refund please", "Hi"]
TRADITIONAL = ["這個質量太差了", "請問幾天能到", "謝謝你們", "退貨運費誰出", "客服態度很好", "錶帶斷了"]
# Characters of the basic CJK block that snownlp's segmenter has never seen (嗯 is one).
UNSEEN = ["嗯嗯嗯", "喵喵", "囧", "怼他", "懵了", "槑", "氪金", "咩", "啵啵", "哒哒哒", "囧囧囧囧"]
# Outside U+4E00..U+9FA5 (snownlp splits these on whitespace, not through its model).
OUTSIDE_BLOCK = ["〇", "㐀", "𠀀", "鿏", "〆", "々", "ＯＫ", "１２３"]
SEPARATORS = ["", "", "，", "。", "！", "？", "!", "?", "…", "～", "、", "——", "“", "”",
              "【", "】", " ", "\u3000", "\t", "\n", "\r\n", "  "]
POOLS = [COMPLAINTS, COMPLAINTS, THANKS, THANKS, QUESTIONS, QUESTIONS, SHORT, EMOJI, NUMBERS,
         ENGLISH, TRADITIONAL, UNSEEN, OUTSIDE_BLOCK]

EDGE_CASES = [
    " ", "\n", "\u3000", "\t \r\n", "嗯", "好", "。", "😊", "OK", "ok thanks", "12345",
    "abc def", "嗯嗯", "囧囧囧", "嗯好", "好嗯", "嗯好的", "好的嗯", "囧好的谢谢", "謝謝",
    "這個質量太差了", "𠀀𠀀", "〇〇七", "谢谢😊谢谢", "差评！！！", "  质量太差了  ",
    "你好\n在吗\n发货了吗", "垃圾" * 40, "谢谢亲，" * 60, "嗯" * 50,
]


def buyer_like_messages(count: int, seed: int = 20240611) -> list[str]:
    """Edge cases first, then messages built from the fragment pools, some very long."""
    rng = random.Random(seed)
    texts = list(EDGE_CASES)
    while len(texts) < count:
        pieces = rng.randint(20, 60) if rng.random() < 0.05 else rng.randint(1, 6)
        text = ""
        for _ in range(pieces):
            text += rng.choice(rng.choice(POOLS)) + rng.choice(SEPARATORS)
        texts.append(text)
    return texts[:count]


@pytest.fixture(scope="module")
def model() -> SentimentModel:
    return SentimentModel()


@pytest.fixture(scope="module")
def snownlp():
    import snownlp  # 3 s and 400 MB: only the comparison tests pay for it

    return snownlp


def test_generated_messages_cover_long_and_varied_text():
    texts = buyer_like_messages(1000)
    assert len(texts) == 1000
    assert max(map(len, texts)) > 300
    assert sum(len(t) <= 2 for t in texts) > 10
    assert any("嗯" in t for t in texts) and any("這" in t for t in texts)


def test_scores_equal_snownlp_sentiments_on_1000_buyer_like_messages(model, snownlp):
    texts = buyer_like_messages(1000)
    compared = [(text, model.score(text), snownlp.SnowNLP(text).sentiments) for text in texts]
    wrong = [(text[:40], ours, theirs) for text, ours, theirs in compared
             if not abs(ours - theirs) <= 1e-9]
    assert wrong == []


def test_segmentation_equals_snownlp_word_for_word(model, snownlp):
    texts = buyer_like_messages(1000)
    wrong = [text[:40] for text in texts if model.segment(text) != snownlp.seg.seg(text)]
    assert wrong == []


def test_empty_text_scores_the_prior_as_snownlp_classify_does(model, snownlp):
    # SnowNLP("") raises ZeroDivisionError in its BM25 constructor; the sentiment it wraps
    # gives the class prior.
    assert model.score("") == snownlp.sentiment.classify("")
    assert model.score("") == model.score(" \u3000\n")


def test_negative_and_positive_messages_land_on_their_side(model):
    assert model.score("质量太差了，我要退货，差评") < 0.2
    assert model.score("非常满意，谢谢亲，五星好评") > 0.8


def test_repeated_text_gets_the_same_score(model):
    first = model.score("物流太慢了，等了一个星期")
    assert model.score("物流太慢了，等了一个星期") == first


@pytest.fixture(scope="module")
def uncached_copy() -> SentimentModel:
    """A model with every cache off, pickled and unpickled (as a spawned worker gets it)."""
    original = SentimentModel(text_cache_size=0, run_cache_size=0, table_cache_size=0)
    payload = pickle.dumps(original)
    del original
    return pickle.loads(payload)


def test_pickling_carries_the_settings_not_the_model(uncached_copy):
    assert len(pickle.dumps(uncached_copy)) < 1000
    assert uncached_copy._settings == {
        "text_cache_size": 0, "run_cache_size": 0, "table_cache_size": 0,
    }
    assert 0.0 <= uncached_copy.score("谢谢") <= 1.0


def test_scores_do_not_depend_on_the_caches(model, uncached_copy):
    texts = buyer_like_messages(300, seed=7)
    assert [uncached_copy.score(t) for t in texts] == [model.score(t) for t in texts]
    # Again, now that the default model answers from its text cache.
    assert [uncached_copy.score(t) for t in texts] == [model.score(t) for t in texts]


# --- trajectory --------------------------------------------------------------------------


def test_trajectory_means_the_first_and_last_turn_and_takes_the_lowest_message(model):
    turns = [["在吗", "这个什么时候发货"], ["质量太差了", "我要退货"], ["好的谢谢"]]
    score = model.score
    first = fmean([score("在吗"), score("这个什么时候发货")])
    last = score("好的谢谢")
    lowest = min(score(t) for turn in turns for t in turn)

    result = model.trajectory(turns)

    assert result == SentimentTrajectory(first=first, last=last, min=lowest, drop=first - last)


def test_trajectory_min_is_the_lowest_message_not_the_lowest_turn_mean(model):
    turns = [["非常满意，五星好评", "质量太差了，差评"]]
    result = model.trajectory(turns)
    assert result.min == model.score("质量太差了，差评")
    assert result.min < result.first


def test_trajectory_skips_empty_and_whitespace_messages_and_turns(model):
    turns = [[""], ["  \n", "\u3000"], ["质量太差了", " "], [], ["谢谢"], ["\t"]]
    result = model.trajectory(turns)
    assert result.first == model.score("质量太差了")
    assert result.last == model.score("谢谢")
    assert result.min == min(model.score("质量太差了"), model.score("谢谢"))
    assert result.drop == result.first - result.last


def test_trajectory_of_a_single_turn_has_no_drop(model):
    result = model.trajectory([["还没发货吗", "急用"]])
    assert result.first == result.last
    assert result.drop == 0.0


def test_trajectory_drop_is_positive_when_the_buyer_turns_sour(model):
    result = model.trajectory([["谢谢亲，很喜欢"], ["怎么还没到"], ["太失望了，差评"]])
    assert result.drop > 0.5


@pytest.mark.parametrize("turns", [[], [[]], [[""], ["   ", "\n"]]])
def test_trajectory_without_buyer_text_is_all_none(model, turns):
    assert model.trajectory(turns) == SentimentTrajectory(None, None, None, None)


# --- the compact segmentation tables and their cache -------------------------------------

SEGMENTATION_ENTRIES = "snownlp-segmentation-*.marshal"


def test_compact_tables_count_what_snownlp_dictionaries_count(model):
    raw = gzip.decompress((snownlp_dir() / "seg" / "seg.marshal.3").read_bytes())
    gc.disable()  # millions of tuples: the collector would triple the time
    try:
        segmentation = marshal.loads(raw)
        # n-gram -> count, every n-gram a tuple of (char, tag) units (snownlp's unigram keys
        # are bare units).
        tables = {1: {(unit,): count for unit, count in segmentation["uni"]["d"].items()},
                  2: segmentation["bi"]["d"], 3: segmentation["tri"]["d"]}
        del segmentation
        rng = random.Random(20240611)
        bos = ("", "BOS")
        unseen = [("囧", tag) for tag in "bmes"] + [("嗯", "s"), ("槑", "b")]
        samples = {}
        for n, table in tables.items():
            grams = list(table)
            sample = rng.sample(grams, 3000) + [gram for gram in grams if bos in gram][:500]
            # The same characters with other tags and in another order: mostly not counted.
            sample += [tuple((char, rng.choice("bmes")) for char, _ in gram)
                       for gram in rng.sample(grams, 1000) if bos not in gram]
            sample += [gram[::-1] for gram in rng.sample(grams, 500) if bos not in gram]
            # Characters the model has never seen, in every position.
            for position in range(n):
                sample += [gram[:position] + (rng.choice(unseen),) + gram[position + 1:]
                           for gram in rng.sample(grams, 200)]
            samples[n] = sample
        samples[1] += [(bos,)]
        samples[2] += [(bos, bos), (bos, ("的", "b")), (bos, ("囧", "s"))]
        samples[3] += [(bos, bos, ("我", "s")), (bos, ("我", "s"), ("的", "s")), (bos, bos, bos)]
        expected = {n: [tables[n].get(gram, 0) for gram in samples[n]] for n in tables}
        del tables, grams
    finally:
        gc.enable()
    segmenter = model._segmenter
    for n, sample in samples.items():
        counts = [segmenter.count(*map(segmenter.unit, gram)) for gram in sample]
        assert counts == expected[n], f"{n}-grams"
        # Both seen and unseen n-grams are in the sample.
        assert sum(count == 0 for count in counts) > 200
        assert sum(count > 0 for count in counts) > 2000


def test_compact_tables_are_flat_arrays(model):
    segmenter = model._segmenter
    assert len(segmenter._uni) == 4 * (4687 + 2)
    assert (len(segmenter._bi.keys), len(segmenter._tri.keys)) == (345_726, 928_492)
    for table in (segmenter._bi, segmenter._tri):
        assert len(table.counts) == len(table.keys)
        assert list(table.keys) == sorted(table.keys)


def test_too_many_characters_for_64_bit_keys_is_a_clear_error():
    chars = [chr(0x10000 + n) for n in range(2**19)]  # 524,288: trigram keys need 64 bits
    model = {"status": ("b", "m", "e", "s"), "l1": 0.1, "l2": 0.3, "l3": 0.6,
             "uni": {"none": 0, "total": 1.0, "d": {(char, "s"): 1 for char in chars}},
             "bi": {"none": 0, "total": 0.0, "d": {}}, "tri": {"none": 0, "total": 0.0, "d": {}}}
    with pytest.raises(ValueError, match=r"seg\.marshal\.3: 524288 characters are too many"):
        sentiment._compact_tables(model, Path("seg.marshal.3"))


def test_the_unit_of_sentence_start_must_be_the_only_one_of_its_character():
    model = {"status": ("b", "m", "e", "s"), "l1": 0.1, "l2": 0.3, "l3": 0.6,
             "uni": {"none": 0, "total": 3.0, "d": {("", "BOS"): 1, ("", "s"): 1, ("好", "s"): 1}},
             "bi": {"none": 0, "total": 0.0, "d": {}}, "tri": {"none": 0, "total": 0.0, "d": {}}}
    with pytest.raises(ValueError, match=r"seg\.marshal\.3: unexpected unit \('', 's'\)"):
        sentiment._compact_tables(model, Path("seg.marshal.3"))


@pytest.fixture(scope="module")
def compact_tables(model) -> dict:
    """The cached form of snownlp's segmentation model (from the suite's cache, which the
    model fixture has filled) for the tests below: they replace the slow build with a
    counted stand-in returning it."""
    return sentiment._segmentation_tables(snownlp_dir() / "seg" / "seg.marshal.3")


@pytest.fixture
def builds(monkeypatch, compact_tables) -> list:
    """Each call of the (stand-in) build of the compact tables, by the model file path."""
    calls = []

    def build(path):
        calls.append(path)
        return compact_tables

    monkeypatch.setattr(sentiment, "_compact_segmentation_model", build)
    return calls


def scores_of(model: SentimentModel) -> list[float]:
    return [model.score(text) for text in buyer_like_messages(300, seed=11)]


def test_a_second_model_reads_the_cached_tables_and_scores_identically(
    monkeypatch, tmp_path, model, builds
):
    monkeypatch.setenv("CS_AUDIT_CACHE_DIR", str(tmp_path))
    first = SentimentModel()
    assert len(builds) == 1
    assert len(list(tmp_path.glob(SEGMENTATION_ENTRIES))) == 1

    second = SentimentModel()

    assert len(builds) == 1  # read back, not built again
    assert scores_of(second) == scores_of(first) == scores_of(model)


def test_cache_off_builds_the_tables_every_time_and_writes_nothing(
    monkeypatch, tmp_path, model, builds
):
    monkeypatch.setenv("CS_AUDIT_CACHE_DIR", "off")
    # Where the cache would be if it were on.
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("HOME", str(tmp_path))

    models = [SentimentModel(), SentimentModel()]

    assert len(builds) == 2
    assert list(tmp_path.iterdir()) == []
    assert scores_of(models[1]) == scores_of(model)


@pytest.mark.parametrize("damage", [
    lambda entry: entry[: len(entry) // 2],
    lambda entry: b"not marshal data",
    lambda entry: b"",
], ids=["truncated", "garbage", "empty"])
def test_a_corrupt_cache_entry_is_built_again(monkeypatch, tmp_path, model, builds, damage):
    monkeypatch.setenv("CS_AUDIT_CACHE_DIR", str(tmp_path))
    SentimentModel()
    [entry] = tmp_path.glob(SEGMENTATION_ENTRIES)
    good = entry.read_bytes()
    entry.write_bytes(damage(good))

    rebuilt = SentimentModel()

    assert len(builds) == 2
    assert entry.read_bytes() == good
    assert scores_of(rebuilt) == scores_of(model)
