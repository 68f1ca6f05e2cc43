"""Merge the annotators' label files into the gold set the quality bench reads.

``annotations/*.jsonl`` hold the labels as each annotator wrote them (one chat a line, see
``README.md``); ``second.jsonl`` is the independent second reading used only for agreement.
This script checks every label against the prepared chats (indices must point at a message of
the right role) and writes:

- ``chats.jsonl``: one chat a line, its corpus, its half (``dev`` or ``test``) and its labels;
- ``messages.jsonl``: one labelled buyer message a line (chat id, message index, mood, half).

The half is fixed by the chat id alone (the first byte of its SHA-256 even: dev), so a chat
never changes half when labels are added.

Usage: ``python bench/gold/build.py`` (reads ``$CS_AUDIT_REAL_DATA``, see bench/real_data.py).
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from pathlib import Path

GOLD = Path(__file__).resolve().parent
sys.path.insert(0, str(GOLD.parent))
from real_data import data_folder  # noqa: E402

DISPUTE_TYPES = ("none", "logistics", "quality", "after_sales", "price", "attitude", "malicious")
MOODS = ("neg", "neu", "pos")
CHAT_KEYS = ("offplatform_agent", "offplatform_buyer", "rude_agent", "dispute_type",
             "complaint_index", "apology_after_complaint", "remedy_offered", "unanswered",
             "greeting", "closing", "escalation", "angry_end", "overall")
# Which role each list of indices must point at.
INDEX_ROLES = {"rude_agent": "agent", "unanswered": "buyer", "escalation": "buyer"}


def half_of(chat_id: str) -> str:
    return "dev" if hashlib.sha256(chat_id.encode("utf-8")).digest()[0] % 2 == 0 else "test"


def corpus_of(chat_id: str) -> str:
    return chat_id.split("-", 1)[0]


def read_roles(folder: Path) -> dict[str, list[str]]:
    roles: dict[str, list[str]] = {}
    for name in ("ecd.csv", "stc3.csv"):
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                roles.setdefault(row["conversation_id"], []).append(row["role"])
    return roles


def problems_of(record: dict, roles: list[str], needs_chat_keys: bool) -> list[str]:
    problems = []
    mood = record.get("mood") or {}
    buyers = {index for index, role in enumerate(roles) if role == "buyer"}
    labelled = {int(index) for index in mood}
    if labelled != buyers:
        problems.append(f"mood labels for {sorted(labelled)}, buyer messages are {sorted(buyers)}")
    if any(value not in MOODS for value in mood.values()):
        problems.append("a mood is not neg/neu/pos")
    if not needs_chat_keys:
        return problems
    for key in CHAT_KEYS:
        if key not in record:
            problems.append(f"no {key}")
    for key, role in INDEX_ROLES.items():
        for index in record.get(key, []):
            if not 0 <= index < len(roles) or roles[index] != role:
                problems.append(f"{key} index {index} is not a {role} message")
    if record.get("dispute_type") not in DISPUTE_TYPES:
        problems.append(f"dispute_type {record.get('dispute_type')!r}")
    complaint = record.get("complaint_index")
    if complaint is not None and (not 0 <= complaint < len(roles) or roles[complaint] != "buyer"):
        problems.append(f"complaint_index {complaint} is not a buyer message")
    if record.get("overall") not in (1, 2, 3, 4, 5):
        problems.append(f"overall {record.get('overall')!r}")
    return problems


def main() -> int:
    roles = read_roles(data_folder())
    chats, messages, problems = [], [], []
    seen: set[str] = set()
    for path in sorted((GOLD / "annotations").glob("*.jsonl")):
        if path.name == "second.jsonl":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            record = json.loads(line)
            chat_id = record["id"]
            mood_only = set(record) <= {"id", "mood", "note"}
            found = problems_of(record, roles[chat_id], not mood_only)
            problems += [f"{path.name}:{number}: {chat_id}: {problem}" for problem in found]
            if chat_id in seen:
                problems.append(f"{path.name}:{number}: {chat_id} labelled twice")
            seen.add(chat_id)
            half = half_of(chat_id)
            if not mood_only:
                chats.append({"id": chat_id, "corpus": corpus_of(chat_id), "split": half,
                              **{key: record[key] for key in CHAT_KEYS},
                              "annotator": path.stem, "note": record.get("note", "")})
            for index, mood in sorted(record["mood"].items(), key=lambda item: int(item[0])):
                messages.append({"id": chat_id, "index": int(index), "mood": mood, "split": half,
                                 "in_gold_chat": not mood_only})
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    for name, rows in (("chats.jsonl", chats), ("messages.jsonl", messages)):
        with (GOLD / name).open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    for half in ("dev", "test"):
        in_half = [chat for chat in chats if chat["split"] == half]
        print(f"{half}: {len(in_half)} chats "
              f"({sum(c['corpus'] == 'ecd' for c in in_half)} ecd, "
              f"{sum(c['corpus'] == 'stc3' for c in in_half)} stc3), "
              f"{sum(m['split'] == half for m in messages)} buyer messages with a mood")
    return 0


if __name__ == "__main__":
    sys.exit(main())
