"""Text safe to print on a terminal or into a CI log: control characters shown, not obeyed.

File names, conversation ids, senders, rubric and grade names come from users' files; a newline
or an escape sequence among them must not start a fake log line (a ``::error`` workflow command)
or recolour the terminal.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from typing import IO


def terminal_text(text: str) -> str:
    """``text`` with every character that is not printable written as its escape (\\n, \\x1b…)."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else repr(char)[1:-1] for char in text)


def use_colour(stream: IO[str], asked: bool | None = None, environ: Mapping[str, str] | None = None) -> bool:
    """Whether to colour what goes to ``stream``.

    ``--color``/``--no-color`` (``asked``) decide; else a non-empty NO_COLOR turns colour off
    and a non-empty FORCE_COLOR on (https://no-color.org, https://force-color.org; an empty
    one counts as unset, NO_COLOR first as Python itself does); else colour when ``stream`` is
    a terminal that is not ``TERM=dumb``.
    """
    if asked is not None:
        return asked
    env = os.environ if environ is None else environ
    if env.get("NO_COLOR"):
        return False
    if env.get("FORCE_COLOR"):
        return True
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty()) and env.get("TERM") != "dumb"


def terminal_width(stream: IO[str], environ: Mapping[str, str] | None = None) -> int | None:
    """How wide a table may be on ``stream``: COLUMNS when set to a number, else the terminal's
    width, else None (a pipe or a file: no limit, so scripts get every column)."""
    env = os.environ if environ is None else environ
    columns = env.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    isatty = getattr(stream, "isatty", None)
    if isatty and isatty():
        return shutil.get_terminal_size().columns
    return None
