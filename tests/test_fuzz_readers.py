"""Fuzzing every reader: whatever the bytes, no exception escapes and every row is counted (issue 21).

Each format's sample is mutated (text edits, JSON values swapped for odd ones, XLSX XML edits)
and read with its format forced: the file is either unreadable with a reason, or read with
rows = messages + problems.
"""

from __future__ import annotations

import io
import json
import zipfile

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cs_audit.parsers import parse_file
from conftest import REPO

SAMPLES = REPO / "samples"
TEXT_SAMPLES = {
    "csv": "taobao_utf8.csv", "jsonl": "jd_chat.jsonl", "jd-tsv": "jd_sessions.tsv",
    "qianniu": "qianniu_records.txt", "wechat": "wechat_chat.txt", "pdd-json": "pdd_records.json",
    "helpdesk": "intercom_conversations.json",
}
JSON_SAMPLES = {"pdd-json": "pdd_records.json", "helpdesk": "zendesk_tickets.json"}
XLSX_SAMPLES = {"xlsx": "douyin_chat.xlsx", "pdd-xlsx": "pdd_export.xlsx"}
FUZZ = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

ODD_TEXT = st.sampled_from([
    "", "\n", "\r\n", '"', ",", "\t", "{", "}", "[", "]", "\\", "\\ud800", "\x00", "\u2028", "\ufeff",
    "9" * 400, "9" * 5000, "9999-12-31 23:59:59", "9999-12-31T23:00:00-08:00", "1e400", "NaN", "-1",
    "[" * 3000, "买家", "客服", "=SUM(A1)", "<", "&", "]]>", "\udcff"[:0] + "\x1b[31m",
])


def assert_read_without_crash(path, input_format):
    parsed = parse_file(path, input_format)
    summary = parsed.summary
    if summary.readable:
        assert summary.rows == summary.messages + len(summary.problems)
        assert summary.messages == sum(len(c.messages) for c in parsed.conversations)
    else:
        assert summary.problems and summary.error


def _mutate(data: str, edits) -> str:
    for where, cut, inserted in edits:
        position = int(where * len(data))
        data = data[:position] + inserted + data[position + cut:]
    return data


EDITS = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 40), ODD_TEXT | st.text(max_size=8)),
                 min_size=1, max_size=6)


def _fuzz_text(input_format, sample):
    # Samples in GB18030 keep their bytes as surrogate escapes; written back as other bytes.
    original = (SAMPLES / sample).read_bytes().decode("utf-8", "surrogateescape")

    @FUZZ
    @given(edits=EDITS)
    def run(tmp_path_factory, edits):
        path = tmp_path_factory.mktemp("fuzz") / sample
        path.write_bytes(_mutate(original, edits).encode("utf-8", "surrogatepass"))
        assert_read_without_crash(path, input_format)

    return run


def test_text_readers_survive_mutations(tmp_path_factory):
    for input_format, sample in TEXT_SAMPLES.items():
        _fuzz_text(input_format, sample)(tmp_path_factory)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=6)
    | ODD_TEXT | st.just(int("9" * 400)),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=4), children, max_size=3),
    max_leaves=8)


def _replace_values(document, choices, values):
    """Replace some values of a JSON document (walked in a fixed order) by the given ones."""
    containers = [document]
    slots = []
    while containers:
        container = containers.pop()
        keys = list(container) if isinstance(container, dict) else range(len(container))
        for key in keys:
            slots.append((container, key))
            if isinstance(container[key], (dict, list)):
                containers.append(container[key])
    for choice, value in zip(choices, values):
        container, key = slots[int(choice * (len(slots) - 1))]
        container[key] = value


def test_json_readers_survive_odd_values(tmp_path_factory):
    for input_format, sample in JSON_SAMPLES.items():
        original = (SAMPLES / sample).read_text(encoding="utf-8")

        @FUZZ
        @given(choices=st.lists(st.floats(0, 1), min_size=1, max_size=4),
               values=st.lists(JSON_VALUES, min_size=1, max_size=4))
        def run(choices, values):
            document = json.loads(original)
            _replace_values(document, choices, values)
            path = tmp_path_factory.mktemp("fuzz") / sample
            path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8", errors="surrogatepass")
            assert_read_without_crash(path, input_format)

        run()


def test_xlsx_readers_survive_xml_mutations(tmp_path_factory):
    for input_format, sample in XLSX_SAMPLES.items():
        with zipfile.ZipFile(SAMPLES / sample) as archive:
            members = {info.filename: archive.read(info.filename) for info in archive.infolist()}
        names = sorted(members)

        @FUZZ
        @given(member=st.sampled_from(names), edits=EDITS)
        def run(member, edits):
            changed = dict(members)
            changed[member] = _mutate(members[member].decode("utf-8"), edits).encode("utf-8", "surrogatepass")
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for name in names:
                    archive.writestr(name, changed[name])
            path = tmp_path_factory.mktemp("fuzz") / sample
            path.write_bytes(buffer.getvalue())
            assert_read_without_crash(path, input_format)

        run()
