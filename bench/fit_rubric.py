"""Fit a rubric's points to the development half of the gold set, the way the bundled default
rubric was fitted: audit the dev chats, then ``cs-audit calibrate`` against the supervisors'
1-5 ratings.

    python bench/fit_rubric.py [--rubric default] [--out FOLDER]

It writes, in FOLDER (default: a folder under the real-data folder): ``dev_chats.csv`` (the dev
half's chats in the canonical format), ``dev_ratings.csv`` (their ratings), ``dev_report.json``
(the audit), ``calibration.json`` and ``fitted.toml`` (a rubric that extends the one audited with
the fitted points), and prints calibrate's table. Only the development half is read: the test
half is what bench/quality.py reports, and a fit that saw it would measure itself.
The fitted points are a proposal: review them against the training material before adopting
them (README "Scoring" says how the bundled rubric's points were chosen).
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from quality import read_gold  # noqa: E402
from real_data import data_folder, missing_or_changed, where_to_get  # noqa: E402


def write_dev_half(folder: Path, out: Path) -> int:
    """The dev chats and their ratings as canonical CSVs in ``out``; returns how many chats."""
    dev = {chat.id: chat.labels["overall"] for chat in read_gold() if chat.split == "dev"}
    with (out / "dev_chats.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("conversation_id", "role", "sender", "text"))
        for name in ("ecd.csv", "stc3.csv"):
            with (folder / name).open(encoding="utf-8", newline="") as source:
                for row in csv.DictReader(source):
                    if row["conversation_id"] in dev:
                        writer.writerow((row["conversation_id"], row["role"], row["sender"], row["text"]))
    with (out / "dev_ratings.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("conversation_id", "rating"))
        writer.writerows(sorted(dev.items()))
    return len(dev)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rubric", default="default", help="the rubric to audit with and extend")
    parser.add_argument("--out", type=Path, help="where to write (default: <real data>/fit)")
    options = parser.parse_args(argv)

    folder = data_folder()
    problems = missing_or_changed(folder / "download")
    if problems or not (folder / "ecd.csv").is_file():
        print("\n".join(problems) or "the corpora are not prepared: run python bench/real_data.py",
              file=sys.stderr)
        print(where_to_get(folder), file=sys.stderr)
        return 2
    out = options.out or folder / "fit"
    out.mkdir(parents=True, exist_ok=True)
    count = write_dev_half(folder, out)
    print(f"{count} development chats with ratings in {out}", file=sys.stderr)
    command = [sys.executable, "-m", "cs_audit"]
    subprocess.run([*command, "audit", str(out / "dev_chats.csv"), "--rubric", options.rubric,
                    "--no-mask", "-o", str(out / "dev_report.json"), "--fail-on", "never"],
                   check=True, stdout=subprocess.DEVNULL)
    return subprocess.run([*command, "calibrate", str(out / "dev_report.json"),
                           "--ratings", str(out / "dev_ratings.csv"),
                           "-o", str(out / "calibration.json"),
                           "--write-rubric", str(out / "fitted.toml")]).returncode


if __name__ == "__main__":
    sys.exit(main())
