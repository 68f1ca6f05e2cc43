"""--jobs: worker processes give exactly the results of one process, in input order."""

from __future__ import annotations

from cs_audit.audit import Auditor
from cs_audit.parallel import audit_conversations, worker_count
from cs_audit.parsers import collect_paths, parse_file
from cs_audit.rubric import load_rubric
from conftest import SAMPLES, sheet_parts


def test_two_workers_give_the_same_results_in_the_same_order():
    conversations = [c for path in collect_paths([SAMPLES]) for c in parse_file(path).conversations]
    auditor = Auditor(load_rubric("taobao"))
    alone = list(audit_conversations(auditor, conversations, jobs=1))
    forked = list(audit_conversations(auditor, conversations, jobs=2, chunk_size=5))
    assert forked == alone
    assert [r.id for r in forked] == [c.id for c in conversations]


def test_jobs_zero_means_every_core():
    assert worker_count(0) >= 1
    assert worker_count(3) == 3


def test_cli_json_is_byte_identical_for_any_jobs(run_cli, monkeypatch):
    import cs_audit.parallel
    monkeypatch.setattr(cs_audit.parallel, "CHUNK_SIZE", 4)  # 58 sample conversations: many chunks
    outputs = [run_cli("audit", SAMPLES, "--jobs", jobs, "--format", "json", "-q").stdout
               for jobs in ("1", "2", "0")]
    assert outputs[0] == outputs[1] == outputs[2]


def test_the_parallel_path_is_really_taken(monkeypatch):
    import cs_audit.parallel
    pools = []
    real_context = cs_audit.parallel.multiprocessing.get_context

    def recording_context(method):
        pools.append(method)
        return real_context(method)

    monkeypatch.setattr(cs_audit.parallel.multiprocessing, "get_context", recording_context)
    conversations = [c for path in collect_paths([SAMPLES]) for c in parse_file(path).conversations]
    results = list(audit_conversations(Auditor(load_rubric("default")), conversations, jobs=2,
                                       chunk_size=4))
    assert pools == ["fork"] and len(results) == len(conversations)


def describe(result):
    """Runs in whichever process audited the result; must see its messages."""
    return f"{result.id}:{len(result.messages)}:{result.score}"


def test_work_applied_in_the_workers_matches_each_result():
    from cs_audit.parallel import audit_and_apply

    conversations = [c for path in collect_paths([SAMPLES]) for c in parse_file(path).conversations]
    auditor = Auditor(load_rubric("default"))
    alone = list(audit_and_apply(auditor, conversations, describe, jobs=1))
    forked = list(audit_and_apply(auditor, iter(conversations), describe, jobs=2, chunk_size=3))
    assert forked == alone
    assert [extra for _, extra in forked] == [describe(result) for result, _ in forked]
    assert all(result.messages == conversation.messages
               for (result, _), conversation in zip(forked, conversations))



def test_cli_workbook_made_in_workers_equals_one_made_in_one_process(run_cli, monkeypatch, tmp_path):
    import cs_audit.parallel
    monkeypatch.setattr(cs_audit.parallel, "CHUNK_SIZE", 4)
    for jobs in ("1", "2"):
        result = run_cli("audit", SAMPLES, "--jobs", jobs, "--format", "none", "-q", "--lang", "en",
                         "-o", tmp_path / f"r{jobs}.xlsx")
        assert result.exit_code in (0, 1), result.stderr
    assert sheet_parts(tmp_path / "r1.xlsx") == sheet_parts(tmp_path / "r2.xlsx")
