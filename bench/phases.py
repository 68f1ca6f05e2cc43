"""Where the CPU of an audit goes: each stage of ``cs-audit audit -o x.json -o x.xlsx``, run one
after the other in one process, with its CPU seconds and its share of the whole.

    python bench/phases.py bench/corpus/n100000-s7/chats.csv

The stages are those a run with ``--jobs`` spreads over the workers and the parent: reading,
sending conversations to a worker and results back (pickling both ways), the analysis, the
JSON entries, the workbook's rows, placing and compressing them, and writing the workbook at
the end. One process and one stage at a time, so that the shares are not blurred by two
workers slowing each other; a run with workers spends more CPU in all (see bench/README.md).
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import pickle
import tempfile
import time
from pathlib import Path

CHUNK = 64  # conversations per task, as cs_audit.parallel sends them


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a canonical CSV (bench/make_corpus.py)")
    args = parser.parse_args()
    spent: dict[str, float] = {}
    clock = time.process_time()

    def stage(name: str) -> None:
        nonlocal clock
        now = time.process_time()
        spent[name] = now - clock
        clock = now

    from cs_audit.aggregate import TotalsBuilder
    from cs_audit.audit import Auditor
    from cs_audit.cli import Gate, open_inputs
    from cs_audit.reporters import Report, Shown, masker
    from cs_audit.reporters.json_report import entry_line
    from cs_audit.rubric import load_rubric

    rubric = load_rubric("default")
    auditor = Auditor(rubric)
    stage("start-up (imports, models)")
    stream = open_inputs([args.corpus], "auto", "auto", None)
    conversations = list(stream.conversations())
    stage("reading the CSV")
    chunks = [conversations[i:i + CHUNK] for i in range(0, len(conversations), CHUNK)]
    for chunk in chunks:
        pickle.loads(pickle.dumps(chunk, pickle.HIGHEST_PROTOCOL))
    stage("conversations to the workers (pickle)")
    results = []
    for start in range(0, len(conversations), CHUNK):
        results += [auditor.audit(conversation) for conversation in conversations[start:start + CHUNK]]
        gc.freeze()  # as cs_audit.parallel does after every chunk (bench/README.md, "Collector")
    gc.unfreeze()
    stage("analysis")
    for start in range(0, len(results), CHUNK):
        sent = [dataclasses.replace(result, messages=()) for result in results[start:start + CHUNK]]
        pickle.loads(pickle.dumps(sent, pickle.HIGHEST_PROTOCOL))
    stage("results to the parent (pickle)")
    shown = Shown(masker(True), rubric)
    lines = [entry_line(result, shown=shown) for result in results]
    stage("JSON entries")

    from cs_audit.reporters.xlsx import RowRenderer, WorkbookRows, write_xlsx

    renderer = RowRenderer("zh", rubric, shown.show)
    rows = [renderer(result) for result in results]
    stage("workbook rows (made in the workers)")
    for start in range(0, len(rows), CHUNK):
        pickle.loads(pickle.dumps(rows[start:start + CHUNK], pickle.HIGHEST_PROTOCOL))
    stage("workbook rows to the parent (pickle)")
    builder = TotalsBuilder(rubric.slow_after_s, tuple(grade for _, grade in rubric.grades))
    gate = Gate(None, "critical")
    for result in results:
        builder.add(result)
        gate.add(result)
    stage("totals and gate")
    with tempfile.TemporaryDirectory() as folder:
        with open(Path(folder) / "entries.jsonl", "w", encoding="utf-8") as spool:
            for line in lines:
                spool.write(line + "\n")
        stage("JSON entries spooled")
        workbook_rows = WorkbookRows(renderer)
        for made in rows:
            workbook_rows.add(made)
        stage("workbook rows placed and compressed")
        report = Report(rubric, stream.summaries, (), builder.finish(stream.summaries), shown.show)
        write_xlsx(report, Path(folder) / "audit.xlsx", rows=workbook_rows)
        workbook_rows.close()
        stage("workbook written after the audit")
    del rows, lines
    gc.collect()

    total = sum(spent.values())
    width = max(len(name) for name in spent)
    print(f"{args.corpus}: {sum(len(c.messages) for c in conversations):,} messages, "
          f"{len(conversations):,} conversations; CPU seconds in one process")
    for name, seconds in spent.items():
        print(f"  {name:<{width}}  {seconds:7.2f} s  {seconds / total:6.1%}")
    print(f"  {'total':<{width}}  {total:7.2f} s")


if __name__ == "__main__":
    main()
