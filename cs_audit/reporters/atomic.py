"""Reports are written whole or not at all: to a hidden file beside the target, renamed over it.

A report replaces yesterday's only once it is complete, so a full disk, Ctrl-C, SIGTERM or a
crash leaves the old report as it was, and two runs writing the same report leave one whole
report (the last rename wins), never a mix. The temporary file sits in the target's folder, so
the rename is atomic (same file system). A run killed outright (SIGKILL) cannot remove its
temporary file: the next run that writes the same report removes any such file left by a
process that no longer exists.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

_PREFIX = ".cs-audit-"
# .cs-audit-<pid>-<random>.<report name>.tmp
_TEMPORARY = re.compile(r"^\.cs-audit-(\d+)-[0-9a-f]{8}\.(.+)\.tmp$")


def temporary_path(target: Path) -> Path:
    return target.with_name(f"{_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.{target.name}.tmp")


@contextlib.contextmanager
def atomic_target(target: str | os.PathLike[str]) -> Iterator[Path]:
    """A path to write the report to; it becomes ``target`` when the block ends without error."""
    final = Path(target)
    remove_abandoned(final)
    temporary = temporary_path(final)
    try:
        yield temporary
        mode = _mode_for(final)
        os.chmod(temporary, mode)
        os.replace(temporary, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()


def _mode_for(final: Path) -> int:
    # The report keeps the mode it had (a shared folder's group permissions), or gets the mode a
    # plain open() would give it: 0666 less the umask.
    with contextlib.suppress(FileNotFoundError):
        return final.stat().st_mode & 0o7777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def remove_abandoned(final: Path) -> None:
    """Remove temporary files of ``final`` left by cs-audit processes that no longer run."""
    folder = final.parent if str(final.parent) else Path(".")
    with contextlib.suppress(OSError):
        for candidate in folder.iterdir():
            match = _TEMPORARY.match(candidate.name)
            if match and match.group(2) == final.name and not _alive(int(match.group(1))):
                with contextlib.suppress(OSError):
                    candidate.unlink()


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is one of these temporary files (never an input)."""
    return _TEMPORARY.match(path.name) is not None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
