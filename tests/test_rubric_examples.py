"""Every rubric check against its labelled example table, judged by the real audit pipeline.

The tables live in rubrics/examples/ (one small conversation a row, with the verdict the check
must give it) and also feed `cs-audit explain CHECK` and `cs-audit rubric check`; a check of a
bundled rubric without enough examples both ways fails the meta-tests below.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cs_audit.audit import Auditor
from cs_audit.check_examples import (
    EXAMPLE_START,
    bundled_examples_dir,
    check_examples_path,
    load_check_examples,
    parse_row,
)
from cs_audit.lexicon import LexiconError
from cs_audit.rubric import bundled_rubrics, load_rubric
from cs_audit.rubric_check import check_rubric, example_folders, judge_example

MINIMUM_EACH_WAY = 5
# Every bundled rubric extends `default`; these are judged with it, as the tables' headers say.
JUDGING_RUBRIC = "default"


def _bundled_check_ids() -> list[str]:
    ids: dict[str, None] = {}
    for name in bundled_rubrics():
        for check in load_rubric(name).checks:
            ids.setdefault(check.id, None)
    return list(ids)


@pytest.fixture(scope="module")
def auditor():
    return Auditor(load_rubric(JUDGING_RUBRIC))


def _rows():
    for check_id in _bundled_check_ids():
        path = check_examples_path(check_id)
        if path.exists():
            for example in load_check_examples(path):
                yield pytest.param(check_id, example, id=f"{check_id}:{example.line}")


@pytest.mark.parametrize("check_id, example", list(_rows()))
def test_example_gets_its_verdict(auditor, check_id, example):
    got = judge_example(auditor, check_id, example)
    assert got == example.verdict, (f"{check_id} should give {example.verdict}, gave {got}: "
                                    f"{example.encoded(' | ')}")


@pytest.mark.parametrize("name", list(bundled_rubrics()))
def test_every_check_of_every_bundled_rubric_has_enough_examples_both_ways(name):
    for check in load_rubric(name).checks:
        path = check_examples_path(check.id)
        assert path.exists(), f"{name}: check {check.id} has no table {path}"
        verdicts = [example.verdict for example in load_check_examples(path)]
        assert verdicts.count("fail") >= MINIMUM_EACH_WAY, f"{check.id}: too few fail rows"
        assert verdicts.count("pass") >= MINIMUM_EACH_WAY, f"{check.id}: too few pass rows"


def test_every_table_names_a_check_of_a_bundled_rubric():
    known = set(_bundled_check_ids())
    for path in sorted(bundled_examples_dir().glob("*.tsv")):
        assert path.stem in known, f"rubrics/examples/{path.name}: no bundled check {path.stem!r}"


@pytest.mark.parametrize("name", [name for name in bundled_rubrics() if name != JUDGING_RUBRIC])
def test_every_bundled_rubric_judges_the_examples_as_default_does(name):
    # The platform rubrics change KPIs and service hours, not what a check says of a row.
    checked = check_rubric(load_rubric(name), example_folders())
    assert not checked.problems
    wrong = [row.location for table in checked.tables for row in table.wrong]
    assert not wrong and not checked.without_table


# --- the one-line conversation format ------------------------------------------------------

def test_a_row_becomes_a_timed_conversation():
    example = parse_row("fail\tbuyer@0 在吗\tbuyer@20 有人吗\tagent@75 您好，在的", 7)
    conversation = example.conversation()
    assert example.verdict == "fail" and example.line == 7
    assert [m.role for m in conversation.messages] == ["buyer", "buyer", "agent"]
    assert [m.index for m in conversation.messages] == [0, 1, 2]
    assert conversation.messages[2].text == "您好，在的"
    assert (conversation.messages[2].timestamp - EXAMPLE_START).total_seconds() == 75
    assert example.encoded() == "buyer@0 在吗\tbuyer@20 有人吗\tagent@75 您好，在的"


def test_an_untimed_row_keeps_spaces_inside_the_text():
    example = parse_row("n/a\tbuyer 这个 有货吗\tagent 有的 亲")
    assert [m.text for m in example.messages] == ["这个 有货吗", "有的 亲"]
    assert all(m.timestamp is None for m in example.conversation().messages)


BAD_ROWS = [
    # (row, fragment of the message)
    ("fial\tbuyer 在吗", "verdict 'fial' (did you mean 'fail'?) is not one of fail, pass, n/a"),
    ("pass", "needs at least one message after a tab"),
    ("pass\tbuyer 在吗\t\tagent 在的", "message 2 is empty"),
    ("pass\tbuyr 在吗", "role 'buyr' (did you mean 'buyer'?)"),
    ("pass\tbuyer@0", "message 1 ('buyer@0') has no text"),
    ("pass\tbuyer@soon 在吗", "'soon' after @ is not a number of seconds"),
    ("pass\tbuyer@-5 在吗", "'-5' after @ is not a number of seconds"),
    ("pass\tbuyer@0 在吗\tagent 在的", "message 2 has no @seconds but others have"),
    ("pass\tbuyer@60 在吗\tagent@30 在的", "message 2 at 30 s comes before message 1 at 60 s"),
    ("pass\tbuyer@1@2 在吗", "has more than one @"),
]


@pytest.mark.parametrize("row, message", BAD_ROWS, ids=[row for row, _ in BAD_ROWS])
def test_a_bad_row_is_an_error_naming_file_line_and_what_is_wrong(tmp_path, row, message):
    table = tmp_path / "first_reply.tsv"
    table.write_text(f"# comment\npass\tbuyer@0 在吗\tagent@10 在的\n{row}\n", encoding="utf-8")
    with pytest.raises(LexiconError) as caught:
        load_check_examples(table)
    assert caught.value.path == table and caught.value.line == 3
    assert message in str(caught.value)


def test_every_bad_row_of_a_table_is_listed(tmp_path):
    table = tmp_path / "greeting.tsv"
    table.write_text("pass\tbuyer 在吗\nfial\tbuyer 在吗\npass\tbuyr 在吗\n", encoding="utf-8")
    with pytest.raises(LexiconError) as caught:
        load_check_examples(table)
    assert [problem.line for problem in caught.value.problems] == [2, 3]


# --- a shop's rubric: its own tables beside it ---------------------------------------------

def shop_rubric(folder: Path, first_reply_max: int = 30) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "shop.toml"
    path.write_text(f'name = "shop"\nextends = "taobao"\n[checks.first_reply]\nmax = {first_reply_max}\n',
                    encoding="utf-8")
    return path


def test_a_stricter_rubric_judges_the_bundled_rows_it_contradicts_wrongly(tmp_path):
    path = shop_rubric(tmp_path / "shop")
    checked = check_rubric(load_rubric(str(path)), example_folders(path))
    wrong = {table.check_id: table.wrong for table in checked.tables if table.wrong}
    assert set(wrong) == {"first_reply"}
    assert all(row.example.verdict == "pass" and row.got == "fail" for row in wrong["first_reply"])


def test_a_table_beside_the_rubric_replaces_the_bundled_one(tmp_path):
    path = shop_rubric(tmp_path / "shop")
    (tmp_path / "shop" / "examples").mkdir()
    (tmp_path / "shop" / "examples" / "first_reply.tsv").write_text(
        "fail\tbuyer@0 在吗\tagent@45 您好，在的\npass\tbuyer@0 在吗\tagent@30 您好，在的\n",
        encoding="utf-8")
    checked = check_rubric(load_rubric(str(path)), example_folders(path))
    assert checked.wrong == 0
    first = next(table for table in checked.tables if table.check_id == "first_reply")
    assert first.total == 2 and first.path.parent == tmp_path / "shop" / "examples"


def test_a_table_naming_no_check_of_the_rubric_is_a_problem(tmp_path):
    path = shop_rubric(tmp_path / "shop")
    (tmp_path / "shop" / "examples").mkdir()
    (tmp_path / "shop" / "examples" / "first_replies.tsv").write_text("pass\tbuyer 在吗\n", encoding="utf-8")
    checked = check_rubric(load_rubric(str(path)), example_folders(path))
    assert not checked.tables
    assert "no check 'first_replies' (did you mean 'first_reply'?)" in str(checked.problems[0])


# --- the command line ----------------------------------------------------------------------

def test_rubric_check_judges_every_bundled_table(run_cli):
    result = run_cli("rubric", "check")
    assert result.exit_code == 0, result.stderr
    assert "first_reply" in result.stdout and "no_extortion" in result.stdout
    assert "examples get their verdict" in result.stdout


def test_rubric_check_lists_rows_a_stricter_rubric_judges_wrongly_and_exits_1(run_cli, tmp_path):
    path = shop_rubric(tmp_path / "shop")
    result = run_cli("rubric", "check", path)
    assert result.exit_code == 1
    assert "rubrics/examples/first_reply.tsv:" in result.stdout and "expected pass, got fail" in result.stdout
    assert "judged wrongly" in result.stderr


def test_rubric_check_takes_tables_from_examples_dir_first(run_cli, tmp_path):
    path = shop_rubric(tmp_path / "shop")
    own = tmp_path / "qa-tables"
    own.mkdir()
    (own / "first_reply.tsv").write_text("pass\tbuyer@0 在吗\tagent@30 您好，在的\n", encoding="utf-8")
    result = run_cli("rubric", "check", path, "--examples", own)
    assert result.exit_code == 0, result.stdout
    assert "1/1" in result.stdout


def test_rubric_check_reports_a_bad_row_with_file_and_line_and_exits_2(run_cli, tmp_path):
    path = shop_rubric(tmp_path / "shop", first_reply_max=60)
    (tmp_path / "shop" / "examples").mkdir()
    table = tmp_path / "shop" / "examples" / "greeting.tsv"
    table.write_text("pass\tagent 您好\nfail\tagnet 在\n", encoding="utf-8")
    result = run_cli("rubric", "check", path)
    assert result.exit_code == 2
    assert f"{table}:2: message 1: role 'agnet' (did you mean 'agent'?)" in result.stderr
    assert "agnet 在" in result.stderr and "rows were not judged" in result.stderr


def test_rubric_check_of_an_invalid_rubric_exits_2(run_cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "default"\n[checks.greeting]\nseverity = "huge"\n', encoding="utf-8")
    result = run_cli("rubric", "check", bad)
    assert result.exit_code == 2 and f"{bad}:3:" in result.stderr


def test_explain_check_shows_its_examples_each_way(run_cli):
    result = run_cli("explain", "dispute_remedy")
    assert result.exit_code == 0
    out = result.stdout
    from cs_audit.check_examples import check_examples_path

    assert f"Examples ({check_examples_path('dispute_remedy')}):" in out
    assert out.index("Fails on:") < out.index("Passes on:") < out.index("Does not apply to:")
    assert "buyer 收到的杯子碎了一个  │  agent 非常抱歉" in out


def test_explain_check_of_a_shop_rubric_shows_its_own_table(run_cli, tmp_path):
    path = shop_rubric(tmp_path / "shop")
    (tmp_path / "shop" / "examples").mkdir()
    (tmp_path / "shop" / "examples" / "first_reply.tsv").write_text(
        "pass\tbuyer@0 在吗\tagent@30 木子家居为您服务\n", encoding="utf-8")
    result = run_cli("explain", "first_reply", "--rubric", path)
    assert result.exit_code == 0 and "agent@30 木子家居为您服务" in result.stdout
    assert "Fails on:" not in result.stdout
