"""The example tables of rubric checks: their one-line conversation format, read and validated.

A check's table (``examples/<check_id>.tsv`` next to the rubrics) holds small conversations,
one a line, each with the verdict the check must give it::

    fail<TAB>buyer@0 在吗<TAB>agent@75 您好，在的

The first column is the verdict (``fail``, ``pass``, or ``n/a`` when the check must not apply);
each further column is one message, ``role[@seconds] text``: a role of SPEC §2, optionally the
seconds since the chat began, a space, the text. A row gives every message a time or none.
Lines starting with ``#`` are comments. Every bad row is a LexiconError naming file and line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cs_audit.lexicon import ProblemList, did_you_mean, read_lines
from cs_audit.model import ROLES, Conversation, Message
from cs_audit.resources import data_dir

VERDICTS = ("fail", "pass", "n/a")
NOT_APPLICABLE = "n/a"
# A Monday at 10:00: inside the service hours of every bundled rubric, so a row's waits are
# clocked as written (a wait starting outside the hours would be clocked from the opening).
EXAMPLE_START = datetime(2024, 5, 6, 10, 0, 0)
ROW_FORMAT = "fail|pass|n/a<TAB>role[@seconds] text<TAB>role[@seconds] text…"
_MESSAGE = re.compile(r"(?P<head>\S+)(?:\s+(?P<text>.*))?", re.S)
# A table file name is a check id (rubric.py accepts the same shape).
_CHECK_ID = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True, slots=True)
class ExampleMessage:
    """One message of an example conversation; ``at_s`` is seconds since the chat began."""

    role: str
    text: str
    at_s: float | None = None

    def encoded(self) -> str:
        """The message as written in a table: ``role[@seconds] text``."""
        at = "" if self.at_s is None else f"@{self.at_s:g}"
        return f"{self.role}{at} {self.text}"


@dataclass(frozen=True, slots=True)
class CheckExample:
    """One row of a check's example table: a conversation and the verdict it must get."""

    verdict: str
    messages: tuple[ExampleMessage, ...]
    line: int

    def conversation(self, conversation_id: str = "example") -> Conversation:
        """The row as a conversation the audit pipeline reads, timed from EXAMPLE_START."""
        return Conversation(conversation_id, "examples", tuple(
            Message(index, message.role, message.text,
                    None if message.at_s is None else EXAMPLE_START + timedelta(seconds=message.at_s))
            for index, message in enumerate(self.messages)))

    def encoded(self, separator: str = "\t") -> str:
        """The row's messages as written in a table (``separator`` between them)."""
        return separator.join(message.encoded() for message in self.messages)


def bundled_examples_dir() -> Path:
    """The folder of example tables for the bundled rubrics' checks."""
    return data_dir("rubrics") / "examples"


def shown_path(path: Path) -> str:
    """A table's path as messages show it: where it is, also for a bundled one (inside the
    installed package), so that it can be opened."""
    return str(path)


def check_examples_path(check_id: str, folder: Path | str | None = None) -> Path:
    """Where the example table of ``check_id`` is in ``folder`` (default: bundled); it may not exist."""
    return (Path(folder) if folder is not None else bundled_examples_dir()) / f"{check_id}.tsv"


def tables_in(folder: Path | str) -> dict[str, Path]:
    """Check id → table file, for every ``*.tsv`` in ``folder`` (none when it does not exist)."""
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {path.stem: path for path in sorted(folder.glob("*.tsv"))}


def load_check_examples(path: Path | str, problems: ProblemList | None = None) -> list[CheckExample]:
    """Read a check's example table.

    With ``problems``, bad rows are recorded there and the good ones returned; without,
    LexiconError lists every bad row (file:line: what is wrong and how to write it).
    """
    own = problems if problems is not None else ProblemList()
    path = Path(path)
    lines: list[str] = []
    with own.gathered():
        lines = read_lines(path)
    if lines and not _CHECK_ID.fullmatch(path.stem):
        own.add(path, None, f"{path.name}: a table is named after a check id (lower-case letters, "
                            "digits and _), e.g. first_reply.tsv")
    examples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        try:
            examples.append(parse_row(line, number))
        except ValueError as error:
            own.add(path, number, str(error))
    if problems is None:
        own.raise_if_any()
    return examples


def parse_row(line: str, number: int = 0) -> CheckExample:
    """One table line as an example. Raises ValueError saying what is wrong and how to write it."""
    verdict, *cells = line.rstrip("\r\n").split("\t")
    verdict = verdict.strip()
    if verdict not in VERDICTS:
        hint = did_you_mean(verdict, VERDICTS)
        raise ValueError(f"verdict {verdict!r}{hint} is not one of {', '.join(VERDICTS)}; "
                         f"a row is {ROW_FORMAT}")
    if not cells:
        raise ValueError(f"a {verdict} row needs at least one message after a tab; a row is {ROW_FORMAT}")
    messages = [_parse_message(cell, position) for position, cell in enumerate(cells, start=1)]
    timed = [message.at_s is not None for message in messages]
    if any(timed) and not all(timed):
        untimed = timed.index(False) + 1
        raise ValueError(f"message {untimed} has no @seconds but others have: give every message "
                         "of a row a time or none")
    for position in range(1, len(messages)):
        before, after = messages[position - 1].at_s, messages[position].at_s
        if before is not None and after is not None and after < before:
            raise ValueError(f"message {position + 1} at {after:g} s comes before message "
                             f"{position} at {before:g} s: times count from the start of the chat "
                             "and go forward in the order the messages are written")
    return CheckExample(verdict, tuple(messages), number)


def _parse_message(cell: str, position: int) -> ExampleMessage:
    found = _MESSAGE.fullmatch(cell.strip())
    if found is None:
        raise ValueError(f"message {position} is empty (two tabs in a row?); write role[@seconds] text")
    head, text = found.group("head"), (found.group("text") or "").strip()
    role, _, at = head.partition("@")
    if role not in ROLES:
        raise ValueError(f"message {position}: role {role!r}{did_you_mean(role, ROLES)} is not one of "
                         f"{', '.join(ROLES)}; write role[@seconds] text")
    if not text:
        raise ValueError(f"message {position} ({head!r}) has no text; write role[@seconds] text, "
                         "with a space before the text")
    at_s = None
    if head.count("@") == 1:
        try:
            at_s = float(at)
        except ValueError:
            at_s = math.nan
        if not math.isfinite(at_s) or at_s < 0:
            raise ValueError(f"message {position}: {at!r} after @ is not a number of seconds "
                             f"(0 or more) since the chat began, e.g. {role}@75")
    elif "@" in head:
        raise ValueError(f"message {position}: {head!r} has more than one @; write role@seconds")
    return ExampleMessage(role, text, at_s)

