"""Every bad file or row is an input problem with its line and reason, never a crash (issue 21)."""

from __future__ import annotations

import json
import shutil
import sys

import pytest

from cs_audit.parsers import parse_file
from conftest import REPO

SAMPLES = REPO / "samples"
HEADER = "conversation_id,timestamp,role,sender,text\n"
GOOD = "C1,2024-01-01 10:00:00,buyer,b,你好\nC1,2024-01-01 10:01:00,agent,a,您好\n"


def problems_of(parsed):
    return [(problem.line, problem.reason) for problem in parsed.summary.problems]


def assert_every_row_counted(parsed):
    summary = parsed.summary
    assert summary.rows == summary.messages + len(summary.problems)


def test_a_timestamp_on_the_last_day_of_the_calendar_is_a_problem_not_a_crash(tmp_path):
    # Service hours clock a wait from the next opening, and there is no day after 9999-12-31.
    path = tmp_path / "chat.csv"
    path.write_text(HEADER + GOOD + "C2,9999-12-31 23:59:59,buyer,b,你好\n", encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.summary.messages == 2
    [(line, reason)] = problems_of(parsed)
    assert line == 4 and "9999-12-30" in reason


@pytest.mark.parametrize("stamp", ["9999-12-31T23:00:00-08:00", "0001-01-01T00:00:00+08:01"])
def test_an_offset_that_moves_a_timestamp_off_the_calendar_is_a_problem(tmp_path, stamp):
    path = tmp_path / "chat.csv"
    path.write_text(HEADER + GOOD + f"C2,{stamp},buyer,b,你好\n", encoding="utf-8")
    parsed = parse_file(path)
    [(line, reason)] = problems_of(parsed)
    assert line == 4 and "out of range" in reason


@pytest.mark.parametrize("digits", [400, 5000])
def test_a_huge_integer_timestamp_in_jsonl_is_a_problem(tmp_path, digits):
    path = tmp_path / "chat.jsonl"
    path.write_text('{"conversation_id": "C1", "role": "buyer", "text": "hi", "timestamp": 1700000000}\n'
                    f'{{"conversation_id": "C2", "role": "buyer", "text": "hi", "timestamp": {"9" * digits}}}\n',
                    encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.summary.messages == 1
    [(line, reason)] = problems_of(parsed)
    assert line == 2 and "timestamp" in reason


def test_an_integer_past_pythons_digit_limit_is_kept_as_its_digits_for_an_id(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text(f'{{"conversation_id": {"7" * 5000}, "role": "buyer", "text": "hi"}}\n', encoding="utf-8")
    parsed = parse_file(path)
    assert [c.id for c in parsed.conversations] == ["7" * 5000]


def test_a_deeply_nested_jsonl_line_is_a_problem_and_the_rest_is_read(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text('{"conversation_id": "C1", "role": "buyer", "text": "hi"}\n'
                    + "[" * 100_000 + "]" * 100_000 + "\n"
                    + '{"conversation_id": "C2", "role": "buyer", "text": "hi"}\n', encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.summary.messages == 2
    assert problems_of(parsed) == [(2, "JSON nested too deeply to be a chat export")]


def _with_timestamp(sample, digits, place):
    document = json.loads((SAMPLES / sample).read_text(encoding="utf-8"))
    limit = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        place(document, int("9" * digits))
        return json.dumps(document, ensure_ascii=False, indent=1)
    finally:
        sys.set_int_max_str_digits(limit)


def _pdd_stamp(document, value):
    document["conversations"][0]["message_infos"][0]["msg_ts"] = value


def _intercom_stamp(document, value):
    document["conversations"][0]["created_at"] = value


def _zendesk_stamp(document, value):
    document["tickets"][0]["comments"][0]["created_at"] = value


@pytest.mark.parametrize("digits", [400, 5000])
@pytest.mark.parametrize("sample, place", [
    ("pdd_records.json", _pdd_stamp), ("intercom_conversations.json", _intercom_stamp),
    ("zendesk_tickets.json", _zendesk_stamp),
])
def test_a_huge_integer_timestamp_in_platform_json_is_a_problem(tmp_path, sample, place, digits):
    good = parse_file(SAMPLES / sample)
    path = tmp_path / sample
    path.write_text(_with_timestamp(sample, digits, place), encoding="utf-8")
    parsed = parse_file(path)
    assert parsed.summary.readable
    assert parsed.summary.messages == good.summary.messages - 1
    new = [reason for reason in map(str, problems_of(parsed)) if reason not in map(str, problems_of(good))]
    assert len(new) == 1 and "timestamp out of range" in new[0]
    assert_every_row_counted(parsed)


def test_a_lone_surrogate_in_a_conversation_id_is_a_problem(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text('{"conversation_id": "C1", "role": "buyer", "text": "hi"}\n'
                    '{"conversation_id": "\\ud800", "role": "buyer", "text": "hi"}\n', encoding="utf-8")
    parsed = parse_file(path)
    assert [c.id for c in parsed.conversations] == ["C1"]
    [(line, reason)] = problems_of(parsed)
    assert line == 2 and "surrogate" in reason


def test_a_field_over_the_cap_is_a_problem_in_jsonl_too(tmp_path):
    path = tmp_path / "chat.jsonl"
    path.write_text('{"conversation_id": "C1", "role": "buyer", "text": "hi"}\n'
                    f'{{"conversation_id": "C1", "role": "buyer", "text": "{"长" * 1_000_001}"}}\n',
                    encoding="utf-8")
    parsed = parse_file(path)
    assert problems_of(parsed) == [(2, "a field is longer than 1,000,000 characters")]
