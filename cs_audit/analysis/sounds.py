"""Characters that sound or look like the characters of a phrase (薇信, 威信, 嶶信 → 微信).

Sellers who want to move a deal off the platform write 微信 with any character that reads
wei and xin, because platforms filter the plain form. Rather than listing every spelling, a
phrase marked ``pinyin`` in a lexicon is also matched on a copy of the text in which every
character that reads like one of its characters (by its usual pinyin reading, from pypinyin)
is replaced by that character, plus a short look-alike table (``risk_lookalike.txt``: 徽 → 微).
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from pathlib import Path

from cs_audit.analysis.normalize import normalize
from cs_audit.cache import cached
from cs_audit.lexicon import ProblemList, read_lexicon


def usual_readings() -> dict[str, str]:
    """The usual reading (toneless pinyin) of every Chinese character pypinyin knows.

    Asking pypinyin one character at a time means importing it, its phrase dictionary
    included, in every run; the answers never change for one pypinyin version, so they are
    asked once and kept in the cache (cs_audit.cache).
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


def is_han(character: str) -> bool:
    code = ord(character)
    return 0x3400 <= code <= 0x9FFF or 0xF900 <= code <= 0xFAFF or 0x20000 <= code <= 0x3FFFF


class SoundTable(dict):
    """``str.translate`` table: a character that reads like a character of the phrases (or looks
    like one) becomes it. Filled on demand, one lookup per distinct character."""

    def __init__(self, phrases: Iterable[str], lookalikes: dict[str, str],
                 readings: dict[str, str]) -> None:
        super().__init__()
        syllables: dict[str, str] = {}
        for phrase in phrases:
            for character in phrase:
                if is_han(character):
                    syllables.setdefault(readings.get(character, character), character)
        self._syllables = syllables
        self.lookalikes = lookalikes
        self.readings = readings
        self._described: dict[str, str] = {}

    def __missing__(self, code: int) -> int | str:
        character = chr(code)
        replacement: int | str = self.lookalikes.get(character, code)
        if replacement == code and self._syllables and is_han(character):
            reading = self.readings.get(character, "")
            if reading in self._syllables:
                replacement = self._syllables[reading]
        self[code] = replacement
        return replacement

    def describe(self, written: str) -> str:
        """How a spelling was recognised, for a finding's note: "pinyin 'weixin'" or a look-alike."""
        known = self._described.get(written)
        if known is None:
            alike = [character for character in written if character in self.lookalikes]
            if alike:
                known = f"look-alike '{''.join(alike)}'"
            else:
                known = f"pinyin '{''.join(self.readings.get(c, c) for c in written)}'"
            if len(self._described) < 4096:  # few distinct spellings ever occur
                self._described[written] = known
        return known


def read_lookalikes(path: Path, problems: ProblemList) -> dict[str, str]:
    """``risk_lookalike.txt``: ``character | character`` (the look-alike, then what it stands for)."""
    table: dict[str, str] = {}
    for entry in read_lexicon(path, problems):
        target = entry.fields[0] if entry.fields else ""
        if len(entry.phrase) != 1 or len(target) != 1 or len(entry.fields) != 1:
            problems.add(path, entry.line, "expected 'character | character' (one character each: "
                                           "the look-alike, then the character it stands for)")
            continue
        table[normalize(entry.phrase).text or entry.phrase] = target
    return table
