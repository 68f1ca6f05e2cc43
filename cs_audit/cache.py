"""A folder of derived tables that are slow to build and quick to read back (start-up cost).

Reading snownlp's segmentation model takes seconds, and so do jieba's dictionary and the
homophone table; the same facts stored in a flat form load in milliseconds. Each entry is
named after everything it was derived from (a hash of the source files and library
versions), so a changed model or lexicon simply misses and is rebuilt; nothing is ever
invalidated by hand.

The folder is ``$CS_AUDIT_CACHE_DIR``, else ``$XDG_CACHE_HOME/cs-audit``, else
``~/.cache/cs-audit``. ``CS_AUDIT_CACHE_DIR=off`` turns the cache off. A folder that cannot
be written only costs time: the tables are then built in memory on every run.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

# Bumped when the layout of any cached value changes, so old entries are never misread.
CACHE_FORMAT = 1
CACHE_ENV = "CS_AUDIT_CACHE_DIR"


def cache_dir() -> Path | None:
    """The cache folder, or None when the cache is turned off."""
    chosen = os.environ.get(CACHE_ENV)
    if chosen:
        return None if chosen.lower() == "off" else Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "cs-audit"


def fingerprint(parts: Iterable[str | bytes | Path]) -> str:
    """A short hash of what a cached value is derived from (a file path counts by content)."""
    digest = hashlib.sha256(str(CACHE_FORMAT).encode())
    for part in parts:
        if isinstance(part, Path):
            digest.update(part.read_bytes())
        elif isinstance(part, str):
            digest.update(part.encode("utf-8"))
        else:
            digest.update(part)
        digest.update(b"\0")
    return digest.hexdigest()[:24]


def cached(name: str, sources: Iterable[str | bytes | Path], build: Callable[[], Any]) -> Any:
    """The value ``build()`` returns, read from the cache when ``sources`` are unchanged.

    The value must be marshallable (numbers, strings, bytes, tuples, lists, dicts, sets):
    marshal is the fastest reader Python has and cannot run code while reading.
    """
    folder = cache_dir()
    if folder is None:
        return build()
    path = folder / f"{name}-{fingerprint(sources)}.marshal"
    try:
        return marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        pass  # missing, unreadable or truncated: build it again
    value = build()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        # Written beside and renamed over, so a concurrent reader never sees half a file.
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as stream:
                marshal.dump(value, stream)
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
    except OSError:
        pass  # a read-only home or a full disk costs only the build time on the next run
    return value
