"""Agreement between the gold labels and an independent second reading of 50 of the chats.

For each key: the share of items on which the two readings agree and Cohen's kappa (agreement
beyond chance). Lists of message indices (rude agent messages, unanswered questions, escalation)
are compared per message of the role they point at; the overall rating by Spearman and by the
share within one point; mood per buyer message.

Usage: ``python bench/gold/agreement.py`` (needs ``$CS_AUDIT_REAL_DATA``, see bench/real_data.py)
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from collections.abc import Hashable, Sequence
from pathlib import Path

GOLD = Path(__file__).resolve().parent
sys.path.insert(0, str(GOLD))
sys.path.insert(0, str(GOLD.parent))
from build import INDEX_ROLES, read_roles  # noqa: E402
from quality import spearman  # noqa: E402
from real_data import data_folder  # noqa: E402


def cohen_kappa(first: Sequence[Hashable], second: Sequence[Hashable]) -> float | None:
    total = len(first)
    if not total:
        return None
    observed = sum(a == b for a, b in zip(first, second)) / total
    first_counts, second_counts = Counter(first), Counter(second)
    expected = sum(first_counts[label] * second_counts[label] for label in first_counts) / total ** 2
    if expected == 1:
        return None  # both readings used one label only: kappa is undefined
    return (observed - expected) / (1 - expected)


def row(key: str, first: Sequence[Hashable], second: Sequence[Hashable]) -> str:
    agree = sum(a == b for a, b in zip(first, second))
    kappa = cohen_kappa(first, second)
    positives = f"{sum(1 for a in first if a not in (False, 'none', 'neu'))}/" \
                f"{sum(1 for b in second if b not in (False, 'none', 'neu'))}"
    return (f"| {key} | {len(first)} | {positives} | {agree / len(first):.2f} | "
            f"{'—' if kappa is None else f'{kappa:.2f}'} |")


def main() -> int:
    gold = {}
    for line in (GOLD / "chats.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        gold[record["id"]] = record
    moods = {}
    for line in (GOLD / "messages.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        moods[(record["id"], record["index"])] = record["mood"]
    second = [json.loads(line) for line in
              (GOLD / "annotations" / "second.jsonl").read_text(encoding="utf-8").splitlines()]
    roles = read_roles(data_folder())

    lines = ["| key | items | cases (gold/second) | agreement | Cohen's kappa |",
             "| --- | --- | --- | --- | --- |"]
    pairs = [(gold[record["id"]], record) for record in second]
    for key in ("offplatform_agent", "offplatform_buyer", "greeting", "closing", "angry_end"):
        lines.append(row(key, [g[key] for g, _ in pairs], [s[key] for _, s in pairs]))
    lines.append(row("dispute present", [g["dispute_type"] != "none" for g, _ in pairs],
                     [s["dispute_type"] != "none" for _, s in pairs]))
    lines.append(row("dispute_type", [g["dispute_type"] for g, _ in pairs],
                     [s["dispute_type"] for _, s in pairs]))
    for key in ("apology_after_complaint", "remedy_offered"):
        both = [(g[key], s[key]) for g, s in pairs if g[key] is not None and s[key] is not None]
        lines.append(row(f"{key} (both saw a complaint)", [a for a, _ in both], [b for _, b in both]))
    for key, role in INDEX_ROLES.items():
        first, other = [], []
        for g, s in pairs:
            for index, message_role in enumerate(roles[g["id"]]):
                if message_role == role:
                    first.append(index in g[key])
                    other.append(index in s[key])
        lines.append(row(f"{key} (per {role} message)", first, other))
        lines.append(row(f"{key} (any in the chat)", [bool(g[key]) for g, _ in pairs],
                         [bool(s[key]) for _, s in pairs]))
    first_mood, second_mood = [], []
    for _, s in pairs:
        for index, mood in s["mood"].items():
            first_mood.append(moods[(s["id"], int(index))])
            second_mood.append(mood)
    lines.append(row("mood (per buyer message)", first_mood, second_mood))
    overall = [(g["overall"], s["overall"]) for g, s in pairs]
    within_one = sum(abs(a - b) <= 1 for a, b in overall) / len(overall)
    rho = spearman([a for a, _ in overall], [b for _, b in overall])
    lines.append(f"| overall (1-5) | {len(overall)} | — | {within_one:.2f} within one point | "
                 f"Spearman {rho:.2f} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
