"""The command line: exit codes, gates, errors, outputs and help."""

from __future__ import annotations

import json

import click
import pytest

from cs_audit.cli import main
from conftest import CANONICAL_SAMPLES, GOOD_CHAT_ROWS as GOOD, REPO, SAMPLES, SLOW_CHAT_ROWS as SLOW, write_csv


def test_clean_audit_exits_0(run_cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", GOOD)
    result = run_cli("audit", path)
    assert result.exit_code == 0, result.output
    assert "C1" in result.stdout


def test_fail_under_exits_1_with_the_reason(run_cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", SLOW)
    result = run_cli("audit", path, "--fail-under", "90", "--format", "none")
    assert result.exit_code == 1
    assert "below --fail-under 90" in result.stderr


def test_fail_under_passes_when_mean_is_high_enough(run_cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", SLOW)
    assert run_cli("audit", path, "--fail-under", "0").exit_code == 0


@pytest.mark.parametrize("fail_on, expected", [("never", 0), ("critical", 0), ("major", 1), ("minor", 1)])
def test_fail_on_severity(run_cli, tmp_path, fail_on, expected):
    path = write_csv(tmp_path / "a.csv", SLOW)  # fails major response checks, no critical
    assert run_cli("audit", path, "--fail-on", fail_on, "--format", "none").exit_code == expected


def test_invalid_rubric_exits_2_naming_file_and_line(run_cli, tmp_path):
    rubric = tmp_path / "r.toml"
    rubric.write_text('name = "x"\nbogus = 1\n', encoding="utf-8")
    result = run_cli("audit", write_csv(tmp_path / "a.csv", GOOD), "--rubric", rubric)
    assert result.exit_code == 2
    assert f"{rubric}:2: unknown key 'bogus'" in result.stderr


def test_unknown_rubric_name_exits_2(run_cli, tmp_path):
    result = run_cli("audit", write_csv(tmp_path / "a.csv", GOOD), "--rubric", "nope")
    assert result.exit_code == 2 and "nope" in result.stderr


def test_missing_input_path_exits_2(run_cli, tmp_path):
    result = run_cli("audit", tmp_path / "missing.csv")
    assert result.exit_code == 2 and "no such file" in result.stderr


def test_folder_without_inputs_exits_2(run_cli, tmp_path):
    (tmp_path / "x.md").write_text("hi")
    assert run_cli("audit", tmp_path).exit_code == 2


def test_nothing_readable_exits_2_naming_file_and_line(run_cli, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("who,what\n1,2\n", encoding="utf-8")
    result = run_cli("audit", bad)
    assert result.exit_code == 2
    assert f"{bad}:1: missing required column" in result.stderr


def test_corrupt_file_among_good_ones_is_reported_and_the_rest_audited(audit_json, tmp_path):
    write_csv(tmp_path / "a.csv", GOOD)
    (tmp_path / "b.xlsx").write_bytes(b"PK\x03\x04garbage")
    (tmp_path / "c.csv").write_bytes(b"conversation_id,role,text\n\xff\xfe\xfd,buyer,x\n")
    code, report = audit_json(tmp_path)
    assert code == 0
    by_path = {entry["path"].split("/")[-1]: entry for entry in report["inputs"]}
    assert by_path["a.csv"]["readable"] and by_path["a.csv"]["messages"] == 4
    assert not by_path["b.xlsx"]["readable"] and by_path["b.xlsx"]["problems"]
    assert not by_path["c.csv"]["readable"]
    assert by_path["c.csv"]["problems"][0]["line"] == 2
    assert [c["id"] for c in report["conversations"]] == ["C1"]
    assert report["summary"]["unreadable_files"] == 2


def test_input_problems_are_warned_on_stderr_and_listed(run_cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", GOOD + [("C1", "x", "buyer", "", "hi")])
    result = run_cli("audit", path)
    assert result.exit_code == 0
    assert f"warning: {path}:6: bad timestamp" in result.stderr


def test_several_outputs_at_once(run_cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", GOOD + SLOW)
    outputs = [tmp_path / "r.json", tmp_path / "r.jsonl", tmp_path / "r.xlsx"]
    args = [arg for out in outputs for arg in ("-o", out)]
    assert run_cli("audit", path, *args, "--format", "none").exit_code == 0
    assert json.loads(outputs[0].read_text())["summary"]["conversations"] == 2
    lines = outputs[1].read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["C1", "C2"]
    assert outputs[2].stat().st_size > 0


def test_unknown_output_extension_is_a_usage_error(run_cli, tmp_path):
    result = run_cli("audit", write_csv(tmp_path / "a.csv", GOOD), "-o", tmp_path / "r.pdf")
    assert result.exit_code == 2 and "unknown report type" in result.stderr


def test_unwritable_output_exits_2(run_cli, tmp_path):
    result = run_cli("audit", write_csv(tmp_path / "a.csv", GOOD), "-o", tmp_path / "no" / "r.json")
    assert result.exit_code == 2 and "cannot write" in result.stderr


def test_format_json_prints_the_report(run_cli, tmp_path):
    result = run_cli("audit", write_csv(tmp_path / "a.csv", GOOD), "--format", "json")
    assert json.loads(result.stdout)["schema"] == "cs-audit/1"


def test_format_none_prints_nothing(run_cli, tmp_path):
    result = run_cli("audit", write_csv(tmp_path / "a.csv", GOOD), "--format", "none")
    assert result.stdout == ""


def test_bad_option_value_exits_2(run_cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", GOOD)
    assert run_cli("audit", path, "--fail-on", "sometimes").exit_code == 2
    assert run_cli("audit", path, "--fail-under", "150").exit_code == 2


def test_the_samples_audit_runs(run_cli):
    result = run_cli("audit", *CANONICAL_SAMPLES, "-q")
    assert result.exit_code == 0, result.stderr
    assert "TOTAL 33" in result.stdout


def test_table_escapes_control_characters(run_cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", [("C\x1b[31m1", "2024-04-15 10:00:00", "buyer", "", "hi")])
    result = run_cli("audit", path)
    assert "\x1b" not in result.stdout


def _commands(group, prefix=()):
    for name, command in group.commands.items():
        yield prefix + (name,), command
        if isinstance(command, click.Group):
            yield from _commands(command, prefix + (name,))


def test_every_command_and_option_has_help_text():
    assert main.help
    for path, command in _commands(main):
        assert command.help, f"{' '.join(path)} has no help"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"{' '.join(path)} {param.opts} has no help"


def test_help_runs(run_cli):
    result = run_cli("audit", "--help")
    assert result.exit_code == 0 and "--fail-under" in result.stdout


def test_python_dash_m_entry_point():
    import subprocess
    import sys
    result = subprocess.run([sys.executable, "-m", "cs_audit", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and "cs-audit" in result.stdout


def test_baseline_lets_known_failures_pass_fail_on(run_cli, tmp_path):
    path = write_csv(tmp_path / "a.csv", SLOW)
    baseline = tmp_path / "before.json"
    assert run_cli("audit", path, "-o", baseline, "--fail-on", "major", "--format", "none").exit_code == 1
    assert run_cli("audit", path, "--baseline", baseline, "--fail-on", "major", "--format", "none").exit_code == 0
    newer = write_csv(tmp_path / "b.csv", SLOW + [("C3", "2024-04-16 10:00:00", "buyer", "", "在吗"),
                                                  ("C3", "2024-04-16 10:30:00", "agent", "s:b", "在")])
    result = run_cli("audit", newer, "--baseline", baseline, "--fail-on", "major", "--format", "none")
    assert result.exit_code == 1 and "new failed check" in result.stderr


def test_baseline_must_be_a_cs_audit_report(run_cli, tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}', encoding="utf-8")
    result = run_cli("audit", write_csv(tmp_path / "a.csv", GOOD), "--baseline", bad)
    assert result.exit_code == 2 and "not a cs-audit JSON report" in result.stderr


@pytest.mark.parametrize("name", ["default", "taobao", "pdd", "jd", "douyin"])
def test_rules_lists_every_check_of_a_rubric(run_cli, name):
    from cs_audit.rubric import load_rubric
    result = run_cli("rules", "--rubric", name)
    assert result.exit_code == 0
    for check in load_rubric(name).checks:
        assert check.id in result.stdout


@pytest.mark.parametrize("name", ["default", "taobao", "pdd", "jd", "douyin"])
def test_every_check_and_kpi_of_every_bundled_rubric_is_explained(run_cli, name):
    from cs_audit.rubric import load_rubric
    rubric = load_rubric(name)
    for identifier in [c.id for c in rubric.checks] + [k.id for k in rubric.kpis]:
        result = run_cli("explain", identifier, "--rubric", name)
        assert result.exit_code == 0 and identifier in result.stdout


def test_rubric_validate_and_show(run_cli, tmp_path):
    assert "valid rubric 'jd'" in run_cli("rubric", "validate", REPO / "rubrics" / "jd.toml").stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "default"\n[checks.first_reply]\nseverity = "huge"\n', encoding="utf-8")
    result = run_cli("rubric", "validate", bad)
    assert result.exit_code == 2 and f"{bad}:3:" in result.stderr
    shown = run_cli("rubric", "show", "taobao")
    assert shown.exit_code == 0 and 'name = "taobao"' in shown.stdout
    assert run_cli("rubric", "show", "nope").exit_code == 2


def test_rubric_validate_lists_every_problem_then_their_count(run_cli, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('extends = "default"\npass_scor = 80\n[checks.first_reply]\nseverity = "huge"\n'
                   '[checks.greting]\nenabled = false\n', encoding="utf-8")
    result = run_cli("rubric", "validate", bad)
    assert result.exit_code == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert [line.split(": ", 1)[0] for line in lines[:3]] == [f"{bad}:2", f"{bad}:4", f"{bad}:5"]
    assert "did you mean 'pass_score'?" in lines[0] and "did you mean 'greeting'?" in lines[2]
    assert lines[3:] == ["invalid rubric: 3 problem(s)"]


def test_explain_unknown_id_exits_2(run_cli):
    result = run_cli("explain", "no.such.thing")
    assert result.exit_code == 2 and "known:" in result.stderr


def test_review_shows_one_conversation_with_suggestions(run_cli):
    result = run_cli("review", *CANONICAL_SAMPLES, "--conversation", "TB-0007", "--no-color")
    assert result.exit_code == 0
    assert "TB-0007" in result.stdout and "建议" in result.stdout and "\x1b" not in result.stdout
    assert "TB-0001" not in result.stdout


def test_review_can_colour_and_names_unknown_ids(run_cli):
    coloured = run_cli("review", CANONICAL_SAMPLES[3], "--conversation", "TB-0007", "--color")
    assert "\x1b[" in coloured.stdout
    missing = run_cli("review", CANONICAL_SAMPLES[3], "--conversation", "NOPE")
    assert missing.exit_code == 2 and "ids found: TB-0001" in missing.stderr


def test_junit_output_and_github_format_from_the_cli(run_cli, tmp_path):
    out = tmp_path / "r.xml"
    result = run_cli("audit", CANONICAL_SAMPLES[3], "-o", out, "--format", "github", "-q")
    assert result.exit_code == 0
    assert out.read_text(encoding="utf-8").startswith("<?xml")
    assert "::error file=" in result.stdout


def test_an_output_in_a_missing_folder_is_refused_before_the_audit(run_cli, tmp_path, monkeypatch):
    import cs_audit.cli

    def no_audit(*args, **kwargs):
        raise AssertionError("the audit must not start")

    monkeypatch.setattr(cs_audit.cli, "_run", no_audit)
    result = run_cli("audit", write_csv(tmp_path / "a.csv", GOOD), "-o", tmp_path / "no" / "r.xlsx")
    assert result.exit_code == 2
    assert "cannot write" in result.stderr and "does not exist" in result.stderr


def test_rows_that_make_no_conversation_exit_2_with_the_fix(tmp_path):
    from click.testing import CliRunner

    from cs_audit.cli import main

    chats = tmp_path / "chats.csv"
    chats.write_text("conversation_id,role,text\nC1,顾客甲,在吗\nC1,店员,您好\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", str(chats), "--format", "none", "-q", "--fail-under", "90"])
    assert result.exit_code == 2
    assert "no conversation could be read (2 row(s) in 1 file(s))" in result.stderr
    assert "--map role.buyer=顾客甲" in result.stderr


def test_platform_role_words_are_accepted_in_the_canonical_format(tmp_path):
    from click.testing import CliRunner

    from cs_audit.cli import main

    chats = tmp_path / "chats.csv"
    chats.write_text("conversation_id,role,text\nC1,用户,在吗\nC1,商家客服,您好\nC1,机器人客服,欢迎\n",
                     encoding="utf-8")
    result = CliRunner().invoke(main, ["audit", str(chats), "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    import json

    document = json.loads(result.stdout)
    assert document["inputs"][0]["problems"] == []
    assert document["inputs"][0]["messages"] == 3


def test_a_closed_pipe_ends_quietly_with_the_sigpipe_code(tmp_path):
    import subprocess
    import sys

    # The samples' JSON report is larger than a pipe's buffer, so writing it meets the closed end.
    child = subprocess.Popen([sys.executable, "-m", "cs_audit", "audit", str(SAMPLES), "-q",
                              "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    child.stdout.read(10)
    child.stdout.close()
    stderr = child.stderr.read().decode("utf-8", "replace")
    assert child.wait(timeout=120) == 141
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr


def test_review_takes_the_conversation_id_after_the_files(run_cli):
    by_argument = run_cli("review", SAMPLES / "taobao_utf8.csv", "TB-0001", "--no-color")
    by_option = run_cli("review", SAMPLES / "taobao_utf8.csv", "--conversation", "TB-0001", "--no-color")
    assert by_argument.exit_code == 0 and by_argument.stdout == by_option.stdout
    missing = run_cli("review", SAMPLES / "taobao_utf8.csv")
    assert missing.exit_code == 2 and "review FILE ID" in missing.stderr


def test_explain_finds_a_platform_kpi_without_its_rubric(run_cli):
    result = run_cli("explain", "pdd.answer_30s_rate")
    assert result.exit_code == 0 and "platform KPI in rubric pdd" in result.stdout
