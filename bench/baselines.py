"""The comparison pipelines of issue 7, run one at a time in a fresh interpreter by ``bench/run``.

    python bench/baselines.py jieba    CORPUS.csv
    python bench/baselines.py openpyxl CORPUS.csv --out dump.xlsx
    python bench/baselines.py obvious  CORPUS.csv --out obvious.xlsx

Each prints one JSON line: ``seconds`` (the timed part), ``load_seconds`` (what was prepared
before the clock started), ``messages``, and pipeline-specific counts.

- ``jieba``: the library floor for analysis. One plain ``jieba.lcut`` pass over every message
  text with the global tokenizer; importing jieba and loading its dictionary happen first and are
  not timed.
- ``openpyxl``: the library floor for the Excel report. A bare write-only dump of the messages,
  one row each, 8 columns (conversation id, message index, time, role, sender, text, length,
  source file); building the rows (including parsing the times) is not timed, writing and saving
  the workbook is.
- ``obvious``: what one would write first. Per conversation: ``SnowNLP(text).sentiments`` for
  every buyer message, a substring ``in`` test of every phrase of every ``lexicons/*.txt`` file
  against every message, ``jieba.lcut`` of every message, and an openpyxl workbook in normal
  (not write-only) mode with a message sheet and a conversation sheet. Everything is timed
  (imports, reading the lexicons and the CSV too), because the audit it is compared with is
  timed end to end as well; ``seconds`` then equals the process's own run time.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LEXICONS = REPO / "lexicons"
# A canonical row as bench/make_corpus.py writes it.
Row = tuple[str, str, str, str, str]


def read_rows(path: Path) -> list[Row]:
    """The message rows of a canonical CSV written by ``make_corpus.py`` (header skipped)."""
    with open(path, encoding="utf-8", newline="") as stream:
        reader = csv.reader(stream)
        next(reader)
        return [tuple(row[:5]) for row in reader]  # type: ignore[misc]


def load_jieba() -> None:
    """Import jieba and load its dictionary (what the floor does not count)."""
    import jieba

    jieba.setLogLevel(60)
    jieba.initialize()


def jieba_pass(texts: Sequence[str]) -> int:
    """One plain ``jieba.lcut`` of every text; returns the number of tokens."""
    import jieba

    tokens = 0
    for text in texts:
        tokens += len(jieba.lcut(text))
    return tokens


def message_table(rows: Sequence[Row], source: str) -> list[tuple]:
    """The 8 typed columns of the dump: id, index in conversation, time, role, sender, text,
    length, source."""
    table = []
    position: dict[str, int] = {}
    for conversation_id, stamp, role, sender, text in rows:
        index = position.get(conversation_id, 0)
        position[conversation_id] = index + 1
        moment = datetime.fromisoformat(stamp) if stamp else None
        table.append((conversation_id, index, moment, role, sender, text, len(text), source))
    return table


def openpyxl_dump(table: Sequence[tuple], path: Path) -> None:
    """Write ``table`` under a header row as a write-only workbook and save it."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Messages")
    sheet.append(["conversation_id", "index", "time", "role", "sender", "text", "length", "source"])
    for row in table:
        sheet.append(row)
    workbook.save(path)


def lexicon_phrases() -> list[str]:
    """Every phrase of every ``lexicons/*.txt`` file, as the obvious pipeline would collect them."""
    phrases = []
    for path in sorted(LEXICONS.glob("*.txt")):
        for raw in path.read_text(encoding="utf-8").splitlines():
            phrase = raw.split("#", 1)[0].split("|", 1)[0].strip()
            if phrase:
                phrases.append(phrase)
    return phrases


def obvious_pipeline(rows: Sequence[Row], path: Path) -> dict:
    """SnowNLP per buyer message, ``in`` loops over the lexicons, jieba, an openpyxl normal-mode
    workbook. Returns counts so that nothing is optimised away."""
    import jieba
    from openpyxl import Workbook
    from snownlp import SnowNLP

    jieba.setLogLevel(60)
    phrases = lexicon_phrases()
    conversations: dict[str, list[Row]] = {}
    for row in rows:
        conversations.setdefault(row[0], []).append(row)

    workbook = Workbook()
    messages_sheet = workbook.active
    messages_sheet.title = "Messages"
    messages_sheet.append(["conversation_id", "time", "role", "sender", "text", "sentiment",
                           "phrases", "tokens"])
    conversations_sheet = workbook.create_sheet("Conversations")
    conversations_sheet.append(["conversation_id", "messages", "buyer_sentiment_mean", "phrase_hits"])
    sentiments_scored = phrase_hits = tokens = 0
    for conversation_id, messages in conversations.items():
        scores = []
        hits_here = 0
        for _, stamp, role, sender, text in messages:
            sentiment = None
            if role == "buyer" and text.strip():
                sentiment = SnowNLP(text).sentiments
                scores.append(sentiment)
            found = [phrase for phrase in phrases if phrase in text]
            words = jieba.lcut(text)
            hits_here += len(found)
            tokens += len(words)
            messages_sheet.append([conversation_id, stamp, role, sender, text, sentiment,
                                   " ".join(found), len(words)])
        sentiments_scored += len(scores)
        phrase_hits += hits_here
        conversations_sheet.append([conversation_id, len(messages),
                                    sum(scores) / len(scores) if scores else None, hits_here])
    workbook.save(path)
    return {"phrases": len(phrases), "sentiments": sentiments_scored, "phrase_hits": phrase_hits,
            "tokens": tokens, "conversations": len(conversations)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pipeline", choices=("jieba", "openpyxl", "obvious"))
    parser.add_argument("corpus", type=Path, help="canonical CSV written by make_corpus.py")
    parser.add_argument("--out", type=Path, help="workbook to write (openpyxl, obvious)")
    args = parser.parse_args(argv)

    process_start = time.perf_counter()
    figures: dict = {"pipeline": args.pipeline}
    if args.pipeline == "obvious":
        rows = read_rows(args.corpus)
        figures.update(obvious_pipeline(rows, args.out or Path("obvious.xlsx")))
        figures["load_seconds"] = 0.0
        figures["seconds"] = time.perf_counter() - process_start
    else:
        rows = read_rows(args.corpus)
        if args.pipeline == "jieba":
            texts = [row[4] for row in rows]
            load_jieba()
            figures["load_seconds"] = time.perf_counter() - process_start
            start = time.perf_counter()
            figures["tokens"] = jieba_pass(texts)
        else:
            table = message_table(rows, args.corpus.name)
            import openpyxl  # noqa: F401  (the import is preparation, not the dump)
            figures["load_seconds"] = time.perf_counter() - process_start
            start = time.perf_counter()
            openpyxl_dump(table, args.out or Path("dump.xlsx"))
        figures["seconds"] = time.perf_counter() - start
    figures["messages"] = len(rows)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
