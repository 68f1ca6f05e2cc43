"""Input formats: a registry from format names to parsers, folder walking and format sniffing."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from cs_audit.model import Conversation, InputProblem, InputSummary
from cs_audit.parsers.canonical_csv import FileUnreadable, parse_csv
from cs_audit.parsers.canonical_jsonl import parse_jsonl
from cs_audit.parsers.canonical_xlsx import parse_xlsx
from cs_audit.parsers.records import ConversationBuilder
from cs_audit.parsers.text import EncodingProblem

ParseFunction = Callable[[Path, ConversationBuilder, str], "str | None"]

PARSERS: dict[str, ParseFunction] = {
    "csv": parse_csv,
    "jsonl": parse_jsonl,
    "xlsx": parse_xlsx,
}
EXTENSIONS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".xlsx": "xlsx"}
INPUT_FORMATS = ("auto", *PARSERS)

_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class ParsedFile:
    """One input file: what it yielded and its conversations."""

    summary: InputSummary
    conversations: list[Conversation]


def collect_paths(paths: Iterable[str | Path]) -> list[Path]:
    """Expand folders (recursively, sorted) into the supported files inside; keep files as given.

    A named file is always returned, whatever its extension, so an unsupported one is reported
    rather than silently skipped. Raises FileNotFoundError for a path that does not exist.
    """
    found: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(
                candidate for candidate in path.rglob("*")
                if candidate.is_file() and candidate.suffix.lower() in EXTENSIONS
                and not candidate.name.startswith(("~$", "."))
            ))
        elif path.exists():
            found.append(path)
        else:
            raise FileNotFoundError(f"{path}: no such file or folder")
    return found


def sniff_format(path: Path) -> str | None:
    """Guess a file's format from its first bytes, then its extension; None if unknown."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(_ZIP_MAGIC):
        return "xlsx"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return "jsonl"
    by_extension = EXTENSIONS.get(path.suffix.lower())
    if by_extension:
        return by_extension
    return "csv" if b"," in head else None


def parse_file(path: Path, input_format: str = "auto", encoding: str = "auto") -> ParsedFile:
    """Parse one file; a file that cannot be read at all yields a summary with ``error``."""
    builder = ConversationBuilder(str(path))
    chosen = sniff_format(path) if input_format == "auto" else input_format
    if chosen is None:
        return _unreadable(path, "unknown", None, 1,
                           "format not recognised; pass --input-format csv|jsonl|xlsx")
    try:
        used_encoding = PARSERS[chosen](path, builder, encoding)
    except (FileUnreadable, EncodingProblem) as error:
        return _unreadable(path, chosen, None, error.line, error.reason)
    except OSError as error:
        return _unreadable(path, chosen, None, 0, f"cannot read file: {error.strerror or error}")
    conversations = builder.conversations()
    summary = InputSummary(
        path=str(path), format=chosen, encoding=used_encoding, rows=builder.rows,
        messages=builder.messages, conversations=len(conversations),
        problems=tuple(builder.problems),
    )
    return ParsedFile(summary, conversations)


def _unreadable(path: Path, fmt: str, encoding: str | None, line: int, reason: str) -> ParsedFile:
    summary = InputSummary(path=str(path), format=fmt, encoding=encoding, rows=0, messages=0,
                           conversations=0, problems=(InputProblem(line, reason),), error=reason)
    return ParsedFile(summary, [])


def parse_all(paths: Iterable[Path], input_format: str = "auto",
              encoding: str = "auto") -> Iterator[ParsedFile]:
    """Parse files one after the other, in the order given."""
    for path in paths:
        yield parse_file(path, input_format, encoding)
