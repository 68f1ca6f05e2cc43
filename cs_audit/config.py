"""Project settings: a ``cs-audit.toml`` (or ``[tool.cs-audit]`` in ``pyproject.toml``) found from
the working folder upwards, as ruff finds its settings.

A settings file holds the long option names of ``audit`` and ``review`` as keys (``rubric``,
``fail-on``, ``output`` …). An option given on the command line wins over the file; relative
paths in the file are relative to the file's folder, so a project's settings work from any of
its subfolders.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cs_audit.rubric import bundled_rubrics, locate_keys

CONFIG_NAME = "cs-audit.toml"
PYPROJECT_NAME = "pyproject.toml"
PYPROJECT_TABLE = ("tool", "cs-audit")


def _path(value: str, folder: Path) -> str:
    return str(folder / value) if not Path(value).is_absolute() else value


def _rubric(value: str, folder: Path) -> str:
    # A bundled name stays a name; anything else is a file beside the settings.
    return value if value in bundled_rubrics() and not value.endswith(".toml") else _path(value, folder)


def _map(value: str, folder: Path) -> str:
    # --map is inline pairs or a TOML file: only the file is a path.
    return _path(value, folder) if value.lower().endswith(".toml") else value


def _same(value: Any, folder: Path) -> Any:
    return value


@dataclass(frozen=True)
class Setting:
    """One key of a settings file: the command's parameter it sets, the TOML type it takes,
    and how a relative path in it is resolved."""

    parameter: str
    kind: type | tuple[type, ...]
    resolve: Callable[[Any, Path], Any] = _same
    many: bool = False  # a list of strings (a single string is a list of one)


SETTINGS: dict[str, Setting] = {
    "rubric": Setting("rubric_ref", str, _rubric),
    "lexicons": Setting("lexicon_dir", str, _path),
    "fail-under": Setting("fail_under", (int, float)),
    "fail-on": Setting("fail_on", str),
    "baseline": Setting("baseline", str, _path),
    "output": Setting("outputs", str, _path, many=True),
    "format": Setting("stdout_format", str),
    "findings": Setting("findings", str),
    "input-format": Setting("input_format", str),
    "encoding": Setting("encoding", str),
    "map": Setting("column_map_spec", str, _map),
    "lang": Setting("lang", str),
    "jobs": Setting("jobs", int),
    "no-mask": Setting("no_mask", bool),
    "only-failed": Setting("only_failed", bool),
    "top": Setting("top", int),
}


class ConfigError(ValueError):
    """A bad settings file: each problem as ``path:line: key 'KEY': what is wrong``."""

    def __init__(self, path: Path, line: int, message: str,
                 more: tuple[tuple[int, str], ...] = ()) -> None:
        self.path = path
        self.problems = ((line, message), *more)
        super().__init__("\n".join(f"{path}:{at}: {text}" for at, text in self.problems))


@dataclass(frozen=True)
class ProjectConfig:
    """The settings of one file: parameter name → value (paths resolved), and each one's line."""

    path: Path
    values: Mapping[str, Any]
    lines: Mapping[str, int]
    keys: Mapping[str, str]  # parameter name → the key as written in the file

    def error(self, parameter: str, message: str) -> ConfigError:
        """An error about the key that set ``parameter``, at its line."""
        key = self.keys[parameter]
        return ConfigError(self.path, self.lines.get(parameter, 1), f"key '{key}': {message}")


def discover(start: Path) -> Path | None:
    """The settings file that applies in ``start``: in it or the nearest folder above it, a
    ``cs-audit.toml``, else a ``pyproject.toml`` with a ``[tool.cs-audit]`` table."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
        pyproject = folder / PYPROJECT_NAME
        if pyproject.is_file() and _has_tool_table(pyproject):
            return pyproject
    return None


def _has_tool_table(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        # A broken pyproject.toml of some other tool is not ours to judge, unless it says
        # [tool.cs-audit]: then load_config reports what is wrong with it.
        try:
            return "[tool.cs-audit]" in pyproject.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
    return isinstance(data.get("tool"), dict) and "cs-audit" in data["tool"]


def load_config(path: Path) -> ProjectConfig:
    """Read and check a settings file (``cs-audit.toml``, or a ``pyproject.toml`` whose
    ``[tool.cs-audit]`` table holds the settings). Raises ConfigError naming file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(path, 1, f"not UTF-8 text: {error.reason}") from None
    except OSError as error:
        raise ConfigError(path, 0, f"cannot read: {error.strerror or error}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        match = re.search(r"\(at line (\d+), column \d+\)", str(error))
        line = int(match.group(1)) if match else 1
        message = str(error).split(" (at line")[0]
        raise ConfigError(path, line, f"invalid TOML: {message}") from None
    positions = locate_keys(text)
    prefix: tuple[str, ...] = ()
    if path.name == PYPROJECT_NAME:
        table = data.get("tool", {}).get("cs-audit") if isinstance(data.get("tool"), dict) else None
        if table is None:
            raise ConfigError(path, 1, "no [tool.cs-audit] table: put the settings under it")
        if not isinstance(table, dict):
            raise ConfigError(path, positions.get(PYPROJECT_TABLE, 1), "tool.cs-audit must be a table")
        data, prefix = table, PYPROJECT_TABLE
    folder = path.parent
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    keys: dict[str, str] = {}
    problems: list[tuple[int, str]] = []
    for key, value in data.items():
        line = positions.get(prefix + (key,), 1)
        setting = SETTINGS.get(key)
        if setting is None:
            near = difflib.get_close_matches(key.replace("_", "-"), SETTINGS, n=1, cutoff=0.6)
            hint = f"; did you mean '{near[0]}'?" if near else f"; known keys: {', '.join(SETTINGS)}"
            problems.append((line, f"unknown key '{key}'{hint}"))
            continue
        wrong = _wrong_type(value, setting)
        if wrong:
            problems.append((line, f"key '{key}': {wrong}"))
            continue
        if setting.many:
            items = [value] if isinstance(value, str) else value
            values[setting.parameter] = tuple(setting.resolve(item, folder) for item in items)
        else:
            values[setting.parameter] = setting.resolve(value, folder)
        lines[setting.parameter] = line
        keys[setting.parameter] = key
    if problems:
        # Every wrong key at once, as the rubric loader does, so one edit fixes them all.
        raise ConfigError(path, *problems[0], more=tuple(problems[1:]))
    return ProjectConfig(path, values, lines, keys)


_TYPE_NAMES = {str: "a string", int: "an integer", bool: "true or false"}


def _wrong_type(value: Any, setting: Setting) -> str | None:
    """What is wrong with the TOML type of ``value`` for ``setting``, or None."""
    if setting.many:
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            return "must be a file name or a list of file names"
        return None
    # TOML booleans are not numbers here, though Python's bool is an int.
    if isinstance(value, bool) and setting.kind is not bool:
        return f"must be {_kind_name(setting.kind)}, not true or false"
    if not isinstance(value, setting.kind):
        return f"must be {_kind_name(setting.kind)}, not {type(value).__name__}"
    return None


def _kind_name(kind: type | tuple[type, ...]) -> str:
    if isinstance(kind, tuple):
        return "a number"
    return _TYPE_NAMES.get(kind, kind.__name__)
