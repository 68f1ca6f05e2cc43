"""Rebuild the shipped chat-mood model (cs_audit/models/chat_mood.*) and print its held-out figures.

The model is snownlp's Bayes classifier (``snownlp.classification.bayes.Bayes``: its own
``train`` and ``save``) over the tokens of :func:`cs_audit.analysis.chat_mood.chat_tokens`, in
three classes, ``neg``, ``neu``, ``pos``. Training material, none of its text committed:

- the gold buyer messages of the development half (``bench/gold/messages.jsonl``,
  ``split == "dev"``), their text read from the prepared chats in ``$CS_AUDIT_REAL_DATA``;
  the test half is never read here;
- more buyer messages of STC-3 dialogues 601+ that are not in the gold set, labelled for this
  model by the gold guidelines' mood rule (``bench/gold/mood_extra.jsonl``: ids, message
  indices and labels only; 1,500 messages, each read once, no second annotator);
- short chat lines written for this model from the seeds' account of what neutral, angry and
  satisfied buyers write (``bench/mood/seed_lines.tsv``, our own words);
- labelled short reviews from SophonPlus/ChineseNlpCorpus (``online_shopping_10_cats.csv``
  and ``waimai_10k.csv``, under ``$CS_AUDIT_REAL_DATA/download/ChineseNlpCorpus/``; get them from
  github.com/SophonPlus/ChineseNlpCorpus, ``datasets/``; the zip unpacked). They only know
  ``neg`` and ``pos``; a fixed sample of the short ones is taken, fewer than the chat lines, so
  that they add vocabulary without teaching the review model's habits back.

Held-out figures: 5-fold cross-validation over the development gold messages (each fold's
messages scored by a model trained without them), and the calibration (length temperature,
class offsets) fitted on those held-out scores only. Then Spearman(last buyer turn's mood, S)
over the STC-3 dialogues 601+ that no material above comes from. The shipped model is then
trained on all the material.

Usage: ``python bench/train_chat_mood.py [--check]`` (``--check``: print the figures, write
nothing).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import marshal
import random
import sys
from collections import defaultdict
from math import log
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))
from quality import read_canonical, read_satisfaction, spearman  # noqa: E402
from real_data import data_folder  # noqa: E402

from cs_audit.analysis.chat_mood import (  # noqa: E402
    CALIBRATION_FILE, CLASSES, MODEL_FILE, ChatMoodClassifier, calibrated, chat_tokens)
from cs_audit.analysis.sentiment import SentimentModel  # noqa: E402

GOLD = BENCH / "gold"
SEED_LINES = BENCH / "mood" / "seed_lines.tsv"
REVIEWS = ("online_shopping_10_cats.csv", "waimai_10k.csv")
REVIEW_MAX_CHARS = 40  # chat messages are short; long reviews teach length, not mood
REVIEWS_PER_CLASS = 300  # more drowns the chat material: held-out log loss rises
# Each chat document (labelled message, seed line) is counted this many times, the reviews once:
# the reviews add vocabulary, the chat material decides. 3 gave the lowest held-out log loss of
# 1, 2 and 3 with 1,500 extra labels (0.634, 0.625, 0.618); the Bayes format has no weights, so
# the document is repeated, as Bayes.train would count a repeated document.
CHAT_WEIGHT = 3
FOLDS = 5
ANGRY_BELOW = 0.2


def fold_of(key: str) -> int:
    """A message's fold, from its id alone, so the folds never change between runs."""
    return hashlib.sha256(key.encode()).digest()[0] % FOLDS


def labelled_messages(conversations, path: Path, split: str | None) -> list[tuple[str, str, str]]:
    """(key, text, mood) of the labelled buyer messages in ``path`` (of one split)."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if split is not None and record["split"] != split:
            continue
        role, text = conversations[record["id"]][record["index"]]
        if role != "buyer":
            raise ValueError(f"{path}: {record['id']}#{record['index']} is not a buyer message")
        rows.append((f"{record['id']}#{record['index']}", text, record["mood"]))
    return rows


def seed_lines() -> list[tuple[str, str]]:
    rows = []
    for number, line in enumerate(SEED_LINES.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        mood, text = line.split("\t", 1)
        if mood not in CLASSES:
            raise ValueError(f"{SEED_LINES}:{number}: mood {mood!r} is not one of {CLASSES}")
        rows.append((text, mood))
    return rows


def review_lines(folder: Path) -> list[tuple[str, str]]:
    by_class: dict[str, list[str]] = defaultdict(list)
    for name in REVIEWS:
        path = folder / "download" / "ChineseNlpCorpus" / name
        if not path.is_file():
            raise SystemExit(f"{path} is missing: get datasets/ from "
                             "github.com/SophonPlus/ChineseNlpCorpus (unzip online_shopping_10_cats.zip)")
        with path.open(encoding="utf-8-sig", newline="") as handle:
            for row in csv.DictReader(handle):
                text = (row.get("review") or "").strip()
                if 4 <= len(text) <= REVIEW_MAX_CHARS:
                    by_class["pos" if row["label"] == "1" else "neg"].append(text)
    picked = []
    for mood, texts in sorted(by_class.items()):
        texts.sort()
        random.Random(17).shuffle(texts)
        picked += [(text, mood) for text in texts[:REVIEWS_PER_CLASS]]
    return picked


def train(documents: list[tuple[list[str], str]]) -> dict:
    """snownlp's Bayes trained on (tokens, mood) documents, as the dict ``Bayes.save`` writes."""
    from snownlp.classification.bayes import Bayes  # slow import (snownlp loads every model)

    bayes = Bayes()
    bayes.train(documents)
    return {"total": bayes.total, "d": {k: v.__dict__ for k, v in bayes.d.items()}}, bayes


def fit_calibration(raw: list[tuple[list[float], int, str]]) -> dict:
    """Temperature, length power, length offset and class offsets minimising the held-out
    log loss: the proper scoring rule, so that the calibrated numbers are probabilities.

    Coordinate descent from a fixed start with halving steps: deterministic, and the loss is
    smooth in each parameter. (Round 1's grid stopped at its edges: the positive offset sat on
    its lowest point.)
    """
    index = {name: i for i, name in enumerate(CLASSES)}

    def loss(params):
        temperature, power, length_offset, neg, pos = params
        if temperature <= 0 or power < 0 or length_offset < 0:
            return float("inf")
        total = 0.0
        for scores, known, mood in raw:
            probs = calibrated(scores, known, temperature, power, (neg, 0.0, pos), length_offset)
            total -= log(max(probs[index[mood]], 1e-12))
        return total / len(raw)

    params = [1.0, 0.5, 1.0, 0.0, -1.0]
    steps = [0.5, 0.2, 1.0, 0.5, 0.5]
    best = loss(params)
    while max(steps) >= 1e-3:
        improved = False
        for position in range(len(params)):
            for sign in (1, -1):
                trial = list(params)
                trial[position] += sign * steps[position]
                value = loss(trial)
                if value < best - 1e-9:
                    best, params, improved = value, trial, True
        if not improved:
            steps = [step / 2 for step in steps]
    temperature, power, length_offset, neg, pos = params
    return {"temperature": round(temperature, 4), "length_power": round(power, 4),
            "length_offset": round(length_offset, 4),
            "offsets": {"neg": round(neg, 4), "neu": 0.0, "pos": round(pos, 4)},
            "held_out_log_loss": round(best, 4)}


def mood_figures(scored: list[tuple[float, str]]) -> dict:
    figures = {}
    for mood in CLASSES:
        values = [score for score, label in scored if label == mood]
        below = sum(score < ANGRY_BELOW for score in values)
        figures[mood] = {"n": len(values), "below_0.2": below,
                         "share_below_0.2": round(below / len(values), 4) if values else None}
    return figures


def last_buyer_turn(messages: list[tuple[str, str]]) -> list[int]:
    """Indices of the last run of non-empty buyer messages (what the ending check averages)."""
    turn: list[int] = []
    current: list[int] = []
    for index, (role, text) in enumerate(messages):
        if role == "buyer":
            if text.strip():
                current.append(index)
        elif role == "agent" and current:
            turn, current = current, []
    return current or turn


def ending_lines(held_out: dict[str, float], conversations) -> dict:
    """Where to draw the angry-ending line, from held-out scores: for each line, precision and
    recall of "the last buyer turn's mean is below it" against the dev chats' gold angry_end.

    Each message is scored by the fold model that did not see it, so the line is not drawn
    where the training messages themselves fall (in-sample scores sit further from 0.5).
    """
    endings = []
    for line in (GOLD / "chats.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if record["split"] != "dev":
            continue
        turn = last_buyer_turn(conversations[record["id"]])
        values = [held_out.get(f"{record['id']}#{index}") for index in turn]
        if not turn or any(value is None for value in values):
            continue  # a message without a label has no held-out score
        endings.append((sum(values) / len(values), bool(record["angry_end"])))
    figures = {"chats": len(endings), "angry": sum(angry for _, angry in endings)}
    for line in (0.2, 0.25, 0.3, 0.35, 0.4):
        flagged = [angry for mean, angry in endings if mean < line]
        hits = sum(flagged)
        precision = hits / len(flagged) if flagged else 0.0
        recall = hits / figures["angry"] if figures["angry"] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
        figures[f"{line:.2f}"] = {"precision": round(precision, 3), "recall": round(recall, 3),
                                  "f1": round(f1, 3)}
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="print the figures, write nothing")
    parser.add_argument("--no-reviews", action="store_true", help="leave the reviews out")
    options = parser.parse_args(argv)

    folder = data_folder()
    conversations = read_canonical([folder / "ecd.csv", folder / "stc3.csv"])
    gold_dev = labelled_messages(conversations, GOLD / "messages.jsonl", "dev")
    extra_path = GOLD / "mood_extra.jsonl"
    extra = labelled_messages(conversations, extra_path, None) if extra_path.is_file() else []
    seeds = seed_lines()
    reviews = [] if options.no_reviews else review_lines(folder)
    print(f"material: {len(gold_dev)} dev gold messages, {len(extra)} extra labelled messages, "
          f"{len(seeds)} seed lines, {len(reviews)} short reviews")

    segmenter = SentimentModel()
    tokens_of = lambda text: chat_tokens(text, segmenter.segment)  # noqa: E731
    always = CHAT_WEIGHT * ([(tokens_of(text), mood) for _, text, mood in extra] +
                            [(tokens_of(text), mood) for text, mood in seeds]) + \
        [(tokens_of(text), mood) for text, mood in reviews]
    gold_docs = [(key, tokens_of(text), mood) for key, text, mood in gold_dev]

    # Cross-validation over the dev gold messages: each fold scored by a model without it.
    raw, raw_keys = [], []
    for fold in range(FOLDS):
        model, _ = train(always + CHAT_WEIGHT * [(t, m) for k, t, m in gold_docs
                                                 if fold_of(k) != fold])
        classifier = ChatMoodClassifier(model, {"temperature": 1, "length_power": 0,
                                                "offsets": {c: 0 for c in CLASSES}})
        for key, tokens, mood in gold_docs:
            if fold_of(key) == fold:
                scores, known = classifier.raw_scores(tokens)
                raw.append((scores, known, mood))
                raw_keys.append(key)
    calibration = fit_calibration(raw)
    offsets = [calibration["offsets"][c] for c in CLASSES]
    scored = []
    for scores, known, mood in raw:
        p_neg, p_neu, p_pos = calibrated(scores, known, calibration["temperature"],
                                         calibration["length_power"], offsets,
                                         calibration["length_offset"])
        scored.append((p_pos + p_neu / 2, mood))
    calibration["held_out"] = mood_figures(scored)
    # The lines the mood checks draw: share of each class's held-out messages below a line.
    calibration["held_out_share_below"] = {
        f"{line:.2f}": {mood: round(sum(s < line for s, m in scored if m == mood)
                                    / max(1, sum(m == mood for _, m in scored)), 3)
                        for mood in CLASSES}
        for line in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)}
    calibration["held_out_ending_lines"] = ending_lines(
        dict(zip(raw_keys, (score for score, _ in scored))), conversations)
    calibration["held_out_median"] = {
        mood: round(sorted(s for s, m in scored if m == mood)[
            sum(m == mood for _, m in scored) // 2], 3) for mood in CLASSES}

    # The shipped model: everything.
    model, _ = train(always + CHAT_WEIGHT * [(t, m) for _, t, m in gold_docs])

    # Spearman(last buyer turn, S) on STC-3 dialogues 601+ that gave no training message.
    used = {key.split("#")[0] for key, *_ in gold_dev} | {key.split("#")[0] for key, *_ in extra}
    gold_chats = {json.loads(line)["id"] for line in (GOLD / "messages.jsonl").read_text(
        encoding="utf-8").splitlines()}
    satisfaction = read_satisfaction(folder / "stc3_ratings.csv")
    classifier = ChatMoodClassifier(model, calibration)
    lasts, s_values = [], []
    for chat_id, s_value in satisfaction.items():
        if chat_id in used or chat_id in gold_chats:
            continue  # test-half gold chats are left out too: nobody tunes on them
        # The last buyer turn: the last run of buyer messages an agent message ends.
        turn, current = [], []
        for role, text in conversations[chat_id]:
            if role == "buyer":
                if text.strip():
                    current.append(text)
            elif role == "agent" and current:
                turn, current = current, []
        turn = current or turn
        if not turn:
            continue
        values = [classifier.positive_probability(tokens_of(text)) for text in turn]
        lasts.append(sum(values) / len(values))
        s_values.append(s_value)
    calibration["stc3_unused_spearman_last_turn_S"] = {
        "n": len(lasts), "value": round(spearman(lasts, s_values) or 0.0, 4)}

    print(json.dumps(calibration, indent=2, ensure_ascii=False))
    if not options.check:
        MODEL_FILE.parent.mkdir(parents=True, exist_ok=True)
        # What snownlp's Bayes.save writes (gzip'd marshal of total and each class's counts),
        # with the gzip header's time fixed at 0 so that a rebuild gives the same bytes.
        MODEL_FILE.write_bytes(gzip.compress(marshal.dumps(model), mtime=0))
        CALIBRATION_FILE.write_text(json.dumps(calibration, indent=2, ensure_ascii=False) + "\n",
                                    encoding="utf-8")
        print(f"wrote {MODEL_FILE} and {CALIBRATION_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
