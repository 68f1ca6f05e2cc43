"""Every audit run is streamed: each result is counted, reduced to what the reports need and
dropped. Its reports are byte for byte what each reporter writes from a report that holds every
result (``Report.build``), and its exit code is what the gates decide from those results."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from conftest import CANONICAL_SAMPLES, SAMPLES, sheet_parts, write_csv


def whole_report(paths, rubric="taobao"):
    """The report of every result of ``paths``, audited in this process: the oracle."""
    from cs_audit.audit import Auditor
    from cs_audit.cli import read_inputs
    from cs_audit.reporters import Report
    from cs_audit.rubric import load_rubric

    loaded = load_rubric(rubric)
    inputs, conversations = read_inputs([Path(p) for p in paths], "auto", "auto", None)
    auditor = Auditor(loaded)
    return Report.build(loaded, inputs, [auditor.audit(c) for c in conversations], mask=True)


@pytest.fixture
def never_build(monkeypatch):
    """Make Report.build (a report of every result) fail inside the CLI."""
    from cs_audit.reporters import Report

    def refuse(*args, **kwargs):
        raise AssertionError("an audit run must not keep its results for Report.build")

    monkeypatch.setattr(Report, "build", classmethod(refuse))


@pytest.mark.parametrize("gates", [(), ("--fail-on", "major"), ("--fail-under", "99"),
                                   ("--fail-on", "critical", "--fail-under", "10")])
def test_streamed_json_reports_and_exit_code_are_those_of_every_result(run_cli, tmp_path, gates, request):
    from cs_audit.cli import gate_exit_code
    from cs_audit.reporters.json_report import write_json, write_jsonl

    report = whole_report([SAMPLES])
    request.getfixturevalue("never_build")
    ran = run_cli("audit", SAMPLES, "--rubric", "taobao", *gates, "-o", tmp_path / "r.json",
                  "-o", tmp_path / "r.jsonl", "--format", "none", "-q")
    for name, write in (("r.json", write_json), ("r.jsonl", write_jsonl)):
        expected = io.StringIO()
        write(report, expected)
        assert (tmp_path / name).read_text(encoding="utf-8") == expected.getvalue()
    fail_under = float(gates[gates.index("--fail-under") + 1]) if "--fail-under" in gates else None
    fail_on = gates[gates.index("--fail-on") + 1] if "--fail-on" in gates else "never"
    assert ran.exit_code == gate_exit_code(report.results, fail_under, fail_on)[0]


def test_streamed_workbook_junit_table_and_annotations_are_those_of_every_result(run_cli, tmp_path, request):
    from cs_audit.gate import GateRule
    from cs_audit.reporters.github import conversation_annotations, render_github
    from cs_audit.reporters.junit import render_junit
    from cs_audit.reporters.table import write_table
    from cs_audit.reporters.xlsx import write_xlsx

    report = whole_report([SAMPLES])
    write_xlsx(report, tmp_path / "whole.xlsx")
    table = io.StringIO()
    write_table(report, table)
    request.getfixturevalue("never_build")
    printed = run_cli("audit", SAMPLES, "--rubric", "taobao", "-o", tmp_path / "r.xlsx",
                      "-o", tmp_path / "r.xml", "-o", tmp_path / "again.xml")
    assert printed.stdout == table.getvalue() and "TOTAL" in printed.stdout
    assert sheet_parts(tmp_path / "r.xlsx") == sheet_parts(tmp_path / "whole.xlsx")
    assert (tmp_path / "r.xml").read_text(encoding="utf-8") == render_junit(report)
    assert (tmp_path / "again.xml").read_text(encoding="utf-8") == render_junit(report)
    annotated = run_cli("audit", SAMPLES, "--rubric", "taobao", "--format", "github", "--findings", "all")
    assert annotated.stdout == render_github(report)
    assert "::error " in annotated.stdout and "::warning " in annotated.stdout
    gated = run_cli("audit", SAMPLES, "--rubric", "taobao", "--format", "github", "--fail-on", "major")
    rule = GateRule(fail_on="major")
    assert gated.stdout == render_github(report, [annotation for result in report.results
                                                  for annotation in conversation_annotations(result, report, rule)])


def test_streamed_stdout_json_equals_the_written_file(run_cli, tmp_path):
    out = tmp_path / "r.json"
    printed = run_cli("audit", *CANONICAL_SAMPLES, "--format", "json", "-q", "-o", out)
    assert printed.stdout == out.read_text(encoding="utf-8")


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
