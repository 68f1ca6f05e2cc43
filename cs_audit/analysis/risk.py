"""Find requests to take contact, payment or reviews off the platform (risk.* detections).

Three categories (SPEC §4), judged on what a message says, whoever sent it:

- ``risk.contact``: moving the chat elsewhere (WeChat, QQ, a phone number to call or add,
  other apps, e-mail, QR codes, groups, 私聊/换个地方聊);
- ``risk.payment``: paying outside the platform (transfers to a person, 私下交易, 收款码,
  person-to-person red packets, links to other payment sites);
- ``risk.review``: buying or bargaining reviews (好评返现, 删差评补偿你20, 刷单).

Evasion is the norm, so every message is first normalised (:mod:`cs_audit.analysis.normalize`)
and the words are matched on the normalised text; a second pass matches the ``pinyin`` words
on a copy in which every character that reads like one of their characters is replaced by it
(薇信, 威信, 嶶信 → 微信; 口口 → 扣扣), plus a short look-alike table (徽 → 微). Findings are
reported on the original characters.

The word lists are data (``lexicons/risk_*.txt``; ``risk_contact.txt`` documents the format):

- a ``phrase`` fires on its own (私聊, 转账, 好评返现);
- a ``channel`` (微信, 支付宝, 好评) fires with an ``intent`` (加, 转给, 返现) standing on the
  allowed side of it within the intent's reach in the same sentence, or, for contact, when an
  account id follows it (vx:abc12345). A ``strict`` channel (手机号, a phone number) needs a
  ``strong`` intent (加我, 打, 联系), so giving a number for delivery is not a request;
- ``risk_safe.txt`` holds what cancels a finding: masks (微信支付, 加急), negations and
  warnings in the same clause (请勿添加微信, 私下交易不受保护) unless they are really questions
  (能不能加微信, 不能加微信吗), and legitimate context (退款原路退回, 快递员电话, 发票 + 邮箱).

A message whose only risk words are negated, or which uses one of the redirect phrases of
``risk_refusal.txt`` (有问题在这里沟通就好), is a refusal: :meth:`RiskDetector.refuses_off_platform`.
"""

from __future__ import annotations

import importlib.util
import re
from bisect import bisect_left
from dataclasses import dataclass
from pathlib import Path

import ahocorasick

from cs_audit.analysis.normalize import NormalizedText, normalize
from cs_audit.analysis.textnorm import to_halfwidth
from cs_audit.cache import cached
from cs_audit.lexicon import (
    LexiconEntry,
    LexiconError,
    ProblemList,
    bundled_lexicon_dir,
    did_you_mean,
    read_lexicon,
)
from cs_audit.model import Conversation, Detection

CONTACT = "risk.contact"
PAYMENT = "risk.payment"
REVIEW = "risk.review"
CATEGORIES = (CONTACT, PAYMENT, REVIEW)

_CATEGORY_LEXICONS = {CONTACT: "risk_contact", PAYMENT: "risk_payment", REVIEW: "risk_review"}
_SCOPE_NAMES = {"contact": CONTACT, "payment": PAYMENT, "review": REVIEW}
_CATEGORY_KINDS = ("channel", "intent", "phrase")
_SAFE_KINDS = ("mask", "not", "context", "break", "host")
_DEFAULT_REACH = {"intent": 4, "not": 8, "context": 8}
_FLAGS = ("strong", "strict", "question", "pinyin", "edge", "sentence")
_POSITIONS = ("before", "after", "any", "both", "anywhere")
_POSITIONS_OF_KIND = {
    "intent": ("before", "after", "any"),
    "not": ("before", "after"),
    "context": ("before", "after", "both", "anywhere"),
}

_SENTENCE_MARKS = frozenset(".!?;。…\n")
# 、 separates list items, so a warning reaches across it (禁止通过微信、QQ私下联系).
_CLAUSE_MARKS = _SENTENCE_MARKS | frozenset(",:")
# A Chinese `edge` phrase may be followed by one of these and still be a whole phrase (加薇吧).
_PARTICLES = frozenset("了吧啊呀呢哈嘛哦噢喔啦哇")
_QUESTION_ENDINGS = frozenset("吗么?")
_QUESTION_WORDS = ("为什么", "为啥", "怎么")
# How far after a request a 吗/? may stand for the request to be a question (不能加微信吗呀).
_QUESTION_REACH = 3
# A message needs at least one of these before the rest of the words are looked for: most
# chat messages have none, and stop after one automaton pass.
_TRIGGER_KINDS = frozenset({"channel", "phrase", "redirect"})

_PHONE = re.compile(r"(?<![0-9a-z])\+?(?:86)?(?:1[3-9][0-9]{9}|0[1-9][0-9]{8,10})(?![0-9])")
_AMOUNT = re.compile(
    r"(?<![0-9a-z])(?:[¥$￥][0-9]{1,6}|[0-9]{1,6}(?:元|块|rmb|r(?![a-z]))"
    r"|[0-9]{1,6}(?=$|[,.:;!?、。…\n吧呀啊哦哈呢了的]))"
)
_ACCOUNT_ID = re.compile(r"(?:号码|号|账号|id|是|为|:)*[a-z0-9]{5,}")
_DIGIT = re.compile(r"[0-9]")
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
class RiskTerm:
    """One line of a risk lexicon, compiled: a phrase, what it does, and its options."""

    phrase: str
    kind: str
    categories: frozenset[str]
    label: str = ""
    position: str = "any"
    reach: int = 4
    strong: bool = False
    strict: bool = False
    question: bool = False
    pinyin: bool = False
    edge: bool = False
    sentence: bool = False
    only: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class RiskFinding:
    """A risk.* finding in one message: [start, end) and characters of the original text."""

    category: str
    span: tuple[int, int]
    text: str
    note: str


@dataclass(slots=True)
class _Hit:
    start: int
    end: int
    term: RiskTerm
    via: str = ""


@dataclass(slots=True)
class _Candidate:
    category: str
    start: int
    end: int
    parts: tuple[_Hit, ...]
    note: str


@dataclass(frozen=True, slots=True)
class _Analysis:
    findings: tuple[RiskFinding, ...] = ()
    negated: bool = False
    redirect: bool = False


_NOTHING = _Analysis()

# Hits the detector makes itself rather than from a word list.
_PHONE_TERM = RiskTerm("phone number", "channel", frozenset({CONTACT}), label="phone number", strict=True)
_EMAIL_TERM = RiskTerm("e-mail address", "phrase", frozenset({CONTACT}), label="e-mail")
_LINK_TERM = RiskTerm("link outside the platform", "channel", frozenset({PAYMENT}), label="link")
_AMOUNT_CHANNEL = RiskTerm("amount", "channel", frozenset({PAYMENT}), label="amount")
_AMOUNT_OFFER = RiskTerm("amount", "intent", frozenset({REVIEW}), reach=12, strong=True)


class RiskDetector:
    """Finds risk.contact, risk.payment and risk.review in conversations.

    Construct once: the lexicons are read and compiled into Aho-Corasick automata here.
    """

    def __init__(self, lexicon_dir: Path | str | None = None) -> None:
        folder = Path(lexicon_dir) if lexicon_dir is not None else bundled_lexicon_dir()
        # Every file is read even after a bad one, so one run lists every bad line.
        problems = ProblemList()
        only_uses: list[tuple[Path, int, frozenset[str]]] = []
        terms: list[RiskTerm] = []
        for category, name in _CATEGORY_LEXICONS.items():
            terms += _read_terms(folder / f"{name}.txt", _CATEGORY_KINDS, frozenset({category}),
                                 problems, only_uses)
        terms += _read_terms(folder / "risk_safe.txt", _SAFE_KINDS, frozenset(CATEGORIES),
                             problems, only_uses)
        terms += _read_terms(folder / "risk_refusal.txt", ("redirect",), frozenset(CATEGORIES),
                             problems, only_uses)
        _check_only_labels(terms, only_uses, problems)
        lookalikes = _read_lookalikes(folder / "risk_lookalike.txt", problems)
        problems.raise_if_any()
        self._hosts = tuple(term.phrase for term in terms if term.kind == "host")
        matched = [term for term in terms if term.kind != "host"]
        self._trigger_automaton = _compile(
            [term for term in matched if term.kind in _TRIGGER_KINDS], lambda phrase: phrase
        )
        self._context_automaton = _compile(
            [term for term in matched if term.kind not in _TRIGGER_KINDS], lambda phrase: phrase
        )

        sounding = [term for term in matched if term.pinyin]
        readings = usual_readings()
        self._homophones = _HomophoneTable(_syllables_of(sounding, readings), lookalikes, readings)
        self._lookalikes = lookalikes
        self._homophone_automaton = _compile(sounding, lambda phrase: phrase.translate(self._homophones))
        self._cache: dict[str, _Analysis] = {}
        self._sounds: dict[str, str] = {}

    # --- public API -----------------------------------------------------------------------

    def detect(self, conversation: Conversation) -> list[Detection]:
        """risk.* detections of every message of ``conversation``, in message order."""
        detections: list[Detection] = []
        for message in conversation.messages:
            for finding in self.find(message.text):
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
        normalized = normalize(text)
        folded = normalized.text
        hits = _lexicon_hits(self._trigger_automaton, folded)
        hits += self._homophone_hits(folded)
        if _DIGIT.search(folded):
            hits += _number_hits(folded)
        if "@" in text or "." in text or "．" in text:
            hits += self._address_hits(normalized)
        if not hits:
            return _NOTHING
        hits = _unmasked(hits + _lexicon_hits(self._context_automaton, folded))
        redirect = False
        cues: list[_Hit] = []
        breaks: list[_Hit] = []
        for hit in hits:
            kind = hit.term.kind
            if kind == "redirect":
                redirect = True
            elif kind == "not" or kind == "context":
                cues.append(hit)
            elif kind == "break":
                breaks.append(hit)

        findings: dict[str, RiskFinding] = {}
        negated = False
        for candidate in self._candidates(folded, hits):
            verdict = _cancelled_by(candidate, cues, breaks, normalized)
            if verdict == "not":
                negated = True
            elif verdict is None and candidate.category not in findings:
                start, end = normalized.original_span(candidate.start, candidate.end)
                findings[candidate.category] = RiskFinding(
                    candidate.category, (start, end), text[start:end], candidate.note
                )
        if not negated and cues:
            # "我们没有微信哦" names a channel without any request in it; its negation still
            # tells that the agent is refusing.
            negated = any(
                _cancelled_by(_single(hit), cues, breaks, normalized) == "not"
                for hit in hits
                if hit.term.kind == "channel" and not hit.term.strict
            )
        ordered = tuple(sorted(findings.values(), key=lambda finding: finding.span))
        return _Analysis(ordered, negated, redirect)

    def _homophone_hits(self, folded: str) -> list[_Hit]:
        sounding = folded.translate(self._homophones)
        if sounding == folded or not self._homophone_automaton:
            return []
        hits: list[_Hit] = []
        for end_index, (length, terms, _checked) in self._homophone_automaton.iter(sounding):
            start, end = end_index + 1 - length, end_index + 1
            written = folded[start:end]
            if written == sounding[start:end]:
                continue  # written plainly: the lexicon pass has it already
            for term in terms:
                if _fits_boundaries(folded, start, end, term):
                    hits.append(_Hit(start, end, term, self._how_it_sounds(written)))
        return hits

    def _how_it_sounds(self, written: str) -> str:
        """How a homophone hit was recognised, for its note: "pinyin 'weixin'" or a look-alike."""
        known = self._sounds.get(written)
        if known is None:
            alike = [character for character in written if character in self._lookalikes]
            if alike:
                known = f"look-alike '{''.join(alike)}'"
            else:
                readings = self._homophones.readings
                known = f"pinyin '{''.join(readings.get(character, character) for character in written)}'"
            if len(self._sounds) < 4096:  # few distinct spellings ever occur
                self._sounds[written] = known
        return known

    def _address_hits(self, normalized: NormalizedText) -> list[_Hit]:
        """E-mail addresses (contact) and links outside the platforms (payment channels)."""
        readable = to_halfwidth(normalized.source)  # same length as the original
        hits: list[_Hit] = []
        for match in _EMAIL.finditer(readable):
            hits += _hit_at(normalized, match.start(), match.end(), _EMAIL_TERM)
        for match in _LINK.finditer(readable):
            if "@" in readable[max(0, match.start() - 1):match.start() + 1]:
                continue  # the domain of an e-mail address
            if not self._is_platform_link(match.group().lower()):
                hits += _hit_at(normalized, match.start(), match.end(), _LINK_TERM)
        return hits

    def _is_platform_link(self, link: str) -> bool:
        host = re.sub(r"^(?:https?://)?", "", link).split("/", 1)[0].split(":", 1)[0]
        return any(host == known or host.endswith("." + known) for known in self._hosts)

    def _candidates(self, folded: str, hits: list[_Hit]) -> list[_Candidate]:
        """Every phrase, and every channel with its nearest fitting intent or an account id."""
        candidates: list[_Candidate] = []
        intents = [hit for hit in hits if hit.term.kind == "intent"]
        for hit in hits:
            kind = hit.term.kind
            if kind == "phrase":
                (category,) = hit.term.categories
                candidates.append(_Candidate(category, hit.start, hit.end, (hit,), _describe(hit)))
            elif kind == "channel":
                candidate = _paired(hit, intents, folded)
                if candidate is None and CONTACT in hit.term.categories and not hit.term.strict:
                    candidate = _with_account_id(hit, folded)
                if candidate is not None:
                    candidates.append(candidate)
        # earliest first; from one place the widest evidence
        candidates.sort(key=lambda candidate: (candidate.start, -candidate.end))
        return candidates


# --- matching helpers -------------------------------------------------------------------------


def _lexicon_hits(automaton: ahocorasick.Automaton | None, folded: str) -> list[_Hit]:
    hits: list[_Hit] = []
    if automaton is None:
        return hits
    for end_index, (length, terms, checked) in automaton.iter(folded):
        start, end = end_index + 1 - length, end_index + 1
        for term in terms:
            if not checked or _fits_boundaries(folded, start, end, term):
                hits.append(_Hit(start, end, term))
    return hits


def _fits_boundaries(folded: str, start: int, end: int, term: RiskTerm) -> bool:
    """ASCII words start at a word boundary; `edge` phrases do not run on into a longer word."""
    first = term.phrase[0]
    if first.isascii() and first.isalpha() and start > 0:
        before = folded[start - 1]
        if before.isascii() and before.isalpha():
            return False
    if term.edge and end < len(folded):
        after = folded[end]
        last = term.phrase[-1]
        if last.isascii():
            return not (after.isascii() and after.isalpha())
        return not ("\u4e00" <= after <= "\u9fff") or after in _PARTICLES
    return True


def _number_hits(folded: str) -> list[_Hit]:
    hits = [_Hit(match.start(), match.end(), _PHONE_TERM) for match in _PHONE.finditer(folded)]
    for match in _AMOUNT.finditer(folded):
        hits.append(_Hit(match.start(), match.end(), _AMOUNT_CHANNEL))
        hits.append(_Hit(match.start(), match.end(), _AMOUNT_OFFER))
    return hits


def _hit_at(normalized: NormalizedText, start: int, end: int, term: RiskTerm) -> list[_Hit]:
    """A hit for the original range [start, end), in normalised coordinates (none if all removed)."""
    folded_start = bisect_left(normalized.origin, start)
    folded_end = bisect_left(normalized.origin, end)
    if folded_start >= folded_end:
        return []
    return [_Hit(folded_start, folded_end, term)]


def _unmasked(hits: list[_Hit]) -> list[_Hit]:
    """Drop every hit lying wholly inside a mask that applies to its categories."""
    masks = [hit for hit in hits if hit.term.kind == "mask"]
    if not masks:
        return hits
    return [
        hit
        for hit in hits
        if hit.term.kind == "mask"
        or not any(
            mask.start <= hit.start
            and hit.end <= mask.end
            and (mask.start, mask.end) != (hit.start, hit.end)
            and mask.term.categories & hit.term.categories
            for mask in masks
        )
    ]


def _paired(channel: _Hit, intents: list[_Hit], folded: str) -> _Candidate | None:
    (category,) = channel.term.categories
    best: tuple[tuple[int, int], _Hit] | None = None
    for intent in intents:
        term = intent.term
        if category not in term.categories:
            continue
        if term.only and channel.term.label not in term.only:
            continue
        if channel.term.strict and not term.strong:
            continue
        if intent.end <= channel.start:
            side, gap = "before", channel.start - intent.end
        elif intent.start >= channel.end:
            side, gap = "after", intent.start - channel.end
        else:
            continue  # overlapping words are one word, not a channel and an intent
        if term.position not in ("any", side) or gap > term.reach:
            continue
        low, high = min(intent.start, channel.start), max(intent.end, channel.end)
        # a weak word reaches its channel only within the clause ("退钱给你，走微信" is not
        # "微信给你"); a strong one and a review offer may cross a comma
        marks = _CLAUSE_MARKS if not term.strong and category != REVIEW else _SENTENCE_MARKS
        if not marks.isdisjoint(folded[low:high]):
            continue
        if term.question and not _is_question(folded, channel.end):
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


def _with_account_id(channel: _Hit, folded: str) -> _Candidate | None:
    match = _ACCOUNT_ID.match(folded, channel.end)
    if match is None:
        return None
    note = f"{_describe(channel)} followed by an account id"
    return _Candidate(CONTACT, channel.start, match.end(), (channel,), note)


def _single(hit: _Hit) -> _Candidate:
    (category,) = hit.term.categories
    return _Candidate(category, hit.start, hit.end, (hit,), "")


def _describe(hit: _Hit) -> str:
    """The word as matched after normalisation; numbers and addresses only by what they are."""
    if hit.via:
        return f"{hit.term.phrase} via {hit.via}"
    return hit.term.phrase


def _is_question(folded: str, position: int) -> bool:
    """A 吗/么/? follows ``position`` closely, in the same clause."""
    for character in folded[position:position + _QUESTION_REACH + 1]:
        if character in _QUESTION_ENDINGS:
            return True
        if character in _CLAUSE_MARKS:
            return False
    return False


def _cancelled_by(
    candidate: _Candidate, cues: list[_Hit], breaks: list[_Hit], normalized: NormalizedText
) -> str | None:
    """'not' if a negation governs the candidate, 'context' if legitimate context does, else None."""
    folded = normalized.text
    verdict: str | None = None
    for cue in cues:
        term = cue.term
        if candidate.category not in term.categories:
            continue
        if term.kind == "context":
            if term.only and not any(part.term.label in term.only for part in candidate.parts):
                continue
            if _context_applies(cue, candidate, folded):
                verdict = "context"
        elif term.position == "after":
            if _negates_from_after(cue, candidate, folded):
                return "not"
        elif _negates_from_before(cue, candidate, breaks, normalized):
            return "not"
    return verdict


def _context_applies(cue: _Hit, candidate: _Candidate, folded: str) -> bool:
    reach, position = cue.term.reach, cue.term.position
    if position == "anywhere":
        return True
    if position in ("before", "both") and cue.end <= candidate.start:
        if candidate.start - cue.end <= reach and _SENTENCE_MARKS.isdisjoint(folded[cue.end:candidate.start]):
            return True
    if position in ("after", "both") and cue.start >= candidate.end:
        if cue.start - candidate.end <= reach and _SENTENCE_MARKS.isdisjoint(folded[candidate.end:cue.start]):
            return True
    return False


def _negates_from_after(cue: _Hit, candidate: _Candidate, folded: str) -> bool:
    if cue.start < candidate.end or cue.start - candidate.end > cue.term.reach:
        return False
    marks = _SENTENCE_MARKS if cue.term.sentence else _CLAUSE_MARKS
    if not marks.isdisjoint(folded[candidate.end:cue.start]):
        return False
    return not _is_question(folded, cue.end)  # 加微信不行吗 asks for it


def _negates_from_before(
    cue: _Hit, candidate: _Candidate, breaks: list[_Hit], normalized: NormalizedText
) -> bool:
    folded = normalized.text
    if cue.end > candidate.start or candidate.start - cue.end > cue.term.reach:
        return False
    between = folded[cue.end:candidate.start]
    if not _CLAUSE_MARKS.isdisjoint(between):
        return False
    if any(cue.end <= hit.start and hit.end <= candidate.start for hit in breaks):
        return False
    if between and _has_space_between(normalized, cue.end, candidate.start):
        return False  # "不要在这说 加我微信": the space ends the clause the 不要 governs
    if _is_a_not_a(cue, folded):
        return False
    if _is_question(folded, candidate.end):
        return False  # 不能加微信吗 asks for it
    clause_start = max(
        (index for index in range(cue.start) if folded[index] in _CLAUSE_MARKS), default=-1
    )
    clause = folded[clause_start + 1:cue.start]
    return not any(word in clause for word in _QUESTION_WORDS)


def _has_space_between(normalized: NormalizedText, start: int, end: int) -> bool:
    original_start = normalized.origin[start - 1] + 1 if start > 0 else 0
    original_end = normalized.origin[end]
    return any(character.isspace() for character in normalized.source[original_start:original_end])


def _is_a_not_a(cue: _Hit, folded: str) -> bool:
    """能不能, 可不可以, 有没有, 加不加: a question, not a negation."""
    phrase = cue.term.phrase
    if phrase[0] not in "不没" or cue.start == 0:
        return False
    following = phrase[1] if len(phrase) > 1 else (folded[cue.end] if cue.end < len(folded) else "")
    return folded[cue.start - 1] == following


# --- loading ----------------------------------------------------------------------------------


def usual_readings() -> dict[str, str]:
    """The usual reading (toneless pinyin) of every Chinese character pypinyin knows.

    Asking pypinyin one character at a time means importing it (about 0.5 s, its phrase
    dictionary included) in every run; the answers never change for one pypinyin version,
    so they are asked once and kept in the cache (cs_audit.cache).
    """
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("pypinyin is not installed (pip install pypinyin)")
    package = Path(next(iter(spec.submodule_search_locations)))
    # Keyed by pypinyin's own data files, so an upgrade that changes a reading misses.
    return cached("pinyin-readings", [package / "pinyin_dict.py", package / "__init__.py"],
                  _ask_pypinyin)


def _ask_pypinyin() -> dict[str, str]:
    from pypinyin import Style, pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    readings: dict[str, str] = {}
    for code in pinyin_dict:
        character = chr(code)
        # Only the usual reading: rare ones would make 机 (ji, rarely wei) sound like 微.
        answer = pinyin(character, style=Style.NORMAL, errors="ignore")
        if answer and answer[0] and answer[0][0]:
            readings[character] = answer[0][0]
    return readings


class _HomophoneTable(dict):
    """``str.translate`` table: a character that reads like a `pinyin` word's character becomes it.

    Filled on demand, one lookup per distinct character.
    """

    def __init__(self, syllables: dict[str, str], lookalikes: dict[str, str],
                 readings: dict[str, str]) -> None:
        super().__init__()
        self._syllables = syllables
        self._lookalikes = lookalikes
        self.readings = readings

    def __missing__(self, code: int) -> int | str:
        character = chr(code)
        replacement: int | str = self._lookalikes.get(character, code)
        if replacement == code and self._syllables and _is_han(character):
            reading = self.readings.get(character, "")
            if reading in self._syllables:
                replacement = self._syllables[reading]
        self[code] = replacement
        return replacement


def _is_han(character: str) -> bool:
    code = ord(character)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3FFFF


def _syllables_of(terms: list[RiskTerm], readings: dict[str, str]) -> dict[str, str]:
    """Syllable → character, from the Chinese characters of the `pinyin` channels (wei → 微)."""
    syllables: dict[str, str] = {}
    for term in terms:
        if term.kind != "channel":
            continue
        for character in term.phrase:
            if _is_han(character):
                syllables.setdefault(readings.get(character, character), character)
    return syllables


def _compile(terms: list[RiskTerm], key_of) -> ahocorasick.Automaton | None:
    grouped: dict[str, list[RiskTerm]] = {}
    for term in terms:
        grouped.setdefault(key_of(term.phrase), []).append(term)
    if not grouped:
        return None
    automaton = ahocorasick.Automaton()
    for key, group in grouped.items():
        # Boundary checks are needed only for ASCII words and `edge` phrases; most words skip them.
        checked = any(term.edge or (term.phrase[0].isascii() and term.phrase[0].isalpha()) for term in group)
        automaton.add_word(key, (len(key), tuple(group), checked))
    automaton.make_automaton()
    return automaton


def _read_terms(path: Path, kinds: tuple[str, ...], categories: frozenset[str],
                problems: ProblemList, only_uses: list[tuple[Path, int, frozenset[str]]]
                ) -> list[RiskTerm]:
    """Compile the lines of one risk lexicon; bad lines are recorded in ``problems``.

    ``only_uses`` receives where each ``only=`` list stands, to be checked against the
    channel labels once every file is read.
    """
    terms: list[RiskTerm] = []
    for entry in read_lexicon(path, problems):
        with problems.gathered():
            term = _read_term(path, entry, kinds, categories)
            if term.only:
                only_uses.append((path, entry.line, term.only))
            terms.append(term)
    return terms


def _read_term(path: Path, entry: LexiconEntry, kinds: tuple[str, ...],
               categories: frozenset[str]) -> RiskTerm:
    def wrong(message: str) -> LexiconError:
        return LexiconError.at(path, entry.line, message)

    if not entry.fields or entry.fields[0] not in kinds:
        given = f" (got {entry.fields[0]!r}{did_you_mean(entry.fields[0], kinds)})" if entry.fields else ""
        raise wrong(f"expected a kind ({', '.join(kinds)}) after '{entry.phrase}'{given}")
    kind = entry.fields[0]
    phrase = normalize(entry.phrase).text if kind != "host" else entry.phrase.lower()
    if not phrase:
        raise wrong(f"'{entry.phrase}' is empty once normalised (spaces and decoration are removed)")
    options: dict = {"reach": _DEFAULT_REACH.get(kind, 4)}
    if kind in ("not", "context"):
        options["position"] = "before"
    scopes: set[str] = set()
    scoped = categories == frozenset(CATEGORIES)
    for option in entry.fields[1:]:
        if option.isdigit():
            options["reach"] = int(option)
        elif option in _POSITIONS:
            options["position"] = option
        elif option in _FLAGS:
            options[option] = True
        elif option in _SCOPE_NAMES and scoped:
            scopes.add(_SCOPE_NAMES[option])
        elif option.startswith("label="):
            options["label"] = option[len("label="):].strip()
            if not options["label"]:
                raise wrong("label= needs a name (label=WeChat)")
        elif option.startswith("only="):
            labels = frozenset(label.strip() for label in option[len("only="):].split(","))
            if not all(labels):
                raise wrong(f"{option!r}: only= needs labels separated by commas (only=WeChat,QQ)")
            options["only"] = labels
        else:
            known = [*_FLAGS, *_POSITIONS, *(_SCOPE_NAMES if scoped else ()), "label=", "only="]
            raise wrong(f"unknown option '{option}' for '{entry.phrase}'{did_you_mean(option, known)}; "
                        f"options are N (a reach), {', '.join(known)}")
    allowed = _POSITIONS_OF_KIND.get(kind, ())
    if "position" in options and options["position"] not in allowed:
        raise wrong(f"'{options['position']}' is not a position for a {kind} "
                    f"(use {', '.join(allowed) or 'none'})")
    return RiskTerm(phrase, kind, frozenset(scopes) or categories, **options)


def _check_only_labels(terms: list[RiskTerm], only_uses: list[tuple[Path, int, frozenset[str]]],
                       problems: ProblemList) -> None:
    """An ``only=`` naming no channel's label would silently never apply: a typo (Wechat)."""
    known = {term.label for term in terms if term.label} | {
        term.label for term in (_PHONE_TERM, _EMAIL_TERM, _LINK_TERM, _AMOUNT_CHANNEL)}
    for path, line, labels in only_uses:
        for label in sorted(labels - known):
            problems.add(path, line, f"only={label}: no channel has label={label}"
                                     f"{did_you_mean(label, known)}; labels: {', '.join(sorted(known))}")


def _read_lookalikes(path: Path, problems: ProblemList) -> dict[str, str]:
    table: dict[str, str] = {}
    for entry in read_lexicon(path, problems):
        target = entry.fields[0] if entry.fields else ""
        if len(entry.phrase) != 1 or len(target) != 1 or len(entry.fields) != 1:
            problems.add(path, entry.line, "expected 'character | character' (one character each: "
                                           "the look-alike, then the character it stands for)")
            continue
        table[normalize(entry.phrase).text or entry.phrase] = target
    return table
