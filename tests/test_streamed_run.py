"""Runs with only JSON, JSONL and Excel reports are streamed: the same bytes and exit codes as a
run that keeps every result, without keeping them."""

from __future__ import annotations

import pytest

from conftest import CANONICAL_SAMPLES, SAMPLES, sheet_parts, write_csv


def streamed_and_kept(run_cli, tmp_path, *args):
    """(streamed run, run that keeps results): the JUnit report forces the second path."""
    streamed = tmp_path / "streamed"
    kept = tmp_path / "kept"
    streamed.mkdir()
    kept.mkdir()
    first = run_cli("audit", *args, "-o", streamed / "r.json", "-o", streamed / "r.jsonl",
                    "--format", "none", "-q")
    second = run_cli("audit", *args, "-o", kept / "r.json", "-o", kept / "r.jsonl",
                     "-o", kept / "r.xml", "--format", "none", "-q")
    return (first, streamed), (second, kept)


@pytest.mark.parametrize("gates", [(), ("--fail-on", "major"), ("--fail-under", "99"),
                                   ("--fail-on", "critical", "--fail-under", "10")])
def test_streamed_reports_are_byte_identical_to_kept_ones(run_cli, tmp_path, gates):
    (first, streamed), (second, kept) = streamed_and_kept(run_cli, tmp_path, SAMPLES,
                                                          "--rubric", "taobao", *gates)
    for name in ("r.json", "r.jsonl"):
        assert (streamed / name).read_bytes() == (kept / name).read_bytes()
    assert first.exit_code == second.exit_code
    assert first.stderr == second.stderr


def test_streamed_stdout_json_equals_the_written_file(run_cli, tmp_path):
    out = tmp_path / "r.json"
    printed = run_cli("audit", *CANONICAL_SAMPLES, "--format", "json", "-q", "-o", out)
    assert printed.stdout == out.read_text(encoding="utf-8")


def test_a_streamed_run_never_builds_a_report_of_all_results(run_cli, tmp_path, monkeypatch):
    from cs_audit.reporters import Report

    def refuse(*args, **kwargs):
        raise AssertionError("a streamed run must not keep its results for Report.build")

    monkeypatch.setattr(Report, "build", classmethod(refuse))
    result = run_cli("audit", *CANONICAL_SAMPLES, "-o", tmp_path / "r.json", "--format", "none", "-q")
    assert result.exit_code == 0
    assert (tmp_path / "r.json").stat().st_size > 0


def test_a_streamed_run_with_no_readable_input_exits_2_and_writes_nothing(run_cli, tmp_path):
    broken = tmp_path / "broken.csv"
    broken.write_bytes(b"")
    result = run_cli("audit", broken, "-o", tmp_path / "r.json", "--format", "none")
    assert result.exit_code == 2
    assert "no input could be read" in result.stderr
    assert not (tmp_path / "r.json").exists()


def test_a_streamed_run_with_an_empty_export_writes_an_empty_report(run_cli, tmp_path):
    import json

    empty = write_csv(tmp_path / "empty.csv", [])
    result = run_cli("audit", empty, "-o", tmp_path / "r.json", "-o", tmp_path / "r.jsonl",
                     "--format", "none", "-q")
    assert result.exit_code == 0
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))["conversations"] == []
    assert (tmp_path / "r.jsonl").read_text(encoding="utf-8") == ""


@pytest.mark.parametrize("report", ["r.json", "r.xlsx"])
def test_the_progress_counter_on_a_terminal(run_cli, tmp_path, monkeypatch, report):
    import cs_audit.cli

    monkeypatch.setattr(cs_audit.cli, "_stderr_is_terminal", lambda: True)
    monkeypatch.setattr(cs_audit.cli, "PROGRESS_FROM", 5)  # the samples hold ~60 conversations
    result = run_cli("audit", SAMPLES, "-o", tmp_path / report, "--format", "none", "--jobs", "2")
    assert result.exit_code == 0, result.stderr
    assert "auditing" in result.stderr and "conversations" in result.stderr



def test_a_streamed_workbook_is_the_workbook_of_a_run_that_keeps_its_results(run_cli, tmp_path, monkeypatch):
    from cs_audit.reporters import Report

    kept = run_cli("audit", SAMPLES, "-o", tmp_path / "kept.xlsx", "--format", "table", "-q")

    def refuse(*args, **kwargs):
        raise AssertionError("a streamed run must not keep its results for Report.build")

    monkeypatch.setattr(Report, "build", classmethod(refuse))
    streamed = run_cli("audit", SAMPLES, "-o", tmp_path / "streamed.xlsx", "-o", tmp_path / "r.json",
                       "--format", "none", "-q")
    assert streamed.exit_code == kept.exit_code
    assert sheet_parts(tmp_path / "streamed.xlsx") == sheet_parts(tmp_path / "kept.xlsx")


def test_a_json_run_never_imports_the_workbook_library(tmp_path):
    # openpyxl costs ~0.5 s of start-up (issue 7: start-up under 1.5 s); only workbook and
    # JUnit reports need it.
    import subprocess
    import sys

    script = ("import sys\n"
              "from cs_audit.cli import main\n"
              f"sys.argv = ['cs-audit', 'audit', {str(SAMPLES / 'taobao_utf8.csv')!r}, '-q', '--format', 'none',"
              f" '-o', {str(tmp_path / 'r.json')!r}]\n"
              "try:\n    main()\nexcept SystemExit as done:\n    assert done.code in (0, 1), done.code\n"
              "print('openpyxl' in sys.modules)\n")
    ran = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert ran.stdout.strip() == "False"
    assert (tmp_path / "r.json").stat().st_size > 0


def test_a_streamed_table_is_the_table_of_a_run_that_keeps_its_results(run_cli, tmp_path, monkeypatch):
    from cs_audit.reporters import Report

    # JUnit looks at every result's messages, so this run keeps them.
    kept = run_cli("audit", SAMPLES, "--rubric", "taobao", "-o", tmp_path / "r.xml")

    def refuse(*args, **kwargs):
        raise AssertionError("a streamed run must not keep its results for Report.build")

    monkeypatch.setattr(Report, "build", classmethod(refuse))
    streamed = run_cli("audit", SAMPLES, "--rubric", "taobao", "-o", tmp_path / "r.json")
    assert streamed.stdout == kept.stdout
    assert "TOTAL" in streamed.stdout
    assert streamed.exit_code == kept.exit_code


def test_streamed_github_annotations_are_those_of_a_run_that_keeps_its_results(run_cli, tmp_path, monkeypatch):
    from cs_audit.reporters import Report

    kept = run_cli("audit", SAMPLES, "--format", "github", "-o", tmp_path / "r.xml")

    def refuse(*args, **kwargs):
        raise AssertionError("a streamed run must not keep its results for Report.build")

    monkeypatch.setattr(Report, "build", classmethod(refuse))
    streamed = run_cli("audit", SAMPLES, "--format", "github", "-o", tmp_path / "r.xlsx")
    assert streamed.stdout == kept.stdout
    assert "::error " in streamed.stdout and "::warning " in streamed.stdout
    assert streamed.exit_code == kept.exit_code
