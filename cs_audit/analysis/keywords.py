"""Words buyers complain about most: TF-IDF keywords over complaining buyers' messages."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache

from cs_audit.model import ConversationResult

# Parts of speech kept as complaint words: nouns, verbs, adjectives (not pronouns or particles).
KEYWORD_POS = ("n", "nz", "vn", "v", "a", "an", "ad")
KEYWORD_COUNT = 15
# Enough buyer text for stable keywords without tagging a million messages.
KEYWORD_TEXT_LIMIT = 60_000
# Buyer messages of conversations whose lowest sentiment is below this count as complaints.
NEGATIVE_SENTIMENT = 0.3


@lru_cache(maxsize=1)
def _keyword_extractor():
    """jieba's TF-IDF extractor on a private tokenizer (jieba's global one is shared state)."""
    from cs_audit.analysis.segment import private_tokenizer, read_user_dict
    from cs_audit.resources import data_dir

    user_dict = data_dir("lexicons") / "jieba_user_dict.txt"
    # The tone detector's tokenizer (same user words), already loaded in an audit.
    tokenizer = private_tokenizer(tuple(read_user_dict(user_dict)) if user_dict.exists() else ())
    import jieba.analyse  # after private_tokenizer, which imports jieba without pkg_resources
    import jieba.posseg

    extractor = jieba.analyse.TFIDF()
    extractor.tokenizer = tokenizer
    extractor.postokenizer = _DictionaryWordsOnly(jieba.posseg.POSTokenizer(tokenizer))
    return extractor


class _DictionaryWordsOnly:
    """jieba's POS tagger without its HMM guesses for unknown runs.

    The HMM glued neighbouring characters into non-words (号买, 买能) that then ranked as
    complaint words, and cost ~11x the time; dictionary words (ours included) are what a
    supervisor can act on.
    """

    def __init__(self, tagger) -> None:
        self._tagger = tagger

    def cut(self, sentence: str):
        return self._tagger.cut(sentence, HMM=False)

    def lcut(self, sentence: str):
        return list(self.cut(sentence))


def complaint_texts(results: Iterable[ConversationResult], show: Callable[[str], str]) -> list[str]:
    """Masked buyer messages of disputed conversations (from where the dispute starts) and of
    conversations whose lowest buyer sentiment is below NEGATIVE_SENTIMENT.

    Per-message sentiment is not kept in results, so a negative conversation contributes all
    its buyer messages.
    """
    candidates: list[str] = []
    size = 0
    for result in results:
        if result.dispute.type:
            first = result.dispute.start_index or 0
        elif result.sentiment.min is not None and result.sentiment.min < NEGATIVE_SENTIMENT:
            first = 0
        else:
            continue
        for message in result.messages[first:]:
            if message.role == "buyer" and message.text:
                candidates.append(message.text)
                size += len(message.text)
    # POS tagging costs ~8 s per million characters: past the limit, an evenly spaced sample
    # over the whole run (not just its first conversations) gives the same top words.
    step = max(1, -(-size // KEYWORD_TEXT_LIMIT))
    return [show(text) for text in candidates[::step]]


def complaint_keywords(texts: Sequence[str], count: int = KEYWORD_COUNT) -> list[tuple[str, float]]:
    """The words that stand out in ``texts`` (TF-IDF), with their weights, best first."""
    if not texts:
        return []
    words = _keyword_extractor().extract_tags("\n".join(texts), topK=count, withWeight=True,
                                               allowPOS=KEYWORD_POS)
    return [(word, round(weight, 4)) for word, weight in words if "*" not in word]
