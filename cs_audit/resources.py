"""Locate the bundled data folders (lexicons, rubrics) in a wheel or a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder of bundled data ``name`` ("lexicons" or "rubrics").

    An installed wheel carries the folders under ``cs_audit/_data``; a source checkout
    or an editable install reads them from the top of the repository.
    """
    for candidate in (_PACKAGE_DIR / "_data" / name, _PACKAGE_DIR.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"bundled data folder {name!r} not found next to {_PACKAGE_DIR}")
