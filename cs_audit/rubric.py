"""Load, merge (``extends``) and validate service rubrics; every error names file and line."""

from __future__ import annotations

import math

import re
import tomllib
from dataclasses import dataclass
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


class RubricError(ValueError):
    """An invalid rubric: ``path:line: what is wrong``."""

    def __init__(self, path: str, line: int, message: str):
        super().__init__(f"{path}:{line}: {message}")
        self.path = path
        self.line = line


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
    """Where each key path of the merged rubric was last set: file and line."""

    places: dict[tuple[str, ...], tuple[str, int]]

    def where(self, path: tuple[str, ...]) -> tuple[str, int]:
        while path:
            if path in self.places:
                return self.places[path]
            path = path[:-1]
        return self.places.get((), ("<rubric>", 1))

    def error(self, path: tuple[str, ...], message: str) -> RubricError:
        file, line = self.where(path)
        return RubricError(file, line, message)


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
        raise RubricError(shown, 1, f"not UTF-8 text: {error.reason}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"\(at line (\d+), column (\d+)\)", str(error))
        line = int(match.group(1)) if match else 1
        message = re.sub(r"\s*\(at line \d+, column \d+\)", "", str(error))
        raise RubricError(shown, line, f"invalid TOML: {message}") from None
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
                 places: dict[tuple[str, ...], tuple[str, int]]) -> dict[str, Any]:
    resolved = path.resolve()
    if len(seen) >= MAX_EXTENDS_DEPTH:
        raise RubricError(shown, 1, f"extends chain is longer than {MAX_EXTENDS_DEPTH} rubrics; "
                                    "extend a rubric that holds the settings instead of a chain")
    if resolved in seen:
        chain = " → ".join(str(p) for p in (*seen, resolved))
        raise RubricError(shown, 1, f"extends loops back on itself: {chain}")
    data, lines = _read_toml(path, shown)
    base: dict[str, Any] = {}
    parent = data.get("extends")
    if parent is not None:
        if not isinstance(parent, str):
            raise RubricError(shown, lines.get(("extends",), 1), "extends must be a string")
        try:
            parent_path = resolve_rubric(parent, path.parent)
        except FileNotFoundError as error:
            raise RubricError(shown, lines.get(("extends",), 1), str(error)) from None
        base = _load_layers(parent_path, _shown_path(parent_path), (*seen, resolved), places)
    lexicons = data.get("lexicons")
    if isinstance(lexicons, str):
        # Relative to the rubric that names it, so a shop's rubric and its folder move together.
        folder = path.parent / lexicons
        if not folder.is_dir():
            raise RubricError(shown, lines.get(("lexicons",), 1),
                              f"lexicons = {lexicons!r}: no folder {folder} (the path is relative "
                              "to the rubric file; make one with cs-audit lexicon copy DIR)")
        data["lexicons"] = str(folder)
    _record_origins(data, lines, shown, places)
    merged = _merge(base, data)
    merged.pop("extends", None)
    return merged


def _shown_path(path: Path) -> str:
    bundled = data_dir("rubrics").resolve()
    resolved = path.resolve()
    if resolved.parent == bundled:
        return f"rubrics/{resolved.name}"
    return str(path)


# --- validation ---------------------------------------------------------------------------

def _type_name(expected: type | tuple[type, ...]) -> str:
    names = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
             dict: "a table", list: "an array"}
    if isinstance(expected, tuple):
        return "a number" if set(expected) == {int, float} else " or ".join(names[t] for t in expected)
    return names[expected]


def _check_value(value: Any, spec: Param, path: tuple[str, ...], origins: _Origins) -> None:
    key = ".".join(path)
    expected = spec.type if isinstance(spec.type, tuple) else (spec.type,)
    if isinstance(value, bool) and bool not in expected:
        raise origins.error(path, f"{key} must be {_type_name(spec.type)}, not {value!r}")
    if not isinstance(value, expected):
        raise origins.error(path, f"{key} must be {_type_name(spec.type)}, not {value!r}")
    if spec.choices and value not in spec.choices:
        allowed = ", ".join(str(choice) for choice in spec.choices)
        raise origins.error(path, f"{key} = {value!r} is not one of: {allowed}")
    if isinstance(value, float) and not math.isfinite(value):
        # nan or inf would turn every score into null and let --fail-under pass.
        raise origins.error(path, f"{key} must be a finite number, not {value!r}")
    if spec.minimum is not None and value < spec.minimum:
        raise origins.error(path, f"{key} must be at least {spec.minimum:g}, not {value!r}")
    if spec.maximum is not None and value > spec.maximum:
        raise origins.error(path, f"{key} must be at most {spec.maximum:g}, not {value!r}")


def _check_table(table: dict[str, Any], specs: dict[str, Param], path: tuple[str, ...],
                 origins: _Origins, what: str) -> None:
    for key, value in table.items():
        if key not in specs:
            allowed = ", ".join(specs)
            raise origins.error(path + (key,), f"unknown key {key!r} in {what}; allowed: {allowed}")
        _check_value(value, specs[key], path + (key,), origins)
    for key, spec in specs.items():
        if spec.required and key not in table:
            raise origins.error(path, f"{what} is missing required key {key!r}")


def _validate(data: dict[str, Any], origins: _Origins, source: str, default_name: str) -> Rubric:
    _check_table(data, TOP_LEVEL_PARAMS, (), origins, "the rubric")
    pass_score = data.get("pass_score", 80)
    if pass_score > 100:
        raise origins.error(("pass_score",), f"pass_score must be between 0 and 100, not {pass_score}")
    critical_score = data.get("critical_score", 0)
    if critical_score > 100:
        raise origins.error(("critical_score",),
                            f"critical_score must be between 0 and 100, not {critical_score}")

    grades_table = data.get("grades", DEFAULT_GRADES)
    for grade, lowest in grades_table.items():
        _check_value(lowest, Param((int, float), minimum=0), ("grades", grade), origins)
    grades = tuple(sorted(((float(v), k) for k, v in grades_table.items()), reverse=True))
    if not grades or grades[-1][0] != 0:
        raise origins.error(("grades",), "grades need a band starting at 0 so every score has a grade")

    response = data.get("response", {})
    _check_table(response, RESPONSE_PARAMS, ("response",), origins, "[response]")
    hours_text = response.get("service_hours")
    hours = None
    if hours_text is not None:
        try:
            hours = ServiceHours.parse(hours_text)
        except ValueError as error:
            raise origins.error(("response", "service_hours"), str(error)) from None
    sentiment = data.get("sentiment", {})
    _check_table(sentiment, SENTIMENT_PARAMS, ("sentiment",), origins, "[sentiment]")
    kpis = []
    for kpi_id, table in data.get("kpis", {}).items():
        path = ("kpis", kpi_id)
        if kpi_id not in KPI_DEFINITIONS:
            raise origins.error(path, f"{kpi_id!r} is not a KPI id; known: {', '.join(KPI_DEFINITIONS)}")
        if not isinstance(table, dict):
            raise origins.error(path, f"kpis.{kpi_id} must be a table")
        _check_table(table, KPI_PARAMS, path, origins, f"KPI {kpi_id!r}")
        try:
            kpis.append(KpiSettings.build(kpi_id, table))
        except ValueError as error:
            raise origins.error(path, str(error)) from None

    checks = []
    for check_id, table in data.get("checks", {}).items():
        path = ("checks", check_id)
        if not isinstance(table, dict):
            raise origins.error(path, f"checks.{check_id} must be a table")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", check_id):
            raise origins.error(path, f"check id {check_id!r} must be lower-case letters, digits and _")
        kind_name = table.get("kind")
        if kind_name is None:
            raise origins.error(path, f"check {check_id!r} is missing required key 'kind'")
        kind = CHECK_KINDS.get(kind_name)
        if kind is None:
            raise origins.error(path + ("kind",), f"unknown check kind {kind_name!r}; "
                                                  f"known: {', '.join(CHECK_KINDS)}")
        _check_table(table, {**COMMON_CHECK_PARAMS, **kind.params}, path, origins,
                     f"check {check_id!r} (kind {kind_name})")
        category = table.get("category")
        if category is not None and category not in DETECTION_CATEGORIES:
            raise origins.error(path + ("category",), f"unknown detection category {category!r}")
        for position, listed in enumerate(table.get("types", [])):
            if listed not in DISPUTE_TYPES:
                raise origins.error(path + ("types",), f"types[{position}] = {listed!r} is not a "
                                                       f"dispute type; known: {', '.join(DISPUTE_TYPES)}")
        for position, listed in enumerate(table.get("categories", [])):
            if listed not in DETECTION_CATEGORIES:
                raise origins.error(path + ("categories",),
                                    f"categories[{position}] = {listed!r} is not a detection category")
        if not table.get("enabled", True):
            continue
        params = {key: value for key, value in table.items()
                  if key not in COMMON_CHECK_PARAMS}
        checks.append(CheckSpec(check_id, kind_name, table["title"], table.get("why", ""),
                                table["severity"], float(table["points"]), params))

    return Rubric(
        name=data.get("name", default_name), source=source,
        description=data.get("description", ""), pass_score=float(pass_score), grades=grades,
        service_hours=hours, service_hours_text=hours_text,
        slow_after_s=float(response.get("slow_after_s", 180)), kpis=tuple(kpis),
        checks=tuple(checks),
        lexicons=Path(data["lexicons"]) if "lexicons" in data else None,
        critical_score=float(critical_score),
        sentiment_model=sentiment.get("model", "chat"),
    )


def load_rubric(reference: str) -> Rubric:
    """Load a rubric by bundled name or path, follow ``extends``, and validate the result.

    Raises RubricError (``file:line: message``) or FileNotFoundError.
    """
    path = resolve_rubric(reference)
    shown = _shown_path(path)
    places: dict[tuple[str, ...], tuple[str, int]] = {}
    data = _load_layers(path, shown, (), places)
    return _validate(data, _Origins(places), shown, path.stem)
