"""Find personal data (mobile numbers, resident ID numbers, bank cards) in chat text and mask it.

How numbers are read
--------------------
The text is first read character for character (same length, so offsets stay valid): any
Unicode digit (full-width ``１``, circled ``①``, other scripts) reads as its ASCII digit, runs of
three or more Chinese numerals (一三八, 幺三八) as digits, and the characters people put inside a
number to dodge filters as a separator: no-break and other spaces, zero-width characters, ``/``,
``_``, ``·``, brackets, and dots inside a dotted run of 11 or more digits (``138.1234.5678``).
A *group* is a maximal run of ASCII digits (an ID number's final ``X`` belongs to its group).
Groups joined by a short separator (1-3 of space, tab, ``-``, ``–``, ``—``) form a *run*:
``138 1234 5678`` is one run of three groups. Every candidate is a sequence of whole groups,
so a number is never found as a slice of a longer digit string (``SF1234567890123`` holds no
phone number). A multi-group candidate must also be *isolated*: the separator used inside it
must not also join it to a neighbouring group, otherwise it is a piece of a longer grouped
number (``6222 1381 2345 678``). Two phone numbers next to each other are still both found.

Groups glued to two or more ASCII letters (``SF…``, ``JD…``, ``YT…``), followed by a letter,
or part of a decimal (``.``) are codes or amounts and never PII.

Categories
----------
``pii.phone``
    Mainland mobile numbers, 11 digits ``1[3-9]…``, any grouping, optional ``+86``/``86``/
    ``0086`` prefix (part of the span). Not when the nearest context word before it is an
    order/tracking word (an 11-digit order number is an order number) and not an amount
    (``¥``/``$`` before, ``元``/``块``/``万`` after). Landlines and 15-digit old IDs are out of scope.
``pii.id_card``
    18-character resident ID: a known province code (first two digits), a real birth date
    (1900-01-01 .. today) and a correct ISO 7064 MOD 11-2 check character. These checks are
    strong enough that no context word is needed.
``pii.bank_card``
    16-19 digits passing the Luhn check, and either a card word is the nearest context word
    before it (卡号, 银行卡, 工行, 开户行, 转账到 …) or it is written in 4-digit groups with no
    order/tracking word nearest before it. A Luhn-valid order number therefore does not fire.

When candidates overlap, an ID number wins over a bank card, which wins over a phone number.

Masking
-------
``mask_text`` replaces digits by ``*`` one for one, keeping every separator, so the length
and layout of the text never change: a phone keeps its first 3 and last 4 digits
(``138****5678``, ``138 **** 5678``, ``+86 138 **** 5678``); an ID or bank card keeps its
first 6 and last 4 characters (``110105********002X``, ``6222 02** **** 7890``). It masks until
nothing is detectable any more, so it is idempotent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from cs_audit.analysis.textnorm import to_halfwidth
from cs_audit.model import Conversation, Detection

PHONE = "pii.phone"
ID_CARD = "pii.id_card"
BANK_CARD = "pii.bank_card"

MASK_CHAR = "*"

# Context words: the one ending nearest before a number decides (订单号 beats 银行卡 further
# back). Each list belongs to one number shape and one window size, which is why they sit next
# to the code that reads them rather than in lexicons/.
_ORDER_WORDS = (
    "订单", "单号", "运单", "快递", "物流", "编号", "流水号", "交易号", "发票", "货号",
    "条码", "商品码", "序列号", "批次", "券码", "兑换码", "激活码", "优惠码", "追踪",
)
_PHONE_WORDS = (
    "手机", "电话", "号码", "联系", "致电", "来电", "短信", "打", "拨", "收件人",
    "tel", "Tel", "TEL", "微信", "vx", "VX", "加我",
)
_CARD_WORDS = (
    "卡号", "银行卡", "储蓄卡", "信用卡", "借记卡", "银联", "开户行", "开户", "账号", "帐号",
    "收款卡", "储蓄", "转账到", "转账", "转到", "打款到", "打到", "汇款到", "汇到", "退到", "退款到",
    "工行", "建行", "招行", "农行", "中行", "交行", "邮储", "银行", "卡",
)
# Letters glued before a number that announce a contact rather than a code (tel13812345678).
_CONTACT_PREFIXES = frozenset({"tel", "phone", "mobile", "mob", "wx", "vx", "wechat", "weixin",
                               "qq", "whatsapp", "call"})
_PHONE_CONTEXT_WINDOW = 10
_CARD_CONTEXT_WINDOW = 15

_PHONE_DIGITS = re.compile(r"(?:0086|86)?1[3-9][0-9]{9}")
_AMOUNT_BEFORE = ("¥", "￥", "$", "RMB", "rmb")
_AMOUNT_AFTER = ("元", "块", "万", "亿", "rmb", "RMB")

# Province-level codes that open a resident ID number (GB/T 2260 first two digits).
_ID_PROVINCES = frozenset(
    {11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
     50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83}
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"

_GROUP_PATTERN = r"[0-9]+(?:[Xx](?![A-Za-z0-9]))?"
_SEPARATOR_PATTERN = r"[ \t\-–—]{1,4}"
_GROUP = re.compile(_GROUP_PATTERN)
_RUN = re.compile(f"{_GROUP_PATTERN}(?:{_SEPARATOR_PATTERN}{_GROUP_PATTERN})*")
_DROP_SEPARATORS = str.maketrans("", "", " \t-–—")
_ANY_DIGIT = re.compile(r"[0-9０-９]")
# Digits that are not 0-9 or full-width (①, other scripts) and runs of Chinese numerals.
_MAYBE_DIGITS = re.compile(r"[^\x00-\x7f\u4e00-\u9fff\uff00-\uffef]|[零〇一幺二两三四五六七八九]{3}")
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")
# The shortest number worth reading: 11 digits, possibly separated. Most messages that contain
# digits (prices, dates, quantities) stop here.
_ELEVEN_DIGITS = re.compile(r"[0-9](?:[ \t\-–—]{0,4}[0-9]){10}")
_MIN_DIGITS = 11
_SPACE_CHARS = frozenset(" \t")


@dataclass(frozen=True, slots=True)
class PiiMatch:
    """One piece of personal data: its category and [start, end) offsets into the original text."""

    category: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class _Group:
    start: int
    end: int
    chars: str  # digits, possibly ending in X/x
    usable: bool  # False for codes (SF123…) and decimals

    @property
    def is_digits(self) -> bool:
        return self.chars.isdigit()


@dataclass(frozen=True, slots=True)
class _Run:
    groups: tuple[_Group, ...]
    separators: tuple[str, ...]  # separators[k] joins groups[k] and groups[k + 1]: "space" | "dash"


def find_pii(text: str) -> list[PiiMatch]:
    """Return the phone, ID-card and bank-card numbers in ``text``, in text order.

    Offsets are into ``text`` as given (full-width digits are read as digits).
    """
    if not _ANY_DIGIT.search(text) and not _MAYBE_DIGITS.search(text):
        return []
    normalised = _reading(text)
    if not _ELEVEN_DIGITS.search(normalised):
        return []
    matches: list[PiiMatch] = []
    for run in _runs(normalised):
        taken: set[int] = set()
        for finder in (_find_id_cards, _find_bank_cards, _find_phones):
            for first, last, match in finder(normalised, run, taken):
                taken.update(range(first, last))
                matches.append(match)
    matches.sort(key=lambda match: match.start)
    return matches


def mask_text(text: str) -> str:
    """Return ``text`` with every phone, ID and bank-card number masked by ``*``.

    Separators and length are kept; see the module docstring for what stays visible.
    Text without digits is returned as is without further work.
    """
    if not _ANY_DIGIT.search(text) and not _MAYBE_DIGITS.search(text):
        return text
    masked = text
    # A second pass only finds something when masking uncovered a new candidate; each pass
    # turns at least one digit into "*", so the loop ends.
    while matches := find_pii(masked):
        normalised = _reading(masked)
        chars = list(masked)
        for match in matches:
            for position in _hidden_positions(normalised, match):
                chars[position] = MASK_CHAR
        masked = "".join(chars)
    return masked


class PiiDetector:
    """Report personal data in every message, whoever sent it."""

    categories = (PHONE, ID_CARD, BANK_CARD)

    def detect(self, conversation: Conversation) -> list[Detection]:
        """Return one detection per number found; ``text`` is the original, unmasked characters."""
        detections: list[Detection] = []
        for message in conversation.messages:
            for match in find_pii(message.text):
                detections.append(
                    Detection(
                        category=match.category,
                        message_index=message.index,
                        role=message.role,
                        span=(match.start, match.end),
                        text=message.text[match.start:match.end],
                    )
                )
        return detections


def is_valid_id_number(number: str) -> bool:
    """True for an 18-character resident ID with a known province, real birth date and check digit."""
    if len(number) != 18 or not number[:17].isdigit():
        return False
    if int(number[:2]) not in _ID_PROVINCES:
        return False
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    if born.year < 1900 or born > date.today():
        return False
    total = sum(int(digit) * weight for digit, weight in zip(number[:17], _ID_WEIGHTS))
    return number[17].upper() == _ID_CHECK_CHARS[total % 11]


def passes_luhn(digits: str) -> bool:
    """True when ``digits`` pass the Luhn checksum used by bank cards."""
    total = 0
    for offset, char in enumerate(reversed(digits)):
        value = int(char)
        if offset % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


# --- reading digit runs -------------------------------------------------------------------


# What a number may be written with, read as a separator (one character for one, so offsets hold).
_SPACE_LIKE = "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000"
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
_BRACKETS_AND_MARKS = "/_·•()（）[]【】|｜"
_SEPARATOR_READING = str.maketrans({char: " " for char in _SPACE_LIKE + _ZERO_WIDTH}
                                   | {char: "-" for char in _BRACKETS_AND_MARKS})
_NUMERALS = {"零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
             "五": "5", "六": "6", "七": "7", "八": "8", "九": "9"}
_NUMERAL_RUN = re.compile("[" + "".join(_NUMERALS) + "]{3,}")
_DOTTED_RUN = re.compile(r"[0-9]+(?:\.[0-9]+){2,}")
_UNUSUAL = re.compile("[^\x00-\x7f\u4e00-\u9fff]")
_DIGIT_READING: dict[str, str] = {}


def _reading(text: str) -> str:
    """``text`` read for numbers, one character for one (see the module docstring)."""
    read = to_halfwidth(text) if _FULL_WIDTH.search(text) else text
    if _UNUSUAL.search(read):
        read = "".join(_digit_of(char) for char in read).translate(_SEPARATOR_READING)
    else:
        read = read.translate(_SEPARATOR_READING)
    if _NUMERAL_RUN.search(read):
        read = _NUMERAL_RUN.sub(lambda found: "".join(_NUMERALS[c] for c in found.group()), read)
    if "." in read:
        read = _DOTTED_RUN.sub(_dotted, read)
    return read


def _digit_of(char: str) -> str:
    known = _DIGIT_READING.get(char)
    if known is None:
        value = unicodedata.digit(char, None) if not char.isascii() else None
        known = str(value) if value is not None and 0 <= value <= 9 else char
        if len(_DIGIT_READING) < 4096:
            _DIGIT_READING[char] = known
    return known


def _dotted(found: re.Match[str]) -> str:
    # 138.1234.5678 is a phone written with dots; 3.14 or 2024.03.15 are not long enough.
    text = found.group()
    return text.replace(".", "-") if sum(c.isdigit() for c in text) >= _MIN_DIGITS else text


def _runs(normalised: str) -> list[_Run]:
    """The digit runs of the text long enough to hold a phone, ID or card number."""
    runs: list[_Run] = []
    for found in _RUN.finditer(normalised):
        if len(found.group().translate(_DROP_SEPARATORS)) < _MIN_DIGITS:
            continue
        groups: list[_Group] = []
        separators: list[str] = []
        for part in _GROUP.finditer(normalised, found.start(), found.end()):
            if groups:
                gap = normalised[groups[-1].end:part.start()]
                separators.append("space" if set(gap) <= _SPACE_CHARS else "dash")
            groups.append(_Group(part.start(), part.end(), part.group(), _is_usable(normalised, part)))
        runs.append(_Run(tuple(groups), tuple(separators)))
    return runs


def _is_usable(normalised: str, found: re.Match[str]) -> bool:
    start, end = found.start(), found.end()
    before = normalised[max(0, start - 2):start]
    if len(before) == 2 and before.isascii() and before.isalpha():
        word = re.search(r"[A-Za-z]+$", normalised[max(0, start - 8):start]).group().lower()
        if word not in _CONTACT_PREFIXES:
            return False  # tracking/order code such as SF…, JD…, YT…
    after = normalised[end:end + 1]
    if after.isascii() and after.isalpha():
        return False
    if before.endswith(".") and normalised[start - 2:start - 1].isdigit():
        return False
    if after == "." and normalised[end + 1:end + 2].isdigit():
        return False
    return True


def _is_isolated(run: _Run, first: int, last: int, neighbours_ok: frozenset[int] = frozenset()) -> bool:
    """A sequence of groups [first, last) is not a piece of a longer, same-separated number."""
    inside = set(run.separators[first:last - 1])
    if not inside:
        return True
    if first > 0 and first - 1 not in neighbours_ok and run.separators[first - 1] in inside:
        return False
    if last < len(run.groups) and last not in neighbours_ok and run.separators[last - 1] in inside:
        return False
    return True


def _sequences(run: _Run, taken: set[int], max_chars: int):
    """Yield (first, last, chars) for every sequence of usable, untaken groups up to max_chars."""
    for first in range(len(run.groups)):
        chars = ""
        for last in range(first, len(run.groups)):
            group = run.groups[last]
            if last in taken or not group.usable:
                break
            chars += group.chars
            if len(chars) > max_chars:
                break
            yield first, last + 1, chars
            if not group.is_digits:
                break  # an X ends an ID number


def _span(run: _Run, first: int, last: int, normalised: str) -> tuple[int, int]:
    start = run.groups[first].start
    if start > 0 and normalised[start - 1] == "+":
        start -= 1
    return start, run.groups[last - 1].end


# --- categories ---------------------------------------------------------------------------


def _find_id_cards(normalised: str, run: _Run, taken: set[int]):
    found = []
    for first, last, chars in _sequences(run, taken, 18):
        if len(chars) == 18 and is_valid_id_number(chars) and _is_isolated(run, first, last):
            if any(first < other_last and other_first < last for other_first, other_last, _ in found):
                continue
            start, end = _span(run, first, last, normalised)
            found.append((first, last, PiiMatch(ID_CARD, start, end)))
    return found


def _find_bank_cards(normalised: str, run: _Run, taken: set[int]):
    found = []
    for first, last, chars in _sequences(run, taken, 19):
        if not (16 <= len(chars) <= 19 and chars.isdigit() and passes_luhn(chars)):
            continue
        if not _is_isolated(run, first, last):
            continue
        if any(first < other_last and other_first < last for other_first, other_last, _ in found):
            continue
        start, end = _span(run, first, last, normalised)
        context = _nearest_context(normalised, start, _CARD_CONTEXT_WINDOW, _CARD_CONTEXT)
        if context == "positive" or (context is None and _in_groups_of_four(run, first, last)):
            found.append((first, last, PiiMatch(BANK_CARD, start, end)))
    return found


def _in_groups_of_four(run: _Run, first: int, last: int) -> bool:
    lengths = [len(group.chars) for group in run.groups[first:last]]
    return len(lengths) >= 4 and all(n == 4 for n in lengths[:-1]) and 1 <= lengths[-1] <= 4


def _find_phones(normalised: str, run: _Run, taken: set[int]):
    shaped: list[tuple[int, int]] = []
    next_free = 0
    for first, last, chars in _sequences(run, taken, 15):
        if first < next_free:
            continue
        if chars.isdigit() and _PHONE_DIGITS.fullmatch(chars):
            shaped.append((first, last))
            next_free = last
    # A phone written right next to another phone is fine; next to any other group it is a slice.
    edges = frozenset(index for first, last in shaped for index in (first, last - 1))
    found = []
    for first, last in shaped:
        if not _is_isolated(run, first, last, edges):
            continue
        start, end = _span(run, first, last, normalised)
        if _looks_like_amount(normalised, start, end):
            continue
        if _nearest_context(normalised, start, _PHONE_CONTEXT_WINDOW, _PHONE_CONTEXT) == "negative":
            continue
        found.append((first, last, PiiMatch(PHONE, start, end)))
    return found


def _looks_like_amount(normalised: str, start: int, end: int) -> bool:
    before = normalised[:start].rstrip()
    after = normalised[end:].lstrip()
    return before.endswith(_AMOUNT_BEFORE) or after.startswith(_AMOUNT_AFTER)


def _context_pattern(positive_words: tuple[str, ...]) -> re.Pattern[str]:
    def alternatives(words: tuple[str, ...]) -> str:
        return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))

    negative, positive = alternatives(_ORDER_WORDS), alternatives(positive_words)
    return re.compile(f"(?P<negative>{negative})|(?P<positive>{positive})")


_PHONE_CONTEXT = _context_pattern(_PHONE_WORDS)
_CARD_CONTEXT = _context_pattern(_CARD_WORDS)


def _nearest_context(normalised: str, start: int, window: int, pattern: re.Pattern[str]) -> str | None:
    """Which kind of word ends closest before ``start``: "positive", "negative" (order words) or None."""
    last = None
    for last in pattern.finditer(normalised, max(0, start - window), start):
        pass
    return last.lastgroup if last else None


def _hidden_positions(normalised: str, match: PiiMatch) -> list[int]:
    positions = [k for k in range(match.start, match.end)
                 if normalised[k].isascii() and normalised[k].isalnum()]
    if match.category == PHONE:
        national = positions[len(positions) - 11:]
        return national[3:-4]
    return positions[6:-4]
