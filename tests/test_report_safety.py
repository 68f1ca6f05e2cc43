"""Reports are written whole or not at all, never over an input, and are not read back as inputs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from cs_audit.cli import main
from cs_audit.reporters import atomic
from cs_audit.reporters.atomic import atomic_target

CHAT = (
    "conversation_id,timestamp,role,sender,text\n"
    "C1,2024-04-15 10:00:00,buyer,buyer1,在吗\n"
    "C1,2024-04-15 10:00:20,agent,shop:amy,您好，在的\n"
)


@pytest.fixture
def chats(tmp_path) -> Path:
    folder = tmp_path / "exports"
    folder.mkdir()
    path = folder / "chats.csv"
    path.write_text(CHAT, encoding="utf-8")
    return path


def run(*args: object):
    return CliRunner().invoke(main, [str(arg) for arg in args])


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".cs-audit-"))


def test_a_report_never_replaces_an_input(chats):
    from openpyxl import Workbook

    workbook = Workbook()
    for row in CHAT.strip().splitlines():
        workbook.active.append(row.split(","))
    export = chats.with_suffix(".xlsx")
    workbook.save(export)
    before = export.read_bytes()
    result = run("audit", export, "-o", chats.with_suffix(".json"), "-o", export, "--format", "none")
    assert result.exit_code == 2
    assert "is one of the inputs" in result.output
    assert export.read_bytes() == before
    assert not chats.with_suffix(".json").exists()  # refused before the audit, nothing written


def test_reports_written_into_the_audited_folder_are_not_read_back(chats):
    folder = chats.parent
    first = run("audit", folder, "-o", folder / "report.json", "-o", folder / "report.xlsx",
                "-o", folder / "report.jsonl", "--format", "none")
    assert first.exit_code == 0, first.output
    second = run("audit", folder, "--format", "json")
    assert second.exit_code == 0
    assert "3 report(s) written by cs-audit left out of the inputs" in second.stderr
    document = json.loads(second.stdout)
    assert [entry["path"] for entry in document["inputs"]] == [str(chats)]


def test_a_failed_write_leaves_yesterdays_report_and_no_temporary_file(chats, monkeypatch):
    target = chats.parent / "report.json"
    target.write_text("yesterday", encoding="utf-8")
    other = chats.parent / "report.jsonl"

    def full_disk(report, entry_lines, stream):
        stream.write('{"schema": "cs-audit/1", "half": ')
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("cs_audit.reporters.json_report.write_document", full_disk)
    result = run("audit", chats, "-o", target, "-o", other, "--format", "none")
    assert result.exit_code == 2
    assert f"cannot write {target}: no space left in {chats.parent}; the previous file" in result.stderr
    assert target.read_text(encoding="utf-8") == "yesterday"
    assert other.exists()  # the other report still comes
    assert leftovers(chats.parent) == []


class FullTemporaryFile:
    """A temporary file on a full disk: every write fails as the kernel says ENOSPC."""

    def __init__(self, *args, **kwargs):
        pass

    def write(self, data):
        raise OSError(28, "No space left on device")

    flush = write

    def close(self):
        pass


def test_a_full_temporary_folder_is_a_clear_error_and_the_old_report_stays(chats, monkeypatch):
    import tempfile

    target = chats.parent / "report.json"
    target.write_text("yesterday", encoding="utf-8")
    monkeypatch.setattr("cs_audit.reporters.deflate.tempfile.TemporaryFile", FullTemporaryFile)
    # Enough text that the spool writes before the end of the run.
    rows = "".join(f"C{n},2024-04-15 10:00:00,buyer,b,在吗\n" for n in range(400))
    chats.write_text(CHAT + rows, encoding="utf-8")
    result = run("audit", chats, "-o", target, "--format", "none", "-q")
    assert result.exit_code == 2, result.output
    assert result.stderr == (f"Error: no space left in the temporary folder {tempfile.gettempdir()}: "
                             "free space there, or set TMPDIR to a folder with room; no report was "
                             "written or replaced\n")
    assert target.read_text(encoding="utf-8") == "yesterday"
    assert leftovers(chats.parent) == []


def test_a_temporary_folder_that_fills_while_a_workbook_is_written_is_named(chats, monkeypatch):
    import tempfile

    from cs_audit import cli

    target = chats.parent / "report.xlsx"
    target.write_bytes(b"yesterday")
    real_temporary_file, real_write_outputs = tempfile.TemporaryFile, cli._write_outputs
    full = []

    def temporary_file(*args, **kwargs):
        return FullTemporaryFile() if full else real_temporary_file(*args, **kwargs)

    def write_outputs(*args, **kwargs):
        full.append(True)  # the disk fills up once the audit is over
        return real_write_outputs(*args, **kwargs)

    monkeypatch.setattr("cs_audit.reporters.deflate.tempfile.TemporaryFile", temporary_file)
    monkeypatch.setattr(cli, "_write_outputs", write_outputs)
    result = run("audit", chats, "-o", target, "-o", chats.parent / "r.json", "--format", "none")
    assert result.exit_code == 2
    assert (f"cannot write {target}: no space left in the temporary folder {tempfile.gettempdir()}"
            in result.stderr)
    assert target.read_bytes() == b"yesterday"
    assert (chats.parent / "r.json").exists()  # the other report still comes
    assert leftovers(chats.parent) == []


def test_a_report_keeps_the_mode_of_the_file_it_replaces(tmp_path):
    target = tmp_path / "r.json"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o640)
    with atomic_target(target) as temporary:
        temporary.write_text("new", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "new"
    assert target.stat().st_mode & 0o777 == 0o640


def test_ctrl_c_exits_130_and_replaces_nothing(chats, monkeypatch):
    target = chats.parent / "report.json"
    target.write_text("yesterday", encoding="utf-8")

    def interrupted(self, conversation):
        raise KeyboardInterrupt

    monkeypatch.setattr("cs_audit.audit.Auditor.audit", interrupted)
    result = run("audit", chats, "-o", target, "--format", "none")
    assert result.exit_code == 130
    assert "interrupted" in result.output
    assert target.read_text(encoding="utf-8") == "yesterday"


WRITER = textwrap.dedent("""
    import signal, sys, time
    from cs_audit.cli import _terminated
    from cs_audit.reporters.atomic import atomic_target
    signal.signal(signal.SIGTERM, _terminated)
    with atomic_target(sys.argv[1]) as temporary:
        with open(temporary, "w") as stream:
            stream.write("half a report")
            stream.flush()
            print("writing", flush=True)
            time.sleep(60)
""")


@pytest.mark.parametrize(("signum", "code", "left"), [(signal.SIGTERM, 128 + signal.SIGTERM, False),
                                                      (signal.SIGKILL, -signal.SIGKILL, True)])
def test_a_killed_writer_leaves_the_old_report_whole(tmp_path, signum, code, left):
    target = tmp_path / "report.json"
    target.write_text("yesterday", encoding="utf-8")
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE,
                             text=True, env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert child.stdout.readline().strip() == "writing"
    child.send_signal(signum)
    assert child.wait(timeout=30) == code
    assert target.read_text(encoding="utf-8") == "yesterday"
    assert bool(leftovers(tmp_path)) is left
    if left:
        # SIGKILL runs no cleanup; the next run writing that report removes what it left.
        with atomic_target(target) as temporary:
            temporary.write_text("today", encoding="utf-8")
        assert leftovers(tmp_path) == [] and target.read_text(encoding="utf-8") == "today"


def test_temporary_files_of_running_processes_are_left_alone(tmp_path):
    target = tmp_path / "report.json"
    running = atomic.temporary_path(target)  # this process's own
    running.write_text("in progress", encoding="utf-8")
    atomic.remove_abandoned(target)
    assert running.exists()
