"""Undo the evasive spellings of chat text before matching, keeping a map back to the original.

Sellers and buyers who want to move a deal off the platform write 微信 as "v❤信", "ＶＸ", "薇 信"
or "嶶信" and a phone number as "幺三八 一二三四 五六七八", because platforms filter the plain
forms. :func:`normalize` folds those spellings into one plain form and records, for every
character it produces, which original character it came from, so a finding is always reported
on the characters the sender actually typed.

The steps, per character (cached, so each distinct character is worked out once):

1. full-width to half-width (:func:`cs_audit.analysis.textnorm.to_halfwidth`);
2. compatibility forms to plain letters and digits (NFKD without accents): ①→1, 𝟏→1, ⓥ→v,
   Ⅴ→v, ē→e, Kangxi radicals to the ideograph; enclosed forms lose their brackets and dots
   (⑴→1, ⒈→1, ⒜→a);
3. symbols written for the letter v (√ ✓ ∨ ν) become "v";
4. removal of what only decorates: zero-width and other format characters, whitespace,
   combining marks, symbols and emoji (❤ ➕ ⭐ ™), and punctuation other than the clause marks
   ``, . : ; ! ? 、 。 …`` (so dashes, slashes, brackets, quotes, ·, •, *, #, ~ go);
   newlines are kept because they end a sentence;
5. traditional to simplified, one character to one character (from OpenCC's dictionary);
6. lower case.

Then, over the folded text:

7. a clause mark squeezed between two ASCII letters or digits ("1.3.8", "q,q") is removed;
8. Chinese numerals (零〇一二三四五六七八九两幺, 壹…玖) become digits only inside a run of at
   least three numeral-or-digit characters, so "一下", "一定", "两个" stay words while
   "幺三八一二三四五六七八" becomes a phone number; 十 is left alone because numbers read out
   digit by digit never use it;
9. a letter o between two digits becomes 0 ("138o").
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple, Sequence

from cs_audit.analysis.textnorm import to_halfwidth

# Clause and sentence marks survive normalisation: the detectors use them to decide what a
# "not"/"请勿" governs. Everything else that is punctuation is treated as decoration.
CLAUSE_MARKS = frozenset(",.:;!?、。…\n")
# Kept although they are punctuation or symbols: they carry meaning for the detectors
# (+v, +86, e-mail addresses, prices).
_KEPT_SYMBOLS = frozenset("+@%¥$￥")
_DECORATIVE_CATEGORIES = frozenset({"Cf", "Cc", "Zs", "Zl", "Zp", "Mn", "Me", "Sk", "So", "Sm", "Co"})

_NUMERAL_DIGITS = {
    "零": "0", "〇": "0", "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
    "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
    "壹": "1", "贰": "2", "叁": "3", "肆": "4", "伍": "5", "陆": "6", "柒": "7", "捌": "8", "玖": "9",
}
_NUMERAL_RUN = re.compile("[0-9" + "".join(_NUMERAL_DIGITS) + "]{3,}")
# matched from the character before the mark: a leading look-behind makes `re` much slower
_SQUEEZED_MARK = re.compile(r"[a-z0-9][,.、。](?=[a-z0-9])")
_ZERO_AS_O = re.compile(r"(?<=[0-9])o(?=[0-9])")
_NUMERAL_TRANSLATION = str.maketrans(_NUMERAL_DIGITS)
# Symbols written for the letter v ("加√", "✓信"): folded to "v" before symbols are removed,
# because removing them would hide the very letter the sender meant.
_V_LOOKALIKES = frozenset("√✓✔∨νѵⱱ")


class NormalizedText(NamedTuple):
    """Normalised text and, for each of its characters, the index of the original character.

    ``origin`` is non-decreasing: a character the normaliser expanded ("⑩" → "10") gives two
    characters with the same origin, and removed characters have none. ``source`` is the
    original text. (A named tuple rather than a dataclass: one is built per message.)
    """

    text: str
    origin: Sequence[int]
    source: str

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map the normalised range [start, end) to a [start, end) range of the original text.

        The original range runs from the first to the last contributing original character,
        so decoration removed from inside a word ("微 ❤ 信") is part of the evidence.
        """
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"span [{start}, {end}) is not inside a text of {len(self.text)} characters")
        return self.origin[start], self.origin[end - 1] + 1

    def original_text(self, start: int, end: int) -> str:
        """The original characters behind the normalised range [start, end)."""
        original_start, original_end = self.original_span(start, end)
        return self.source[original_start:original_end]


@lru_cache(maxsize=1)
def _traditional_to_simplified() -> dict[str, str]:
    """One-to-one traditional → simplified character table built from OpenCC's dictionary.

    Converting per character keeps offsets trivial; the phrase-level refinements of OpenCC
    do not matter for matching a few hundred risk phrases.
    """
    import opencc

    folder = Path(opencc.__file__).resolve().parent / "dictionary"
    table: dict[str, str] = {}
    # Regional variants first map to the standard traditional form, which then maps to simplified.
    variants: dict[str, str] = {}
    for name in ("TWVariantsRev.txt", "HKVariantsRev.txt"):
        variants.update(_read_single_character_pairs(folder / name))
    characters = _read_single_character_pairs(folder / "TSCharacters.txt")
    if not characters:
        # The dictionary files moved: fall back to the library's converter (slower, same result).
        converter = opencc.OpenCC("t2s")
        return _ConverterTable(converter.convert)
    for source, target in variants.items():
        # Only a variant that leads to a simplified form counts: the reverse-variant tables
        # also map simplified characters (么 → 幺), which must stay as they are.
        if target in characters:
            table[source] = characters[target]
    table.update(characters)
    return table


def _read_single_character_pairs(path: Path) -> dict[str, str]:
    pairs: dict[str, str] = {}
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                source, _, targets = line.rstrip("\n").partition("\t")
                target = targets.split(" ", 1)[0]
                if len(source) == 1 and len(target) == 1 and source != target:
                    pairs.setdefault(source, target)
    except OSError:
        return {}
    return pairs


class _ConverterTable(dict):
    """A table filled on demand from a converter function (used only as a fallback)."""

    def __init__(self, convert):
        super().__init__()
        self._convert = convert

    def get(self, key, default=None):  # type: ignore[override]
        if key not in self:
            converted = self._convert(key)
            self[key] = converted if len(converted) == 1 else key
        return super().get(key, default)


def _fold_character(character: str) -> str:
    """The normalised form of one character: '' (removed), itself, or one or more characters."""
    if character in "\n\r":
        return "\n" if character == "\n" else ""
    if character in _V_LOOKALIKES:
        return "v"
    half = to_halfwidth(character)
    decomposed = unicodedata.normalize("NFKD", half)
    plain = "".join(part for part in decomposed if not unicodedata.combining(part))
    if plain and plain.isascii() and plain.isalnum():
        return plain.lower()
    # Enclosed numbers and letters decompose with their decoration: ⑴ → "(1)", ⒈ → "1.",
    # ⒜ → "(a)". Evaders write phone numbers with them, so keep only what they enclose.
    enclosed = plain.strip("().")
    if plain != half and enclosed and enclosed.isascii() and enclosed.isalnum():
        return enclosed.lower()
    if half in CLAUSE_MARKS or half in _KEPT_SYMBOLS:
        return half
    category = unicodedata.category(half)
    if len(plain) == 1 and plain != half and "\u4e00" <= plain <= "\u9fff":
        half, category = plain, "Lo"  # a Kangxi or CJK radical that stands for an ideograph
    if category in _DECORATIVE_CATEGORIES or category.startswith("P") or half.isspace():
        return ""
    return _traditional_to_simplified().get(half, half).lower()


class _FoldTable(dict):
    """``str.translate`` table of folded characters, filled the first time a character is seen."""

    def __init__(self) -> None:
        super().__init__()
        # Characters whose folded form is not exactly one character; their presence sends a
        # text down a slower path that builds an explicit origin map. Looked for with a
        # regular expression (rebuilt when a new one is met) because that is much faster
        # than testing a Python set against each character of the text.
        self.removed: set[str] = set()
        self.expanded: set[str] = set()
        self._patterns: tuple[re.Pattern[str], re.Pattern[str]] | None = None

    def __missing__(self, code: int) -> str:
        character = chr(code)
        folded = _fold_character(character)
        if len(folded) != 1:
            (self.removed if not folded else self.expanded).add(character)
            self._patterns = None
        self[code] = folded
        return folded

    def patterns(self) -> tuple[re.Pattern[str], re.Pattern[str]]:
        """(any irregular character, any expanded character) as compiled patterns."""
        if self._patterns is None:
            self._patterns = (
                _character_class(self.removed | self.expanded),
                _character_class(self.expanded),
            )
        return self._patterns


def _character_class(characters: set[str]) -> re.Pattern[str]:
    if not characters:
        return re.compile(r"(?!)")  # matches nothing
    return re.compile("[" + "".join(re.escape(character) for character in sorted(characters)) + "]")


_FOLD = _FoldTable()


# The risk and dispute readers both normalise every message; the second asks for a text the
# first just did. A small cache serves it (results are immutable and shared read-only).
@lru_cache(maxsize=4096)
def normalize(text: str) -> NormalizedText:
    """Normalise ``text`` for matching (see the module docstring for the rules).

    Never raises for any string; the result's ``origin`` maps every normalised character
    back to the original one it came from.
    """
    folded = text.translate(_FOLD)
    origin: Sequence[int]
    irregular, expanded = _FOLD.patterns()
    if not irregular.search(text):
        origin = range(len(text))
    elif not expanded.search(text):
        removed = _FOLD.removed  # the common case: spaces, emoji, decoration
        origin = [index for index, character in enumerate(text) if character not in removed]
    else:
        folded, origin = _fold_with_origin(text)
    folded, origin = _remove_squeezed_marks(folded, origin)
    if _NUMERAL_RUN.search(folded):
        folded = _NUMERAL_RUN.sub(_digits_of_run, folded)
        # new digits may now stand on either side of a mark ("一二三.4")
        folded, origin = _remove_squeezed_marks(folded, origin)
    if "o" in folded:
        folded = _ZERO_AS_O.sub("0", folded)
    return NormalizedText(folded, origin, text)


def _fold_with_origin(text: str) -> tuple[str, list[int]]:
    pieces: list[str] = []
    origin: list[int] = []
    for index, character in enumerate(text):
        folded = _FOLD[ord(character)]
        if folded:
            pieces.append(folded)
            origin.extend([index] * len(folded))
    return "".join(pieces), origin


def _remove_squeezed_marks(text: str, origin: Sequence[int]) -> tuple[str, Sequence[int]]:
    if _SQUEEZED_MARK.search(text) is None:
        return text, origin
    removed = {match.start() + 1 for match in _SQUEEZED_MARK.finditer(text)}
    kept = [index for index in range(len(text)) if index not in removed]
    return "".join(text[index] for index in kept), [origin[index] for index in kept]


def _digits_of_run(match: re.Match[str]) -> str:
    return match.group().translate(_NUMERAL_TRANSLATION)
