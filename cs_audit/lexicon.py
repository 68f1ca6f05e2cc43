"""Read the plain-text word lists in ``lexicons/`` (one entry a line, ``#`` comments)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cs_audit.resources import data_dir


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """One line of a lexicon: the phrase and any ``|``-separated fields after it."""

    phrase: str
    fields: tuple[str, ...]
    line: int


class LexiconError(ValueError):
    """A lexicon file that cannot be used; names the file and line."""


def lexicon_path(name: str) -> Path:
    """Path of bundled lexicon ``name`` (file name without ``.txt``)."""
    return data_dir("lexicons") / f"{name}.txt"


def read_lexicon(path: Path | str) -> list[LexiconEntry]:
    """Parse a lexicon file.

    Format: ``phrase`` or ``phrase | field | field``; text after an unescaped ``#`` is a
    comment; blank lines are skipped. Fields are stripped. A line whose phrase is empty is
    an error (file:line), so a stray ``| x`` never turns into a match-everything entry.
    """
    path = Path(path)
    entries: list[LexiconEntry] = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            parts = [part.strip() for part in line.split("|")]
            if not parts[0]:
                raise LexiconError(f"{path}:{number}: empty phrase before '|'")
            entries.append(LexiconEntry(parts[0], tuple(parts[1:]), number))
    return entries


def read_bundled(name: str) -> list[LexiconEntry]:
    """Parse bundled lexicon ``name``."""
    return read_lexicon(lexicon_path(name))
