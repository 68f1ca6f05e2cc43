"""Held-out figures: the detectors against example tables written by people who never saw the rules.

The tables in ``bench/fresh/`` were written by annotators briefed as QA supervisors, without
access to the lexicons or the code, and are kept out of tuning: nobody reads a miss here to
write a rule, so the script prints figures only. Every row is audited as a small conversation through the real pipeline, so a
detector that reads context (the buyer's message before a reply) is measured as it runs.

Usage: ``python bench/fresh_tables.py [--json FILE]``
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import Counter
from pathlib import Path

FRESH = Path(__file__).resolve().parent / "fresh"


def rows(name: str) -> list[list[str]]:
    with (FRESH / name).open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
                if row and not row[0].startswith("#")]


def conversation(number: int, *messages: tuple[str, str]):
    from cs_audit.model import Conversation, Message

    return Conversation(f"F{number}", "fresh", tuple(
        Message(index, role, text) for index, (role, text) in enumerate(messages)))


def audit(conversations):
    from cs_audit import api

    return api.audit_conversations(conversations, "default")


def categories_at(result, index: int) -> set[str]:
    return {d.category for d in result.detections if d.message_index == index}


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def measure() -> dict:
    figures: dict = {}

    table = rows("offplatform.tsv")
    results = audit(conversation(n, (role, text)) for n, (_, role, text) in enumerate(table))
    flagged = [any(c.startswith("risk.") for c in categories_at(r, 0)) for r in results]
    fire = [f for (label, _, _), f in zip(table, flagged) if label == "fire"]
    passes = [f for (label, _, _), f in zip(table, flagged) if label == "pass"]
    agent_flags = [(label, f) for (label, role, _), f in zip(table, flagged) if role == "agent" and f]
    figures["off-platform"] = {
        "fire rows": len(fire), "recall": share(sum(fire), len(fire)),
        "pass rows": len(passes), "false flags": share(sum(passes), len(passes)),
        "agent findings": len(agent_flags),
        "agent precision": share(sum(label == "fire" for label, _ in agent_flags), len(agent_flags)),
    }

    table = rows("escalation.tsv")
    results = audit(conversation(n, (role, text)) for n, (_, role, text) in enumerate(table))
    flagged = ["buyer.escalation" in categories_at(r, 0) for r in results]
    figures["escalation"] = _precision_recall([label == "fire" for label, _, _ in table], flagged)

    table = rows("tone.tsv")
    results = audit(conversation(n, ("buyer", buyer), ("agent", agent))
                    for n, (_, buyer, agent, _) in enumerate(table))
    flagged = ["tone.rude" in categories_at(r, 1) for r in results]
    figures["rude or dismissive"] = _precision_recall([row[0] == "rude" for row in table], flagged)
    figures["rude or dismissive"]["recall by kind"] = {
        kind: share(sum(f for row, f in zip(table, flagged) if row[3] == kind),
                    sum(1 for row in table if row[3] == kind))
        for kind in sorted({row[3] for row in table if row[0] == "rude"})}

    table = rows("closing.tsv")
    results = audit(conversation(n, ("agent", text)) for n, (_, text) in enumerate(table))
    for label, category in (("greeting", "tone.greeting"), ("closing", "tone.closing")):
        flagged = [category in categories_at(r, 0) for r in results]
        figures[label] = _precision_recall([row[0] == label for row in table], flagged)

    table = rows("dispute_type.tsv")
    results = audit(conversation(n, ("buyer", text)) for n, (_, text) in enumerate(table))
    said = [r.dispute.type or "none" for r in results]
    kinds = sorted({label for label, _ in table if label != "none"})
    figures["dispute type"] = {
        "accuracy on disputes": share(sum(s == label for (label, _), s in zip(table, said) if label != "none"),
                                      sum(1 for label, _ in table if label != "none")),
        "by kind": {kind: share(sum(s == kind for (label, _), s in zip(table, said) if label == kind),
                                sum(1 for label, _ in table if label == kind)) for kind in kinds},
        "false disputes (of look-alikes)": share(sum(s != "none" for (label, _), s in zip(table, said)
                                                     if label == "none"),
                                                 sum(1 for label, _ in table if label == "none")),
    }

    table = rows("dispute_steps.tsv")
    # A complaint the tool recognises opens the dispute, so the steps are read in any case.
    opening = "收到的杯子碎了，怎么办"
    results = audit(conversation(n, ("buyer", opening), ("buyer", complaint), ("agent", reply))
                    for n, (_, complaint, reply, *_rest) in enumerate(table))
    steps = {"apologise": "apologise", "evidence": "ask_evidence", "explain": "explain",
             "remedy": "remedy", "followup": "follow_up"}
    figures["dispute steps"] = {}
    for label, step in steps.items():
        truth = [row[0] == label or (len(row) > 3 and row[3] == label) for row in table]
        found = [r.dispute.steps.get(step) == 2 for r in results]
        figures["dispute steps"][label] = _precision_recall(truth, found)
    none_rows = [r for row, r in zip(table, results) if row[0] == "none"]
    figures["dispute steps"]["credited on none rows"] = share(
        sum(any(r.dispute.steps.get(step) == 2 for step in steps.values()) for r in none_rows),
        len(none_rows))
    figures["rows"] = {name: len(rows(name)) for name in sorted(p.name for p in FRESH.glob("*.tsv"))}
    return figures


def _precision_recall(truth: list[bool], flagged: list[bool]) -> dict:
    both = sum(t and f for t, f in zip(truth, flagged))
    return {"cases": sum(truth), "flagged": sum(flagged),
            "precision": share(both, sum(flagged)), "recall": share(both, sum(truth))}


def _print(figures: dict, indent: str = "") -> None:
    for key, value in figures.items():
        if isinstance(value, dict):
            print(f"{indent}{key}:")
            _print(value, indent + "  ")
        else:
            shown = "—" if value is None else (f"{value:.2f}" if isinstance(value, float) else value)
            print(f"{indent}{key}: {shown}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    options = parser.parse_args(argv)
    figures = measure()
    _print(figures)
    if options.json:
        options.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
