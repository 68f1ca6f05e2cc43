"""Audit conversations in worker processes, results in input order (``--jobs``).

Models and lexicons are loaded once in the parent before the workers fork, so each worker
shares them copy-on-write instead of loading its own; results come back chunk by chunk in
the order the chunks were sent, so the output is identical whatever the number of jobs.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Iterator, Sequence

from cs_audit.audit import Auditor
from cs_audit.model import Conversation, ConversationResult

# Conversations per task: large enough that pickling overhead is small, small enough that
# the two cores stay busy until the end.
CHUNK_SIZE = 64

_worker_auditor: Auditor | None = None


def _audit_chunk(chunk: Sequence[Conversation]) -> list[ConversationResult]:
    assert _worker_auditor is not None, "worker started without an auditor"
    return [_worker_auditor.audit(conversation) for conversation in chunk]


def worker_count(jobs: int) -> int:
    """The number of processes for ``--jobs`` (0 = every core)."""
    if jobs == 0:
        return os.cpu_count() or 1
    return jobs


def audit_conversations(auditor: Auditor, conversations: Sequence[Conversation], jobs: int = 1,
                        chunk_size: int | None = None) -> Iterator[ConversationResult]:
    """Audit ``conversations`` with ``jobs`` processes, yielding results in input order.

    One process (or too little work for two chunks) audits in this process. Workers are
    forked, which is available on Linux and macOS; elsewhere the audit runs in one process.
    """
    processes = worker_count(jobs)
    chunk_size = chunk_size or CHUNK_SIZE
    if (processes <= 1 or len(conversations) <= chunk_size
            or "fork" not in multiprocessing.get_all_start_methods()):
        yield from map(auditor.audit, conversations)
        return
    global _worker_auditor
    _worker_auditor = auditor
    # Objects loaded so far (models, lexicon automata) never change: moving them out of the
    # collector's reach keeps a worker's collections from touching, and so copying, them.
    gc.freeze()
    chunks = [conversations[start:start + chunk_size]
              for start in range(0, len(conversations), chunk_size)]
    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            for results in pool.imap(_audit_chunk, chunks):
                yield from results
    finally:
        gc.unfreeze()
        _worker_auditor = None
