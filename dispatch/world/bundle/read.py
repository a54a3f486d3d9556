"""`read_bundle`: validate a whole bundle, collecting every problem, before anything is written."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from dispatch.world.bundle.columns import TableSpec, bundle_tables
from dispatch.world.bundle.errors import BundleInvalid, Problem
from dispatch.world.bundle.manifest import MANIFEST_FILE, Manifest, read_manifest
from dispatch.world.bundle.rules import ParsedTable, check_rules
from dispatch.world.model import Row, World

# Enough to fix a bundle in rounds without flooding a terminal or a response body.
MAX_PROBLEMS = 1_000


@dataclass
class ProblemLog:
    """Every problem found, grouped by file, later reported in bundle order."""

    by_file: dict[str, list[Problem]] = field(default_factory=dict)

    def add(self, problem: Problem) -> None:
        self.by_file.setdefault(problem.file, []).append(problem)

    @property
    def total(self) -> int:
        return sum(len(found) for found in self.by_file.values())

    def ordered(self, files: list[str]) -> list[Problem]:
        """Manifest first, then files in bundle order, then others; rows in order within each."""
        rank = {name: i for i, name in enumerate([MANIFEST_FILE, *files])}
        ordered: list[Problem] = []
        for name in sorted(self.by_file, key=lambda n: (rank.get(n, len(rank)), n)):
            ordered += sorted(self.by_file[name], key=Problem.sort_key)
        return ordered


def read_bundle(directory: Path | str, *, max_problems: int = MAX_PROBLEMS) -> World:
    """Read and validate the bundle in `directory` as a whole.

    Returns the world (every table, every column, defaults filled in) or raises
    BundleInvalid listing the first `max_problems` problems and the total count.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise BundleInvalid([Problem(str(directory), None, None, "not a directory")])
    manifest, problems = read_manifest(directory)
    if manifest is None:  # without a readable manifest of a known version, stop here
        raise BundleInvalid(problems)
    specs = bundle_tables()
    log = ProblemLog()
    _check_listing(directory, specs, manifest, log)
    tables = {spec.name: _read_table(directory, spec, manifest, log) for spec in specs}
    check_rules(tables, log.add)
    if log.total:
        found = log.ordered([spec.file for spec in specs])
        raise BundleInvalid(found[:max_problems], len(found))
    rows = {name: parsed.rows for name, parsed in tables.items()}
    return World(
        seed=None,
        size=None,
        reference_date=None,
        tables=rows,
        demo_keys={},
        counts={name: len(found) for name, found in rows.items()},
    )


def _check_listing(
    directory: Path, specs: tuple[TableSpec, ...], manifest: Manifest, log: ProblemLog
) -> None:
    """No unknown files in the folder, and no unknown files in the manifest's list."""
    expected = {spec.file for spec in specs}
    for path in sorted(directory.iterdir()):
        if path.name != MANIFEST_FILE and path.name not in expected:
            log.add(
                Problem(path.name, None, None, "unknown file: no table of Spares has this name")
            )
    for i, entry in enumerate(manifest.files or ()):
        if entry.name not in expected or entry.name != f"{entry.table}.csv":
            reason = f"{entry.name!r} (table {entry.table!r}) names no table of this schema"
            log.add(Problem(MANIFEST_FILE, None, f"files[{i}]", reason))


def _read_table(
    directory: Path, spec: TableSpec, manifest: Manifest, log: ProblemLog
) -> ParsedTable:
    """Decode one file; a missing or unreadable file is marked unavailable (FKs into it skipped)."""
    path = directory / spec.file
    if not path.is_file():
        if not spec.optional:
            reason = "missing: every bundle has this file (an empty table is a header row only)"
            log.add(Problem(spec.file, None, None, reason))
        return ParsedTable(spec, [], [], available=spec.optional)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            records = list(csv.reader(handle, strict=True))
    except UnicodeDecodeError as exc:
        log.add(
            Problem(spec.file, None, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        )
        return ParsedTable(spec, [], [], available=False)
    except csv.Error as exc:
        log.add(Problem(spec.file, None, None, f"not valid CSV: {exc}"))
        return ParsedTable(spec, [], [], available=False)
    if not records:
        log.add(Problem(spec.file, None, None, "empty: the first row must name the columns"))
        return ParsedTable(spec, [], [], available=False)
    positions = _header(spec, records[0], log)
    parsed = ParsedTable(spec, [], [], available=True)
    for number, record in enumerate(records[1:], start=1):
        if len(record) != len(records[0]):
            cells = "an empty row" if not record else f"{len(record)} cells"
            log.add(Problem(spec.file, number, None, f"{cells}; the header has {len(records[0])}"))
            parsed.uncertain.update(spec.header)
            continue
        row, unreadable = _decode_row(spec, record, positions, number, manifest.created_at, log)
        parsed.uncertain.update(unreadable)
        parsed.rows.append(row)
        parsed.numbers.append(number)
    stated = manifest.rows_of(spec.file)
    if stated is not None and stated != len(records) - 1:
        reason = f"the manifest says {stated} rows, the file has {len(records) - 1}"
        log.add(Problem(spec.file, None, None, reason))
    return parsed


def _header(spec: TableSpec, header: list[str], log: ProblemLog) -> dict[str, int]:
    """Column name -> cell index; unknown, repeated and missing required columns are problems."""
    known = spec.header
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        if name not in known:
            log.add(Problem(spec.file, 0, name, "unknown column; expected: " + ", ".join(known)))
        elif name in positions:
            log.add(Problem(spec.file, 0, name, "column appears twice"))
        else:
            positions[name] = index
    for column in spec.columns:
        if column.required and column.name not in positions:
            log.add(Problem(spec.file, 0, column.name, "required column is missing"))
    return positions


def _decode_row(
    spec: TableSpec,
    record: list[str],
    positions: dict[str, int],
    number: int,
    created_at: datetime,
    log: ProblemLog,
) -> tuple[Row, list[str]]:
    """Every column's value and the unreadable columns (reported; None, so rules skip them)."""
    row: Row = {}
    unreadable: list[str] = []
    for column in spec.columns:
        index = positions.get(column.name)
        text = "" if index is None else record[index]
        if text == "":
            if column.nullable:
                row[column.name] = None
            elif column.has_default:
                row[column.name] = column.default
            elif column.defaults_to_created_at:
                row[column.name] = created_at
            else:
                if index is not None:  # a missing column was reported once, at the header
                    log.add(Problem(spec.file, number, column.name, "required: the cell is empty"))
                row[column.name] = None
                unreadable.append(column.name)
            continue
        try:
            row[column.name] = column.decode(text)
        except ValueError as exc:
            log.add(Problem(spec.file, number, column.name, str(exc)))
            row[column.name] = None
            unreadable.append(column.name)
    return row, unreadable
