"""Standard input as an input file (``cs-audit audit -``): copied to a temporary file first.

Every reader may read its file more than once (sniffing, then parsing; the CSV reader checks
the encoding before it streams), which a pipe cannot give; the copy is bounded as any file read
whole is, and removed when the run ends.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from collections.abc import Callable
from typing import BinaryIO

from cs_audit.parsers.text import MAX_WHOLE_FILE_BYTES

STDIN_ARGUMENT = "-"
STDIN_NAME = "<stdin>"
_CHUNK = 1 << 20


class StdinTooLarge(ValueError):
    """Standard input held more than a file read whole may."""


def copy_stdin(source: BinaryIO, folder: Path, name: str = "stdin") -> Path:
    """Copy ``source`` (standard input or a named pipe) to ``folder/name`` and return that path
    (a pipe's copy keeps its name, so that its extension still tells the format of an empty one)."""
    target = folder / name
    copied = 0
    with target.open("wb") as out:
        while chunk := source.read(_CHUNK):
            copied += len(chunk)
            if copied > MAX_WHOLE_FILE_BYTES:
                raise StdinTooLarge(f"the input (a pipe) holds more than {MAX_WHOLE_FILE_BYTES >> 20} MiB; "
                                    "save the export to a file and name it instead")
            out.write(chunk)
    return target


def temporary_folder() -> tuple[Path, Callable[[], None]]:
    """A private temporary folder for the copy, and the function that removes it."""
    folder = Path(tempfile.mkdtemp(prefix="cs-audit-stdin-"))
    return folder, lambda: shutil.rmtree(folder, ignore_errors=True)
