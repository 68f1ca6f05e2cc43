"""Word boundaries from a private jieba tokenizer, for phrases that must stand as whole words.

A short phrase such as 滚 or 有病 is rude on its own but harmless inside a longer word
(滚筒洗衣机, 有病毒). The tone detector asks this module whether a match starts and ends on
word boundaries. jieba's global tokenizer is shared process state, so a private
``jieba.Tokenizer`` is built here, lazily (loading jieba's dictionary takes about a second
and most messages never need it), with the shop's domain words added from
``lexicons/jieba_user_dict.txt``.
"""

from __future__ import annotations

import logging
import re
import sys
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from cs_audit.cache import cached
from cs_audit.lexicon import LexiconError, ProblemList, content_lines

# Canned replies repeat thousands of times in an export; segment each distinct text once.
_SEGMENTATION_CACHE_SIZE = 65_536
# jieba first splits a sentence into runs of these characters (its re_han_default) and cuts
# each run on its own, so the words around a match depend only on the run that holds it.
# Segmenting that run alone gives the same boundaries at a fraction of the cost, and the run
# (亲您好) repeats far more often than the whole message does.
_JIEBA_RUN_CHAR = re.compile(r"[\u4E00-\u9FD5a-zA-Z0-9+#&._%\-]")


@dataclass(frozen=True, slots=True)
class UserWord:
    """One line of the jieba user dictionary: a word, an optional frequency and tag."""

    word: str
    freq: int | None
    tag: str | None


def read_user_dict(path: Path | str, problems: ProblemList | None = None) -> list[UserWord]:
    """Parse a jieba user dictionary that may carry ``#`` comments.

    Format, one word a line: ``word [freq] [tag]`` separated by spaces (jieba's own format);
    text after ``#`` is a comment. jieba's ``load_userdict`` would read a comment line as a
    word, which is why the file is parsed here. A frequency of 0 is refused because jieba
    then records the word in module-global state (a forced split) that other tokenizers share.

    With ``problems``, bad lines are recorded there and the good words returned; without,
    LexiconError lists every bad line.
    """
    own = problems if problems is not None else ProblemList()
    path = Path(path)
    words: list[UserWord] = []
    for number, line in content_lines(path, own):
        with own.gathered():
            words.append(_user_word(path, number, line))
    if problems is None:
        own.raise_if_any()
    return words


def _user_word(path: Path, number: int, line: str) -> UserWord:
    parts = line.split()
    numbers = [part for part in parts[1:] if part.isdigit()]
    tags = [part for part in parts[1:] if not part.isdigit()]
    if len(numbers) > 1 or len(tags) > 1:
        raise LexiconError.at(path, number, f"expected 'word [frequency] [tag]' separated by spaces, "
                                            f"got {line!r}")
    freq = int(numbers[0]) if numbers else None
    if freq == 0:
        raise LexiconError.at(path, number, f"frequency 0 is not allowed for {parts[0]!r}; "
                                            "leave it out or give a positive number")
    return UserWord(parts[0], freq, tags[0] if tags else None)


class WordSegmenter:
    """Token boundaries of texts, from a private jieba tokenizer built on first use."""

    def __init__(self, user_words: Sequence[UserWord] = ()) -> None:
        self._user_words = tuple(user_words)
        self._tokenizer = None
        self._boundaries: Callable[[str], frozenset[int]] = lru_cache(
            maxsize=_SEGMENTATION_CACHE_SIZE
        )(self._compute_boundaries)

    def __getstate__(self) -> dict:
        # A jieba tokenizer holds a lock and cannot be pickled; a worker process loads its own.
        return {"user_words": self._user_words}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["user_words"])

    @classmethod
    def from_user_dict(cls, path: Path | str) -> WordSegmenter:
        """A segmenter whose tokenizer will know the words of the user dictionary at ``path``."""
        return cls(read_user_dict(path))

    @property
    def is_loaded(self) -> bool:
        """Whether jieba's dictionary has been loaded (it is, on the first segmentation)."""
        return self._tokenizer is not None

    def load(self) -> None:
        """Load jieba's dictionary now: before worker processes fork, so they share it."""
        self._ensure_tokenizer()

    def _ensure_tokenizer(self):
        if self._tokenizer is None:
            self._tokenizer = private_tokenizer(self._user_words)
        return self._tokenizer

    def _compute_boundaries(self, text: str) -> frozenset[int]:
        tokenizer = self._ensure_tokenizer()
        # HMM off: unknown character runs stay single characters instead of being glued into
        # guessed words, so only dictionary words (jieba's and ours) can hide a phrase.
        boundaries = {0}
        for _word, _start, end in tokenizer.tokenize(text, HMM=False):
            boundaries.add(end)
        return frozenset(boundaries)

    def tokens(self, text: str) -> list[str]:
        """The words of ``text`` as this segmenter cuts them (for tests and explanations)."""
        boundaries = sorted(self._boundaries(text))
        return [text[start:end] for start, end in zip(boundaries, boundaries[1:])]

    def _window(self, text: str, start: int, end: int) -> tuple[int, frozenset[int]]:
        """Offset and word boundaries of the jieba run(s) around ``text[start:end]``."""
        left, right = start, end
        while left > 0 and _JIEBA_RUN_CHAR.match(text, left - 1):
            left -= 1
        while right < len(text) and _JIEBA_RUN_CHAR.match(text, right):
            right += 1
        return left, self._boundaries(text[left:right])

    def is_whole_word(self, text: str, start: int, end: int) -> bool:
        """True when ``text[start:end]`` begins and ends on word boundaries of ``text``."""
        offset, boundaries = self._window(text, start, end)
        return start - offset in boundaries and end - offset in boundaries

    def enclosing_span(self, text: str, start: int, end: int) -> tuple[int, int]:
        """The span of the whole words that ``text[start:end]`` lies in (滚 → 滚筒洗衣机)."""
        offset, boundaries = self._window(text, start, end)
        left = max(b for b in boundaries if b <= start - offset)
        right = min((b for b in boundaries if b >= end - offset), default=end - offset)
        return offset + left, offset + right


def _import_jieba():
    # jieba's _compat imports pkg_resources only to open its own data files, and importing
    # pkg_resources costs about 0.3 s; without it jieba opens them with plain open().
    hidden = "pkg_resources" not in sys.modules
    if hidden:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]
    try:
        import jieba
    finally:
        if hidden:
            del sys.modules["pkg_resources"]
    # jieba announces "Building prefix dict..." on its own logger at DEBUG level;
    # an auditor's standard error is for the user's warnings, not library chatter.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return jieba


def _dictionary_table(user_words: tuple[UserWord, ...]) -> tuple[str, bytes, int]:
    """jieba's prefix dictionary with the user words added, as (words, counts, total)."""
    jieba = _import_jieba()
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for entry in user_words:
        tokenizer.add_word(entry.word, entry.freq, entry.tag)
    return "\n".join(tokenizer.FREQ), array("q", tokenizer.FREQ.values()).tobytes(), tokenizer.total


@lru_cache(maxsize=4)
def private_tokenizer(user_words: tuple[UserWord, ...]):
    """A jieba.Tokenizer with the user words, its dictionary read from the cache when warm.

    One per set of user words and process: callers only read it (segmenting, tagging), so
    the tone detector and the complaint keywords share one dictionary.

    jieba's own cache is a marshal file read through a file object (about 1.3 s here); one
    string of words and one array of counts load in about a third of that.
    """
    jieba = _import_jieba()
    dictionary = Path(jieba.__file__).parent / "dict.txt"
    words, counts, total = cached(
        "jieba-dictionary",
        [dictionary, jieba.__version__, repr(user_words)],
        lambda: _dictionary_table(user_words),
    )
    frequencies = array("q")
    frequencies.frombytes(counts)
    tokenizer = jieba.Tokenizer()
    tokenizer.FREQ = dict(zip(words.split("\n"), frequencies))
    tokenizer.total = total
    # The words' tags matter only to jieba.posseg, which this tokenizer never serves, but are
    # kept so that it is the same tokenizer add_word would have built.
    for entry in user_words:
        if entry.tag:
            tokenizer.user_word_tag_tab[entry.word] = entry.tag
    tokenizer.initialized = True
    return tokenizer
