"""The streamed JSON writer: parses to build_document, one conversation a line, results read once."""

from __future__ import annotations

import dataclasses
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_audit import api
from cs_audit.audit import Auditor
from cs_audit.reporters.json_report import build_document, conversation_entry, write_json
from cs_audit.rubric import load_rubric
from conftest import CANONICAL_SAMPLES, assert_golden_text, make_report

GOLDEN = Path(__file__).parent / "golden" / "json_report.json"


@pytest.fixture(scope="module")
def samples_report():
    partial = api.merge(api.audit_file(path) for path in CANONICAL_SAMPLES)
    return api.report(partial)


@pytest.fixture(scope="module")
def fixture_report():
    # A fixed version, so the golden does not change with every release.
    return dataclasses.replace(make_report(Auditor(load_rubric("default"))), tool_version="*")


def _written(report) -> str:
    stream = io.StringIO()
    write_json(report, stream)
    return stream.getvalue()


def test_written_report_parses_to_build_document_for_the_samples(samples_report):
    document = json.loads(_written(samples_report))
    assert document == build_document(samples_report)
    assert list(document) == ["schema", "tool", "rubric", "inputs", "summary", "agents", "days",
                              "conversations"]
    assert len(document["conversations"]) == 33


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_selection_of_conversations_parses_to_build_document(samples_report, data):
    results = data.draw(st.lists(st.sampled_from(samples_report.results), max_size=6))
    report = dataclasses.replace(samples_report, results=tuple(results))
    assert json.loads(_written(report)) == build_document(report)


def test_run_without_conversations_writes_an_empty_array(samples_report):
    empty = dataclasses.replace(samples_report, results=())
    text = _written(empty)
    document = json.loads(text)
    assert document["conversations"] == []
    assert document == build_document(empty)
    assert text.endswith('"conversations": []\n}\n')


def test_each_conversation_is_one_line_inside_the_array(samples_report):
    lines = _written(samples_report).splitlines()
    start = lines.index('  "conversations": [')
    assert lines[-2:] == ["  ]", "}"]
    entry_lines = lines[start + 1:-2]
    expected = [conversation_entry(result, samples_report) for result in samples_report.results]
    assert len(entry_lines) == len(expected)
    for line, entry in zip(entry_lines, expected):
        assert line.startswith("    {")
        assert json.loads(line.strip().removesuffix(",")) == entry


def test_parts_before_the_conversations_stay_pretty_printed(samples_report):
    text = _written(samples_report)
    head = {key: value for key, value in build_document(samples_report).items()
            if key != "conversations"}
    pretty = json.dumps(head, ensure_ascii=False, indent=2)
    assert text.startswith(pretty.removesuffix("\n}") + ',\n  "conversations": [\n')


def test_entries_are_written_as_the_results_are_read(samples_report):
    stream = io.StringIO()
    written_before_each_read = []

    def results_read_once():
        for result in samples_report.results:
            written_before_each_read.append(stream.getvalue().count('\n    {"id": '))
            yield result

    # An iterator that can be read only once: write_json must neither read it twice nor
    # collect every entry before writing the first.
    write_json(dataclasses.replace(samples_report, results=results_read_once()), stream)
    assert written_before_each_read == list(range(len(samples_report.results)))
    assert json.loads(stream.getvalue()) == build_document(samples_report)


def test_golden_json_layout_for_the_fixture_files(fixture_report):
    text = _written(fixture_report)
    assert_golden_text(text, GOLDEN)
