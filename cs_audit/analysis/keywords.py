"""Words buyers complain about most: TF-IDF keywords over complaining buyers' messages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
import re
from array import array
from functools import lru_cache
from operator import itemgetter
from pathlib import Path

from cs_audit.cache import cached
from cs_audit.model import ConversationResult

# Parts of speech kept as complaint words: nouns, verbs, adjectives (not pronouns or particles).
KEYWORD_POS = ("n", "nz", "vn", "v", "a", "an", "ad")
KEYWORD_COUNT = 15
# Enough buyer text for stable keywords without tagging a million messages.
KEYWORD_TEXT_LIMIT = 60_000
# Buyer messages of conversations whose lowest sentiment is below this count as complaints.
NEGATIVE_SENTIMENT = 0.3


# jieba.posseg's blocks: runs of Chinese characters, letters, digits and a few joiners.
_BLOCK = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._]+)")
_ONE_LETTER_OR_DIGIT = re.compile("^[a-zA-Z0-9]$")
# jieba.analyse's stop words (KeywordExtractor.STOP_WORDS).
_STOP_WORDS = frozenset(("the", "of", "is", "and", "to", "in", "that", "we", "for", "an", "are", "by", "be",
                         "as", "on", "with", "can", "if", "from", "which", "you", "it", "this", "then",
                         "at", "have", "all", "not", "one", "has", "or"))


# Part of the cache key: an entry of another layout is never read as this one.
_TABLES_LAYOUT = "keyword-tagged words; IDF words; IDF as doubles; median IDF"


class _KeywordTables:
    """What jieba's TF-IDF extractor knows, read from the start-up cache: the dictionary words
    whose part of speech is a keyword's, and every word's IDF.

    Importing jieba.posseg and jieba.analyse reads their tag and IDF files twice over (~2.3 s
    and ~150 MB); only these two tables are needed.
    """

    def __init__(self) -> None:
        from cs_audit.analysis.segment import _import_jieba, private_tokenizer, read_user_dict
        from cs_audit.resources import data_dir

        user_dict = data_dir("lexicons") / "jieba_user_dict.txt"
        user_words = tuple(read_user_dict(user_dict)) if user_dict.exists() else ()
        # The tone detector's tokenizer (same user words), already loaded in an audit.
        self.tokenizer = private_tokenizer(user_words)
        package = Path(_import_jieba().__file__).parent
        idf_file = package / "analyse" / "idf.txt"
        tagged, words, weights, self.median_idf = cached(
            "jieba-keyword-tables", [package / "dict.txt", idf_file, repr(KEYWORD_POS), _TABLES_LAYOUT],
            lambda: _keyword_tables(package / "dict.txt", idf_file))
        # jieba.posseg lets a user word's tag replace the dictionary's.
        keyword_words = set(tagged.split("\n")) if tagged else set()
        for entry in user_words:
            if entry.tag:
                (keyword_words.add if entry.tag in KEYWORD_POS else keyword_words.discard)(entry.word)
        self.keyword_words = frozenset(keyword_words)
        idf = array("d")
        idf.frombytes(weights)
        self.idf = dict(zip(words.split("\n"), idf))

    def keyword_counts(self, text: str) -> dict[str, float]:
        """How often each keyword-tagged word occurs in ``text``, in order of first occurrence,
        as jieba.posseg without HMM segments and tags it."""
        counts: dict[str, float] = {}
        tokenizer, keyword_words = self.tokenizer, self.keyword_words
        for block in _BLOCK.split(text):
            if not _BLOCK.match(block):
                continue  # spaces, punctuation: tagged x or m
            route: dict = {}
            tokenizer.calc(block, tokenizer.get_DAG(block), route)
            start = 0
            while start < len(block):
                end = route[start][1] + 1
                word = block[start:end]
                start = end
                # Single letters and digits are glued into an "eng" token, never a keyword.
                if _ONE_LETTER_OR_DIGIT.match(word) or word not in keyword_words:
                    continue
                if len(word.strip()) < 2 or word.lower() in _STOP_WORDS:
                    continue
                counts[word] = counts.get(word, 0.0) + 1.0
        return counts


def _keyword_tables(dictionary: Path, idf_file: Path) -> tuple[str, str, bytes, float]:
    tagged = []
    with open(dictionary, encoding="utf-8") as lines:
        for line in lines:
            parts = line.split()
            if len(parts) == 3 and parts[2] in KEYWORD_POS:
                tagged.append(parts[0])
    idf: dict[str, float] = {}
    for line in idf_file.read_text(encoding="utf-8").splitlines():
        word, weight = line.strip().split(" ")
        idf[word] = float(weight)
    median = sorted(idf.values())[len(idf) // 2]
    return "\n".join(tagged), "\n".join(idf), array("d", idf.values()).tobytes(), median


@lru_cache(maxsize=1)
def _tables() -> _KeywordTables:
    return _KeywordTables()


def complaint_candidates(result: ConversationResult) -> list[str]:
    """The buyer messages of ``result`` that count as complaints: those of a disputed
    conversation from where the dispute starts, or all of them when its lowest buyer sentiment
    is below NEGATIVE_SENTIMENT (per-message sentiment is not kept in results).
    """
    if result.dispute.type:
        first = result.dispute.start_index or 0
    elif result.sentiment.min is not None and result.sentiment.min < NEGATIVE_SENTIMENT:
        first = 0
    else:
        return []
    return [message.text for message in result.messages[first:] if message.role == "buyer" and message.text]


def sample_complaints(candidates: Sequence[str], show: Callable[[str], str]) -> list[str]:
    """An evenly spaced sample of a run's complaint messages (all of them up to
    KEYWORD_TEXT_LIMIT characters), passed through ``show``."""
    size = sum(len(text) for text in candidates)
    # POS tagging costs ~8 s per million characters: past the limit, an evenly spaced sample
    # over the whole run (not just its first conversations) gives the same top words.
    step = max(1, -(-size // KEYWORD_TEXT_LIMIT))
    return [show(text) for text in candidates[::step]]


def complaint_texts(results: Iterable[ConversationResult], show: Callable[[str], str]) -> list[str]:
    """The sampled complaint messages of ``results`` (see the two functions above)."""
    return sample_complaints([text for result in results for text in complaint_candidates(result)], show)


def complaint_keywords(texts: Sequence[str], count: int = KEYWORD_COUNT) -> list[tuple[str, float]]:
    """The words that stand out in ``texts`` (TF-IDF), with their weights, best first."""
    if not texts:
        return []
    tables = _tables()
    counts = tables.keyword_counts("\n".join(texts))
    total = sum(counts.values())
    weights = [(word, seen * tables.idf.get(word, tables.median_idf) / total) for word, seen in counts.items()]
    # Heaviest first; equal weights keep the order of first occurrence (as jieba sorts).
    weights.sort(key=itemgetter(1), reverse=True)
    return [(word, round(weight, 4)) for word, weight in weights[:count] if "*" not in word]
