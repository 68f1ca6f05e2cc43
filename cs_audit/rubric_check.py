"""Judge a rubric's checks against their example tables through the real audit pipeline
(``cs-audit rubric check``; the tests and ``explain`` read the same tables)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cs_audit.audit import Auditor
from cs_audit.check_examples import (
    NOT_APPLICABLE,
    CheckExample,
    bundled_examples_dir,
    load_check_examples,
    shown_path,
    tables_in,
)
from cs_audit.lexicon import LexiconProblem, ProblemList, did_you_mean
from cs_audit.model import ConversationResult
from cs_audit.rubric import Rubric


@dataclass(frozen=True, slots=True)
class WrongVerdict:
    """An example row the rubric judges differently from its label."""

    path: Path
    example: CheckExample
    got: str

    @property
    def location(self) -> str:
        return f"{shown_path(self.path)}:{self.example.line}"


@dataclass(frozen=True, slots=True)
class CheckTable:
    """One check's example table (``path`` None when it has none) and the rows judged wrongly."""

    check_id: str
    path: Path | None
    total: int
    wrong: tuple[WrongVerdict, ...]

    @property
    def right(self) -> int:
        return self.total - len(self.wrong)


@dataclass(frozen=True, slots=True)
class RubricCheck:
    """What ``rubric check`` found: table problems (then no row was judged) and each check's table."""

    rubric: Rubric
    folders: tuple[Path, ...]
    problems: tuple[LexiconProblem, ...]
    tables: tuple[CheckTable, ...]

    @property
    def wrong(self) -> int:
        return sum(len(table.wrong) for table in self.tables)

    @property
    def without_table(self) -> tuple[str, ...]:
        return tuple(table.check_id for table in self.tables if table.path is None)


def example_folders(rubric_file: Path | None = None, extra: Path | None = None) -> tuple[Path, ...]:
    """Where a rubric's tables are looked for, first found wins: ``extra`` (``--examples``),
    ``examples/`` beside the rubric file, then the bundled tables.

    A shop that overrides a check (a 30-second first reply) puts that check's own table beside
    its rubric; the checks it inherits unchanged keep being judged by the bundled tables.
    """
    candidates = [extra, rubric_file.parent / "examples" if rubric_file else None,
                  bundled_examples_dir()]
    folders: list[Path] = []
    for folder in candidates:
        if folder is not None and folder.resolve() not in [f.resolve() for f in folders]:
            folders.append(folder)
    return tuple(folders)


def table_for(check_id: str, folders: Sequence[Path]) -> Path | None:
    """The example table of ``check_id`` in the first folder that has one."""
    for folder in folders:
        path = folder / f"{check_id}.tsv"
        if path.is_file():
            return path
    return None


def verdict_of(result: ConversationResult, check_id: str) -> str:
    """``pass``, ``fail``, or ``n/a`` when the check did not apply to the conversation."""
    found = next((check for check in result.checks if check.rule == check_id), None)
    if found is None:
        return NOT_APPLICABLE
    return "pass" if found.passed else "fail"


def judge_example(auditor: Auditor, check_id: str, example: CheckExample) -> str:
    """The verdict the auditor's rubric gives ``example`` on check ``check_id``."""
    result = auditor.audit(example.conversation(f"{check_id}:{example.line}"))
    return verdict_of(result, check_id)


def check_rubric(rubric: Rubric, folders: Sequence[Path], lexicon_dir: Path | None = None
                 ) -> RubricCheck:
    """Read the example table of every check of ``rubric`` and judge each row with it.

    Every problem of every table is gathered first (and a table in a shop's folder that names
    no check of the rubric is one); the rows are judged only when there is none. Raises
    LexiconError when the lexicon folder the audit needs is broken.
    """
    problems = ProblemList()
    bundled = bundled_examples_dir().resolve()
    check_ids = [check.id for check in rubric.checks]
    for folder in folders:
        if folder.resolve() == bundled:
            continue
        for check_id, path in tables_in(folder).items():
            if check_id not in check_ids:
                problems.add(path, None, f"no check {check_id!r}{did_you_mean(check_id, check_ids)} "
                                         f"in rubric {rubric.name!r}: a table is named after a check "
                                         "id of the rubric; rename or remove it")
    tables: dict[str, tuple[Path | None, list[CheckExample]]] = {}
    for check_id in check_ids:
        path = table_for(check_id, folders)
        tables[check_id] = (path, load_check_examples(path, problems) if path else [])
    if problems.problems:
        return RubricCheck(rubric, tuple(folders), tuple(problems.problems), ())
    auditor = Auditor(rubric, lexicon_dir)
    results = []
    for check_id, (path, rows) in tables.items():
        wrong = []
        for example in rows:
            got = judge_example(auditor, check_id, example)
            if got != example.verdict:
                wrong.append(WrongVerdict(path, example, got))  # type: ignore[arg-type]
        results.append(CheckTable(check_id, path, len(rows), tuple(wrong)))
    return RubricCheck(rubric, tuple(folders), (), tuple(results))
