"""Read the plain-text word lists in ``lexicons/`` (one entry a line, ``#`` comments).

Every problem a lexicon file can have — a missing or unreadable file, text that is not
UTF-8, a malformed line — is a :class:`LexiconError` naming the file, the line, what is
wrong and what is allowed, so a trainer who edits a list gets a message, never a traceback.
"""

from __future__ import annotations

import contextlib
import difflib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from cs_audit.resources import data_dir

# What to tell a trainer whose folder lacks a file the detectors read.
COPY_HINT = "start from a copy of the bundled folder: cs-audit lexicon copy DIR"


@dataclass(frozen=True, slots=True)
class LexiconEntry:
    """One line of a lexicon: the phrase and any ``|``-separated fields after it."""

    phrase: str
    fields: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class LexiconProblem:
    """One thing wrong in a lexicon file: where (``line`` None for the whole file) and what."""

    path: Path
    line: int | None
    message: str

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}" if self.line else str(self.path)

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"

    def source_line(self) -> str | None:
        """The text of the offending line as it stands in the file (None when unknown)."""
        if not self.line:
            return None
        try:
            lines = _text_lines(self.path.read_bytes().decode("utf-8-sig", errors="replace"))
        except OSError:
            return None
        return lines[self.line - 1] if self.line <= len(lines) else None


class LexiconError(ValueError):
    """Lexicon files that cannot be used: one or more problems, each with file and line.

    Loaders that can go on after a bad line collect every problem of their files before
    raising, so ``cs-audit lexicon check`` lists them all in one run.
    """

    def __init__(self, problems: Sequence[LexiconProblem]) -> None:
        if not problems:
            raise ValueError("a LexiconError needs at least one problem")
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))

    @classmethod
    def at(cls, path: Path | str, line: int | None, message: str) -> LexiconError:
        """The error of one problem at ``path``:``line``."""
        return cls([LexiconProblem(Path(path), line, message)])

    @property
    def path(self) -> Path:
        return self.problems[0].path

    @property
    def line(self) -> int | None:
        return self.problems[0].line


class ProblemList:
    """Problems gathered while loading lexicon files, raised together at the end."""

    def __init__(self) -> None:
        self.problems: list[LexiconProblem] = []

    @contextlib.contextmanager
    def gathered(self) -> Iterator[None]:
        """Record a LexiconError raised inside the block instead of letting it through."""
        try:
            yield
        except LexiconError as error:
            for problem in error.problems:
                self._keep(problem)

    def add(self, path: Path | str, line: int | None, message: str) -> None:
        self._keep(LexiconProblem(Path(path), line, message))

    def _keep(self, problem: LexiconProblem) -> None:
        # Every detector reads the shared rule engine: a bad line is reported once, not per reader.
        if problem not in self.problems:
            self.problems.append(problem)

    def raise_if_any(self) -> None:
        if self.problems:
            raise LexiconError(self.problems)


def read_lines(path: Path | str) -> list[str]:
    """The lines of a UTF-8 text file (a byte-order mark, as Notepad writes, is allowed).

    Raises LexiconError for a missing, unreadable or non-UTF-8 file, naming the line of the
    first byte that is not UTF-8.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LexiconError.at(path, None, f"missing file: the lexicon folder needs {path.name}; "
                                          f"{COPY_HINT}") from None
    except OSError as error:
        raise LexiconError.at(path, None, f"cannot read the file: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise LexiconError.at(path, line, f"not UTF-8 text (byte 0x{data[error.start]:02x}); "
                                          "save the file as UTF-8") from None
    return _text_lines(text)


def _text_lines(text: str) -> list[str]:
    # Only line feeds and carriage returns end a line, as in a file opened in text mode
    # (str.splitlines would also split on U+2028 and form feeds, shifting line numbers).
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return lines[:-1] if lines and not lines[-1] else lines


def content_lines(path: Path, problems: ProblemList) -> list[tuple[int, str]]:
    """(line number, text) of each line of ``path`` with content once a ``#`` comment and the
    surrounding space are taken off; a file that cannot be read is a problem and gives none."""
    lines: list[str] = []
    with problems.gathered():
        lines = read_lines(path)
    found = []
    for number, raw in enumerate(lines, start=1):
        line = raw.split("#", 1)[0].strip()
        if line:
            found.append((number, line))
    return found


def read_lexicon(path: Path | str, problems: ProblemList | None = None) -> list[LexiconEntry]:
    """Parse a lexicon file.

    Format: ``phrase`` or ``phrase | field | field``; text after ``#`` is a comment; blank
    lines are skipped. Fields are stripped. A line whose phrase is empty is an error
    (file:line), so a stray ``| x`` never turns into a match-everything entry.

    With ``problems``, errors are recorded there and the good lines returned (an unreadable
    file gives none); without, the first problems raise LexiconError.
    """
    own = problems if problems is not None else ProblemList()
    path = Path(path)
    entries: list[LexiconEntry] = []
    for number, line in content_lines(path, own):
        parts = [part.strip() for part in line.split("|")]
        if not parts[0]:
            own.add(path, number, "empty phrase before '|'; write 'phrase | …' or delete the line")
            continue
        entries.append(LexiconEntry(parts[0], tuple(parts[1:]), number))
    if problems is None:
        own.raise_if_any()
    return entries


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the known name closest to a misspelt one, else ""."""
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def bundled_lexicon_dir() -> Path:
    """The folder of lexicons that ships with cs-audit."""
    return data_dir("lexicons")


def lexicon_fingerprint(folder: Path | str | None = None) -> str:
    """A hash of the lexicon files of ``folder`` (default: bundled), names and contents.

    What was compiled from a folder is keyed by this, never by the folder's path: a shop's
    edited copy, or an edit made since, never gets the tables of another set of lists.
    """
    from cs_audit.cache import fingerprint

    root = Path(folder) if folder is not None else bundled_lexicon_dir()
    files = sorted(path for path in root.glob("*.txt") if path.is_file())
    return fingerprint([part for path in files for part in (path.name, path)])


def lexicon_path(name: str, folder: Path | str | None = None) -> Path:
    """Path of lexicon ``name`` (file name without ``.txt``) in ``folder`` (default: bundled)."""
    return (Path(folder) if folder is not None else bundled_lexicon_dir()) / f"{name}.txt"

