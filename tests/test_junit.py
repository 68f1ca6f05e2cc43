"""JUnit XML report: valid for CI servers, a testcase per conversation, a failure per failed check."""

from __future__ import annotations

import dataclasses
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from lxml import etree

from cs_audit.analysis.pii import mask_text
from cs_audit.audit import Auditor
from cs_audit.gate import GateRule
from cs_audit.model import SEVERITY_RANK
from cs_audit.reporters.junit import INPUT_PROBLEMS_CASE, render_junit, write_junit
from cs_audit.rubric import load_rubric
from conftest import assert_golden_text, conversation, make_report

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden" / "junit.xml"
# The phone an agent repeats (evidence of a failed check) and one in an input problem's reason.
PERSONAL = ("13812345678", "13900001111")


@pytest.fixture(scope="module")
def auditor():
    return Auditor(load_rubric("default"))




@pytest.fixture(scope="module")
def report(auditor):
    return make_report(auditor)


@pytest.fixture(scope="module")
def document(report):
    return ET.fromstring(render_junit(report).encode("utf-8"))


def _case(document, name):
    return next(case for case in document.iter("testcase") if case.get("name") == name)


def test_golden_junit_for_the_fixture_files(report):
    text = render_junit(report)
    assert_golden_text(text, GOLDEN)


def test_report_validates_against_the_jenkins_junit_schema(report):
    schema = etree.XMLSchema(etree.parse(str(FIXTURES / "junit.xsd")))
    parsed = etree.fromstring(render_junit(report).encode("utf-8"))
    assert schema.validate(parsed), schema.error_log


def test_schema_rejects_what_ci_servers_would_reject():
    # The validation above can fail: a testcase without a name, a suite without counts.
    schema = etree.XMLSchema(etree.parse(str(FIXTURES / "junit.xsd")))
    assert not schema.validate(etree.fromstring(
        b'<testsuites><testsuite name="a" tests="1" failures="0" errors="0">'
        b'<testcase classname="a"/></testsuite></testsuites>'))
    assert not schema.validate(etree.fromstring(
        b'<testsuites skipped="0"><testsuite name="a" tests="0"/></testsuites>'))


def test_one_suite_per_input_file_and_one_testcase_per_conversation(document):
    suites = document.findall("testsuite")
    assert [suite.get("name") for suite in suites] == ["chats.csv", "broken.xlsx"]
    cases = [(case.get("classname"), case.get("name"), case.get("time"))
             for case in suites[0].findall("testcase")]
    assert cases == [("chats.csv", "R-GOOD", "0"), ("chats.csv", "R-RUDE", "0"),
                     ("chats.csv", "R-RISK", "0"), ("chats.csv", INPUT_PROBLEMS_CASE, "0")]


def test_counts_are_testcases_with_failures_and_errors(document):
    for suite in document.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("errors")) == sum(1 for c in cases if c.find("error") is not None)
        assert suite.get("skipped") == "0"
    assert (document.get("tests"), document.get("failures"), document.get("errors")) == ("5", "2", "2")


def test_every_failed_check_is_a_failure_most_severe_first(report, document):
    for result in report.results:
        failures = _case(document, result.id).findall("failure")
        # An info check is reported in the testcase's output, not as a failure.
        failed = [c for c in result.checks if not c.passed and c.severity != "info"]
        assert sorted(f.get("type") for f in failures) == sorted(c.rule for c in failed)
        ranks = [SEVERITY_RANK[f.get("message").split(":")[0]] for f in failures]
        assert ranks == sorted(ranks)
    risky = _case(document, "R-RISK").find("failure")
    assert risky.get("type") == "no_off_platform_request"
    assert risky.get("message") == "critical: agent made an off-platform request (risk.contact): 加我微信"
    assert _case(document, "R-GOOD").find("failure") is None


def test_failure_details_give_the_message_evidence_and_what_to_say_instead(document):
    failures = {f.get("type"): f.text for f in _case(document, "R-RUDE").findall("failure")}
    rude = failures["no_rude_phrasing"]
    assert "message: #1, line 8, agent 木子家居:阿杰, 2024-04-15 11:05:30" in rude
    assert "evidence: 不知道，你自己看活动页" in rude
    assert "instead: #1 「不知道」 → 这个问题我帮您确认一下，请您稍等" in rude
    assert "instead: #3 「没办法」" in rude
    # A closing left out is not fixed by the rude-phrasing suggestions of the same conversation.
    assert "instead:" not in failures["closing"]
    assert "evidence: 满200减50%吗？\n第二件:: 半价,还是打折" in failures["first_reply"]


def test_input_problems_and_unreadable_files_are_errors(document):
    problems = _case(document, INPUT_PROBLEMS_CASE).find("error")
    assert problems.get("type") == "input-problem"
    assert problems.get("message") == "2 records could not be read"
    assert problems.text.splitlines()[1] == "line 16: missing text (内容)"
    broken = document.findall("testsuite")[1].find("testcase/error")
    assert broken.get("type") == "unreadable"
    assert broken.get("message").startswith("file could not be read: not a readable XLSX workbook")


def test_failed_info_check_is_a_note_in_system_out_not_a_failure(auditor, report):
    result = report.results[1]
    checks = tuple(dataclasses.replace(c, severity="info") if c.rule == "no_angry_ending" else c
                   for c in result.checks)
    changed = make_report(auditor, results=[dataclasses.replace(result, checks=checks)])
    case = ET.fromstring(render_junit(changed)).find("testsuite/testcase")
    assert "no_angry_ending" not in [f.get("type") for f in case.findall("failure")]
    assert "note: no_angry_ending (info): buyer's last turn scores" in case.find("system-out").text


def test_characters_xml_cannot_hold_are_replaced_and_the_file_parses(auditor, tmp_path):
    chat = conversation(("buyer", "10:00:00", "在吗"),
                        ("agent", "10:00:20", "您好\x00亲\ud800，&<b>\"在的\"</b>\x1b[31m\ufffe"),
                        conversation_id="C\x07<1>")
    report = make_report(auditor, results=[auditor.audit(chat)])
    # --fail-on minor: the passing conversation's minor findings are failures too.
    write_junit(report, tmp_path / "r.xml", rule=GateRule(fail_on="minor"))  # a lone surrogate would not even encode
    text = (tmp_path / "r.xml").read_text(encoding="utf-8")
    case = ET.fromstring(text.encode("utf-8")).find("testsuite/testcase")
    assert case.get("name") == "C\ufffd<1>"
    evidence = "".join(f.text for f in case.findall("failure"))
    assert "evidence: 您好\ufffd亲\ufffd，&<b>\"在的\"</b>\ufffd[31m\ufffd\n" in evidence
    etree.fromstring(text.encode("utf-8"))  # the strict parser agrees


@pytest.mark.parametrize("masked", [True, False])
def test_personal_data_is_masked_unless_show_is_identity(auditor, masked):
    text = render_junit(make_report(auditor, show=mask_text if masked else (lambda t: t)))
    for number in PERSONAL:
        assert (number in text) != masked, number
    if masked:
        assert "138****5678" in text and "客人139****1111" in text


def test_writes_the_same_document_to_a_path_a_text_stream_and_a_binary_stream(report, tmp_path):
    path = tmp_path / "report.xml"
    write_junit(report, path)
    write_junit(report, str(tmp_path / "as-string.xml"))
    text, binary = io.StringIO(), io.BytesIO()
    write_junit(report, text)
    write_junit(report, binary)
    expected = render_junit(report)
    assert path.read_bytes() == expected.encode("utf-8") == binary.getvalue()
    assert (tmp_path / "as-string.xml").read_text(encoding="utf-8") == expected == text.getvalue()
    assert expected.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites ')


def _failures(text: str) -> dict[str, list[str]]:
    document = ET.fromstring(text.encode("utf-8"))
    return {case.get("name"): [failure.get("type") for failure in case.findall("failure")]
            for case in document.iter("testcase")}


def test_a_passing_conversation_with_a_minor_finding_is_no_failure_without_a_gate(auditor):
    chat = conversation(("buyer", "10:00:00", "在吗，这件有白色吗"),
                        ("agent", "10:00:20", "您好，有白色的哦"), conversation_id="MINOR-ONLY")
    result = auditor.audit(chat)
    assert result.passed and [c.severity for c in result.checks if not c.passed] == ["minor"]
    report = make_report(auditor, results=[result])
    case = ET.fromstring(render_junit(report)).find("testsuite/testcase")
    assert case.findall("failure") == []
    assert "note: closing (minor)" in case.find("system-out").text
    assert _failures(render_junit(report, rule=GateRule(fail_on="minor")))["MINOR-ONLY"] == ["closing"]


def test_testcases_fail_by_the_gate_fail_on_severity_and_baseline(report):
    by_major = _failures(render_junit(report, rule=GateRule(fail_on="major")))
    severities = {c.rule: c.severity for r in report.results for c in r.checks}
    assert by_major["R-RUDE"] and all(severities[rule] in ("critical", "major") for rule in by_major["R-RUDE"])
    known = frozenset(("R-RUDE", rule) for rule in by_major["R-RUDE"])
    with_baseline = _failures(render_junit(report, rule=GateRule(fail_on="major", baseline=known)))
    assert with_baseline["R-RUDE"] == []


def test_fail_under_fails_the_conversations_scoring_below_it(report):
    failures = _failures(render_junit(report, rule=GateRule(fail_under=101)))
    scored = {r.id: r for r in report.results}
    for name, failed in failures.items():
        if name in scored:
            # Every conversation scores below 101: each fails, by its findings or its verdict.
            assert failed, name


def test_junit_cases_are_spooled_and_the_document_is_the_same_as_from_the_results(auditor, report):
    from cs_audit.reporters.junit import JUnitCases, conversation_case

    rule = GateRule(fail_on="minor")
    with JUnitCases() as cases:
        for result in report.results:
            cases.add(conversation_case(result, report, rule))
        streamed = render_junit(report, cases)
        assert render_junit(report, cases) == streamed  # read back as often as asked
    assert streamed == render_junit(report, rule=rule)
    etree.fromstring(streamed.encode("utf-8"))


def test_junit_cases_hold_no_testcase_in_memory():
    from cs_audit.reporters.junit import JUnitCases, ConversationCase

    with JUnitCases() as cases:
        for number in range(2000):
            cases.add(ConversationCase("a.csv", f"    <testcase name=\"{number}\" />\n", number % 2 == 0))
        # What stays in memory is one count per run of a file's testcases, not the testcases.
        assert cases.runs == [["a.csv", 2000, 1000]]
        assert sum(1 for _ in cases.texts()) == 2000
