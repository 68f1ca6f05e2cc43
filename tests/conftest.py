"""Shared fixtures: building small inputs and running the CLI in-process."""

from __future__ import annotations

import atexit
import contextlib
import csv
import io
import json
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cs_audit.cli import main
from cs_audit.model import Conversation, Message

# The suite builds the derived-table cache (cs_audit.cache) in a folder of its own, so it never
# reads or writes the user's; set CS_AUDIT_CACHE_DIR to reuse a warm one.
if "CS_AUDIT_CACHE_DIR" not in os.environ:
    os.environ["CS_AUDIT_CACHE_DIR"] = tempfile.mkdtemp(prefix="cs-audit-tests-cache-")
    atexit.register(shutil.rmtree, os.environ["CS_AUDIT_CACHE_DIR"], True)

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
# The canonical-format samples (SPEC §2); the other files in samples/ show platform exports.
CANONICAL_SAMPLES = tuple(SAMPLES / name for name in (
    "douyin_chat.xlsx", "jd_chat.jsonl", "pdd_gb18030.csv", "taobao_utf8.csv"))
HEADER = ("conversation_id", "timestamp", "role", "sender", "text")


REPORTER_FIXTURES = Path(__file__).parent / "fixtures" / "reporters"
REPORTER_INPUTS = ("chats.csv", "broken.xlsx")


def make_report(auditor, show=None, results=None, inputs=None):
    """A Report built as the CLI builds it, from the reporter fixture files named relative to
    their folder (nothing machine-specific in golden output); ``show`` masks by default."""
    from cs_audit.aggregate import totals
    from cs_audit.analysis.pii import mask_text
    from cs_audit.parsers import parse_file
    from cs_audit.reporters import Report

    rubric = auditor.rubric
    if results is None:
        inputs, results = [], []
        with contextlib.chdir(REPORTER_FIXTURES):
            for name in REPORTER_INPUTS:
                parsed = parse_file(Path(name))
                inputs.append(parsed.summary)
                results += [auditor.audit(c) for c in parsed.conversations]
    inputs = inputs or []
    grade_order = tuple(grade for _, grade in rubric.grades)
    return Report(rubric, inputs, results, totals(results, inputs, rubric.slow_after_s, grade_order),
                  show or mask_text)


UPDATE_GOLDEN = os.environ.get("CS_AUDIT_UPDATE_GOLDEN") == "1"
GOLDEN_CHANGED = "golden changed: rerun with CS_AUDIT_UPDATE_GOLDEN=1 and review the diff"


def assert_golden_text(text: str, golden: Path) -> None:
    """``text`` equals the golden file (rewritten first with CS_AUDIT_UPDATE_GOLDEN=1)."""
    if UPDATE_GOLDEN:
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8"), GOLDEN_CHANGED


def assert_golden_document(document, golden: Path, indent: int = 1) -> None:
    """``document`` equals the JSON golden file (rewritten first with CS_AUDIT_UPDATE_GOLDEN=1)."""
    if UPDATE_GOLDEN:
        golden.write_text(json.dumps(document, ensure_ascii=False, indent=indent) + "\n", encoding="utf-8")
    assert document == json.loads(golden.read_text(encoding="utf-8")), GOLDEN_CHANGED


def sheet_parts(path) -> dict[str, bytes]:
    """The XML parts of a workbook under xl/ (sheets, styles…), by name: what two workbooks of
    the same audit must share byte for byte (the zip entries' dates differ)."""
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()
                if name.startswith("xl/") and name.endswith(".xml")}


def as_characters(parts: dict[str, bytes]) -> dict[str, bytes]:
    """``parts`` with each character reference beyond ASCII (openpyxl writes every Chinese
    character as one) turned into the character, in UTF-8: how cs-audit's own rows write them."""
    import re

    def character(match: re.Match) -> bytes:
        code = int(match[1])
        return chr(code).encode("utf-8") if code > 127 else match[0]

    return {name: re.sub(rb"&#([0-9]+);", character, part) for name, part in parts.items()}


def csv_text(rows, header=HEADER) -> str:
    """CSV text for ``rows`` (tuples in header order)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


# A canonical CSV's rows (id, time, role, sender, text): a quick, polite chat and a slow one.
GOOD_CHAT_ROWS = [("C1", "2024-04-15 10:00:00", "buyer", "", "在吗"),
                  ("C1", "2024-04-15 10:00:20", "agent", "s:a", "亲，您好，在的，请问有什么可以帮您？"),
                  ("C1", "2024-04-15 10:00:40", "buyer", "", "好的谢谢"),
                  ("C1", "2024-04-15 10:00:50", "agent", "s:a", "不客气，祝您生活愉快")]
SLOW_CHAT_ROWS = [("C2", "2024-04-15 10:00:00", "buyer", "", "在吗"),
                  ("C2", "2024-04-15 10:20:00", "agent", "s:b", "在")]


def write_csv(path: Path, rows, header=HEADER, encoding="utf-8") -> Path:
    path.write_bytes(csv_text(rows, header).encode(encoding))
    return path


def conversation(*specs, conversation_id="C1") -> Conversation:
    """A conversation from ``(role, "HH:MM:SS" or None, text[, sender])`` tuples on 2024-04-15."""
    messages = []
    for index, spec in enumerate(specs):
        role, clock, text, *rest = spec
        stamp = datetime.fromisoformat(f"2024-04-15 {clock}") if clock else None
        sender = rest[0] if rest else ("shop:amy" if role == "agent" else "")
        messages.append(Message(index, role, text, stamp, sender, index + 2))
    return Conversation(conversation_id, "test.csv", tuple(messages))


@pytest.fixture
def run_cli():
    """Run ``cs-audit`` in-process; returns the click Result (stdout and stderr kept apart)."""
    def run(*args: str):
        try:
            runner = CliRunner(mix_stderr=False)
        except TypeError:  # click >= 8.2 always keeps them apart
            runner = CliRunner()
        return runner.invoke(main, [str(arg) for arg in args], catch_exceptions=False)
    return run


@pytest.fixture
def audit_json(run_cli, tmp_path):
    """Audit paths and return (exit code, parsed JSON report)."""
    def run(*args: str):
        out = tmp_path / "report.json"
        result = run_cli("audit", *args, "-o", out, "--format", "none", "-q")
        document = json.loads(out.read_text(encoding="utf-8")) if out.exists() else None
        return result.exit_code, document
    return run
