"""Find requests to take contact, payment or reviews off the platform (risk.* detections).

Three categories (SPEC §4), judged on what a message says, whoever sent it:

- ``risk.contact``: moving the chat elsewhere (WeChat, QQ, a phone number to call or add,
  other apps, e-mail, QR codes, groups, 私聊/换个地方聊);
- ``risk.payment``: paying outside the platform (transfers to a person, 私下交易, 收款码,
  person-to-person red packets, links to other payment sites);
- ``risk.review``: buying or bargaining reviews (好评返现, 删差评补偿你20, 刷单).

Evasion is the norm, so the rule engine (:mod:`cs_audit.analysis.engine`) matches the words on
normalised text and, for words marked ``pinyin``, on a copy rewritten by sound (薇信, 威信, 嶶信
→ 微信; 口口 → 扣扣). Findings are reported on the original characters.

The word lists are data (``lexicons/risk_*.txt``, in the engine's one format):

- a ``phrase`` fires on its own (私聊, 转账, 好评返现);
- a ``channel`` (微信, 支付宝, 好评) fires with an ``intent`` (加, 转给, 返现) standing on the
  allowed ``side=`` of it within the intent's ``reach=`` in the same clause, or, for contact,
  when an account id follows it (vx:abc12345). A ``strict`` channel (手机号, a phone number)
  needs a ``strong`` intent (加我, 打, 联系), so giving a number for delivery is not a request;
  an intent marked ``question`` counts only when the clause asks (你有微信吗); ``for=`` limits an
  intent to channels with those labels;
- ``risk_safe.txt`` holds the context words of the rules that cancel a finding (``rules.txt``):
  ``@benign`` ordinary words (微信支付, 加急), ``@warned``/``@warned_after``/``@warned_later``
  warnings and refusals (请勿添加微信, 私下交易不受保护) unless they are really questions (能不能
  加微信, 不能加微信吗), and ``@legitimate_*`` surroundings (退款原路退回, 快递员电话, 发票 +
  邮箱), ``@stop`` words that end a warning's reach, and ``@platform_host`` web addresses.

A buyer who asks to be called or written to on their own line (打我电话, 请联系138…, an e-mail
address given) asks for a callback by the shop's staff, the platform's own service (SPEC §4): the
finding is marked ``reach_me`` and not reported for buyers. From an agent the same words give
the agent's personal line and still count.

A message whose only risk words are turned down by a ``refusal`` rule, or which uses one of the
redirect phrases of ``risk_refusal.txt`` (有问题在这里沟通就好), is a refusal:
:meth:`RiskDetector.refuses_off_platform`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cs_audit.analysis.engine import CLAUSE_MARKS, SENTENCE_MARKS, Hit, Scan, Target, Trigger, load_engine
from cs_audit.lexicon import bundled_lexicon_dir
from cs_audit.model import Conversation, Detection, Message

CONTACT = "risk.contact"
PAYMENT = "risk.payment"
REVIEW = "risk.review"
REFUSAL = "risk.refusal"
# The label of refusal phrases that say no without naming what they refuse (不行的哦).
PLAIN = "plain"
CATEGORIES = (CONTACT, PAYMENT, REVIEW)
FAMILY = "risk"
# How far after a channel a question ending (context.txt: 吗, 么, ?) may stand for an intent
# marked `question` to count (你有微信吗呀).
QUESTION_REACH = 3
# An intent reaches its channel within this many characters unless it says reach=N.
DEFAULT_INTENT_REACH = 4

_PHONE = re.compile(r"(?<![0-9a-z])\+?(?:86)?(?:1[3-9][0-9]{9}|0[1-9][0-9]{8,10})(?![0-9])")
_AMOUNT = re.compile(
    r"(?<![0-9a-z])(?:[¥$￥][0-9]{1,6}|[0-9]{1,6}(?:元|块|rmb|r(?![a-z]))"
    # a bare number counts before a clause end, not as a time (22:44) or a list number (1、)
    r"|[0-9]{1,6}(?=$|[,.;!?。…\n吧呀啊哦哈呢了的]|:(?![0-9])))"
)
_ACCOUNT_ID = re.compile(r"(?:号码|号|账号|id|是|为|:)*[a-z0-9]{5,}")
_DIGIT = re.compile(r"[0-9]")
# A company's 400/800 number: a hotline, or an enterprise QQ (800010000). Personal phones and
# QQ numbers never take these ranges, so a contact request naming one is the brand's official
# channel (SPEC §4), not a personal one.
_OFFICIAL_NUMBER = re.compile(r"(?<![0-9])(?:400|800)[0-9]{6,7}(?![0-9])")
_OFFICIAL_LABELS = frozenset({"QQ", "phone", "phone number"})
# The labels of a request to be reached by the other side on the sender's own line or inbox: a
# phone call phrase (打我电话), a call intent (联系, 打, 致电) with a phone word or number, an
# e-mail address or the sender's contact details given (我的联系方式138…), 私信我 (a DM on the
# platform itself). A buyer who asks for that asks the shop's staff to call back or write.
_REACH_ME_PHRASES = frozenset({"phone call", "e-mail", "contact details", "private message"})
_PHONE_LABELS = frozenset({"phone", "phone number"})
# A number cut in two between one sender's consecutive messages (normalised text).
_DIGIT_TAIL = re.compile(r"[0-9]{2,}[,.:;\n]*$")
_DIGIT_HEAD = re.compile(r"[,.:;\n]*[0-9]{2,}")
# E-mail addresses and links are looked for in the half-width original: normalisation removes
# the dots they are made of.
_EMAIL = re.compile(r"[a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}", re.IGNORECASE)
_LINK = re.compile(
    r"(?:https?://|www\.)[a-z0-9./?=&_%#:-]+"
    r"|(?<![a-z0-9@.])(?:[a-z0-9-]+\.)+(?:com|cn|net|org|top|xyz|cc|vip|me|io|shop|store|link)"
    r"(?:/[a-z0-9./?=&_%#-]*)?(?![a-z])",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class RiskFinding:
    """A risk.* finding in one message: [start, end) and characters of the original text."""

    category: str
    span: tuple[int, int]
    text: str
    note: str
    # Asks to be reached on the sender's own line (打我电话, 请联系138…, an e-mail address given):
    # from a buyer that is a callback by the shop's staff, the platform's own service.
    reach_me: bool = False


@dataclass(slots=True)
class _Candidate:
    category: str
    start: int
    end: int
    parts: tuple[Hit, ...]
    note: str


@dataclass(frozen=True, slots=True)
class _Analysis:
    findings: tuple[RiskFinding, ...] = ()
    negated: bool = False
    redirect: bool = False
    plain_no: bool = False


_NOTHING = _Analysis()


def _made(category: str, kind: str, phrase: str, label: str = "", **options) -> Trigger:
    """A trigger the detector makes itself from a pattern rather than from a word list."""
    return Trigger(category, FAMILY, kind, phrase, phrase, label, (), options, "built in")


# Hits the detector makes itself rather than from a word list.
_PHONE_TERM = _made(CONTACT, "channel", "phone number", "phone number", strict=True)
_EMAIL_TERM = _made(CONTACT, "phrase", "e-mail address", "e-mail")
_LINK_TERM = _made(PAYMENT, "channel", "link outside the platform", "link")
_AMOUNT_CHANNEL = _made(PAYMENT, "channel", "amount", "amount")
_AMOUNT_OFFER = _made(REVIEW, "intent", "amount", reach=12, strong=True)
class RiskDetector:
    """Finds risk.contact, risk.payment and risk.review in conversations.

    Construct once: the rule engine of the lexicon folder is loaded (or shared) here.
    """

    def __init__(self, lexicon_dir: Path | str | None = None) -> None:
        folder = Path(lexicon_dir) if lexicon_dir is not None else bundled_lexicon_dir()
        engine = load_engine(folder)
        self.engine = engine
        self._hosts = tuple(word.phrase.lower() for word in engine.words_of("platform_host", FAMILY))
        self._calls = frozenset(word.key for word in engine.words_of("call", FAMILY))
        # The built-in triggers get the same context rules as the listed ones.
        self._phone, self._email, self._link, self._amount, self._offer = (
            _with_rules(term, engine.default_rules(FAMILY, term.category))
            for term in (_PHONE_TERM, _EMAIL_TERM, _LINK_TERM, _AMOUNT_CHANNEL, _AMOUNT_OFFER))
        self._cache: dict[str, _Analysis] = {}

    # --- public API -----------------------------------------------------------------------

    def detect(self, conversation: Conversation) -> list[Detection]:
        """risk.* detections of every message of ``conversation``, in message order."""
        detections: list[Detection] = []
        previous: dict[str, Message] = {}
        for message in conversation.messages:
            findings = self.find(message.text)
            if not findings and message.role in previous:
                findings = self._split_number(previous[message.role].text, message.text)
            previous[message.role] = message
            for finding in findings:
                if finding.reach_me and message.role == "buyer":
                    continue  # a callback by the shop's staff (SPEC §4), not a move off it
                detections.append(
                    Detection(
                        category=finding.category,
                        message_index=message.index,
                        role=message.role,
                        span=finding.span,
                        text=finding.text,
                        note=finding.note,
                    )
                )
        return detections

    def find(self, text: str) -> list[RiskFinding]:
        """The risk.* findings of one message text: at most one per category, earliest first."""
        return list(self._analyse(text).findings)

    def refuses_off_platform(self, text: str) -> bool:
        """Whether ``text`` (an agent's message) turns down taking things off the platform.

        True when the message makes no risk.* request itself and either negates one
        (抱歉，平台规定不能加微信; 私下交易不受保护哦) or sends the buyer back to the platform
        (有问题在这里沟通就好). An agreement (好的加我吧) or an unrelated apology is not a refusal.
        """
        analysis = self._analyse(text)
        return not analysis.findings and (analysis.negated or analysis.redirect)

    def _split_number(self, before: str, text: str) -> list[RiskFinding]:
        """A contact request whose digits run on from the sender's previous message.

        Evaders send "号码138" and then "1234 5678，有事打这个", so neither message holds a
        whole number. When the previous message ends in digits and this one starts with them,
        the two are read as one text; a contact finding that spans the join is reported on this
        message's part of it.
        """
        if not (_DIGIT_TAIL.search(self.engine.scan(before).text)
                and _DIGIT_HEAD.match(self.engine.scan(text).text)):
            return []
        joined = self.find(before + text)
        return [RiskFinding(f.category, (0, f.span[1] - len(before)), text[:f.span[1] - len(before)],
                            f"{f.note} (digits continued from the previous message)", f.reach_me)
                for f in joined
                if f.category == CONTACT and f.span[0] < len(before) < f.span[1]]

    def refusals(self, conversation: Conversation, detections: Sequence[Detection]) -> frozenset[int]:
        """Agent messages that turn down a buyer's off-platform request made before them.

        A message that refuses by itself (:meth:`refuses_off_platform`) counts anywhere after the
        buyer's first request. A plain no (不行的哦, 公司规定) counts only as the agent's first
        message after the buyer turn that asked, and only when it makes no request of its own:
        elsewhere it may refuse anything (好的 … 这个颜色不行的哦), and an agent who goes along
        with the buyer (好的，加我吧) is not refusing.
        """
        asked = sorted({d.message_index for d in detections
                        if d.category.startswith("risk.") and d.role == "buyer"})
        if not asked:
            return frozenset()
        refused: set[int] = set()
        replying = False  # the next agent message answers a buyer turn that made a request
        buyer_turn = False
        for message in conversation.messages:
            if message.index < asked[0]:
                continue
            if message.role == "buyer":
                # a buyer turn is a run of buyer messages: one request in it is enough
                replying = (replying and buyer_turn) or message.index in asked
                buyer_turn = True
                continue
            if message.role != "agent":
                continue
            buyer_turn = False
            analysis = self._analyse(message.text)
            first_reply, replying = replying, False
            if analysis.findings:
                continue
            if analysis.negated or analysis.redirect or (first_reply and analysis.plain_no):
                refused.add(message.index)
        return frozenset(refused)

    # --- analysis -------------------------------------------------------------------------

    def _analyse(self, text: str) -> _Analysis:
        cached = self._cache.get(text)
        if cached is not None:
            return cached
        analysis = self._analyse_uncached(text) if text else _NOTHING
        if len(self._cache) >= 8192:
            self._cache.clear()  # templates repeat within a file; a bounded cache is enough
        self._cache[text] = analysis
        return analysis

    def _analyse_uncached(self, text: str) -> _Analysis:
        scan = self.engine.scan(text)
        folded = scan.text
        hits = list(scan.triggers(FAMILY))
        made: list[Hit] = []
        if _DIGIT.search(folded):
            made += self._number_hits(folded)
        if "@" in text or "." in text or "．" in text:
            made += self._address_hits(scan)
        hits += scan.unmasked(made, FAMILY)
        # Most chat messages hold no risk word that could fire on its own: stop after the scan.
        if not any(hit.entry.kind != "intent" for hit in hits):
            return _NOTHING
        redirect = any(hit.entry.category == REFUSAL and hit.entry.label != PLAIN for hit in hits)
        plain_no = any(hit.entry.category == REFUSAL and hit.entry.label == PLAIN for hit in hits)
        hits = [hit for hit in hits if hit.entry.category != REFUSAL]

        findings: dict[str, RiskFinding] = {}
        negated = False
        for candidate in self._candidates(scan, hits):
            target = Target(candidate.start, candidate.end, candidate.category, FAMILY,
                            _names(candidate), candidate.parts[0].entry.rules)
            excused = scan.excused_by(target)
            if any(rule.refusal for rule in excused):
                negated = True
            elif (not excused and candidate.category not in findings
                  and not (candidate.category == CONTACT and _official_number_near(scan, candidate))):
                start, end = scan.original_span(candidate.start, candidate.end)
                findings[candidate.category] = RiskFinding(
                    candidate.category, (start, end), text[start:end], candidate.note,
                    _reaches_sender(candidate, self._calls),
                )
        if not negated:
            # "我们没有微信哦" names a channel without any request in it; its negation still
            # tells that the agent is refusing.
            negated = any(
                any(rule.refusal for rule in scan.excused_by(Target.of(hit)))
                for hit in hits
                if hit.entry.kind == "channel" and not hit.entry.flag("strict")
            )
        ordered = tuple(sorted(findings.values(), key=lambda finding: finding.span))
        return _Analysis(ordered, negated, redirect, plain_no)

    def _number_hits(self, folded: str) -> list[Hit]:
        hits = [Hit(match.start(), match.end(), self._phone) for match in _PHONE.finditer(folded)]
        for match in _AMOUNT.finditer(folded):
            hits.append(Hit(match.start(), match.end(), self._amount))
            hits.append(Hit(match.start(), match.end(), self._offer))
        return hits

    def _address_hits(self, scan: Scan) -> list[Hit]:
        """E-mail addresses (contact) and links outside the platforms (payment channels)."""
        readable = scan.halfwidth_source()  # same length as the original
        hits: list[Hit] = []
        for match in _EMAIL.finditer(readable):
            hits += _hit_at(scan, match.start(), match.end(), self._email)
        for match in _LINK.finditer(readable):
            if "@" in readable[max(0, match.start() - 1):match.start() + 1]:
                continue  # the domain of an e-mail address
            if not self._is_platform_link(match.group().lower()):
                hits += _hit_at(scan, match.start(), match.end(), self._link)
        return hits

    def _is_platform_link(self, link: str) -> bool:
        host = re.sub(r"^(?:https?://)?", "", link).split("/", 1)[0].split(":", 1)[0]
        return any(host == known or host.endswith("." + known) for known in self._hosts)

    def _candidates(self, scan: Scan, hits: list[Hit]) -> list[_Candidate]:
        """Every phrase, and every channel with its nearest fitting intent or an account id."""
        candidates: list[_Candidate] = []
        # An intent that is part of a longer channel word is that word (联系 in 联系方式:
        # "您的手机号码、联系方式" asks for nothing to be contacted).
        channels = sorted((hit for hit in hits if hit.entry.kind == "channel"), key=lambda hit: hit.start)
        channel_starts = [hit.start for hit in channels]
        longest_channel = max((hit.end - hit.start for hit in channels), default=0)
        intents = sorted((hit for hit in hits if hit.entry.kind == "intent"
                          and not _inside_a_longer(hit, channels, channel_starts, longest_channel)),
                         key=lambda hit: hit.start)
        # Only intents within the longest reach of any intent can pair with a channel: a long
        # message is searched by position, not intent by intent.
        intent_starts = [hit.start for hit in intents]
        reach = max((hit.entry.value("reach", DEFAULT_INTENT_REACH) for hit in intents), default=0)
        longest_intent = max((hit.end - hit.start for hit in intents), default=0)
        for hit in hits:
            kind = hit.entry.kind
            if kind == "phrase":
                candidates.append(_Candidate(hit.entry.category, hit.start, hit.end, (hit,), _describe(hit)))
            elif kind == "channel":
                near = intents[bisect_left(intent_starts, hit.start - reach - longest_intent):
                               bisect_right(intent_starts, hit.end + reach)]
                candidate = _paired(hit, near, scan)
                if candidate is None and hit.entry.category == CONTACT and not hit.entry.flag("strict"):
                    candidate = _with_account_id(hit, scan)
                if candidate is not None:
                    candidates.append(candidate)
        # earliest first; from one place the widest evidence
        candidates.sort(key=lambda candidate: (candidate.start, -candidate.end))
        return candidates


# --- matching helpers -------------------------------------------------------------------------


def _with_rules(term: Trigger, rules) -> Trigger:
    return Trigger(term.category, term.family, term.kind, term.phrase, term.key, term.label,
                   tuple(rules), term.options, term.source)


def _names(candidate: _Candidate) -> frozenset[str]:
    names = {candidate.category, candidate.category.split(".")[-1]}
    names.update(part.entry.label for part in candidate.parts if part.entry.label)
    return frozenset(names)


def _hit_at(scan: Scan, start: int, end: int, term: Trigger) -> list[Hit]:
    """A hit for the original range [start, end), in normalised coordinates (none if all removed)."""
    origin = scan.normalized.origin
    folded_start = bisect_left(origin, start)
    folded_end = bisect_left(origin, end)
    if folded_start >= folded_end:
        return []
    return [Hit(folded_start, folded_end, term)]


def _inside_a_longer(hit: Hit, channels: list[Hit], starts: list[int], longest: int) -> bool:
    """An intent that is part of a longer channel word (联系 in 联系方式) is that word."""
    return any(channel.start <= hit.start and hit.end <= channel.end
               and channel.end - channel.start > hit.end - hit.start
               for channel in channels[bisect_left(starts, hit.end - longest):bisect_right(starts, hit.start)])


def _paired(channel: Hit, intents: list[Hit], scan: Scan) -> _Candidate | None:
    folded = scan.text
    category = channel.entry.category
    best: tuple[tuple[int, int], Hit] | None = None
    for intent in intents:
        term = intent.entry
        if term.category != category:
            continue
        only = term.value("for")
        if only and channel.entry.label not in only:
            continue
        if channel.entry.flag("strict") and not term.flag("strong"):
            continue
        if intent.end <= channel.start:
            side, gap = "before", channel.start - intent.end
        elif intent.start >= channel.end:
            side, gap = "after", intent.start - channel.end
        else:
            continue  # overlapping words are one word, not a channel and an intent
        if term.value("side", "any") not in ("any", side) or gap > term.value("reach", DEFAULT_INTENT_REACH):
            continue
        low, high = min(intent.start, channel.start), max(intent.end, channel.end)
        # a weak word reaches its channel only within the clause ("退钱给你，走微信" is not
        # "微信给你"); a strong one and a review offer may cross a comma
        marks = CLAUSE_MARKS if not term.flag("strong") and category != REVIEW else SENTENCE_MARKS
        if not marks.isdisjoint(folded[low:high]):
            continue
        if term.flag("question") and not scan.asked_after(FAMILY, channel.end, QUESTION_REACH):
            continue
        # nearest first; at equal distance the longer word (返现 rather than 返)
        rank = (gap, intent.start - intent.end)
        if best is None or rank < best[0]:
            best = (rank, intent)
    if best is None:
        return None
    intent = best[1]
    note = f"{_describe(channel)} + '{folded[intent.start:intent.end]}'"
    return _Candidate(
        category,
        min(intent.start, channel.start),
        max(intent.end, channel.end),
        (channel, intent),
        note,
    )


def _with_account_id(channel: Hit, scan: Scan) -> _Candidate | None:
    folded = scan.text
    match = _ACCOUNT_ID.match(folded, channel.end)
    if match is None:
        return None
    start, end = scan.original_span(match.start(), match.end())
    if "*" in scan.normalized.source[start:end]:
        return None  # a masked number (156****1004) is read back to confirm it, never to add
    note = f"{_describe(channel)} followed by an account id"
    return _Candidate(CONTACT, channel.start, match.end(), (channel,), note)


def _reaches_sender(candidate: _Candidate, calls: frozenset[str]) -> bool:
    """Whether the request only asks to be called or written to (打我电话, 联系138…, an address)."""
    if len(candidate.parts) == 1:
        return candidate.parts[0].entry.label in _REACH_ME_PHRASES
    channel, intent = candidate.parts
    return channel.entry.label in _PHONE_LABELS and intent.entry.key in calls


def _official_number_near(scan: Scan, candidate: _Candidate) -> bool:
    """A QQ or phone request with a 400/800 number in its sentence: the brand's official channel."""
    if not _OFFICIAL_LABELS & {part.entry.label for part in candidate.parts}:
        return False
    low, high = scan.sentence(candidate.start, candidate.end)
    return _OFFICIAL_NUMBER.search(scan.text, low, high) is not None


def _describe(hit: Hit) -> str:
    """The word as listed; numbers and addresses only by what they are."""
    name = hit.entry.phrase if hit.entry.source == "built in" else hit.entry.key
    return f"{name} via {hit.via}" if hit.via else name
