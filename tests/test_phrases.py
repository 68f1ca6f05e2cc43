"""Tone phrases: the labelled example tables, context rules, suggestions, spans and roles."""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest

from cs_audit.analysis.phrases import (
    CATEGORIES,
    POLITE_CATEGORIES,
    RUDE_CATEGORY,
    RUDE_KINDS,
    PhraseVerdict,
    ToneDetector,
    _drop_covered,
    lexicon_file,
    rude_suggestion,
)
from cs_audit.analysis.segment import WordSegmenter, read_user_dict
from cs_audit.lexicon import LexiconError
from cs_audit.catalog import load_examples
from cs_audit.model import Conversation, Message
from cs_audit.resources import data_dir

LEXICONS = data_dir("lexicons")


@pytest.fixture(scope="module")
def detector() -> ToneDetector:
    return ToneDetector()


def single_message(text: str, role: str = "agent") -> Conversation:
    return Conversation("C1", "test.csv", (Message(0, role, text),))


def categories_detected(detector: ToneDetector, text: str, role: str = "agent") -> set[str]:
    return {d.category for d in detector.detect(single_message(text, role))}


def verdict_for(detector: ToneDetector, text: str, phrase: str, category: str | None = None):
    """The verdict on lexicon phrase ``phrase`` (of ``category``, when several categories list
    it: 谢谢 thanks and, signing off, closes) in ``text`` (exactly one must exist)."""
    found = [v for v in detector.judge(text)
             if v.phrase.phrase == phrase and category in (None, v.category)]
    assert len(found) == 1, f"{phrase!r} in {text!r}: {found}"
    return found[0]


# --- the example tables -------------------------------------------------------------------


def _all_rows():
    return [pytest.param(category, example.text, id=f"{category}:{example.line}")
            for category in CATEGORIES for example in load_examples(category)]


@pytest.mark.parametrize(("category", "text"), _all_rows())
def test_buyer_messages_never_yield_tone_detections(detector, category, text):
    assert detector.detect(single_message(text, "buyer")) == []


def test_system_messages_are_not_judged_and_bot_messages_are(detector):
    assert detector.detect(single_message("您好，欢迎光临", "system")) == []
    bot = detector.detect(single_message("您好，欢迎光临", "bot"))
    assert {d.category for d in bot} == {"tone.greeting"}
    assert {d.role for d in bot} == {"bot"}


def test_judged_roles_can_be_narrowed_to_human_agents():
    agents_only = ToneDetector(roles=("agent",))
    assert agents_only.detect(single_message("不知道", "bot")) == []
    assert [d.category for d in agents_only.detect(single_message("不知道"))] == [RUDE_CATEGORY]


# --- detections: spans, order, overlaps ---------------------------------------------------


def test_span_points_at_the_original_characters_even_when_full_width(detector):
    text = "ＯＫ，不知道，ＳＢ"
    rude = [d for d in detector.detect(single_message(text)) if d.category == RUDE_CATEGORY]
    assert [(d.span, d.text) for d in rude] == [((3, 6), "不知道"), ((7, 9), "ＳＢ")]
    assert all(text[d.span[0] : d.span[1]] == d.text for d in rude)


def test_detections_follow_message_order_and_carry_index_and_role(detector):
    conversation = Conversation(
        "C1",
        "test.csv",
        (
            Message(0, "buyer", "在吗"),
            Message(1, "agent", "您好，在的"),
            Message(2, "buyer", "快递呢"),
            Message(3, "agent", "不知道，找快递去"),
        ),
    )
    found = [(d.message_index, d.role, d.category, d.text) for d in detector.detect(conversation)]
    assert found == [
        (1, "agent", "tone.greeting", "您好"),
        (1, "agent", "tone.greeting", "在的"),
        (3, "agent", RUDE_CATEGORY, "不知道"),
        (3, "agent", RUDE_CATEGORY, "找快递去"),
    ]


def test_longer_rude_phrase_is_reported_once_instead_of_the_shorter_inside_it(detector):
    found = detector.detect(single_message("我也没办法"))
    assert [(d.category, d.text) for d in found] == [(RUDE_CATEGORY, "也没办法")]


def test_polite_phrase_inside_a_rude_phrase_does_not_count(detector):
    for category in ("tone.thanks", "tone.closing"):
        verdict = verdict_for(detector, "谢谢你的差评", "谢谢", category)
        assert not verdict.counts
    assert categories_detected(detector, "谢谢你的差评") == {RUDE_CATEGORY}


def _drop_covered_plain(verdicts):
    """The obvious quadratic version _drop_covered must equal: each counted phrase, rude first
    then longest then earliest, is covered by the first kept one it overlaps (same category, or
    any rude one)."""
    kept, result = [], []
    counted = sorted((v for v in verdicts if v.counts),
                     key=lambda v: (v.category != RUDE_CATEGORY, v.span[0] - v.span[1], v.span[0]))
    for verdict in counted:
        start, end = verdict.span
        cover = next((other for other in kept if other.span[0] < end and start < other.span[1]
                      and other.category in (verdict.category, RUDE_CATEGORY)), None)
        if cover is None:
            kept.append(verdict)
            result.append(verdict)
        elif cover.category == verdict.category:
            result.append(PhraseVerdict(verdict.phrase, verdict.span, verdict.text, False,
                                        "overlap", f"covered by the longer phrase {cover.text}"))
        else:
            result.append(PhraseVerdict(verdict.phrase, verdict.span, verdict.text, False,
                                        "rude_phrase", f"part of the rude phrase {cover.text}"))
    result.extend(v for v in verdicts if not v.counts)
    result.sort(key=lambda v: (v.span[0], v.span[1], CATEGORIES.index(v.category)))
    return result


@pytest.mark.parametrize("seed", range(40))
def test_overlap_sweep_equals_the_plain_loop_on_random_phrases(detector, seed):
    # Many hits in a short stretch make overlaps, ties and nested covers common; the sweep must
    # keep, drop and explain exactly as the plain loop (issue #21: thousands of hits stay fast).
    rng = random.Random(seed)
    phrases = {category: detector.phrases(category)[0] for category in CATEGORIES}
    count = rng.choice((2, 5, 30, 300, 2000))
    width = max(4, count // rng.choice((1, 3, 10)))
    verdicts = []
    for _ in range(count):
        category = rng.choice(CATEGORIES)
        start = rng.randrange(width)
        end = start + rng.randint(1, 8)
        verdicts.append(PhraseVerdict(phrases[category], (start, end), f"{category}@{start}-{end}",
                                      rng.random() < 0.8))
    assert _drop_covered(list(verdicts)) == _drop_covered_plain(list(verdicts))


def test_one_message_can_carry_several_tone_categories(detector):
    text = "您好，非常抱歉让您久等了，请稍等，我帮您查一下"
    assert categories_detected(detector, text) == {"tone.greeting", "tone.apology", "tone.wait"}


# --- suggestions ---------------------------------------------------------------------------


def rude_phrases():
    return [pytest.param(p, id=p.phrase) for p in ToneDetector().phrases(RUDE_CATEGORY)]


@pytest.mark.parametrize("phrase", rude_phrases())
def test_every_rude_phrase_has_a_suggestion_that_is_not_itself_rude(detector, phrase):
    assert phrase.suggestion and phrase.suggestion != phrase.phrase
    assert detector.suggestion_for(phrase.phrase) == phrase.suggestion
    assert rude_suggestion(phrase.phrase) == phrase.suggestion
    verdicts = detector.judge(phrase.suggestion)
    assert not any(v.counts and v.category == RUDE_CATEGORY for v in verdicts)


def test_rude_detection_carries_its_suggestion_and_polite_ones_none(detector):
    found = detector.detect(single_message("您好，不知道"))
    by_category = {d.category: d for d in found}
    assert by_category[RUDE_CATEGORY].suggestion == "这个问题我帮您确认一下，请您稍等"
    assert by_category["tone.greeting"].suggestion == ""


def test_suggestion_lookup_accepts_the_text_as_found_and_rejects_unknown_phrases(detector):
    assert detector.suggestion_for("ＳＢ") == detector.suggestion_for("sb")
    assert rude_suggestion(" 不知道 ") == rude_suggestion("不知道")
    assert detector.suggestion_for("您好") is None
    assert rude_suggestion("祝您生活愉快") is None


# --- context rules, one by one --------------------------------------------------------------

# rule -> (text where the rule decides against the phrase, phrase, text where the phrase counts
#          [, the phrase's category when several categories list it])
CONTEXT_RULE_CASES = {
    "quoted": ("亲，我们从来不说“爱买不买”这种话", "爱买不买", "爱买不买"),
    "asks_buyer": ("不知道您是否收到了货", "不知道", "不知道，收到再说"),
    "asks_what": ("不知道叔叔平时主要用来做什么呢", "不知道", "不知道什么时候到，你问快递"),
    "invites_questions": ("不清楚的地方随时问我", "不清楚", "不清楚，别问我"),
    "conditional": ("如有不清楚，欢迎随时咨询", "不清楚", "这个我不清楚"),
    "buyer_situation": ("您可能不知道，今天有第二件半价", "不知道", "这个我不知道"),
    "perception": ("图片看不清楚，麻烦重新拍一张", "不清楚", "这个我不清楚，麻烦重新拍一张"),
    "offers_alternative": ("不知道，我帮您问一下仓库", "不知道", "不知道，您问仓库吧"),
    "contrast_offer": ("没办法改地址但可以帮您拦截", "没办法", "没办法改地址"),
    "if_clause": ("不清楚尺码的话可以告诉我身高", "不清楚", "不清楚尺码，自己量"),
    "modifies_noun": ("不可能的事情我们不会承诺", "不可能", "不可能的，我们都检查过"),
    "others_said": ("大家都说了这款很显瘦", "都说了", "都说了不包邮，还问"),
    "reassurance": ("不可能让您吃亏的", "不可能", "不可能发错"),
    "no_matter": ("我不管多晚都会回复您", "我不管", "我不管，反正不能退"),
    "free_choice": ("这几款随便你挑", "随便你", "随便你"),
    "agent_does_it": ("我去找快递核实一下", "去找快递", "你去找快递"),
    "negated": ("不用你去投诉，我来处理", "你去投诉", "那你去投诉"),
    "understands_meaning": ("我理解的是您要换黑色", "我理解", "我理解，换谁都会着急"),
    "you_are_so": ("你好慢", "你好", "你好，在的"),
    "anything_else": ("还有什么可以帮您的吗", "有什么可以帮您", "请问有什么可以帮您"),
    "lottery_wording": ("刮开显示谢谢参与就是没中奖", "谢谢", "谢谢，收到了", "tone.thanks"),
    "thanks_object": ("包裹里有一张感谢卡", "感谢", "感谢您的支持"),
    "does_not_match": ("单号对不起来", "对不起", "对不起，来晚了"),
    "advice_follows": ("您先别着急确认收货", "您先别着急", "您先别着急，我帮您查"),
    "delivery_wait": ("稍等两三天就到了", "稍等", "稍等，我看看"),
    "buyer_does_it": ("您帮我看一下是不是这个颜色", "我看一下", "好的，我看一下"),
    "brand_name": ("哈喽kitty联名款到货了", "哈喽", "哈喽，在的"),
    "feeling_follows": ("换作是我也会选这个尺码", "换作是我", "换作是我，肯定也很着急"),
    "asks_question": ("还有什么需要准备的，我列给您", "还有什么需要", "还有什么需要吗"),
    "answers_opening": ("同事们都在的时候回复会快一些", "在的", "亲，在的"),
    "opens_reply": ("每包25片呢亲", "亲", "亲，这边帮您查一下订单"),
    "already_greeted": ("您好亲，这边帮您查一下订单", "亲", "亲，这边帮您查一下订单"),
    "signs_off": ("我们谢谢你的理解", "谢谢", "请您留意工作人员的电话，谢谢！", "tone.closing"),
    "thanks_for_waiting": ("谢谢您的耐心等待，已经查到物流了", "谢谢", "好的，谢谢亲", "tone.closing"),
    "offers_help": ("还有其他的吗", "还有其他", "请问还有其他还可以帮到您的吗"),
    "names_whose": ("祝您的宝宝健康成长，这款奶瓶很适合新生儿", "祝您", "祝您旅途愉快"),
    "gives_reason": ("因为大小不同没办法估计有几片", "没办法", "没办法估计有几片"),
    "way_forward_first": ("白天的客服会联系您我这边不清楚", "不清楚", "这个我这边不清楚"),
    "alone": ("不行哦，赠品以页面为准", "不行", "不行哦亲"),
    "about_goods": ("还有其他颜色需要我帮您看看库存吗", "还有其他", "请问还有其他还可以帮到您的吗"),
    "offers_to_explain": ("您哪里不懂？我再给您解释一下", "不懂?", "补发一个啊，不懂？"),
    "bare_reply": ("对的，这款是纯棉的", "对的", "对的呢"),
    "asked_back": ("是在输入法里没办法设置吗？", "没办法", "没办法，系统就是这样"),
}


def _chat(*turns: tuple[str, str]) -> Conversation:
    return Conversation("C1", "test.csv", tuple(Message(i, r, t) for i, (r, t) in enumerate(turns)))


@pytest.mark.parametrize("buyer, reply, rude", [
    ("你这骗子，没有下次生意了", "对的", True),
    ("这款是干的吗", "对的", False),
    ("气死了，我要投诉", "小店新品上市，喜欢的话可以拍下哦", True),
    ("这款好吃吗", "小店新品上市，喜欢的话可以拍下哦", False),
])
def test_a_bare_word_or_a_sales_line_is_rude_only_after_an_upset_buyer(detector, buyer, reply, rude):
    found = [d for d in detector.detect(_chat(("buyer", buyer), ("agent", reply)))
             if d.category == RUDE_CATEGORY]
    assert bool(found) == rude


def test_the_upset_turn_is_the_buyers_last_run_of_messages(detector):
    # Upset, then apologised to, then calm: the later 嗯嗯 answers the calm turn.
    chat = _chat(("buyer", "你这骗子"), ("agent", "非常抱歉，我马上帮您核实"),
                 ("buyer", "好吧，等你消息"), ("agent", "嗯嗯"))
    assert not [d for d in detector.detect(chat) if d.category == RUDE_CATEGORY]
    chat = _chat(("buyer", "太失望了"), ("buyer", "东西是坏的"), ("agent", "嗯嗯"))
    assert [d.message_index for d in detector.detect(chat) if d.category == RUDE_CATEGORY] == [2]


def test_every_context_rule_has_a_case_here(detector):
    assert set(CONTEXT_RULE_CASES) == set(detector.rules)


@pytest.mark.parametrize("rule_name", sorted(CONTEXT_RULE_CASES))
def test_context_rule_decides_against_the_phrase_in_its_context(detector, rule_name):
    decided_text, phrase, _, *category = CONTEXT_RULE_CASES[rule_name]
    verdict = verdict_for(detector, decided_text, phrase, *category)
    assert not verdict.counts
    assert verdict.decided_by == rule_name
    assert verdict.note


@pytest.mark.parametrize("rule_name", sorted(CONTEXT_RULE_CASES))
def test_phrase_counts_when_its_context_rule_does_not_apply(detector, rule_name):
    _, phrase, counted_text, *category = CONTEXT_RULE_CASES[rule_name]
    assert verdict_for(detector, counted_text, phrase, *category).counts


def test_a_satisfied_require_rule_is_the_note_of_the_detection(detector):
    greeting = [d for d in detector.detect(single_message("亲，在的")) if d.text == "在的"]
    assert greeting[0].note == detector.rules["answers_opening"].note


def test_a_rude_phrase_says_why_it_reads_as_rude(detector):
    assert [d.note for d in detector.detect(single_message("爱买不买"))] == [
        RUDE_KINDS["brushes_off_hesitation"]]


def test_a_rude_phrase_decided_by_context_gives_its_kind_and_the_context(detector):
    (note,) = [d.note for d in detector.detect(single_message("不行哦"))]
    assert note.startswith(RUDE_KINDS["refusal"]) and "bare refusal" in note


def test_a_rude_phrase_without_a_kind_has_no_note(lexicon_copy):
    append_line(lexicon_copy / "tone_rude.txt", "爱理不理 | phrase | say=您的问题我都会认真回复")
    assert [d.note for d in ToneDetector(lexicon_copy).detect(single_message("爱理不理的"))] == [""]


def test_a_misspelt_rude_kind_is_an_error_naming_file_and_line(lexicon_copy):
    line = append_line(lexicon_copy / "tone_rude.txt", "爱理不理 | phrase | as=rudeish | say=您好")
    with pytest.raises(LexiconError, match=rf"tone_rude.txt:{line}: .*as= must be one of"):
        ToneDetector(lexicon_copy)


def test_alternative_must_come_after_the_refusal_not_be_its_object(detector):
    # 帮您 right after 没办法 is what cannot be done; only a later clause offers a way out.
    assert verdict_for(detector, "没办法帮您修改地址", "没办法").counts
    assert not verdict_for(detector, "没办法帮您修改地址，我帮您申请拦截", "没办法").counts


def test_rude_phrase_without_rules_is_not_excused_by_an_alternative(detector):
    assert verdict_for(detector, "爱买不买，不过可以帮您看看优惠券", "爱买不买").counts


# --- whole words (private jieba) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "phrase", "counts"),
    [
        ("你给我滚", "滚", True),
        ("滚筒洗衣机专用", "滚", False),
        ("裙摆是滚边设计", "滚", False),
        ("页面可以上下滚动", "滚", False),
        ("你是不是有病", "有病", True),
        ("电脑有病毒", "有病", False),
        ("植物有病斑要先打药", "有病", False),
        ("去死皮效果很好", "去死", False),
        ("你是sb吗", "sb", True),
        ("您好，在的", "您好", True),
        ("麻烦您好评", "您好", False),
        ("您好像拍错了", "您好", False),
        ("好的，再见", "再见", True),
        ("不想再见到这种情况", "再见", False),
    ],
)
def test_whole_word_phrases_count_only_as_whole_words(detector, text, phrase, counts):
    verdict = verdict_for(detector, text, phrase)
    assert verdict.counts is counts
    if not counts:
        assert verdict.decided_by == "whole_word"
        assert verdict.note.startswith("part of the longer word")


def test_latin_phrases_are_found_only_where_a_word_starts(detector):
    assert [v for v in detector.judge("usb接口") if v.phrase.phrase == "sb"] == []


def test_jieba_loads_only_when_a_whole_word_phrase_is_met():
    fresh = ToneDetector()
    fresh.judge("请稍等，我帮您查一下")
    assert not fresh.segmenter.is_loaded
    fresh.judge("滚筒洗衣机")
    assert fresh.segmenter.is_loaded


def test_each_distinct_text_is_segmented_once(monkeypatch):
    segmenter = WordSegmenter.from_user_dict(LEXICONS / "jieba_user_dict.txt")
    segmenter.is_whole_word("warm up", 0, 4)
    tokenizer = segmenter._ensure_tokenizer()
    calls = []
    original = tokenizer.tokenize
    def counting_tokenize(text, **options):
        calls.append(text)
        return original(text, **options)

    monkeypatch.setattr(tokenizer, "tokenize", counting_tokenize)
    for _ in range(3):
        segmenter.is_whole_word("滚筒洗衣机", 0, 1)
        segmenter.is_whole_word("你给我滚", 3, 4)
    assert calls == ["滚筒洗衣机", "你给我滚"]


def test_private_tokenizer_leaves_the_global_jieba_alone(detector):
    import jieba

    detector.judge("滚筒洗衣机")
    assert detector.segmenter.is_loaded
    assert jieba.dt.FREQ.get("去死") != 3000  # our user dictionary's frequency


def test_user_dict_rejects_frequency_zero(tmp_path):
    path = tmp_path / "dict.txt"
    path.write_text("# comment\n滚筒 100\n滚 0\n", encoding="utf-8")
    with pytest.raises(LexiconError, match=r"dict.txt:3"):
        read_user_dict(path)


# --- lexicon files ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [lexicon_file(c) for c in CATEGORIES]
    + ["rules.txt", "context.txt", "tone_context.txt", "jieba_user_dict.txt"],
)
def test_each_lexicon_documents_its_format_in_a_header(name):
    head = (LEXICONS / name).read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert head.startswith("#") and "Format" in head


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_lexicon_phrase_is_found_by_the_automaton(detector, category):
    missing = [
        p.phrase
        for p in detector.phrases(category)
        if not any(v.phrase is p for v in detector.judge(p.phrase))
    ]
    assert missing == []


def test_polite_lexicons_carry_no_suggestions(detector):
    assert all(not p.suggestion for c in POLITE_CATEGORIES for p in detector.phrases(c))


@pytest.fixture
def lexicon_copy(tmp_path) -> Path:
    target = tmp_path / "lexicons"
    shutil.copytree(LEXICONS, target, ignore=shutil.ignore_patterns("examples", "categories"))
    return target


def append_line(path: Path, line: str) -> int:
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n" + line + "\n"
    path.write_text(text, encoding="utf-8")
    return text.count("\n")


@pytest.mark.parametrize(
    ("file_name", "line", "message"),
    [
        ("tone_rude.txt", "爱理不理 | phrase", "needs a suggestion"),
        ("tone_greeting.txt", "欢迎欢迎 | phrase | @no_such_rule", "no rule 'no_such_rule'"),
        ("tone_greeting.txt", "您好 | phrase | whole_word", "already listed"),
        ("tone_thanks.txt", "谢谢惠顾 | phrase | @quoted", "applies to every phrase"),
        ("tone_context.txt", "但是 | @no_such_rule", "no rule 'no_such_rule'"),
        ("tone_context.txt", "但是 | phrase", "holds context words only"),
        ("rules.txt", "odd | maybe | after | a note", "effect 'maybe'"),
        ("rules.txt", "lonely | excuse | after | no words anywhere", "has no words"),
    ],
)
def test_malformed_lexicon_line_is_reported_with_file_and_line(
    lexicon_copy, file_name, line, message
):
    number = append_line(lexicon_copy / file_name, line)
    expected = rf"{re.escape(file_name)}:{number}: .*{re.escape(message)}"
    with pytest.raises(LexiconError, match=expected):
        ToneDetector(lexicon_copy)


def test_a_shop_can_extend_the_rude_lexicon_in_its_own_folder(lexicon_copy):
    append_line(lexicon_copy / "tone_rude.txt", "爱理不理 | phrase | say=您的问题我都会认真回复")
    custom = ToneDetector(lexicon_copy)
    found = custom.detect(single_message("爱理不理的"))
    assert [(d.text, d.suggestion) for d in found] == [("爱理不理", "您的问题我都会认真回复")]
    assert rude_suggestion("爱理不理", lexicon_copy) == "您的问题我都会认真回复"


def test_a_built_detector_survives_pickling_for_worker_processes(detector):
    import pickle

    detector.judge("滚筒洗衣机")
    copy = pickle.loads(pickle.dumps(detector))
    text = "不知道，滚筒洗衣机找快递去"
    assert copy.detect(single_message(text)) == detector.detect(single_message(text))
