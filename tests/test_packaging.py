"""The wheel carries lexicons/ and rubrics/, so an installed cs-audit works from any folder."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import cs_audit
from cs_audit.resources import data_dir
from conftest import REPO


def test_wheel_ships_lexicons_and_rubrics(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(REPO)],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("cs_audit-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder in ("lexicons", "rubrics"):
        shipped = {p.relative_to(REPO).as_posix() for p in (REPO / folder).rglob("*") if p.is_file()}
        for relative in shipped:
            assert f"cs_audit/_data/{relative}" in names, f"{relative} missing from the wheel"


def test_installed_package_reads_its_own_data_folders():
    package = Path(cs_audit.__file__).resolve().parent
    for name in ("lexicons", "rubrics"):
        folder = data_dir(name)
        if package.parent == REPO:  # editable or source checkout
            assert folder == REPO / name
        else:
            assert folder == package / "_data" / name
        assert any(folder.iterdir())
