"""Data flows one way: the model imports nothing of the analysis, reporters read results."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "cs_audit"


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_model_imports_no_other_cs_audit_module():
    # Even under TYPE_CHECKING: the result records are the bottom layer every other one reads.
    assert {name for name in imported_modules(PACKAGE / "model.py") if name.startswith("cs_audit")} == set()


def test_the_json_report_and_the_checks_take_dispute_records_from_the_model():
    for name in ("reporters/json_report.py", "checks.py"):
        assert "cs_audit.analysis.dispute" not in imported_modules(PACKAGE / name), name
