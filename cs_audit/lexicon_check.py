"""Check a lexicon folder: load every file through the detectors' own loaders, then run its
example tables against detectors built from that same folder (``cs-audit lexicon check``)."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from cs_audit.analysis.detectors import Detectors, detect_all
from cs_audit.analysis.dispute import DisputeAnalyzer
from cs_audit.analysis.response import AcknowledgementMatcher
from cs_audit.catalog import (
    DISPUTE_STEP_TABLE,
    DISPUTE_TYPE_TABLE,
    NO_DISPUTE_LABEL,
    REFUSAL_TABLE,
    LabelledExample,
    documented_categories,
    example_tables,
    examples_path,
    load_doc,
    load_examples,
)
from cs_audit.lexicon import LexiconProblem, ProblemList, bundled_lexicon_dir
from cs_audit.model import Conversation, Message


@dataclass(frozen=True, slots=True)
class ExampleFailure:
    """An example row the folder's detectors get wrong: where it is and what they found."""

    path: Path
    example: LabelledExample
    found: str

    @property
    def location(self) -> str:
        return f"{self.path}:{self.example.line}"


@dataclass(frozen=True, slots=True)
class TableResult:
    """How many rows of one example table the detectors get right, and the ones they do not."""

    table: str
    total: int
    failures: tuple[ExampleFailure, ...]

    @property
    def passed(self) -> int:
        return self.total - len(self.failures)


@dataclass(frozen=True, slots=True)
class FolderCheck:
    """What ``lexicon check`` found: file problems (then no example was run) and table results."""

    folder: Path
    problems: tuple[LexiconProblem, ...]
    tables: tuple[TableResult, ...]

    @property
    def failures(self) -> int:
        return sum(len(table.failures) for table in self.tables)


def check_folder(folder: Path | str | None = None) -> FolderCheck:
    """Validate every file of a lexicon folder (default: bundled) and run its example tables.

    Every problem of every file is gathered; the examples are run only when there is none,
    since detectors cannot be built from a broken folder.
    """
    folder = Path(folder) if folder is not None else bundled_lexicon_dir()
    problems = ProblemList()
    if not folder.is_dir():
        problems.add(folder, None, "no such folder; make one with cs-audit lexicon copy DIR")
        return FolderCheck(folder, tuple(problems.problems), ())
    detectors = disputes = None
    with problems.gathered():
        detectors = Detectors.build(folder)
    with problems.gathered():
        disputes = DisputeAnalyzer(folder)
    with problems.gathered():
        AcknowledgementMatcher(folder)
    for category in documented_categories(folder):
        with problems.gathered():
            load_doc(category, folder)
    known = example_tables()
    for path in sorted((folder / "examples").glob("*.tsv")):
        if path.stem not in known:
            problems.add(path, None, f"no category {path.stem!r}: an example table is named after "
                                     f"one of {', '.join(known)}")
    tables = {name: load_examples(name, folder, problems)
              for name in known if examples_path(name, folder).exists()}
    if problems.problems or detectors is None or disputes is None:
        return FolderCheck(folder, tuple(problems.problems), ())
    results = tuple(
        TableResult(name, len(rows), tuple(_failures(name, examples_path(name, folder), rows,
                                                     detectors, disputes)))
        for name, rows in tables.items()
    )
    return FolderCheck(folder, (), results)


def _failures(table: str, path: Path, rows: list[LabelledExample], detectors: Detectors,
              disputes: DisputeAnalyzer):
    for example in rows:
        found = _wrong_answer(table, example, detectors, disputes)
        if found is not None:
            yield ExampleFailure(path, example, found)


def _wrong_answer(table: str, example: LabelledExample, detectors: Detectors,
                  disputes: DisputeAnalyzer) -> str | None:
    """What the detectors said when it is not what the row expects, else None.

    Each table is judged as its tests judge it: one message on its own, through the real
    detector set (tests/test_examples.py, tests/test_dispute.py).
    """
    if table == REFUSAL_TABLE:
        refuses = detectors.risk.refuses_off_platform(example.text)
        if refuses == example.fires:
            return None
        return "counted as a refusal" if refuses else "not counted as a refusal"
    conversation = Conversation("example", "examples", (Message(0, example.role, example.text),))
    detections = detect_all(detectors.all, conversation)
    if table == DISPUTE_TYPE_TABLE:
        types = disputes.types_in(example.text, detections)
        if example.label == NO_DISPUTE_LABEL:
            return None if not types else f"found dispute type(s) {', '.join(types)}"
        main = disputes.message_type(example.text, detections, example.role)
        return None if main == example.label else f"main type {main or 'none'}"
    if table == DISPUTE_STEP_TABLE:
        steps = disputes.steps_in(example.text, detections)
        if example.label == NO_DISPUTE_LABEL:
            return None if not steps else f"found step(s) {', '.join(steps)}"
        return None if example.label in steps else f"found step(s) {', '.join(steps) or 'none'}"
    found = [d for d in detections if d.category == table]
    if example.fires:
        return None if found else "did not fire"
    return None if not found else f"fired on 「{found[0].text}」"


def copy_bundled(destination: Path | str) -> int:
    """Copy the bundled lexicon folder (lists, documentation, examples) to a new folder.

    Returns the number of files copied. Raises FileExistsError when ``destination`` exists
    and is not empty, so a shop's edited copy is never overwritten.
    """
    destination = Path(destination)
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise FileExistsError(f"{destination} already exists and is not an empty folder")
    shutil.copytree(bundled_lexicon_dir(), destination, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return sum(1 for path in destination.rglob("*") if path.is_file())
