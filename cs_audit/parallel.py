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
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from cs_audit.audit import Auditor
from cs_audit.model import Conversation, ConversationResult

# Conversations per task: large enough that pickling overhead is small, small enough that
# the two cores stay busy until the end.
CHUNK_SIZE = 64

_worker_auditor: Auditor | None = None
_worker_then: Callable[[ConversationResult], Any] | None = None


def _audit_chunk(chunk: Sequence[Conversation]) -> list[tuple[ConversationResult, Any]]:
    assert _worker_auditor is not None, "worker started without an auditor"
    done = []
    for conversation in chunk:
        result = _worker_auditor.audit(conversation)
        extra = _worker_then(result) if _worker_then is not None else None
        done.append((dataclasses.replace(result, messages=()), extra))
    _settle()
    return done


def _settle() -> None:
    """Move what the audit has kept so far out of the cyclic collector's reach.

    Between conversations the audit keeps only its per-text results (the detectors' caches of
    distinct texts), which hold no reference cycles and live until evicted, when reference
    counting frees them. Left to the collector, every older-generation collection walks all
    of them again, and those walks grow with the caches: a large share of an audit's CPU
    (bench/README.md, "Collector"). Frozen after each chunk, only the objects of the chunk at
    hand are ever walked.
    """
    gc.freeze()


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
    for result, _ in audit_and_apply(auditor, conversations, None, jobs, chunk_size):
        yield result


def audit_and_apply(auditor: Auditor, conversations: Iterable[Conversation],
                    then: Callable[[ConversationResult], Any] | None, jobs: int = 1,
                    chunk_size: int | None = None) -> Iterator[tuple[ConversationResult, Any]]:
    """As :func:`audit_conversations`, yielding ``(result, then(result))`` pairs (None without
    ``then``); ``then`` runs in the process that audited the conversation, so work such as
    encoding a report entry is shared by the workers instead of left to the parent."""
    processes = worker_count(jobs)
    chunk_size = chunk_size or CHUNK_SIZE
    iterator = iter(conversations)
    alone = processes <= 1 or "fork" not in multiprocessing.get_all_start_methods()
    first = [] if alone else list(itertools.islice(iterator, chunk_size + 1))
    if alone or len(first) <= chunk_size:
        # Too little work for two chunks is not worth starting processes for.
        try:
            for index, conversation in enumerate(itertools.chain(first, iterator), start=1):
                result = auditor.audit(conversation)
                yield result, then(result) if then is not None else None
                if not index % chunk_size:
                    _settle()
        finally:
            gc.unfreeze()
        return
    yield from _forked(auditor, itertools.chain(first, iterator), then, processes, chunk_size)


def _forked(auditor: Auditor, conversations: Iterator[Conversation],
            then: Callable[[ConversationResult], Any] | None, processes: int,
            chunk_size: int) -> Iterator[tuple[ConversationResult, Any]]:
    global _worker_auditor, _worker_then
    _worker_auditor, _worker_then = auditor, then
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

    pool = multiprocessing.get_context("fork").Pool(processes, initializer=_worker_signals)
    finished = False
    try:
        for done in pool.imap(_audit_chunk, chunks()):
            with lock:
                chunk = sent.popleft()
            for conversation, (result, extra) in zip(chunk, done, strict=True):
                # The result was just unpickled and nobody else holds it yet, so its
                # messages can be put back in place (dataclasses.replace costs ~0.2 ms).
                object.__setattr__(result, "messages", conversation.messages)
                yield result, extra
        finished = True
    finally:
        # A finished run lets the workers take their end-of-work sentinel and exit: stopping
        # them (terminate) while one is idle in the task queue, holding its lock, can leave the
        # pool waiting for that lock for ever. Only a run cut short (an error, Ctrl-C, the
        # consumer stopping) stops them.
        if finished:
            pool.close()
        else:
            pool.terminate()
        pool.join()
        gc.unfreeze()
        _worker_auditor = _worker_then = None


def _worker_signals() -> None:
    """A worker leaves interrupts to the parent and dies at once when stopped: it inherits the
    CLI's SIGTERM handler, which unwinds through finally blocks meant for the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
