"""Per-conversation reports kept in temporary files until the end (GitHub annotations, SARIF
results) write exactly what the in-memory writers write."""

from __future__ import annotations

import io
import json
import random

import pytest

from cs_audit.audit import Auditor
from cs_audit.gate import GateRule
from cs_audit.reporters.github import render_github, spool_annotations, write_spooled_github
from cs_audit.reporters.sarif import sarif_document, spool_results, write_sarif
from cs_audit.reporters.spool import RecordSpool
from cs_audit.rubric import load_rubric
from conftest import make_report


@pytest.fixture(scope="module")
def report():
    return make_report(Auditor(load_rubric("default")))


def test_records_come_back_by_rank_then_in_the_order_added():
    generator = random.Random(3)
    added = [({"n": number, "text": "亲\n\ud800,\"x\""}, generator.choice([0, 1, 1.5, 3]))
             for number in range(500)]
    spool = RecordSpool()
    for record, rank in added:
        spool.add(record, rank)
    expected = [record for record, _ in sorted(added, key=lambda pair: pair[1])]  # stable
    assert list(spool) == expected
    assert list(spool) == expected  # read again, same records
    assert spool.count == 500
    spool.close()


@pytest.mark.parametrize("rule", [None, GateRule()])
def test_spooled_annotations_print_what_render_github_prints(report, rule):
    spool = RecordSpool()
    for result in report.results:
        spool_annotations(spool, result, report, rule)
    from cs_audit.reporters.github import conversation_annotations
    in_memory = [a for result in report.results for a in conversation_annotations(result, report, rule)]
    stream = io.StringIO()
    write_spooled_github(report, stream, spool)
    assert stream.getvalue() == render_github(report, in_memory)
    assert stream.getvalue().count("::") > 2


@pytest.mark.parametrize("rule", [None, GateRule()])
def test_the_streamed_sarif_log_is_the_document_json_dumps_writes(report, rule):
    spool = RecordSpool()
    for result in report.results:
        spool_results(spool, result, report, rule)
    stream = io.StringIO()
    write_sarif(report, stream, spool, rule)
    expected = json.dumps(sarif_document(report, None, rule), ensure_ascii=False, indent=2) + "\n"
    assert stream.getvalue() == expected
    assert json.loads(stream.getvalue())["runs"][0]["results"]


def test_a_sarif_log_without_results_is_the_same_document(report):
    stream = io.StringIO()
    write_sarif(report, stream, [], None)
    assert stream.getvalue() == json.dumps(sarif_document(report, [], None), ensure_ascii=False, indent=2) + "\n"
