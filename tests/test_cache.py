"""The derived-table cache: built once, read back while its sources are unchanged, never fatal."""

from __future__ import annotations

import os

import pytest

from cs_audit import cache


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def counting_builder(value):
    calls = []

    def build():
        calls.append(1)
        return value

    return build, calls


def test_a_value_is_built_once_then_read_back(folder, tmp_path):
    source = tmp_path / "model.txt"
    source.write_text("v1", encoding="utf-8")
    build, calls = counting_builder({"words": ("a", "b"), "total": 3})
    first = cache.cached("table", [source, "1.0"], build)
    second = cache.cached("table", [source, "1.0"], build)
    assert first == second == {"words": ("a", "b"), "total": 3}
    assert len(calls) == 1
    assert len(list(folder.glob("table-*.marshal"))) == 1


def test_a_changed_source_misses(folder, tmp_path):
    source = tmp_path / "model.txt"
    source.write_text("v1", encoding="utf-8")
    build, calls = counting_builder(1)
    cache.cached("table", [source], build)
    source.write_text("v2", encoding="utf-8")
    cache.cached("table", [source], build)
    cache.cached("table", [source, "another version"], build)
    assert len(calls) == 3


def test_a_corrupt_entry_is_rebuilt(folder):
    build, calls = counting_builder([1, 2, 3])
    cache.cached("table", ["x"], build)
    (entry,) = folder.glob("table-*.marshal")
    entry.write_bytes(entry.read_bytes()[:3])
    assert cache.cached("table", ["x"], build) == [1, 2, 3]
    assert len(calls) == 2
    assert cache.cached("table", ["x"], build) == [1, 2, 3]
    assert len(calls) == 2


def test_off_builds_every_time_and_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv(cache.CACHE_ENV, "off")
    monkeypatch.chdir(tmp_path)
    build, calls = counting_builder("v")
    assert cache.cached("table", ["x"], build) == "v"
    assert cache.cached("table", ["x"], build) == "v"
    assert len(calls) == 2 and cache.cache_dir() is None


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_an_unwritable_folder_only_costs_time(monkeypatch, tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    monkeypatch.setenv(cache.CACHE_ENV, str(locked / "cache"))
    build, calls = counting_builder(42)
    assert cache.cached("table", ["x"], build) == 42
    assert len(calls) == 1


def test_a_folder_that_is_a_file_only_costs_time(monkeypatch, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv(cache.CACHE_ENV, str(blocker))
    build, calls = counting_builder(42)
    assert cache.cached("table", ["x"], build) == 42
    assert cache.cached("table", ["x"], build) == 42
    assert len(calls) == 2


def test_default_folder_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv(cache.CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache.cache_dir() == tmp_path / "cs-audit"
