"""How far each verdict can be trusted: cs-audit measured against a supervisor's gold labels.

Audits the gold chats (``bench/gold/chats.jsonl``: real Taobao snippets from the ECD sample and
Weibo helpdesk dialogues 601+ of STC-3) and prints, for the development and the test half, the
table ``shared/design/QUALITY.md`` describes: for each verdict the gold cases, how many the tool
flags, precision and recall; dispute-type accuracy; false critical conversations; Spearman of the
score with the supervisors' rating and with STC-3's satisfaction S; and how the buyer-mood score
treats messages labelled neg/neu/pos.

The chats are read from ``$CS_AUDIT_REAL_DATA`` (see ``bench/real_data.py``, which prepares them).
Nobody tunes on the test half: quote it; read the development half's misses with ``--misses``.

Usage: ``python bench/quality.py [--half dev|test|both] [--rubric NAME] [--json FILE]
[--misses VERDICT]``
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from real_data import data_folder, missing_or_changed, where_to_get  # noqa: E402

GOLD = Path(os.environ.get("CS_AUDIT_GOLD", BENCH / "gold"))
ANGRY_BELOW = 0.2  # the mood line the default rubric's angry-ending check uses


@dataclass(frozen=True)
class GoldChat:
    id: str
    corpus: str
    split: str
    labels: dict


def read_gold(path: Path = GOLD / "chats.jsonl") -> list[GoldChat]:
    chats = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        chats.append(GoldChat(record["id"], record["corpus"], record["split"], record))
    return chats


def read_gold_moods(path: Path = GOLD / "messages.jsonl") -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_canonical(paths: Iterable[Path]) -> dict[str, list[tuple[str, str]]]:
    conversations: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for path in paths:
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                conversations[row["conversation_id"]].append((row["role"], row["text"]))
    return conversations


def read_satisfaction(path: Path) -> dict[str, float]:
    with path.open(encoding="utf-8", newline="") as handle:
        return {row["conversation_id"]: float(row["S"]) for row in csv.DictReader(handle)}


# --- statistics -------------------------------------------------------------------------

def spearman(xs: Sequence[float], ys: Sequence[float]) -> float | None:
    """Spearman's rank correlation, as ``cs-audit calibrate`` computes it."""
    from cs_audit.calibrate import spearman as rank_correlation

    return rank_correlation(xs, ys)


@dataclass
class Tally:
    """Gold cases, flags and their overlap for one verdict."""

    gold: int = 0
    flagged: int = 0
    both: int = 0
    misses: list[str] = field(default_factory=list)
    false_flags: list[str] = field(default_factory=list)

    def add(self, key: str, gold: bool, flagged: bool) -> None:
        self.gold += gold
        self.flagged += flagged
        self.both += gold and flagged
        if gold and not flagged:
            self.misses.append(key)
        if flagged and not gold:
            self.false_flags.append(key)

    @property
    def precision(self) -> float | None:
        return self.both / self.flagged if self.flagged else None

    @property
    def recall(self) -> float | None:
        return self.both / self.gold if self.gold else None


# --- what the tool said, per verdict ----------------------------------------------------

def failed_check(conversation: dict, rule: str) -> bool:
    return any(check["rule"] == rule and check["passed"] is False
               for check in conversation["checks"])


def detected_at(conversation: dict, category: str | Callable[[str], bool],
                roles: Iterable[str]) -> set[int]:
    matches = category if callable(category) else (lambda name: name == category)
    roles = set(roles)
    return {d["message_index"] for d in conversation["detections"]
            if matches(d["category"]) and d["role"] in roles}


def is_risk(category: str) -> bool:
    return category.startswith("risk.")


def dispute_of(conversation: dict) -> dict:
    return conversation["metrics"].get("dispute") or {}


# Each chat-level verdict: (title, gold says the problem is there, the tool flags it).
# A gold value of None (e.g. remedy without a complaint) leaves the chat out of that verdict.
CHAT_VERDICTS: list[tuple[str, Callable[[dict], bool | None], Callable[[dict], bool]]] = [
    ("off-platform by the shop (critical)",
     lambda g: g["offplatform_agent"], lambda c: c["critical"]),
    ("off-platform by the buyer",
     lambda g: g["offplatform_buyer"],
     lambda c: bool(detected_at(c, is_risk, ("buyer",)))),
    ("no greeting", lambda g: not g["greeting"], lambda c: failed_check(c, "greeting")),
    ("no polite closing", lambda g: not g["closing"], lambda c: failed_check(c, "closing")),
    ("buyer question left unanswered",
     lambda g: bool(g["unanswered"]),
     lambda c: (c["metrics"]["response"].get("unanswered") or 0) > 0
     or failed_check(c, "all_answered") or failed_check(c, "questions_answered")),
    ("dispute present",
     lambda g: g["dispute_type"] != "none", lambda c: bool(dispute_of(c).get("type"))),
    ("no apology after a complaint",
     lambda g: None if g["apology_after_complaint"] is None else not g["apology_after_complaint"],
     lambda c: failed_check(c, "dispute_apology")),
    ("complaint left without a remedy",
     lambda g: None if g["remedy_offered"] is None else not g["remedy_offered"],
     lambda c: failed_check(c, "dispute_remedy")),
    ("buyer unhappy at the end",
     lambda g: g["angry_end"], lambda c: failed_check(c, "no_angry_ending")),
]

# Message-level verdicts: (title, gold indices key, categories, roles of the flagged message).
MESSAGE_VERDICTS = [
    ("rude or dismissive agent message (message)", "rude_agent", "tone.rude", ("agent", "bot")),
    ("buyer escalation (message)", "escalation", "buyer.escalation", ("buyer",)),
    # The ignored-question detection alone (issue #15); the chat-level row above also counts
    # SPEC §3's unanswered turns, which include final statements supervisors do not flag.
    ("buyer question ignored (message)", "unanswered", "buyer.ignored_question", ("buyer",)),
]


@dataclass
class HalfFigures:
    name: str
    chats: int = 0
    tallies: dict[str, Tally] = field(default_factory=dict)
    disputes: int = 0
    dispute_type_right: int = 0
    type_confusions: list[str] = field(default_factory=list)
    false_critical: int = 0
    score_vs_overall: float | None = None
    score_vs_overall_n: int = 0
    score_vs_satisfaction: float | None = None
    last_mood_vs_satisfaction: float | None = None
    satisfaction_n: int = 0
    mood_counts: dict[str, int] = field(default_factory=dict)
    mood_below: dict[str, int] = field(default_factory=dict)

    def tally(self, title: str) -> Tally:
        return self.tallies.setdefault(title, Tally())


def measure(name: str, gold: Sequence[GoldChat], audited: dict[str, dict],
            moods: Sequence[dict], message_scores: dict[tuple[str, int], float],
            satisfaction: dict[str, float]) -> HalfFigures:
    figures = HalfFigures(name, chats=len(gold))
    for title, *_ in CHAT_VERDICTS:
        figures.tally(title)
    for title, *_ in MESSAGE_VERDICTS:
        figures.tally(title)
        figures.tally(title.replace("(message)", "(chat)"))
    scores, overall = [], []
    stc_scores, stc_s, stc_last = [], [], []
    for chat in gold:
        conversation, labels = audited[chat.id], chat.labels
        for title, gold_of, flagged_by in CHAT_VERDICTS:
            truth = gold_of(labels)
            if truth is not None:
                figures.tally(title).add(chat.id, bool(truth), flagged_by(conversation))
        for title, key, category, roles in MESSAGE_VERDICTS:
            flagged = detected_at(conversation, category, roles)
            wanted = set(labels[key])
            for index in sorted(flagged | wanted):
                figures.tally(title).add(f"{chat.id}#{index}", index in wanted, index in flagged)
            figures.tally(title.replace("(message)", "(chat)")).add(
                chat.id, bool(wanted), bool(flagged))
        if conversation["critical"] and not labels["offplatform_agent"]:
            figures.false_critical += 1
        if labels["dispute_type"] != "none":
            figures.disputes += 1
            said = dispute_of(conversation).get("type") or "none"
            if said == labels["dispute_type"]:
                figures.dispute_type_right += 1
            else:
                figures.type_confusions.append(f"{chat.id}: gold {labels['dispute_type']}, tool {said}")
        if conversation["score"] is not None and labels.get("overall") is not None:
            scores.append(conversation["score"])
            overall.append(labels["overall"])
        if chat.id in satisfaction and conversation["score"] is not None:
            stc_scores.append(conversation["score"])
            stc_s.append(satisfaction[chat.id])
            last = conversation["metrics"]["sentiment"].get("last")
            stc_last.append(0.5 if last is None else last)
    figures.score_vs_overall = spearman(scores, overall)
    figures.score_vs_overall_n = len(scores)
    figures.score_vs_satisfaction = spearman(stc_scores, stc_s)
    figures.last_mood_vs_satisfaction = spearman(stc_last, stc_s)
    figures.satisfaction_n = len(stc_s)
    for record in moods:
        label = record["mood"]
        figures.mood_counts[label] = figures.mood_counts.get(label, 0) + 1
        if message_scores[(record["id"], record["index"])] < ANGRY_BELOW:
            figures.mood_below[label] = figures.mood_below.get(label, 0) + 1
    return figures


# --- running the tool -------------------------------------------------------------------

def audit_documents(paths: Sequence[Path], rubric: str) -> dict[str, dict]:
    from cs_audit import api

    partial = api.merge(api.audit_file(path, rubric) for path in paths)
    document = api.json_document(partial, rubric, mask=False)
    return {conversation["id"]: conversation for conversation in document["conversations"]}


def buyer_message_scores(conversations: dict[str, list[tuple[str, str]]],
                         wanted: Iterable[tuple[str, int]],
                         rubric: str = "default") -> dict[tuple[str, int], float]:
    from cs_audit.rubric import load_rubric
    from cs_audit.audit import mood_model

    # The mood model the rubric audits with, so the mood rows and the verdicts agree.
    model = mood_model(load_rubric(rubric).sentiment_model)
    return {(chat_id, index): model.score(conversations[chat_id][index][1])
            for chat_id, index in wanted}


# --- printing ---------------------------------------------------------------------------

def _number(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _share(part: int, whole: int) -> str:
    return "—" if not whole else f"{part / whole:.0%} ({part}/{whole})"


def markdown(figures: HalfFigures) -> str:
    lines = [f"#### {figures.name} half: {figures.chats} chats", "",
             "| verdict (the tool flags it) | gold cases | flagged | precision | recall |",
             "| --- | --- | --- | --- | --- |"]
    for title, tally in figures.tallies.items():
        lines.append(f"| {title} | {tally.gold} | {tally.flagged} | {_number(tally.precision)} "
                     f"| {_number(tally.recall)} |")
    lines.append(f"| dispute type right (of gold disputes) | {figures.disputes} | — | — "
                 f"| {_number(figures.dispute_type_right / figures.disputes if figures.disputes else None)} |")
    lines += ["", "| figure | value |", "| --- | --- |",
              f"| false critical conversations | {_share(figures.false_critical, figures.chats)} |",
              f"| Spearman(score, supervisor's 1-5 rating) | "
              f"{_number(figures.score_vs_overall)} (n={figures.score_vs_overall_n}) |",
              f"| Spearman(score, STC-3 satisfaction S) | "
              f"{_number(figures.score_vs_satisfaction)} (n={figures.satisfaction_n}) |",
              f"| Spearman(last buyer turn's mood, S) | "
              f"{_number(figures.last_mood_vs_satisfaction)} (n={figures.satisfaction_n}) |"]
    for label, title in (("neu", "neutral"), ("neg", "negative"), ("pos", "positive")):
        lines.append(f"| {title} buyer messages scored below {ANGRY_BELOW} | "
                     f"{_share(figures.mood_below.get(label, 0), figures.mood_counts.get(label, 0))} |")
    return "\n".join(lines)


def as_json(figures: HalfFigures) -> dict:
    return {
        "chats": figures.chats,
        "verdicts": {title: {"gold": t.gold, "flagged": t.flagged, "precision": t.precision,
                             "recall": t.recall} for title, t in figures.tallies.items()},
        "dispute_type_accuracy": (figures.dispute_type_right / figures.disputes
                                  if figures.disputes else None),
        "false_critical": figures.false_critical,
        "spearman_score_overall": figures.score_vs_overall,
        "spearman_score_satisfaction": figures.score_vs_satisfaction,
        "spearman_last_mood_satisfaction": figures.last_mood_vs_satisfaction,
        "mood_counts": figures.mood_counts,
        "mood_below": figures.mood_below,
    }


def git_commit() -> str:
    try:
        return subprocess.run(["git", "-C", str(BENCH), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--half", choices=("dev", "test", "both"), default="both")
    parser.add_argument("--rubric", default="default", help="rubric to audit with (default: default)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--misses", metavar="VERDICT",
                        help="list the development half's misses and false flags of a verdict "
                             "(a title from the table); never the test half's")
    options = parser.parse_args(argv)

    folder = data_folder()
    problems = missing_or_changed(folder / "download")
    prepared = [folder / "ecd.csv", folder / "stc3.csv", folder / "stc3_ratings.csv"]
    if problems or not all(path.is_file() for path in prepared):
        print("\n".join(problems) or "the corpora are not prepared: run python bench/real_data.py",
              file=sys.stderr)
        print(where_to_get(folder), file=sys.stderr)
        return 2

    gold = read_gold()
    moods = read_gold_moods()
    conversations = read_canonical(prepared[:2])
    audited = audit_documents(prepared[:2], options.rubric)
    scores = buyer_message_scores(conversations, ((m["id"], m["index"]) for m in moods),
                                  options.rubric)
    satisfaction = read_satisfaction(prepared[2])

    halves = ("dev", "test") if options.half == "both" else (options.half,)
    names = {"dev": "Development", "test": "Test"}
    results = {}
    print(f"cs-audit quality bench, {datetime.date.today()}, commit {git_commit()}, "
          f"rubric {options.rubric}\n")
    for half in halves:
        figures = measure(names[half], [c for c in gold if c.split == half], audited,
                          [m for m in moods if m["split"] == half], scores, satisfaction)
        results[half] = as_json(figures)
        print(markdown(figures))
        print()
        if options.misses and half == "dev":
            tally = figures.tallies.get(options.misses)
            if tally is None:
                print(f"no verdict titled {options.misses!r}", file=sys.stderr)
                return 2
            print(f"misses: {' '.join(tally.misses) or '—'}")
            print(f"false flags: {' '.join(tally.false_flags) or '—'}")
            if options.misses == "dispute present":
                print("type confusions:\n  " + "\n  ".join(figures.type_confusions))
    every_stc3 = [i for i in satisfaction if audited[i]["score"] is not None]
    overall_s = spearman([audited[i]["score"] for i in every_stc3],
                         [satisfaction[i] for i in every_stc3])
    print(f"Spearman(score, S) over every STC-3 dialogue 601+ (both halves and the unlabelled "
          f"rest): {_number(overall_s)} (n={len(every_stc3)})")
    results["spearman_score_satisfaction_all_stc3"] = overall_s
    if options.json:
        options.json.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n",
                                encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
