"""Precision and recall of every detection category on its labelled example table.

Usage: python bench/detector_quality.py

Each row of lexicons/examples/<category>.tsv is run as a one-message conversation through the
same detector set the audit uses; a 'fire' row that fires is a true positive, a 'pass' row that
fires a false positive. The tables are also the tests' fixtures, so this measures agreement with
the labels the rules were written against, not accuracy on unseen chats.
"""

from __future__ import annotations

import sys

from cs_audit.analysis.detectors import Detectors, detect_all
from cs_audit.catalog import load_examples
from cs_audit.model import DETECTION_CATEGORIES, Conversation, Message


def measure(detectors: Detectors, category: str) -> tuple[int, int, int, int]:
    """(true positives, false positives, false negatives, true negatives) on one table."""
    tp = fp = fn = tn = 0
    for example in load_examples(category):
        conversation = Conversation("X", "bench", (Message(0, example.role, example.text),))
        fired = any(d.category == category for d in detect_all(detectors.all, conversation))
        if example.fires:
            tp, fn = tp + fired, fn + (not fired)
        else:
            fp, tn = fp + fired, tn + (not fired)
    return tp, fp, fn, tn


def main() -> int:
    detectors = Detectors.build()
    print(f"{'category':<18} {'fire':>5} {'pass':>5} {'precision':>10} {'recall':>8}")
    worst = 1.0
    for category in DETECTION_CATEGORIES:
        tp, fp, fn, tn = measure(detectors, category)
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        worst = min(worst, precision, recall)
        print(f"{category:<18} {tp + fn:>5} {fp + tn:>5} {precision:>10.3f} {recall:>8.3f}")
    print(f"lowest precision or recall: {worst:.3f} (goal: at least 0.95)")
    return 0 if worst >= 0.95 else 1


if __name__ == "__main__":
    sys.exit(main())
