"""Audit conversations in worker processes, results in input order (``--jobs``).

Models and lexicons are loaded once in the parent before the workers fork, so each worker
shares them copy-on-write instead of loading its own; results come back chunk by chunk in
the order the chunks were sent, so the output is identical whatever the number of jobs.

Conversations are taken from an iterable as the workers need them (a parser can still be
reading the file), and a worker sends back its results without their messages: the parent
still holds the conversations it sent and puts the messages back, which halves what crosses
the pipe and what the parent has to unpickle.
"""

from __future__ import annotations

import dataclasses
import gc
import itertools
import multiprocessing
import os
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence

from cs_audit.audit import Auditor
from cs_audit.model import Conversation, ConversationResult

# Conversations per task: large enough that pickling overhead is small, small enough that
# the two cores stay busy until the end.
CHUNK_SIZE = 64

_worker_auditor: Auditor | None = None


def _audit_chunk(chunk: Sequence[Conversation]) -> list[ConversationResult]:
    assert _worker_auditor is not None, "worker started without an auditor"
    return [dataclasses.replace(_worker_auditor.audit(conversation), messages=())
            for conversation in chunk]


def worker_count(jobs: int) -> int:
    """The number of processes for ``--jobs`` (0 = every core)."""
    if jobs == 0:
        return os.cpu_count() or 1
    return jobs


def audit_conversations(auditor: Auditor, conversations: Iterable[Conversation], jobs: int = 1,
                        chunk_size: int | None = None) -> Iterator[ConversationResult]:
    """Audit ``conversations`` with ``jobs`` processes, yielding results in input order.

    One process (or too little work for two chunks) audits in this process. Workers are
    forked, which is available on Linux and macOS; elsewhere the audit runs in one process.
    ``conversations`` is consumed lazily, at most a few chunks ahead of the results.
    """
    processes = worker_count(jobs)
    chunk_size = chunk_size or CHUNK_SIZE
    iterator = iter(conversations)
    if processes <= 1 or "fork" not in multiprocessing.get_all_start_methods():
        yield from map(auditor.audit, iterator)
        return
    # Too little work for two chunks is not worth starting processes for.
    first = list(itertools.islice(iterator, chunk_size + 1))
    if len(first) <= chunk_size:
        yield from map(auditor.audit, first)
        return
    yield from _forked(auditor, itertools.chain(first, iterator), processes, chunk_size)


def _forked(auditor: Auditor, conversations: Iterator[Conversation], processes: int,
            chunk_size: int) -> Iterator[ConversationResult]:
    global _worker_auditor
    _worker_auditor = auditor
    # Objects loaded so far (models, lexicon automata) never change: moving them out of the
    # collector's reach keeps a worker's collections from touching, and so copying, them.
    gc.freeze()
    # The pool's feeder thread takes chunks from here while this thread merges results: a
    # chunk is remembered until its results are back, to give them their messages again.
    sent: deque[list[Conversation]] = deque()
    lock = threading.Lock()

    def chunks() -> Iterator[list[Conversation]]:
        while True:
            chunk = list(itertools.islice(conversations, chunk_size))
            if not chunk:
                return
            with lock:
                sent.append(chunk)
            yield chunk

    try:
        with multiprocessing.get_context("fork").Pool(processes) as pool:
            for results in pool.imap(_audit_chunk, chunks()):
                with lock:
                    chunk = sent.popleft()
                for conversation, result in zip(chunk, results, strict=True):
                    yield dataclasses.replace(result, messages=conversation.messages)
    finally:
        gc.unfreeze()
        _worker_auditor = None
