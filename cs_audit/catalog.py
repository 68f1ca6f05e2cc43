"""The documentation of detection categories and their labelled examples, read from ``lexicons/``.

The same files feed ``cs-audit explain`` and the tests, so what the tool says a category does
is exactly what the tests hold it to.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from cs_audit.resources import data_dir

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


class CatalogError(ValueError):
    """A malformed documentation or example file; names file and line."""


def _doc_path(category: str) -> Path:
    return data_dir("lexicons") / "categories" / f"{category}.toml"


def examples_path(category: str) -> Path:
    """The example table of a category (it may not exist)."""
    return data_dir("lexicons") / "examples" / f"{category}.tsv"


def documented_categories() -> list[str]:
    """Ids of every category with a documentation file."""
    return sorted(path.stem for path in (data_dir("lexicons") / "categories").glob("*.toml"))


def load_doc(category: str) -> CategoryDoc:
    """Read a category's documentation. Raises FileNotFoundError or CatalogError."""
    path = _doc_path(category)
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    missing = [key for key in DOC_KEYS if not isinstance(data.get(key), str)]
    if missing:
        raise CatalogError(f"{path}: missing text for {', '.join(missing)}")
    return CategoryDoc(category, *(data[key] for key in DOC_KEYS))


def load_examples(category: str) -> list[LabelledExample]:
    """Read a category's example table (``fire|pass <TAB> role <TAB> text``, ``#`` comments)."""
    path = examples_path(category)
    examples = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            parts = line.split("\t")
            if len(parts) != 3 or parts[0] not in LABELS or not parts[2]:
                raise CatalogError(f"{path}:{number}: expected fire|pass<TAB>role<TAB>text")
            examples.append(LabelledExample(parts[0], parts[1], parts[2], number))
    return examples
