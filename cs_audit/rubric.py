"""Load, merge (``extends``) and validate service rubrics; every error names file and line."""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cs_audit.analysis.dispute import TYPES as DISPUTE_TYPES
from cs_audit.analysis.kpis import KPI_DEFINITIONS, KpiSettings
from cs_audit.analysis.response import ServiceHours
from cs_audit.checks import CHECK_KINDS, Param
from cs_audit.model import DETECTION_CATEGORIES, SEVERITIES
from cs_audit.resources import data_dir

# Points are weights; beyond this their sums lose precision or overflow to inf.
MAX_POINTS = 10_000

DEFAULT_GRADES = {"A": 90, "B": 80, "C": 70, "D": 60, "F": 0}
# Keys every check may carry, whatever its kind.
COMMON_CHECK_PARAMS = {
    "kind": Param(str, True, doc="the kind of check"),
    "title": Param(str, True, doc="one line shown in reports"),
    "why": Param(str, False, doc="why the check exists, shown by explain"),
    "severity": Param(str, True, SEVERITIES, doc="critical, major, minor or info"),
    "points": Param((int, float), True, minimum=0, doc="points given when the check passes",
                    maximum=MAX_POINTS),
    "enabled": Param(bool, False, doc="false switches off a check inherited through extends"),
}
TOP_LEVEL_PARAMS = {
    "name": Param(str),
    "description": Param(str),
    "extends": Param(str),
    "lexicons": Param(str),
    "pass_score": Param((int, float), minimum=0),
    "critical_score": Param((int, float), minimum=0),
    "grades": Param(dict),
    "response": Param(dict),
    "checks": Param(dict),
    "kpis": Param(dict),
    "sentiment": Param(dict),
}
# The buyer-mood models a rubric may choose: "chat" (bundled, trained for customer-service chat)
# or "snownlp-reviews" (snownlp's review model as shipped, for scores comparable with old audits).
SENTIMENT_MODELS = ("chat", "snownlp-reviews")
SENTIMENT_PARAMS = {
    "model": Param(str, choices=SENTIMENT_MODELS, doc="buyer-mood model: chat or snownlp-reviews"),
}
RESPONSE_PARAMS = {
    "service_hours": Param(str),
    "slow_after_s": Param((int, float), minimum=0),
}
KPI_PARAMS = {
    "window": Param(str, doc="count only turns starting in these hours, e.g. 08:00-23:00"),
    "within_s": Param((int, float), minimum=0, doc="a reply within this many seconds is timely"),
    "cap_s": Param((int, float), minimum=0, doc="average: each wait capped, unanswered counted as this"),
    "exclude_bot_rounds": Param(bool, doc="leave out rounds a bot answered and no agent did"),
    "exclude_sessions_starting": Param(str, doc="leave out sessions starting in these hours"),
    "target": Param((int, float), minimum=0, doc="the platform's goal, for reports"),
    "source": Param(str, doc="where the rule comes from"),
}


@dataclass(frozen=True, slots=True)
class RubricProblem:
    """One thing wrong in a rubric file: where it is and what is wrong."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class RubricError(ValueError):
    """An invalid rubric: every problem found, each ``path:line: what is wrong``, in file order.

    ``path`` and ``line`` are those of the first problem.
    """

    def __init__(self, problems: Sequence[RubricProblem]):
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))
        self.path = self.problems[0].path
        self.line = self.problems[0].line

    @classmethod
    def at(cls, path: str, line: int, message: str) -> RubricError:
        """A rubric that cannot be read further (bad TOML, a broken ``extends``): one problem."""
        return cls([RubricProblem(path, line, message)])


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the nearest of ``known`` to a mistyped ``word``, else the
    known ones listed (``"; known: a, b"``)."""
    known = list(known)
    nearest = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if nearest:
        return f"; did you mean {nearest[0]!r}?"
    return f"; known: {', '.join(known)}" if known else ""


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One enabled check of a rubric."""

    id: str
    kind: str
    title: str
    why: str
    severity: str
    points: float
    params: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Rubric:
    """A loaded, merged and validated rubric."""

    name: str
    source: str
    description: str
    pass_score: float
    grades: tuple[tuple[float, str], ...]  # (lowest score, grade), best first
    service_hours: ServiceHours | None
    service_hours_text: str | None
    slow_after_s: float
    kpis: tuple[KpiSettings, ...]
    checks: tuple[CheckSpec, ...]
    # The lexicon folder the rubric's audits build their detectors from (None: the bundled one).
    lexicons: Path | None = None
    # The score of a critical conversation (auto-fail), so that sorting by score shows them first.
    critical_score: float = 0.0
    # The buyer-mood model (SENTIMENT_MODELS) whose scores the sentiment checks read.
    sentiment_model: str = "chat"

    def grade_for(self, score: float) -> str:
        """The grade band a score falls in."""
        for lowest, grade in self.grades:
            if score >= lowest:
                return grade
        return self.grades[-1][1]


# --- locating keys in the TOML text -------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\[?\s*(?P<key>[^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGNMENT = re.compile(r"^\s*(?P<key>(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
                         r"(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=")
_KEY_PART = re.compile(r"\s*(?:\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+))\s*")


def _split_key(dotted: str) -> tuple[str, ...]:
    parts = []
    for match in _KEY_PART.finditer(dotted):
        parts.append(next(group for group in match.groups() if group is not None))
    return tuple(parts)


def locate_keys(text: str) -> dict[tuple[str, ...], int]:
    """Map each table and key path in TOML ``text`` to the line that defines it.

    tomllib does not report positions, so a light scan of headers and ``key =`` lines finds
    them; multi-line strings are skipped so their contents are never mistaken for keys.
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    in_string: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if in_string:
            if line.count(in_string) % 2 == 1:
                in_string = None
            continue
        header = _HEADER.match(line)
        if header and "=" not in header.group("key"):
            table = _split_key(header.group("key"))
            lines.setdefault(table, number)
            continue
        assignment = _ASSIGNMENT.match(line)
        if assignment:
            path = table + _split_key(assignment.group("key"))
            lines.setdefault(path, number)
            rest = line[assignment.end():]
            for quote in ('"""', "'''"):
                if rest.count(quote) % 2 == 1:
                    in_string = quote
    return lines


@dataclass
class _Origins:
    """Where each key path of the merged rubric was last set (file and line), and the problems
    found so far, so that one run of validation reports every problem of the files at once."""

    places: dict[tuple[str, ...], tuple[str, int]]
    files: list[str] = field(default_factory=list)  # in the order read: the extended ones first
    problems: list[RubricProblem] = field(default_factory=list)

    def where(self, path: tuple[str, ...]) -> tuple[str, int]:
        while path:
            if path in self.places:
                return self.places[path]
            path = path[:-1]
        return self.places.get((), ("<rubric>", 1))

    def report(self, path: tuple[str, ...], message: str) -> None:
        """Note a problem at the line that set ``path``; validation goes on."""
        file, line = self.where(path)
        self.problems.append(RubricProblem(file, line, message))

    def raise_problems(self) -> None:
        """Raise RubricError with every problem noted."""
        if self.problems:
            problems = list(dict.fromkeys(self.problems))  # an implicit table may repeat one
            # The extended files first, as they were read, each file's problems in line order.
            files = self.files + [problem.path for problem in problems if problem.path not in self.files]
            raise RubricError(sorted(problems,
                                     key=lambda problem: (files.index(problem.path), problem.line)))


# --- loading and merging ------------------------------------------------------------------

def bundled_rubrics() -> dict[str, Path]:
    """Bundled rubric names → files."""
    return {path.stem: path for path in sorted(data_dir("rubrics").glob("*.toml"))}


def resolve_rubric(reference: str, relative_to: Path | None = None) -> Path:
    """A rubric reference (bundled name or path) as a file path. Raises FileNotFoundError."""
    bundled = bundled_rubrics()
    if reference in bundled and not reference.endswith(".toml"):
        return bundled[reference]
    candidate = Path(reference)
    if relative_to is not None and not candidate.is_absolute():
        candidate = relative_to / candidate
    if candidate.is_file():
        return candidate
    names = ", ".join(bundled)
    raise FileNotFoundError(f"rubric {reference!r} is neither a bundled rubric ({names}) nor a file")


def _read_toml(path: Path, shown: str) -> tuple[dict[str, Any], dict[tuple[str, ...], int]]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise RubricError.at(shown, 1, f"not UTF-8 text: {error.reason}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
        line = int(match.group(1)) if match else 1
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        raise RubricError.at(shown, line, f"invalid TOML: {message}") from None
    return data, locate_keys(text)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _line_of(path: tuple[str, ...], lines: dict[tuple[str, ...], int]) -> int:
    if path in lines:
        return lines[path]
    # A table opened only implicitly (``[checks.x]`` opens ``checks``): its first child's line.
    inside = [line for key, line in lines.items() if key[:len(path)] == path]
    return min(inside, default=1)


def _record_origins(data: Any, lines: dict[tuple[str, ...], int], shown: str,
                    places: dict[tuple[str, ...], tuple[str, int]], path: tuple[str, ...] = ()) -> None:
    places[path] = (shown, _line_of(path, lines) if path else 1)
    if isinstance(data, dict):
        for key, value in data.items():
            _record_origins(value, lines, shown, places, path + (key,))


# Rubrics extend a bundled one, perhaps through a shop's own; a chain longer than this is a
# mistake (or generated), and following it would exhaust the stack.
MAX_EXTENDS_DEPTH = 32


def _load_layers(path: Path, shown: str, seen: tuple[Path, ...],
                 places: dict[tuple[str, ...], tuple[str, int]], files: list[str]) -> dict[str, Any]:
    resolved = path.resolve()
    if len(seen) >= MAX_EXTENDS_DEPTH:
        raise RubricError.at(shown, 1, f"extends chain is longer than {MAX_EXTENDS_DEPTH} rubrics; "
                                    "extend a rubric that holds the settings instead of a chain")
    if resolved in seen:
        chain = " → ".join(str(p) for p in (*seen, resolved))
        raise RubricError.at(shown, 1, f"extends loops back on itself: {chain}")
    data, lines = _read_toml(path, shown)
    base: dict[str, Any] = {}
    parent = data.get("extends")
    if parent is not None:
        if not isinstance(parent, str):
            raise RubricError.at(shown, lines.get(("extends",), 1), "extends must be a string")
        try:
            parent_path = resolve_rubric(parent, path.parent)
        except FileNotFoundError as error:
            raise RubricError.at(shown, lines.get(("extends",), 1), str(error)) from None
        base = _load_layers(parent_path, _shown_path(parent_path), (*seen, resolved), places, files)
    lexicons = data.get("lexicons")
    if isinstance(lexicons, str):
        # Relative to the rubric that names it, so a shop's rubric and its folder move together.
        folder = path.parent / lexicons
        if not folder.is_dir():
            raise RubricError.at(shown, lines.get(("lexicons",), 1),
                              f"lexicons = {lexicons!r}: no folder {folder} (the path is relative "
                              "to the rubric file; make one with cs-audit lexicon copy DIR)")
        data["lexicons"] = str(folder)
    _record_origins(data, lines, shown, places)
    files.append(shown)
    merged = _merge(base, data)
    merged.pop("extends", None)
    return merged


# The source of a bundled rubric as reports show it: its file lives inside the installed package
# (`cs-audit rubric show NAME` prints it), so no path a user could open is shown.
BUNDLED_SOURCE = "bundled"


def _is_bundled(path: Path) -> bool:
    return path.resolve().parent == data_dir("rubrics").resolve()


def _shown_path(path: Path) -> str:
    """A rubric file as messages name it: a bundled one by its name, any other by its path."""
    return f"{path.name} ({BUNDLED_SOURCE})" if _is_bundled(path) else str(path)


# --- validation ---------------------------------------------------------------------------
#
# Every problem is noted and validation goes on, so that one run names all that is wrong with
# a rubric; a value found wrong is not looked at further (its other checks would only repeat it).

def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
             dict: "a table", list: "an array"}
    if isinstance(expected, tuple):
        return "a number" if set(expected) == {int, float} else " or ".join(names[t] for t in expected)
    return names[expected]


def _check_value(value: Any, spec: Param, path: tuple[str, ...], origins: _Origins) -> bool:
    """Whether ``value`` is what ``spec`` allows; if not, the problem is noted."""
    key = ".".join(path)
    expected = spec.type if isinstance(spec.type, tuple) else (spec.type,)
    if (isinstance(value, bool) and bool not in expected) or not isinstance(value, expected):
        origins.report(path, f"{key} must be {_type_name(spec.type)}, not {value!r}")
        return False
    if spec.choices and value not in spec.choices:
        allowed = ", ".join(str(choice) for choice in spec.choices)
        hint = did_you_mean(value, map(str, spec.choices)) if isinstance(value, str) else ""
        origins.report(path, f"{key} = {value!r} is not one of: {allowed}"
                             + (hint if hint.startswith("; did") else ""))
        return False
    if isinstance(value, float) and not math.isfinite(value):
        # nan or inf would turn every score into null and let --fail-under pass.
        origins.report(path, f"{key} must be a finite number, not {value!r}")
        return False
    if spec.minimum is not None and value < spec.minimum:
        origins.report(path, f"{key} must be at least {spec.minimum:g}, not {value!r}")
        return False
    if spec.maximum is not None and value > spec.maximum:
        origins.report(path, f"{key} must be at most {spec.maximum:g}, not {value!r}")
        return False
    return True


def _check_table(table: dict[str, Any], specs: dict[str, Param], path: tuple[str, ...],
                 origins: _Origins, what: str) -> bool:
    """Whether every key of ``table`` is known and valid and every required key is there."""
    valid = True
    for key, value in table.items():
        if key not in specs:
            origins.report(path + (key,), f"unknown key {key!r} in {what}{did_you_mean(key, specs)}")
            valid = False
        elif not _check_value(value, specs[key], path + (key,), origins):
            valid = False
    for key, spec in specs.items():
        if spec.required and key not in table:
            origins.report(path, f"{what} is missing required key {key!r}")
            valid = False
    return valid


def _number(data: dict[str, Any], key: str, default: float, origins: _Origins) -> float:
    """A top-level score setting (0..100); ``default`` when absent or already found wrong."""
    value = data.get(key, default)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not math.isfinite(value):
        return default  # noted by the top-level check
    if value > 100:
        origins.report((key,), f"{key} must be between 0 and 100, not {value}")
    return float(value)


def _validate_grades(data: dict[str, Any], origins: _Origins) -> tuple[tuple[float, str], ...]:
    """The grade bands, best first. They must be listed best first, each starting below the
    one before, and the last at 0, so that every score has exactly one grade."""
    table = data.get("grades", DEFAULT_GRADES)
    if not isinstance(table, dict):
        return ()  # noted by the top-level check
    bands = [(grade, lowest) for grade, lowest in table.items()
             if _check_value(lowest, Param((int, float), minimum=0), ("grades", grade), origins)]
    for (better, above), (grade, lowest) in zip(bands, bands[1:]):
        if lowest >= above:
            origins.report(("grades", grade),
                           f"grades out of order: {grade} = {lowest:g} comes after {better} = "
                           f"{above:g}; list the bands best first, each starting lower than the "
                           "one before")
    if len(bands) == len(table) and (not bands or min(lowest for _, lowest in bands) != 0):
        origins.report(("grades",), "grades need a band starting at 0 so every score has a grade")
    return tuple(sorted(((float(lowest), grade) for grade, lowest in bands), reverse=True))


def _validate_kpis(data: dict[str, Any], origins: _Origins) -> list[KpiSettings]:
    kpis = []
    table_of_kpis = data.get("kpis", {})
    for kpi_id, table in (table_of_kpis.items() if isinstance(table_of_kpis, dict) else ()):
        path = ("kpis", kpi_id)
        if kpi_id not in KPI_DEFINITIONS:
            origins.report(path, f"{kpi_id!r} is not a KPI id{did_you_mean(kpi_id, KPI_DEFINITIONS)}")
            continue
        if not isinstance(table, dict):
            origins.report(path, f"kpis.{kpi_id} must be a table")
            continue
        if not _check_table(table, KPI_PARAMS, path, origins, f"KPI {kpi_id!r}"):
            continue
        try:
            kpis.append(KpiSettings.build(kpi_id, table))
        except ValueError as error:
            origins.report(path, str(error))
    return kpis


def _validate_check(check_id: str, table: Any, known_checks: list[str],
                    origins: _Origins) -> CheckSpec | None:
    """The check ``check_id`` if it is valid and enabled; its problems are noted."""
    path = ("checks", check_id)
    if not isinstance(table, dict):
        origins.report(path, f"checks.{check_id} must be a table")
        return None
    if not re.fullmatch(r"[a-z][a-z0-9_]*", check_id):
        origins.report(path, f"check id {check_id!r} must be lower-case letters, digits and _")
        return None
    kind_name = table.get("kind")
    if kind_name is None:
        # Most often a mistyped id in a rubric that overrides the checks it extends.
        nearest = difflib.get_close_matches(check_id, known_checks, n=1, cutoff=0.6)
        hint = (f"; no check {check_id!r} is defined to override: did you mean {nearest[0]!r}?"
                if nearest else "")
        origins.report(path, f"check {check_id!r} is missing required key 'kind'{hint}")
        return None
    kind = CHECK_KINDS.get(kind_name) if isinstance(kind_name, str) else None
    if kind is None:
        hint = did_you_mean(kind_name, CHECK_KINDS) if isinstance(kind_name, str) else (
            f"; known: {', '.join(CHECK_KINDS)}")
        origins.report(path + ("kind",), f"unknown check kind {kind_name!r}{hint}")
        return None
    valid = _check_table(table, {**COMMON_CHECK_PARAMS, **kind.params}, path, origins,
                         f"check {check_id!r} (kind {kind_name})")
    category = table.get("category")
    if isinstance(category, str) and category not in DETECTION_CATEGORIES:
        origins.report(path + ("category",), f"unknown detection category {category!r}"
                                             f"{did_you_mean(category, DETECTION_CATEGORIES)}")
        valid = False
    for key, known, what in (("types", DISPUTE_TYPES, "a dispute type"),
                             ("categories", DETECTION_CATEGORIES, "a detection category")):
        listed_values = table.get(key, [])
        for position, listed in enumerate(listed_values if isinstance(listed_values, list) else ()):
            if listed not in known:
                hint = did_you_mean(listed, known) if isinstance(listed, str) else ""
                origins.report(path + (key,), f"{key}[{position}] = {listed!r} is not {what}{hint}")
                valid = False
    if not valid or not table.get("enabled", True):
        return None
    params = {key: value for key, value in table.items() if key not in COMMON_CHECK_PARAMS}
    return CheckSpec(check_id, kind_name, table["title"], table.get("why", ""),
                     table["severity"], float(table["points"]), params)


def _validate(data: dict[str, Any], origins: _Origins, source: str, default_name: str) -> Rubric:
    _check_table(data, TOP_LEVEL_PARAMS, (), origins, "the rubric")
    pass_score = _number(data, "pass_score", 80, origins)
    critical_score = _number(data, "critical_score", 0, origins)
    grades = _validate_grades(data, origins)

    response = data.get("response", {})
    response = response if isinstance(response, dict) else {}
    _check_table(response, RESPONSE_PARAMS, ("response",), origins, "[response]")
    hours_text = response.get("service_hours")
    hours = None
    if isinstance(hours_text, str):
        try:
            hours = ServiceHours.parse(hours_text)
        except ValueError as error:
            origins.report(("response", "service_hours"), str(error))
    sentiment = data.get("sentiment", {})
    sentiment = sentiment if isinstance(sentiment, dict) else {}
    _check_table(sentiment, SENTIMENT_PARAMS, ("sentiment",), origins, "[sentiment]")
    kpis = _validate_kpis(data, origins)

    checks_table = data.get("checks", {})
    checks_table = checks_table if isinstance(checks_table, dict) else {}
    known_checks = [check_id for check_id, table in checks_table.items()
                    if isinstance(table, dict) and "kind" in table]
    checks = [check for check_id, table in checks_table.items()
              if (check := _validate_check(check_id, table, known_checks, origins)) is not None]
    if not checks_table:
        # Nothing to score by: every conversation would get the same empty score.
        origins.report((), "the rubric has no checks: add [checks.ID] tables, or extend a "
                           "rubric that has them (extends = \"default\")")
    elif not checks and not origins.problems:
        origins.report(("checks",), "every check is switched off (enabled = false); a rubric "
                                    "needs one check at least")
    origins.raise_problems()

    slow_after_s = response.get("slow_after_s", 180)
    return Rubric(
        name=data.get("name", default_name), source=source,
        description=data.get("description", ""), pass_score=pass_score, grades=grades,
        service_hours=hours, service_hours_text=hours_text,
        slow_after_s=float(slow_after_s), kpis=tuple(kpis),
        checks=tuple(checks),
        lexicons=Path(data["lexicons"]) if "lexicons" in data else None,
        critical_score=critical_score,
        sentiment_model=sentiment.get("model", "chat"),
    )


def load_rubric(reference: str) -> Rubric:
    """Load a rubric by bundled name or path, follow ``extends``, and validate the result.

    Raises RubricError (``file:line: message``) or FileNotFoundError.
    """
    path = resolve_rubric(reference)
    shown = _shown_path(path)
    places: dict[tuple[str, ...], tuple[str, int]] = {}
    files: list[str] = []
    data = _load_layers(path, shown, (), places, files)
    source = BUNDLED_SOURCE if _is_bundled(path) else shown
    return _validate(data, _Origins(places, files), source, path.stem)
