"""GitHub Actions annotations: one workflow command per failed check, escaped as the runner expects."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest

from cs_audit.analysis.pii import mask_text
from cs_audit.audit import Auditor
from cs_audit.reporters.github import escape_data, escape_property, render_github, write_github
from cs_audit.rubric import load_rubric
from conftest import assert_golden_text, conversation, make_report

GOLDEN = Path(__file__).parent / "golden" / "github.txt"
# The phone an agent repeats (quoted with a failed check) and one in an input problem's reason.
PERSONAL = ("13812345678", "13900001111")


@pytest.fixture(scope="module")
def auditor():
    return Auditor(load_rubric("default"))




@pytest.fixture(scope="module")
def report(auditor):
    return make_report(auditor)


@pytest.fixture(scope="module")
def lines(report):
    return render_github(report).splitlines()


def test_golden_annotations_for_the_fixture_files(report):
    text = render_github(report)
    assert_golden_text(text, GOLDEN)


def test_escaping_follows_the_actions_toolkit():
    assert escape_data("50%\r\nnext:: a,b") == "50%25%0D%0Anext:: a,b"
    assert escape_property("dir,1/a:b%.csv\n") == "dir%2C1/a%3Ab%25.csv%0A"
    # "%0A" typed in a chat is text, not a newline, once its % is escaped.
    assert escape_data("%0A") == "%250A"


def test_control_characters_are_shown_not_sent():
    assert escape_data("a\x1b[2Jb\x07\x9b\tc\ud800") == "a\\x1b[2Jb\\x07\\x9b\\tc\\ud800"


def test_one_command_per_failed_check_and_input_problem_then_a_plain_summary(report, lines):
    failed = sum(1 for r in report.results for c in r.checks if not c.passed)
    problems = sum(len(i.problems) for i in report.inputs)
    commands, summary = lines[:-1], lines[-1]
    assert len(commands) == failed + problems
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in commands)
    assert summary == ("cs-audit: 3 conversations, 1 passed, 1 critical, mean score 40.0 "
                       "(rubric default); 7 errors, 7 warnings, 3 notices; "
                       "3 input problems, 1 unreadable file")


def test_chat_text_with_percent_newlines_colons_and_commas_stays_in_one_command(lines):
    first_reply = next(line for line in lines if "title=first_reply::" in line)
    assert first_reply == (
        "::error file=chats.csv,line=6,title=first_reply::R-RUDE: major: first reply after 330 s "
        "(limit 60 s)%0Amessage #0 (buyer 阿强): 满200减50%25吗？%0A第二件:: 半价,还是打折")


def test_severity_decides_the_level_and_the_most_severe_come_first(lines):
    levels = [line.split(" ", 1)[0] for line in lines[:-1]]
    assert levels == sorted(levels, key=["::error", "::warning", "::notice"].index)
    assert lines[0].startswith("::error file=chats.csv,line=13,title=no_off_platform_request::"
                               "R-RISK: critical: ")
    assert any(line.startswith("::warning file=chats.csv,line=10,title=closing::R-RUDE: minor: ")
               for line in lines)
    problems = [line for line in lines
                if "title=input problem::" in line or "title=unreadable file::" in line]
    assert all(line.startswith("::warning ") for line in problems)
    # Input problems come before minor findings: a lost file matters more than a missing greeting.
    assert lines.index(problems[-1]) < next(i for i, line in enumerate(lines) if "title=greeting::" in line)


def test_a_failed_info_check_is_a_notice(auditor, report):
    result = report.results[1]
    checks = tuple(dataclasses.replace(c, severity="info") if c.rule == "no_angry_ending" else c
                   for c in result.checks)
    text = render_github(make_report(auditor, results=[dataclasses.replace(result, checks=checks)]))
    assert "::notice file=chats.csv,line=6,title=no_angry_ending::R-RUDE: info: " in text
    info_failures = sum(1 for c in checks if not c.passed and c.severity == "info")
    assert text.endswith(f"{info_failures} notices\n") and info_failures > 1


def test_the_annotation_points_at_the_file_line_of_the_message(report, lines):
    rude = next(line for line in lines if "title=no_rude_phrasing::" in line)
    message = report.results[1].messages[1]
    assert f"line={message.line}," in rude and message.line == 8
    assert "%0A#1 不知道 → 建议: 这个问题我帮您确认一下，请您稍等" in rude
    assert "%0A#3 没办法 → 建议: " in rude
    # A check about the whole conversation points at its first line.
    assert any(line.startswith("::error file=chats.csv,line=6,title=no_angry_ending::") for line in lines)


def test_file_and_title_properties_are_escaped(auditor, report):
    result = dataclasses.replace(report.results[2], source="exports/4月,店铺:A.csv")
    text = render_github(make_report(auditor, results=[result]))
    assert text.startswith("::error file=exports/4月%2C店铺%3AA.csv,line=13,"
                           "title=no_off_platform_request::")


def test_escape_sequences_in_chat_text_never_reach_the_log(auditor):
    chat = conversation(("buyer", "10:00:00", "在吗"),
                        ("agent", "10:05:00", "不知道\x1b[2J\x1b]0;pwned\x07\r::error::fake"))
    result = auditor.audit(chat)
    text = render_github(make_report(auditor, results=[result]))
    assert "\x1b" not in text and "\x07" not in text and "\r" not in text
    assert "不知道\\x1b[2J\\x1b]0;pwned\\x07%0D::error::fake" in text
    # The fake command stays inside its message: one line per failed check, then the summary.
    assert len(text.splitlines()) == sum(1 for c in result.checks if not c.passed) + 1


@pytest.mark.parametrize("masked", [True, False])
def test_personal_data_is_masked_unless_show_is_identity(auditor, masked):
    text = render_github(make_report(auditor, show=mask_text if masked else (lambda t: t)))
    for number in PERSONAL:
        assert (number in text) != masked, number
    if masked:
        assert "138****5678" in text and "客人139****1111" in text


def test_write_github_writes_what_render_github_returns(report):
    stream = io.StringIO()
    write_github(report, stream)
    assert stream.getvalue() == render_github(report)


def test_a_newline_in_a_rubric_name_cannot_start_a_workflow_command(tmp_path):
    from click.testing import CliRunner

    from cs_audit.cli import main

    rubric = tmp_path / "evil.toml"
    rubric.write_text('name = "shop\\n::error::pwned"\nextends = "default"\n', encoding="utf-8")
    chats = tmp_path / "chats.csv"
    chats.write_text("conversation_id,role,text\nC1,buyer,在吗\nC1,agent,您好\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", str(chats), "--rubric", str(rubric), "--format", "github"])
    assert not any(line.startswith("::error::pwned") for line in result.stdout.splitlines())
    assert "rubric shop\\n::error::pwned" in result.stdout
