"""User column maps (``--map``): other column names and role values onto the canonical ones."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from cs_audit.model import ROLES
from cs_audit.parsers.records import COLUMN_ALIASES


class ColumnMapError(ValueError):
    """A --map that cannot be used; says what is wrong."""


@dataclass(frozen=True)
class ColumnMap:
    """Source header name for canonical columns, and source role values for canonical roles."""

    columns: dict[str, str] = field(default_factory=dict)  # canonical column → header name
    roles: dict[str, str] = field(default_factory=dict)    # casefolded role value → canonical role

    def column_for(self, header_name: str) -> str | None:
        """The canonical column a header name is mapped to, if the user mapped it."""
        wanted = header_name.strip().casefold()
        for column, source in self.columns.items():
            if source.strip().casefold() == wanted:
                return column
        return None


def _add_column(columns: dict[str, str], column: str, source: str, where: str) -> None:
    if column not in COLUMN_ALIASES:
        raise ColumnMapError(f"{where}: unknown column {column!r}; "
                             f"columns are {', '.join(COLUMN_ALIASES)}")
    if not source:
        raise ColumnMapError(f"{where}: empty source column name for {column!r}")
    columns[column] = source


def _add_role(roles: dict[str, str], role: str, value: str, where: str) -> None:
    if role not in ROLES:
        raise ColumnMapError(f"{where}: unknown role {role!r}; roles are {', '.join(ROLES)}")
    if not value:
        raise ColumnMapError(f"{where}: empty value for role {role!r}")
    roles[value.strip().casefold()] = role


def parse_map_option(spec: str) -> ColumnMap:
    """Parse ``--map``: a TOML file path, or ``column=Header,role.agent=Value,…`` pairs."""
    path = Path(spec)
    if spec.lower().endswith(".toml") or path.is_file():
        return load_map_file(path)
    columns: dict[str, str] = {}
    roles: dict[str, str] = {}
    for pair in filter(None, (part.strip() for part in spec.split(","))):
        key, sep, value = pair.partition("=")
        if not sep:
            raise ColumnMapError(f"--map: {pair!r} is not name=value")
        key, value = key.strip(), value.strip()
        if key.startswith("role."):
            _add_role(roles, key[len("role."):], value, "--map")
        else:
            _add_column(columns, key, value, "--map")
    return ColumnMap(columns, roles)


def load_map_file(path: Path) -> ColumnMap:
    """Read a map file: ``[columns]`` canonical = "Header", ``[roles]`` role = "Value" or [list]."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ColumnMapError(f"{path}: no such map file") from None
    except OSError as error:
        raise ColumnMapError(f"{path}: cannot read the map file: {error.strerror or error}") from None
    # ValueError: also an integer past Python's int-str limit; RecursionError: nested arrays.
    except (ValueError, RecursionError) as error:
        raise ColumnMapError(f"{path}: invalid TOML: {error or type(error).__name__}") from None
    unknown = set(data) - {"columns", "roles"}
    if unknown:
        raise ColumnMapError(f"{path}: unknown table(s) {', '.join(sorted(unknown))}; "
                             "use [columns] and [roles]")
    for table in ("columns", "roles"):
        if not isinstance(data.get(table, {}), dict):
            raise ColumnMapError(f"{path}: {table} must be a table ([{table}])")
    columns: dict[str, str] = {}
    roles: dict[str, str] = {}
    for column, source in data.get("columns", {}).items():
        if not isinstance(source, str):
            raise ColumnMapError(f"{path}: columns.{column} must be a string")
        _add_column(columns, column, source, str(path))
    for role, values in data.get("roles", {}).items():
        if not isinstance(values, (str, list)):
            raise ColumnMapError(f"{path}: roles.{role} must be a string or a list of strings")
        for value in [values] if isinstance(values, str) else values:
            if not isinstance(value, str):
                raise ColumnMapError(f"{path}: roles.{role} must be a string or a list of strings")
            _add_role(roles, role, value, str(path))
    return ColumnMap(columns, roles)
