"""Records of a run kept compressed in temporary files until the reports are written at the end,
so that a report listing something per conversation (GitHub annotations, SARIF results, JUnit
testcases) holds no more in memory on a million-message audit than on ten."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from cs_audit.reporters.deflate import DeflatedText

_SEPARATOR = "\n"  # json.dumps escapes a newline inside a string, so a record never holds one


class RecordSpool:
    """JSON-serialisable records, appended in any order, read back grouped by ``rank`` (lowest
    first) and in the order they were added within a rank. Each rank has its own file."""

    def __init__(self) -> None:
        self._by_rank: dict[float, DeflatedText] = {}
        self.count = 0

    def add(self, record: Any, rank: float = 0) -> None:
        spool = self._by_rank.get(rank)
        if spool is None:
            spool = self._by_rank[rank] = DeflatedText()
        spool.write(json.dumps(record, ensure_ascii=False) + _SEPARATOR)
        self.count += 1

    def __iter__(self) -> Iterator[Any]:
        for rank in sorted(self._by_rank):
            for line in self._by_rank[rank].split(_SEPARATOR):
                yield json.loads(line)

    def close(self) -> None:
        for spool in self._by_rank.values():
            spool.close()
        self._by_rank.clear()
