"""``tongjie network import FILE``: the network tree from CSV or YAML, all or nothing.

The file is validated as a whole before anything is written; every problem
is reported with file, line, field and reason. Rows are upserted by code, so
re-running the same file changes nothing. Points missing from the file are
left alone (a file may carry one branch's subtree).

Rules (docs/network.md):
- code: letters, digits, ``-`` and ``_``, at most 32; unique in the file;
- kind: one of the PointKind codes;
- parent: the code of a point in the file or already in the database; every
  kind but ``central`` needs one; no cycles;
- region: the administrative region code (行政区划代码), 6, 9 or 12 digits;
- population: a whole number, zero or more (常住人口 served directly);
- optional columns: address, opening_days (ISO weekday digits, e.g. 23456).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from catalog.errors import InvalidFile, RowError
from catalog.network import ALL_WEEKDAYS, PointKind, ServicePoint, all_points

REQUIRED_COLUMNS = ("code", "name", "kind", "parent", "region", "population")
OPTIONAL_COLUMNS = ("address", "opening_days")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
REGION_PATTERN = re.compile(r"^(\d{6}|\d{9}|\d{12})$")
WEEKDAYS_PATTERN = re.compile(r"^[1-7]{1,7}$")


@dataclass(frozen=True)
class PointRow:
    line: int
    code: str
    name: str
    kind: str
    parent: str | None
    region: str
    population: int
    address: str | None
    opening_days: str | None


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    unchanged: int


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, raw row) from a CSV or YAML file."""
    if path.suffix.lower() in (".yaml", ".yml"):
        yield from _read_yaml(path)
    else:
        yield from _read_csv(path)


def _read_csv(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = [h.strip() for h in next(reader, [])]
        if tuple(header[: len(REQUIRED_COLUMNS)]) != REQUIRED_COLUMNS:
            raise InvalidFile(
                [RowError(path.name, 1, "header", "must start with " + ",".join(REQUIRED_COLUMNS))]
            )
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            yield reader.line_num, dict(zip(header, values, strict=False))


def _read_yaml(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """YAML: a list of mappings (or ``points:`` holding one); line numbers from the parser."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
        raise InvalidFile([RowError(path.name, line, "file", f"not valid YAML: {exc}")]) from exc
    if isinstance(root, yaml.MappingNode):
        inner = [v for k, v in root.value if k.value == "points"]
        root = inner[0] if inner else None
    if not isinstance(root, yaml.SequenceNode):
        reason = "expected a list of points (or a 'points:' key holding one)"
        raise InvalidFile([RowError(path.name, 1, "file", reason)])
    for node in root.value:
        line = node.start_mark.line + 1
        if not isinstance(node, yaml.MappingNode):
            yield line, {}
            continue
        yield line, yaml.safe_load(yaml.serialize(node)) or {}


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def validate_row(
    file: str, line: int, raw: dict[str, Any]
) -> tuple[PointRow | None, list[RowError]]:
    """Check one row on its own (cross-row rules come later)."""
    errors: list[RowError] = []

    def bad(field: str, reason: str) -> None:
        errors.append(RowError(file, line, field, reason))

    code, name, kind = _text(raw.get("code")), _text(raw.get("name")), _text(raw.get("kind"))
    if not CODE_PATTERN.match(code):
        bad("code", "required: 1-32 letters, digits, '-' or '_'")
    if not name:
        bad("name", "required")
    if kind not in {k.value for k in PointKind}:
        bad("kind", f"'{kind}' is not one of " + ", ".join(k.value for k in PointKind))
    region = _text(raw.get("region"))
    if not REGION_PATTERN.match(region):
        bad("region", f"'{region}' is not a 6, 9 or 12 digit region code")
    population_text = _text(raw.get("population"))
    population = -1
    try:
        population = int(population_text)
    except ValueError:
        bad("population", f"'{population_text}' is not a whole number")
    else:
        if population < 0:
            bad("population", f"{population} is negative; give the residents served, 0 or more")
    opening_days = _text(raw.get("opening_days")) or None
    if opening_days and not WEEKDAYS_PATTERN.match(opening_days):
        bad("opening_days", f"'{opening_days}' must be ISO weekday digits 1-7, e.g. 23456")
    if errors:
        return None, errors
    parent = _text(raw.get("parent")) or None
    address = _text(raw.get("address")) or None
    row = PointRow(line, code, name, kind, parent, region, population, address, opening_days)
    return row, []


def validate(session: Session, path: Path) -> list[PointRow]:
    """Every row valid and the tree sound, or InvalidFile listing every problem."""
    file = path.name
    rows: list[PointRow] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for line, raw in read_rows(path):
        row, row_errors = validate_row(file, line, raw)
        errors.extend(row_errors)
        code = _text(raw.get("code"))
        if code and code in first_line:
            errors.append(
                RowError(
                    file, line, "code", f"duplicate code {code} (first on line {first_line[code]})"
                )
            )
        elif row is not None:
            rows.append(row)
        if code:
            first_line.setdefault(code, line)
    existing = {p.code: p for p in all_points(session)}
    errors.extend(_tree_errors(file, rows, existing, set(first_line)))
    if errors:
        raise InvalidFile(sorted(errors, key=lambda e: (e.line, e.field)))
    return rows


def _tree_errors(
    file: str, rows: list[PointRow], existing: dict[str, ServicePoint], codes_in_file: set[str]
) -> list[RowError]:
    errors: list[RowError] = []
    parent_of = {code: (p.parent.code if p.parent else None) for code, p in existing.items()}
    for row in rows:
        parent_of[row.code] = row.parent
    for row in rows:
        if row.parent is None:
            if row.kind != PointKind.CENTRAL:
                errors.append(
                    RowError(file, row.line, "parent", "required for every kind but central")
                )
            continue
        if row.parent not in codes_in_file and row.parent not in existing:
            reason = f"no point with code {row.parent} in this file or the database"
            errors.append(RowError(file, row.line, "parent", reason))
        elif _has_cycle(row.code, parent_of):
            errors.append(
                RowError(file, row.line, "parent", f"{row.code} would be its own ancestor")
            )
    return errors


def _has_cycle(code: str, parent_of: dict[str, str | None]) -> bool:
    seen = {code}
    current = parent_of.get(code)
    while current is not None:
        if current in seen:
            return True
        seen.add(current)
        current = parent_of.get(current)
    return False


def import_network(session: Session, path: Path) -> ImportSummary:
    """Validate the whole file, then upsert every row by code, in the caller's transaction."""
    rows = validate(session, path)
    by_code = {p.code: p for p in all_points(session)}
    created = updated = 0
    for row in rows:
        point = by_code.get(row.code)
        if point is None:
            point = ServicePoint(code=row.code, opening_days=ALL_WEEKDAYS, address="")
            session.add(point)
            by_code[row.code] = point
            created += 1
        elif _differs(point, row, by_code):
            updated += 1
        _apply(point, row)
    session.flush()
    for row in rows:  # parents may come after their children in the file
        parent = by_code[row.parent] if row.parent else None
        if by_code[row.code].parent_id != (parent.id if parent else None):
            by_code[row.code].parent = parent
    session.flush()
    return ImportSummary(created=created, updated=updated, unchanged=len(rows) - created - updated)


def _wanted(point: ServicePoint, row: PointRow) -> dict[str, Any]:
    return {
        "name": row.name,
        "kind": row.kind,
        "region_code": row.region,
        "population": row.population,
        "address": row.address if row.address is not None else point.address,
        "opening_days": row.opening_days or point.opening_days,
    }


def _differs(point: ServicePoint, row: PointRow, by_code: dict[str, ServicePoint]) -> bool:
    parent_code = point.parent.code if point.parent else None
    fields = _wanted(point, row)
    return parent_code != row.parent or any(getattr(point, k) != v for k, v in fields.items())


def _apply(point: ServicePoint, row: PointRow) -> None:
    for key, value in _wanted(point, row).items():
        if getattr(point, key) != value:  # untouched rows keep their updated_at
            setattr(point, key, value)
