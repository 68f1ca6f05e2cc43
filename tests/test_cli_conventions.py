"""CI and terminal conventions: settings files, standard input, SARIF, GitHub annotations limited
to the gate, and a table that fits the terminal, in colour when it should be."""

from __future__ import annotations

import io
import json
import re

import pytest
from click.testing import CliRunner

from cs_audit.cli import main
from cs_audit.config import ConfigError, discover, load_config
from cs_audit.reporters.terminal import terminal_width, use_colour
from conftest import CANONICAL_SAMPLES, GOOD_CHAT_ROWS as GOOD, SLOW_CHAT_ROWS as SLOW, write_csv

TAOBAO = CANONICAL_SAMPLES[3]
SGR = re.compile("\x1b\\[[0-9;]*m")


def invoke(*args, input=None, env=None):
    try:
        runner = CliRunner(mix_stderr=False)
    except TypeError:  # click >= 8.2 always keeps them apart
        runner = CliRunner()
    return runner.invoke(main, [str(arg) for arg in args], input=input, env=env, catch_exceptions=False)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with a subfolder as the working folder."""
    inside = tmp_path / "shop" / "daily"
    inside.mkdir(parents=True)
    monkeypatch.chdir(inside)
    return tmp_path / "shop"


# Settings files

def test_settings_are_found_from_the_working_folder_upwards_and_paths_are_relative_to_the_file(project):
    chats = write_csv(project / "chats.csv", GOOD + SLOW)
    (project / "cs-audit.toml").write_text(
        'rubric = "taobao"\nfail-on = "major"\noutput = ["reports/r.json"]\nformat = "none"\n',
        encoding="utf-8")
    (project / "reports").mkdir()
    result = invoke("audit", chats)
    assert result.exit_code == 1  # fail-on major from the file
    assert f"note: settings from {project / 'cs-audit.toml'}" in result.stderr
    report = json.loads((project / "reports" / "r.json").read_text(encoding="utf-8"))
    assert report["rubric"]["name"] == "taobao"
    assert result.stdout == ""  # format = "none"


def test_the_command_line_wins_over_the_settings_file(project):
    chats = write_csv(project / "chats.csv", GOOD + SLOW)
    (project / "cs-audit.toml").write_text('fail-on = "major"\nformat = "none"\n', encoding="utf-8")
    assert invoke("audit", chats).exit_code == 1
    assert invoke("audit", chats, "--fail-on", "never").exit_code == 0


def test_pyproject_tool_table_is_read_and_a_pyproject_without_it_is_passed_over(project):
    chats = write_csv(project / "chats.csv", GOOD + SLOW)
    (project / "pyproject.toml").write_text('[tool.cs-audit]\nfail-on = "major"\n', encoding="utf-8")
    (project / "daily" / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert discover(project / "daily") == project / "pyproject.toml"
    assert invoke("audit", chats, "--format", "none").exit_code == 1


def test_cs_audit_toml_comes_before_pyproject_in_the_same_folder(project):
    (project / "pyproject.toml").write_text('[tool.cs-audit]\nfail-on = "major"\n', encoding="utf-8")
    (project / "cs-audit.toml").write_text('fail-on = "minor"\n', encoding="utf-8")
    assert discover(project / "daily") == project / "cs-audit.toml"


def test_isolated_ignores_settings_and_config_names_the_file(project, tmp_path):
    chats = write_csv(project / "chats.csv", GOOD + SLOW)
    (project / "cs-audit.toml").write_text('fail-on = "major"\n', encoding="utf-8")
    assert invoke("audit", chats, "--isolated", "--format", "none").exit_code == 0
    other = tmp_path / "other.toml"
    other.write_text('fail-under = 99\n', encoding="utf-8")
    result = invoke("audit", chats, "--config", other, "--format", "none")
    assert result.exit_code == 1 and "below --fail-under 99" in result.stderr
    both = invoke("audit", chats, "--config", other, "--isolated")
    assert both.exit_code == 2 and "cannot be used together" in both.stderr


def test_every_error_of_a_settings_file_is_reported_with_file_line_key_and_a_suggestion(project):
    chats = write_csv(project / "chats.csv", GOOD)
    path = project / "cs-audit.toml"
    path.write_text('rubric = "taobao"\nfail_on = "major"\ntop = "ten"\nno-mask = 1\n', encoding="utf-8")
    result = invoke("audit", chats)
    assert result.exit_code == 2
    assert f"{path}:2: unknown key 'fail_on'; did you mean 'fail-on'?" in result.stderr
    assert f"{path}:3: key 'top': must be an integer, not str" in result.stderr
    assert f"{path}:4: key 'no-mask': must be true or false, not int" in result.stderr


def test_a_bad_value_names_the_key_and_what_is_accepted(project):
    path = project / "cs-audit.toml"
    path.write_text('\n\nfail-on = "maj"\n', encoding="utf-8")
    result = invoke("audit", write_csv(project / "chats.csv", GOOD))
    assert result.exit_code == 2
    assert f"{path}:3: key 'fail-on':" in result.stderr and "'major'" in result.stderr


def test_invalid_toml_and_a_pyproject_without_the_table_given_as_config(tmp_path):
    broken = tmp_path / "cs-audit.toml"
    broken.write_text('rubric = "taobao"\nfail-on = \n', encoding="utf-8")
    with pytest.raises(ConfigError) as error:
        load_config(broken)
    assert str(error.value).startswith(f"{broken}:2: invalid TOML")
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\nname = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"no \[tool.cs-audit\] table"):
        load_config(pyproject)


def test_review_reads_the_rubric_from_the_settings(project):
    (project / "cs-audit.toml").write_text('rubric = "taobao"\n', encoding="utf-8")
    result = invoke("review", TAOBAO, "TB-0001", "--no-color")
    assert result.exit_code == 0 and "taobao" in result.stdout


# Standard input

def test_dash_reads_standard_input_sniffed_and_shown_as_stdin(tmp_path):
    out = tmp_path / "r.json"
    result = invoke("audit", "-", "-o", out, input=TAOBAO.read_bytes())
    assert result.exit_code == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["inputs"][0]["path"] == "<stdin>" and report["inputs"][0]["format"] == "csv"
    assert report["summary"]["conversations"] == 9
    assert {c["source"] for c in report["conversations"]} == {"<stdin>"}


def test_dash_with_an_input_format_and_beside_files(tmp_path):
    jsonl = (CANONICAL_SAMPLES[1]).read_bytes()
    result = invoke("audit", TAOBAO, "-", "--input-format", "jsonl", "--format", "json", input=jsonl)
    report = json.loads(result.stdout)
    assert [i["path"] for i in report["inputs"]] == [str(TAOBAO), "<stdin>"]
    assert report["inputs"][1]["format"] == "jsonl" and report["inputs"][1]["messages"] > 0


def test_dash_problems_name_stdin_and_the_line(tmp_path):
    text = "conversation_id,timestamp,role,sender,text\nC1,2024-04-15 10:00:00,buyer,,在吗\nC1,bad\n"
    result = invoke("audit", "-", input=text.encode("utf-8"))
    assert "warning: <stdin>:3:" in result.stderr


def test_dash_given_twice_is_refused():
    result = invoke("audit", "-", "-", input=b"")
    assert result.exit_code == 2 and "'-' (standard input) may be given once" in result.stderr


# SARIF

def _sarif(tmp_path, *args):
    out = tmp_path / "r.sarif"
    result = invoke("audit", TAOBAO, "-o", out, "--format", "none", *args)
    return result, json.loads(out.read_text(encoding="utf-8"))


def test_sarif_is_2_1_0_with_rules_results_and_file_line_locations(tmp_path):
    result, sarif = _sarif(tmp_path, "--fail-on", "major")
    assert result.exit_code == 1
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-2.1.0.json")
    run = sarif["runs"][0]
    assert run["tool"]["driver"]["name"] == "cs-audit"
    rules = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    assert "first_reply" in rules
    assert run["results"]
    for found in run["results"]:
        assert rules[found["ruleIndex"]] == found["ruleId"]
        assert found["level"] == "error"  # each counts for --fail-on major
        location = found["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"].endswith("samples/taobao_utf8.csv")
        assert location["region"]["startLine"] > 1
        assert found["partialFingerprints"]["conversation/v1"].startswith("TB-")
    assert {f["properties"]["severity"] for f in run["results"]} <= {"critical", "major"}


def test_sarif_lists_what_fails_the_gate_unless_all_findings_are_asked_for(tmp_path):
    _, gated = _sarif(tmp_path, "--fail-on", "critical")
    assert [f["ruleId"] for f in gated["runs"][0]["results"]] == ["no_off_platform_request"]
    _, everything = _sarif(tmp_path, "--fail-on", "critical", "--findings", "all")
    levels = {f["level"] for f in everything["runs"][0]["results"]}
    assert levels == {"error", "warning", "note"}


def test_sarif_masks_personal_data_and_reports_input_problems(tmp_path):
    chats = write_csv(tmp_path / "a.csv", [
        ("P1", "2024-04-15 10:00:00", "buyer", "", "在吗"),
        ("P1", "2024-04-15 10:00:20", "agent", "s:a", "加我微信 13812345678 聊"),
        ("P1", "bad time", "buyer", "", "好")])
    out = tmp_path / "r.sarif"
    invoke("audit", chats, "-o", out, "--format", "none")
    text = out.read_text(encoding="utf-8")
    assert "13812345678" not in text and "138****5678" in text
    notes = json.loads(text)["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert notes[0]["locations"][0]["physicalLocation"]["region"]["startLine"] == 4


# GitHub annotations

def test_github_annotations_are_limited_to_the_gate_unless_asked(tmp_path):
    gated = invoke("audit", TAOBAO, "--format", "github", "--fail-on", "critical").stdout
    commands = [line for line in gated.splitlines() if line.startswith("::")]
    assert len(commands) == 1 and "title=no_off_platform_request" in commands[0]
    everything = invoke("audit", TAOBAO, "--format", "github", "--fail-on", "critical",
                        "--findings", "all").stdout
    assert "::notice " in everything and "::warning " in everything


def test_a_minor_finding_counted_by_fail_on_is_an_error(tmp_path):
    gated = invoke("audit", TAOBAO, "--format", "github", "--fail-on", "minor").stdout
    assert "::error file=" in gated and "title=closing::" in gated
    assert "::warning file=" not in gated


# The table

def test_only_failed_and_top_keep_the_table_short_and_the_totals_whole():
    failed = invoke("audit", TAOBAO, "--only-failed").stdout
    assert "TB-0001" not in failed and "TB-0004" in failed and "TB-0007" in failed
    assert "TOTAL 9" in failed and "showing 5 failed of 9 conversation(s)" in failed
    top = invoke("audit", TAOBAO, "--top", "2").stdout
    rows = [line.split()[0] for line in top.splitlines() if line.startswith("TB-")]
    assert rows == ["TB-0004", "TB-0007"]  # the critical one first, then the lowest score
    assert "showing the 2 worst of 9 conversation(s)" in top


def test_the_table_shows_each_conversations_file():
    table = invoke("audit", TAOBAO, CANONICAL_SAMPLES[1]).stdout
    header = table.splitlines()[0].split()
    assert header[:2] == ["conversation", "file"]
    assert any("jd_chat.jsonl" in line for line in table.splitlines() if line.startswith("JD-"))


@pytest.mark.parametrize("width", [60, 80, 100, 120])
def test_the_table_fits_the_terminal_dropping_columns_then_wrapping(width):
    table = invoke("audit", TAOBAO, env={"COLUMNS": str(width)}).stdout.split("\n\n")[0]
    lines = table.splitlines()
    assert max(len(SGR.sub("", line).encode("gbk")) for line in lines) <= width
    header = lines[0].split()
    assert header[0] == "conversation" and "score" in header and "pass" in header


def test_a_pipe_gets_every_column():
    table = invoke("audit", TAOBAO, env={"COLUMNS": ""}).stdout
    assert table.splitlines()[0].split()[-3:] == ["unans", "failed", "checks"]


def test_failed_and_critical_rows_are_coloured_when_colour_is_forced():
    coloured = invoke("audit", TAOBAO, env={"FORCE_COLOR": "1", "NO_COLOR": ""}).stdout
    critical = next(line for line in coloured.splitlines() if "TB-0004" in line)
    failed = next(line for line in coloured.splitlines() if "TB-0007" in line)
    passed = next(line for line in coloured.splitlines() if "TB-0001" in line)
    assert "\x1b[1;31mCRIT" in critical and "\x1b[31mno" in failed and "\x1b[" not in passed
    plain = invoke("audit", TAOBAO, env={"FORCE_COLOR": "1", "NO_COLOR": "1"}).stdout
    assert "\x1b[" not in plain
    assert "\x1b[" not in invoke("audit", TAOBAO, "--no-color", env={"FORCE_COLOR": "1"}).stdout
    assert "\x1b[" in invoke("audit", TAOBAO, "--color").stdout


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("environ, terminal, expected", [
    ({}, True, True),
    ({}, False, False),
    ({"NO_COLOR": "1"}, True, False),
    ({"NO_COLOR": ""}, True, True),  # an empty NO_COLOR counts as unset
    ({"FORCE_COLOR": "1"}, False, True),
    ({"FORCE_COLOR": ""}, False, False),
    ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),
    ({"TERM": "dumb"}, True, False),
])
def test_colour_follows_no_color_force_color_and_the_terminal(environ, terminal, expected):
    stream = _Terminal() if terminal else io.StringIO()
    assert use_colour(stream, None, environ) is expected
    assert use_colour(stream, not expected, environ) is (not expected)


def test_width_is_columns_else_the_terminals_else_unlimited():
    assert terminal_width(io.StringIO(), {"COLUMNS": "72"}) == 72
    assert terminal_width(io.StringIO(), {}) is None
    assert terminal_width(_Terminal(), {"COLUMNS": "x"}) > 0


def test_every_new_option_has_help():
    help_text = invoke("audit", "--help").stdout
    for option in ("--config", "--isolated", "--findings", "--only-failed", "--top", "--color"):
        assert option in help_text
