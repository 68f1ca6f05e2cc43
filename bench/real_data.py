"""Prepare the public real-chat corpora as canonical CSV files cs-audit reads.

Nothing third-party is committed: this script reads the downloaded files from
``$CS_AUDIT_REAL_DATA/download/`` and writes, beside them:

- ``ecd.csv``: the Taobao snippets of the E-commerce Dialogue Corpus sample (cooelf/
  DeepUtteranceAggregation, ``ECD_sample/``), one conversation per label-1 line, words joined
  back (the sample is word-segmented) and speakers worked out from the end: the response is the
  shop's, and the utterances before it alternate.
- ``stc3.csv``: the Weibo customer-service dialogues of STC-3 (SB233/stc3-dataset, ``data.zip`` →
  ``data/train_data_cn.json``), dialogues 601 to 3,700 only; each utterance is one message.
- ``stc3_ratings.csv``: those dialogues' mean A/S/E over their annotators (-2..2).

Dialogues 1-600 of STC-3 are set aside as an independent check: they are dropped before anything
else reads them. The JDDC sample is never read.

Usage: ``python bench/real_data.py`` (``--check`` only says what is present).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import sys
from pathlib import Path

# The snapshots the gold labels were made on; a different file is refused, since message
# indices in the labels would no longer point at the same messages.
ECD_REPOSITORY = "cooelf/DeepUtteranceAggregation"
ECD_COMMIT = "f2e15d6600ccda0db32eee98b2ca67c322071964"
ECD_FILES = {
    "train": "f6612035923432e2d9f8b43e0d19e503c212fe9728c61d5ab16e61a5de90d70e",
    "test": "3fd9f60cda25732a19deba1bd376495713ab042849e03bc904b241ca414bebc4",
}
STC3_REPOSITORY = "SB233/stc3-dataset"
STC3_COMMIT = "90da527709dab26a4912a70746c09da06518d46b"
STC3_SHA256 = "fe90ca8a146dd7a89113ba7fec76330ca5957adddbf7af94845ab229b599fe93"
STC3_SET_ASIDE = 600  # the first 600 dialogues are the held-out check nobody develops on

CANONICAL_HEADER = ("conversation_id", "role", "sender", "text")


def data_folder() -> Path:
    """``$CS_AUDIT_REAL_DATA``, or the user cache folder."""
    named = os.environ.get("CS_AUDIT_REAL_DATA")
    if named:
        return Path(named).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "cs-audit" / "real-data"


def where_to_get(folder: Path) -> str:
    download = folder / "download"
    return (
        f"Put the downloaded files under {download}/ (or set CS_AUDIT_REAL_DATA):\n"
        f"  {download}/ECD_sample/train and test  from github.com/{ECD_REPOSITORY} at {ECD_COMMIT},\n"
        f"      folder ECD_sample/ (git archive {ECD_COMMIT[:7]} ECD_sample | tar -x -C {download})\n"
        f"  {download}/stc3/data/train_data_cn.json  from github.com/{STC3_REPOSITORY} at {STC3_COMMIT},\n"
        f"      file data.zip (unzip data.zip data/train_data_cn.json -d {download}/stc3)\n")


def join_words(segmented: str) -> str:
    """Undo the corpus's word segmentation: drop a space unless it separates two ASCII words."""
    tokens = segmented.split()
    text = ""
    for token in tokens:
        if text and re.match(r"[A-Za-z0-9]", token[0]) and re.match(r"[A-Za-z0-9]", text[-1]):
            text += " "
        text += token
    return text


def ecd_conversations(download: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """(id, [(role, text)...]) for each distinct label-1 snippet, ids ``ecd-<file>-<line>``."""
    conversations = []
    seen: set[tuple[str, ...]] = set()
    for name in ("train", "test"):
        path = download / "ECD_sample" / name
        for line_number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            fields = line.split("\t")
            if fields[0] != "1" or len(fields) < 3:
                continue
            utterances = tuple(join_words(field) for field in fields[1:])
            if utterances in seen:
                continue
            seen.add(utterances)
            # The response (last) is the shop's; speakers alternate backwards from it.
            count = len(utterances)
            messages = [("agent" if (count - 1 - i) % 2 == 0 else "buyer", text)
                        for i, text in enumerate(utterances)]
            conversations.append((f"ecd-{name}-{line_number:04d}", messages))
    return conversations


def stc3_dialogues(download: Path) -> list[dict]:
    """Dialogues 601 and up of STC-3's Chinese training file (the first 600 are dropped unread)."""
    dialogues = json.loads((download / "stc3" / "data" / "train_data_cn.json").read_text("utf-8"))
    return dialogues[STC3_SET_ASIDE:]


def stc3_conversations(dialogues: list[dict]) -> list[tuple[str, list[tuple[str, str]]]]:
    roles = {"customer": "buyer", "helpdesk": "agent"}
    conversations = []
    for dialogue in dialogues:
        messages = [(roles[turn["sender"]], utterance.strip())
                    for turn in dialogue["turns"] for utterance in turn["utterances"]
                    if utterance.strip()]
        conversations.append((f"stc3-{dialogue['id']}", messages))
    return conversations


def stc3_ratings(dialogues: list[dict]) -> list[tuple[str, float, float, float, int]]:
    rows = []
    for dialogue in dialogues:
        qualities = [annotation["quality"] for annotation in dialogue["annotations"]]
        means = [sum(q[key] for q in qualities) / len(qualities) for key in "ASE"]
        rows.append((f"stc3-{dialogue['id']}", *means, len(qualities)))
    return rows


def write_canonical(path: Path, conversations, sender_for_agent: str) -> int:
    count = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CANONICAL_HEADER)
        for conversation_id, messages in conversations:
            for role, text in messages:
                writer.writerow((conversation_id, role,
                                 sender_for_agent if role == "agent" else "", text))
                count += 1
    return count


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def missing_or_changed(download: Path) -> list[str]:
    problems = []
    for name, digest in ECD_FILES.items():
        path = download / "ECD_sample" / name
        if not path.is_file():
            problems.append(f"missing: {path}")
        elif sha256(path) != digest:
            problems.append(f"not the snapshot the labels were made on: {path}")
    stc3 = download / "stc3" / "data" / "train_data_cn.json"
    if not stc3.is_file():
        problems.append(f"missing: {stc3}")
    elif sha256(stc3) != STC3_SHA256:
        problems.append(f"not the snapshot the labels were made on: {stc3}")
    return problems


def prepare(folder: Path) -> dict[str, int]:
    download = folder / "download"
    ecd = ecd_conversations(download)
    dialogues = stc3_dialogues(download)
    counts = {
        "ecd conversations": len(ecd),
        "ecd messages": write_canonical(folder / "ecd.csv", ecd, "ecd-shop"),
        "stc3 conversations": len(dialogues),
        "stc3 messages": write_canonical(folder / "stc3.csv", stc3_conversations(dialogues),
                                         "stc3-helpdesk"),
    }
    with (folder / "stc3_ratings.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("conversation_id", "A", "S", "E", "annotators"))
        writer.writerows(stc3_ratings(dialogues))
    return counts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only say what is present")
    options = parser.parse_args(argv)
    folder = data_folder()
    problems = missing_or_changed(folder / "download")
    if problems:
        print("\n".join(problems), file=sys.stderr)
        print(where_to_get(folder), file=sys.stderr)
        return 2
    if options.check:
        print(f"all downloads present in {folder / 'download'}")
        return 0
    for what, count in prepare(folder).items():
        print(f"{what}: {count}")
    print(f"written to {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
