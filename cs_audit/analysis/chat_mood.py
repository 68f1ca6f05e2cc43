"""Buyer mood on chat: snownlp's Bayes classifier trained for customer-service buyer messages.

snownlp's shipped sentiment model was trained on product reviews. On chat it reads length and
question words as anger: a size question or an order card scores near 0, the line an "angry
ending" is drawn at. The chat-mood model is the same engine, snownlp's naive Bayes classifier
in snownlp's own ``Bayes.save`` format (``cs_audit/models/chat_mood.marshal.3``, loadable by
``snownlp.classification.bayes.Bayes().load``), trained by ``bench/train_chat_mood.py`` on
labelled buyer messages in three classes, ``neg``, ``neu`` and ``pos``. Words are cut by the
fast path of snownlp's own segmenter (:class:`cs_audit.analysis.sentiment.SentimentModel`).

What a review model cannot see is made into tokens before the words are counted:
placeholders of masked exports ([订单x], [数字x]) and numbers (order numbers, sizes, prices)
are one token each, so a card of digits weighs as much as one word; a message of nothing but
such cards, numbers and marks gets one more token, ``<bare>``: complaints quote dates and
amounts far more often than other messages do, so the number token alone leans negative, while
a bare order or phone number is neutral (round 1 scored 18591880786 0.13); question and exclamation
marks, trailing dots, Weibo emoticons ([怒], [呵呵]), emoji and @mentions are tokens of their
own; Chinese character pairs are counted beside the words. Words the model never saw in any class are left out: snownlp gives them a count of 1 in
every class, which pushes a long message towards the class with the fewest words, a length
bias and not evidence.

The classifier's log scores are then calibrated (``chat_mood.json``, fitted on held-out
labelled messages): the class score differences are divided by a temperature that grows with
the number of tokens, since naive Bayes grows surer with every word even when the words are
independent of mood (a word and its character pairs say the same thing twice), and per-class
offsets set the priors of chat. The length counts from ``length_offset`` tokens rather than
from one, so a message of one or two known tokens (a bare order number, 营业厅) is not
sharpened into a verdict its few words cannot carry. The sentiment of a message
is ``P(pos) + P(neu) / 2``: the chance the buyer is content, counting a neutral message as
even odds; a neutral message therefore scores near 0.5.
"""

from __future__ import annotations

import functools
import gzip
import json
import marshal
import re
import unicodedata
from cs_audit.analysis.recent import RecentResults
from collections.abc import Callable, Sequence
from math import exp, log
from pathlib import Path

from cs_audit.analysis.sentiment import buyer_trajectory
from cs_audit.model import SentimentTrajectory

MODEL_DIR = Path(__file__).resolve().parent.parent / "models"
MODEL_FILE = MODEL_DIR / "chat_mood.marshal.3"  # snownlp appends ".3" on Python 3
CALIBRATION_FILE = MODEL_DIR / "chat_mood.json"
CLASSES = ("neg", "neu", "pos")

# One alternation, tried left to right at each position; the group that matches names the
# token kind. Order matters: a mask is also a bracket, a URL also latin letters.
_TOKEN = re.compile(
    r"(?P<url>https?://\S+|www\.\S+)"
    r"|(?P<mask>\[[^\[\]\s]{0,10}x\])"  # masked export fields: [订单x], [数字x], [姓名x]
    r"|(?P<emoticon>\[[^\[\]\s]{1,10}\]|/:[^\s\u4e00-\u9fa5]{1,4})"  # [怒] [呵呵], Taobao /:^_^
    r"|(?P<mention>@[\w\u4e00-\u9fa5-]+)"
    r"|(?P<hashtag>#[^#\s]{1,30}#)"
    r"|(?P<number>\d+(?:[.:]\d+)*)"
    r"|(?P<latin>[a-z]+)"
    r"|(?P<cjk>[\u4e00-\u9fa5]+)"
    r"|(?P<question>[?]+)"
    r"|(?P<exclaim>!+)"
    r"|(?P<dots>…+|\.{2,}|。{2,}|~+|〜+)"
    r"|(?P<other>\S)"
)
_FIXED = {"url": "<url>", "mask": "<mask>", "mention": "<at>", "hashtag": "<tag>",
          "number": "<num>", "question": "?", "exclaim": "!", "dots": "…"}


def chat_tokens(text: str, segment: Callable[[str], Sequence[str]]) -> list[str]:
    """The tokens the chat-mood model counts in ``text``; ``segment`` cuts a run of Chinese
    characters into words (snownlp's segmenter)."""
    # NFKC folds full-width letters, digits and ？！ into their ASCII forms, as the patterns
    # expect; platform exports mix both.
    text = unicodedata.normalize("NFKC", text).lower()
    tokens: list[str] = []
    bare = True
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        piece = match.group()
        if kind == "cjk":
            bare = False
            tokens.extend(segment(piece))
            # Character pairs as well: a few thousand labelled messages leave most words
            # unseen, and a pair (气死, 没到, 谢谢) still carries the mood when the word
            # around it is new or cut differently.
            tokens.extend(["~" + piece[i:i + 2] for i in range(len(piece) - 1)])
        elif kind == "other":
            # Emoji and pictographs say something; punctuation and stray marks do not.
            if unicodedata.category(piece) == "So":
                bare = False
                tokens.append(piece)
        elif kind in ("emoticon", "latin"):
            bare = False
            tokens.append(piece)
        else:
            tokens.append(_FIXED[kind])
    if bare and tokens:
        tokens.append("<bare>")
    return tokens


def read_bayes_model(path: Path) -> dict:
    """A model saved by snownlp's ``Bayes.save`` (gzip'd marshal, or plain marshal)."""
    raw = path.read_bytes()
    try:
        raw = gzip.decompress(raw)
    except gzip.BadGzipFile:
        pass
    return marshal.loads(raw)


class ChatMoodClassifier:
    """snownlp's ``Bayes.classify`` class scores for the three moods, calibrated for chat."""

    def __init__(self, model: dict, calibration: dict, cache_size: int = 100_000) -> None:
        if sorted(model["d"]) != list(CLASSES):
            raise ValueError(f"chat-mood model classes are {sorted(model['d'])}, not {CLASSES}")
        log_total = log(model["total"])
        self._priors = [log(model["d"][name]["total"]) - log_total for name in CLASSES]
        self._counts = [model["d"][name]["d"] for name in CLASSES]
        self._nones = [model["d"][name]["none"] for name in CLASSES]
        self._totals = [model["d"][name]["total"] for name in CLASSES]
        self._temperature = float(calibration["temperature"])
        self._length_power = float(calibration["length_power"])
        self._length_offset = float(calibration.get("length_offset", 0.0))
        self._offsets = [float(calibration["offsets"][name]) for name in CLASSES]
        self._cache_size = cache_size
        self._word_logs: dict[str, tuple[float, float, float] | None] = {}

    def _logs(self, word: str) -> tuple[float, float, float] | None:
        if word in self._word_logs:
            return self._word_logs[word]
        if not any(word in counts for counts in self._counts):
            logs = None  # unseen in every class: no evidence (see the module docstring)
        else:
            logs = tuple(log(float(counts.get(word, none)) / total)
                         for counts, none, total in zip(self._counts, self._nones, self._totals))
        if len(self._word_logs) >= self._cache_size:
            self._word_logs.clear()
        self._word_logs[word] = logs
        return logs

    def raw_scores(self, tokens: Sequence[str]) -> tuple[list[float], int]:
        """snownlp's per-class log score over the known tokens, and how many were known."""
        scores = list(self._priors)
        known = 0
        for token in tokens:
            logs = self._logs(token)
            if logs is None:
                continue
            known += 1
            for position in range(3):
                scores[position] += logs[position]
        return scores, known

    def probabilities(self, tokens: Sequence[str]) -> tuple[float, float, float]:
        """Calibrated P(neg), P(neu), P(pos)."""
        scores, known = self.raw_scores(tokens)
        return calibrated(scores, known, self._temperature, self._length_power, self._offsets,
                          self._length_offset)

    def positive_probability(self, tokens: Sequence[str]) -> float:
        p_neg, p_neu, p_pos = self.probabilities(tokens)
        return p_pos + p_neu / 2


def calibrated(scores: Sequence[float], known: int, temperature: float, length_power: float,
               offsets: Sequence[float], length_offset: float = 0.0) -> tuple[float, float, float]:
    """Softmax of the class scores relative to ``neu``, divided by the length temperature
    ``temperature * (max(known, 1) + length_offset) ** length_power``, plus the class offsets."""
    spread = temperature * (max(known, 1) + length_offset) ** length_power
    neutral = scores[1]
    z = [(score - neutral) / spread + offset for score, offset in zip(scores, offsets)]
    top = max(z)
    weights = [exp(value - top) for value in z]
    total = sum(weights)
    return weights[0] / total, weights[1] / total, weights[2] / total


class ChatMoodModel:
    """The bundled chat-mood model: ``score(text)`` is the buyer's positive probability.

    ``segment`` is snownlp's segmenter (``SentimentModel.segment``), shared with the review
    model so the segmentation tables are loaded once per process.
    """

    name = "chat"

    def __init__(self, segment: Callable[[str], Sequence[str]], *,
                 model_file: Path = MODEL_FILE, calibration_file: Path = CALIBRATION_FILE,
                 text_cache_size: int = 100_000) -> None:
        self._segment = segment
        calibration = json.loads(calibration_file.read_text(encoding="utf-8"))
        self._classifier = ChatMoodClassifier(read_bayes_model(model_file), calibration)
        self._scores: RecentResults[float] = RecentResults(text_cache_size)
        self._files = (model_file, calibration_file, text_cache_size)

    def __reduce__(self):
        # A spawned worker rebuilds the model from its files (100 kB) instead of receiving the
        # caches; the segmenter pickles as its own settings (SentimentModel.__reduce__).
        model_file, calibration_file, text_cache_size = self._files
        return (functools.partial(ChatMoodModel, model_file=model_file,
                                  calibration_file=calibration_file,
                                  text_cache_size=text_cache_size), (self._segment,))

    def tokens(self, text: str) -> list[str]:
        return chat_tokens(text, self._segment)

    def probabilities(self, text: str) -> tuple[float, float, float]:
        """Calibrated P(neg), P(neu), P(pos) of one buyer message."""
        return self._classifier.probabilities(self.tokens(text))

    def score(self, text: str) -> float:
        """The positive probability of ``text`` on chat: P(pos) + P(neu) / 2."""
        return self._scores.get(text, self._score_uncached)

    def _score_uncached(self, text: str) -> float:
        return self._classifier.positive_probability(self.tokens(text))

    def trajectory(self, turns: Sequence[Sequence[str]]) -> SentimentTrajectory:
        """Buyer sentiment through one conversation (SPEC §4), on the chat scale."""
        return buyer_trajectory(self.score, turns)


@functools.cache
def bundled_calibration() -> dict:
    """The shipped calibration, with the figures it was fitted to (for docs and tests)."""
    return json.loads(CALIBRATION_FILE.read_text(encoding="utf-8"))
