"""What reaches the user names no internal document (the contract, design notes, issue numbers)
and no path that exists only in a source checkout, not in an installed package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import click
import pytest

from cs_audit.cli import main
from conftest import REPO

# The contract and design notes live beside the code, not with it; issue numbers mean nothing to
# a user; bench/, tests/, docs/ and samples/ are not installed; bundled rubrics and lexicons are
# installed elsewhere (cs_audit/_data/), so "rubrics/x.toml" names nothing a user can open.
INTERNAL = re.compile(
    r"\bSPEC\b|§|\bissues?\s*#?\d+|\(#\d+\)|QUALITY\.md|ARCHITECTURE\.md|STYLE\.md"
    r"|(?<![\w/.-])(?:bench|tests|docs|samples|\.github)/"
    r"|(?<![\w/.-])(?:rubrics|lexicons)/")


def internal_references(text: str) -> list[str]:
    return [match.group(0) for match in INTERNAL.finditer(text)]


def test_the_pattern_finds_what_it_must_and_passes_ordinary_text():
    for bad in ("per SPEC §3", "as summarised (issue 5)", "see QUALITY.md", "fixed in (#21)",
                "bench/gold/", "see rubrics/default.toml", "tests/test_pii.py", "(see `rubrics/`)"):
        assert internal_references(bad), bad
    for fine in ("instead: #1 「不知道」", "cs_audit/_data/rubrics/default.toml", "the rubric's lexicons",
                 "3分钟人工回复率", "/home/me/rubrics/shop.toml", "--lexicons DIR"):
        assert not internal_references(fine), fine


def commands(group: click.Group, path: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))


def test_help_of_every_command_names_no_internal_document(run_cli):
    for command in [(), *commands(main)]:
        result = run_cli(*command, "--help")
        assert result.exit_code == 0
        assert internal_references(result.stdout) == [], command


def explained_ids() -> list[str]:
    from cs_audit.model import DETECTION_CATEGORIES
    from cs_audit.rubric import bundled_rubrics, load_rubric

    ids = list(DETECTION_CATEGORIES)
    for name in bundled_rubrics():
        rubric = load_rubric(name)
        ids += [f"{name}:{check.id}" for check in rubric.checks]
        ids += [f"{name}:{kpi.id}" for kpi in rubric.kpis]
    return ids


@pytest.mark.parametrize("identifier", explained_ids())
def test_explain_names_no_internal_document(run_cli, identifier):
    rubric, _, name = identifier.rpartition(":")
    result = run_cli("explain", name, *(("--rubric", rubric) if rubric else ()))
    assert result.exit_code == 0, result.stderr
    assert internal_references(result.stdout) == []


def test_bundled_rubrics_as_shown_and_listed_name_no_internal_document(run_cli):
    from cs_audit.rubric import bundled_rubrics

    for name in bundled_rubrics():
        for command in (("rubric", "show", name), ("rules", "--rubric", name)):
            result = run_cli(*command)
            assert result.exit_code == 0
            assert internal_references(result.stdout) == [], command


def _docstrings(tree: ast.AST) -> set[int]:
    """The docstrings of a module's functions and classes: notes for whoever reads the code
    (the commands' own docstrings are their help, checked above through --help)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def test_no_message_string_of_the_package_names_an_internal_document():
    found = []
    for path in sorted((REPO / "cs_audit").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                found += [f"{path.relative_to(REPO)}:{node.lineno}: {reference}"
                          for reference in internal_references(node.value)]
    assert found == []


def test_bundled_rubric_files_name_no_internal_document():
    # `cs-audit rubric show` prints them whole, comments included.
    found = []
    for path in sorted((REPO / "rubrics").glob("*.toml")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            found += [f"{path.name}:{number}: {reference}" for reference in internal_references(line)]
    assert found == []


def test_a_bundled_rubric_is_shown_as_bundled_not_as_a_checkout_path(run_cli, tmp_path):
    from cs_audit.rubric import load_rubric

    assert load_rubric("taobao").source == "bundled"
    shop = tmp_path / "shop.toml"
    shop.write_text('extends = "default"\n', encoding="utf-8")
    assert load_rubric(str(shop)).source == str(shop)
    result = run_cli("rules", "--rubric", "jd")
    assert result.stdout.splitlines()[0].startswith("jd (bundled)")
