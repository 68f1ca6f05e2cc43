"""Reporters: the SPEC §4 JSON shape, the workbook agreeing with it, safe cells, the golden report."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from cs_audit.reporters.xlsx_cells import CUT_MARKER, EXCEL_CELL_LIMIT, XML_ILLEGAL, clean_text, text_cell
from conftest import CANONICAL_SAMPLES, REPO, assert_golden_document, assert_golden_text, write_csv

GOLDEN = Path(__file__).parent / "golden" / "canonical_samples.json"

CONVERSATION_KEYS = {"id", "source", "agents", "start", "end", "messages", "score", "grade",
                     "passed", "critical", "metrics", "detections", "checks"}
RESPONSE_KEYS = {"first_s", "avg_s", "max_s", "slow", "unanswered", "turns", "kpis"}
SENTIMENT_KEYS = {"first", "last", "min", "drop"}
DETECTION_KEYS = {"category", "message_index", "role", "span", "text"}
CHECK_KEYS = {"rule", "severity", "passed", "points", "max_points", "message", "message_index"}


@pytest.fixture(scope="module")
def samples_reports(tmp_path_factory):
    from click.testing import CliRunner
    from cs_audit.cli import main
    out = tmp_path_factory.mktemp("reports")
    result = CliRunner().invoke(main, ["audit", *map(str, CANONICAL_SAMPLES), "-o", str(out / "r.json"),
                                       "-o", str(out / "r.xlsx"), "--format", "none", "-q",
                                       "--lang", "en"])
    assert result.exit_code == 0, result.output
    return json.loads((out / "r.json").read_text(encoding="utf-8")), load_workbook(out / "r.xlsx")


def test_json_report_has_the_spec_shape(samples_reports):
    report, _ = samples_reports
    assert report["schema"] == "cs-audit/1"
    assert report["tool"]["name"] == "cs-audit"
    assert set(report["rubric"]) >= {"name", "source"}
    for entry in report["inputs"]:
        assert set(entry) >= {"path", "format", "encoding", "rows", "messages", "problems"}
    assert set(report["summary"]) >= {"conversations", "messages", "score_mean", "passed", "critical"}
    for agent in report["agents"]:
        assert set(agent) >= {"agent", "conversations", "score_mean"}
    for conv in report["conversations"]:
        assert set(conv) >= CONVERSATION_KEYS
        assert set(conv["metrics"]["response"]) >= RESPONSE_KEYS
        assert set(conv["metrics"]["sentiment"]) >= SENTIMENT_KEYS
        for detection in conv["detections"]:
            assert set(detection) >= DETECTION_KEYS
        for check in conv["checks"]:
            assert set(check) >= CHECK_KEYS
            assert check["severity"] in ("critical", "major", "minor", "info")


def test_samples_inputs_are_read_with_their_encodings(samples_reports):
    report, _ = samples_reports
    found = {Path(entry["path"]).name: (entry["format"], entry["encoding"]) for entry in report["inputs"]}
    assert found == {
        "douyin_chat.xlsx": ("xlsx", None), "jd_chat.jsonl": ("jsonl", "utf-8"),
        "pdd_gb18030.csv": ("csv", "gb18030"), "taobao_utf8.csv": ("csv", "utf-8"),
    }
    assert all(entry["problems"] == [] for entry in report["inputs"])
    assert report["summary"]["conversations"] == 33


def test_samples_response_figures_match_hand_computed_waits(samples_reports):
    report, _ = samples_reports
    conv = {c["id"]: c["metrics"]["response"] for c in report["conversations"]}
    assert conv["TB-0002"]["first_s"] == 330        # 23:40:12 clocked from 08:00, answered 08:05:30
    assert conv["DY-0005"]["first_s"] == 150        # 07:31:20 clocked from 08:00, answered 08:02:30
    assert conv["TB-0003"]["slow"] == 4 and conv["TB-0003"]["max_s"] == 745
    assert conv["PDD-0002"]["first_s"] == 57        # rows unsorted in the file
    assert conv["PDD-0005"]["unanswered"] == 1 and conv["PDD-0005"]["max_s"] == 760
    assert conv["JD-0004"]["first_s"] is None       # no timestamps at all
    assert conv["TB-0009"]["avg_s"] == 149.5


def test_workbook_agrees_with_json(samples_reports):
    report, workbook = samples_reports
    assert {"Summary", "Conversations", "Findings"} <= set(workbook.sheetnames)
    rows = list(workbook["Conversations"].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    by_id = {row[header.index("Conversation")]: row for row in body}
    assert len(by_id) == len(report["conversations"])
    for conv in report["conversations"]:
        row = by_id[conv["id"]]
        assert row[header.index("Score")] == pytest.approx(conv["score"])
        assert row[header.index("Grade")] == conv["grade"]
        assert row[header.index("Passed")] == ("yes" if conv["passed"] else "no")
        first = conv["metrics"]["response"]["first_s"]
        assert row[header.index("First reply (s)")] == (pytest.approx(first) if first is not None else None)
    failed = [check for c in report["conversations"] for check in c["checks"] if not check["passed"]]
    problem_detections = [d for c in report["conversations"] for d in c["detections"]
                          if d["category"].startswith(("tone.rude", "risk.", "buyer.", "pii."))]
    findings = list(workbook["Findings"].iter_rows(values_only=True))[1:]
    assert len(findings) == len(failed) + len(problem_detections)
    assert sum(1 for row in findings if row[0] != "info") == sum(1 for c in failed if c["severity"] != "info")
    severities = [row[0] for row in findings]
    assert severities == sorted(severities, key=["critical", "major", "minor", "info"].index)
    summary = {row[0]: row[1] for row in workbook["Summary"].iter_rows(values_only=True) if row and row[0]}
    assert summary["Conversations"] == report["summary"]["conversations"]
    assert summary["Mean score"] == pytest.approx(report["summary"]["score_mean"], abs=0.01)


def test_golden_json_for_the_samples(samples_reports):
    report, _ = samples_reports
    for entry in report["inputs"]:
        entry["path"] = Path(entry["path"]).name
    for conv in report["conversations"]:
        conv["source"] = Path(conv["source"]).name
    report["tool"]["version"] = "*"
    assert_golden_document(report, GOLDEN, indent=2)


def test_formula_like_chat_text_stays_text(run_cli, tmp_path):
    evil = ['=HYPERLINK("http://x","click")', "+1+2", "-3", "@SUM(A1)", "#N/A", "=1+1"]
    rows = [("C1", f"2024-04-15 10:00:{i:02d}", "buyer", "", text) for i, text in enumerate(evil)]
    path = write_csv(tmp_path / "a.csv", rows)
    out = tmp_path / "r.xlsx"
    assert run_cli("audit", path, "-o", out, "--format", "none").exit_code == 0
    workbook = load_workbook(out)
    cells = [cell for sheet in workbook for row in sheet.iter_rows() for cell in row]
    assert not any(cell.data_type == "f" for cell in cells)
    assert not any(cell.data_type == "e" for cell in cells)
    evidence = {cell.value for cell in cells if cell.value in evil}
    assert "=1+1" in evidence or len(evidence) >= 1


def test_clean_text_replaces_xml_illegal_characters_and_cuts_long_text():
    assert clean_text("a\x00b\x1fc\ud800d") == "a\ufffdb\ufffdc\ufffdd"
    long = "长" * (EXCEL_CELL_LIMIT + 10)
    cut = clean_text(long)
    assert len(cut) == EXCEL_CELL_LIMIT and cut.endswith(CUT_MARKER)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_text_reloads_equal_to_its_cleaned_form(tmp_path, text):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("t")
    sheet.append([text_cell(sheet, text)])
    path = tmp_path / "p.xlsx"
    workbook.save(path)
    value = load_workbook(path).worksheets[0]["A1"].value
    expected = clean_text(text)
    # openpyxl reads an empty string back as an empty cell.
    assert (value or "") == expected
    assert not XML_ILLEGAL.search(value or "")


PERSONAL = ("13812345678", "110105199003071239", "6222021234567890128")


def _all_text(out):
    texts = [out.with_suffix(suffix).read_text(encoding="utf-8") for suffix in (".json", ".jsonl")]
    workbook = load_workbook(out.with_suffix(".xlsx"))
    texts += [str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row]
    return "\n".join(texts)


@pytest.mark.parametrize("no_mask", [False, True])
def test_personal_data_is_masked_in_every_output_unless_asked(run_cli, tmp_path, no_mask):
    out = tmp_path / "r"
    args = ["audit", *CANONICAL_SAMPLES, "-o", out.with_suffix(".json"), "-o", out.with_suffix(".jsonl"),
            "-o", out.with_suffix(".xlsx"), "-q"] + (["--no-mask"] if no_mask else [])
    result = run_cli(*args)
    assert result.exit_code == 0
    everything = _all_text(out) + result.stdout
    for number in PERSONAL:
        assert (number in everything) == no_mask, number
    if not no_mask:
        assert "138****5678" in everything


def test_golden_table_for_the_samples(run_cli, monkeypatch):
    golden = Path(__file__).parent / "golden" / "table.txt"
    # Files inside the working folder are shown relative to it, as the README's example shows.
    monkeypatch.chdir(REPO)
    result = run_cli("audit", *CANONICAL_SAMPLES, "--rubric", "taobao", "-q")
    assert result.exit_code == 0
    assert_golden_text(result.stdout, golden)
