"""The documentation of detection categories and their labelled examples, read from ``lexicons/``.

The same files feed ``cs-audit explain`` and the tests, so what the tool says a category does
is exactly what the tests hold it to.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from cs_audit.lexicon import LexiconError, ProblemList, bundled_lexicon_dir, did_you_mean, read_lines
from cs_audit.model import DETECTION_CATEGORIES, ROLES

DOC_KEYS = ("title", "looks_for", "why", "instead")
LABELS = ("fire", "pass")


@dataclass(frozen=True, slots=True)
class CategoryDoc:
    """What a detection category looks for, why it matters, what to do instead."""

    id: str
    title: str
    looks_for: str
    why: str
    instead: str


@dataclass(frozen=True, slots=True)
class LabelledExample:
    """One row of an example table: must the category fire on this message?"""

    label: str
    role: str
    text: str
    line: int

    @property
    def fires(self) -> bool:
        return self.label == "fire"


# Example tables that hold something other than one detection category, and the labels
# their rows may carry instead of fire|pass.
REFUSAL_TABLE = "risk.refusal"
DISPUTE_TYPE_TABLE = "dispute.type"
DISPUTE_STEP_TABLE = "dispute.steps"
NO_DISPUTE_LABEL = "none"


def table_labels(table: str) -> tuple[str, ...]:
    """The labels a row of example table ``table`` may carry."""
    from cs_audit.analysis.dispute import STEPS, TYPES

    if table == DISPUTE_TYPE_TABLE:
        return (*TYPES, NO_DISPUTE_LABEL)
    if table == DISPUTE_STEP_TABLE:
        # `respond` is any agent message: a table row could not show anything about it.
        return (*(step for step in STEPS if step != "respond"), NO_DISPUTE_LABEL)
    return LABELS


def example_tables() -> tuple[str, ...]:
    """Every example table a lexicon folder may hold (file name without ``.tsv``)."""
    return (*DETECTION_CATEGORIES, REFUSAL_TABLE, DISPUTE_TYPE_TABLE, DISPUTE_STEP_TABLE)


def _folder(folder: Path | str | None) -> Path:
    return Path(folder) if folder is not None else bundled_lexicon_dir()


def _doc_path(category: str, folder: Path | str | None = None) -> Path:
    return _folder(folder) / "categories" / f"{category}.toml"


def examples_path(category: str, folder: Path | str | None = None) -> Path:
    """The example table of a category (it may not exist)."""
    return _folder(folder) / "examples" / f"{category}.tsv"


def documented_categories(folder: Path | str | None = None) -> list[str]:
    """Ids of every category with a documentation file."""
    return sorted(path.stem for path in (_folder(folder) / "categories").glob("*.toml"))


def load_doc(category: str, folder: Path | str | None = None) -> CategoryDoc:
    """Read a category's documentation. Raises LexiconError (file and line)."""
    path = _doc_path(category, folder)
    lines = read_lines(path)
    try:
        data = tomllib.loads("".join(line + "\n" for line in lines))
    except tomllib.TOMLDecodeError as error:
        # tomllib (3.11) gives the position only inside its message: "(at line 3, column 5)"
        # or "(at end of document)".
        found = re.search(r"\(at line (\d+), column \d+\)", str(error))
        line = int(found.group(1)) if found else len(lines) or None
        message = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(error))
        raise LexiconError.at(path, line, f"invalid TOML: {message}; strings are "
                                          '"quoted" on one line') from None
    missing = [key for key in DOC_KEYS if not isinstance(data.get(key), str)]
    if missing:
        raise LexiconError.at(path, None, f"missing text for {', '.join(missing)}; "
                                          f"each of {', '.join(DOC_KEYS)} is a string")
    unknown = sorted(set(data) - set(DOC_KEYS))
    if unknown:
        raise LexiconError.at(path, None, f"unknown key {unknown[0]!r}; the keys are {', '.join(DOC_KEYS)}")
    return CategoryDoc(category, *(data[key] for key in DOC_KEYS))


def load_examples(category: str, folder: Path | str | None = None,
                  problems: ProblemList | None = None) -> list[LabelledExample]:
    """Read a category's example table (``label <TAB> role <TAB> text``, ``#`` comments).

    The label is fire|pass, or for the dispute tables a type or step id or ``none``. With
    ``problems``, bad rows are recorded there and the good ones returned; without,
    LexiconError lists every bad row.
    """
    own = problems if problems is not None else ProblemList()
    path = examples_path(category, folder)
    labels = table_labels(category)
    examples = []
    lines: list[str] = []
    with own.gathered():
        lines = read_lines(path)
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or not parts[2]:
            own.add(path, number, f"expected {'|'.join(labels)}<TAB>role<TAB>text "
                                  f"(three tab-separated columns), got {len(parts)} column(s)")
        elif parts[0] not in labels:
            own.add(path, number, f"label {parts[0]!r}{did_you_mean(parts[0], labels)} is not one "
                                  f"of {', '.join(labels)}")
        elif parts[1] not in ROLES:
            own.add(path, number, f"role {parts[1]!r}{did_you_mean(parts[1], ROLES)} is not one "
                                  f"of {', '.join(ROLES)}")
        else:
            examples.append(LabelledExample(parts[0], parts[1], parts[2], number))
    if problems is None:
        own.raise_if_any()
    return examples
