"""Rules across rows and files: unique keys, foreign keys, the models' CHECKs, and the rest.

The CHECK constraints are not restated here: each is evaluated, as written in the model,
over the decoded rows in an in-memory SQLite database, so a bundle is held to exactly the
rules the database would enforce, and a new CHECK in a model is checked without a change
here. Rules the schema cannot express are written out in `EXPLICIT_RULES`.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dispatch.world.bundle.columns import CheckSpec, Kind, TableSpec
from dispatch.world.bundle.errors import Problem
from dispatch.world.model import Row

Report = Callable[[Problem], None]


@dataclass
class ParsedTable:
    """A file's decoded rows and their row numbers; `available` False when it could not be read.

    `uncertain` names columns with a value that could not be read (a bad cell, a row of
    the wrong length): references into them are not checked, since every reference to
    the unreadable value would look dangling.
    """

    spec: TableSpec
    rows: list[Row]
    numbers: list[int]
    available: bool
    uncertain: set[str] = field(default_factory=set)

    def numbered(self) -> Iterator[tuple[int, Row]]:
        return zip(self.numbers, self.rows, strict=True)


def check_rules(tables: dict[str, ParsedTable], report: Report) -> None:
    """Report every unique-key, foreign-key, CHECK and explicit-rule violation."""
    for parsed in tables.values():
        _unique_keys(parsed, report)
        _foreign_keys(parsed, tables, report)
        for check in parsed.spec.checks:
            _check_constraint(parsed, check, report)
    for rule in EXPLICIT_RULES:
        if tables[rule.table].available:
            for problem in rule.check(tables):
                report(problem)


def _unique_keys(parsed: ParsedTable, report: Report) -> None:
    """Primary keys, unique columns and unique constraints hold within the file (NULLs aside)."""
    for key in parsed.spec.unique:
        seen: dict[tuple[Any, ...], int] = {}
        for number, row in parsed.numbered():
            value = tuple(row[c] for c in key)
            if None in value:
                continue
            first = seen.setdefault(value, number)
            if first != number:
                shown = ", ".join(map(str, value))
                reason = f"duplicate {', '.join(key)} ({shown}): row {first} has it already"
                report(Problem(parsed.spec.file, number, ", ".join(key), reason))


def _foreign_keys(parsed: ParsedTable, tables: dict[str, ParsedTable], report: Report) -> None:
    """Every reference resolves to a row of the bundle (unless the target file is unreadable)."""
    for fk in parsed.spec.foreign_keys:
        target = tables[fk.table]
        if not target.available or target.uncertain.intersection(fk.referred):
            continue  # the broken file or value is reported once, not once per reference
        keys = {tuple(row[c] for c in fk.referred) for row in target.rows}
        for number, row in parsed.numbered():
            value = tuple(row[c] for c in fk.columns)
            if None not in value and value not in keys:
                shown = ", ".join(map(str, value))
                reason = f"{shown} matches no {', '.join(fk.referred)} in {target.spec.file}"
                report(Problem(parsed.spec.file, number, ", ".join(fk.columns), reason))


# Column affinities, so SQLite compares numbers as numbers (text sorts "10" before "9").
_AFFINITY = {
    Kind.INTEGER: "INTEGER",
    Kind.BOOLEAN: "INTEGER",
    Kind.FLOAT: "REAL",
    Kind.DECIMAL: "REAL",
}


def _sqlite_value(value: Any) -> Any:
    """A decoded value as SQLite compares it; timestamps in one fixed-width UTC form."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value)
    return value


def _check_constraint(parsed: ParsedTable, check: CheckSpec, report: Report) -> None:
    """Evaluate one CHECK over every row; like the database, NULL (unknown) passes."""
    if not parsed.rows:
        return
    columns = [parsed.spec.column(name) for name in check.columns]
    definition = ", ".join(f'"{c.name}" {_AFFINITY.get(c.kind, "TEXT")}' for c in columns)
    with closing(sqlite3.connect(":memory:")) as connection:
        connection.execute(f'CREATE TABLE t ("__row" INTEGER, {definition})')
        marks = ", ".join("?" * (len(columns) + 1))
        connection.executemany(
            f"INSERT INTO t VALUES ({marks})",
            (
                (number, *(_sqlite_value(row[c.name]) for c in columns))
                for number, row in parsed.numbered()
            ),
        )
        failing = connection.execute(
            f'SELECT "__row" FROM t WHERE NOT ({check.sql}) ORDER BY "__row"'
        ).fetchall()
    columns_text = ", ".join(check.columns)
    for (number,) in failing:
        reason = f"breaks rule {check.name}: {check.sql}"
        report(Problem(parsed.spec.file, number, columns_text, reason))


# Rules the schema cannot state as a CHECK (they need a lookup or another table).


@dataclass(frozen=True, slots=True)
class Rule:
    """A named rule over one file (possibly looking into others), documented and tested."""

    name: str
    table: str
    fields: tuple[str, ...]
    description: str
    check: Callable[[dict[str, ParsedTable]], Iterator[Problem]]


def _each(tables: dict[str, ParsedTable], table: str, column: str) -> Iterator[tuple[int, Any]]:
    for number, row in tables[table].numbered():
        if row[column] is not None:
            yield number, row[column]


def _time_zones(table: str) -> Callable[[dict[str, ParsedTable]], Iterator[Problem]]:
    def check(tables: dict[str, ParsedTable]) -> Iterator[Problem]:
        for number, value in _each(tables, table, "timezone"):
            if not _is_time_zone(value):
                reason = f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)"
                yield Problem(f"{table}.csv", number, "timezone", reason)

    return check


def _is_time_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


_CURRENCY = re.compile(r"[A-Z]{3}")


def _currencies(table: str) -> Callable[[dict[str, ParsedTable]], Iterator[Problem]]:
    def check(tables: dict[str, ParsedTable]) -> Iterator[Problem]:
        for number, value in _each(tables, table, "currency"):
            if not _CURRENCY.fullmatch(value):
                reason = f"{value!r} is not a currency code (three capital letters, e.g. CNY)"
                yield Problem(f"{table}.csv", number, "currency", reason)

    return check


_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _key_hashes(tables: dict[str, ParsedTable]) -> Iterator[Problem]:
    for number, value in _each(tables, "users", "api_key_hash"):
        if not _SHA256_HEX.fullmatch(value):
            reason = "not a SHA-256 hex digest (64 lowercase hex digits); bundles never hold keys"
            yield Problem("users.csv", number, "api_key_hash", reason)


def _vans(tables: dict[str, ParsedTable]) -> Iterator[Problem]:
    kinds = {row["id"]: row["kind"] for row in tables["depots"].rows}
    for number, depot_id in _each(tables, "engineers", "van_depot_id"):
        kind = kinds.get(depot_id)
        if kind is not None and kind != "van":
            reason = f"depot {depot_id} is a {kind} depot, not a van"
            yield Problem("engineers.csv", number, "van_depot_id", reason)


def _severities(tables: dict[str, ParsedTable]) -> Iterator[Problem]:
    def column(table: str, key: str, value: str) -> dict[Any, Any]:
        return {row[key]: row[value] for row in tables[table].rows}

    contract_of = column("sites", "id", "contract_id")
    policy_of = column("contracts", "id", "policy_id")
    codes: dict[Any, set[str]] = {}
    for row in tables["policy_severities"].rows:
        codes.setdefault(row["policy_id"], set()).add(row["code"])
    for number, row in tables["tickets"].numbered():
        policy = policy_of.get(contract_of.get(row["site_id"]))
        if policy is None or row["severity"] is None:
            continue  # a dangling reference is reported by the foreign-key check
        if row["severity"] not in codes.get(policy, set()):
            allowed = ", ".join(sorted(codes.get(policy, set()))) or "none"
            reason = f"{row['severity']!r} is not a severity of policy {policy} ({allowed})"
            yield Problem("tickets.csv", number, "severity", reason)


EXPLICIT_RULES: tuple[Rule, ...] = (
    Rule("time_zone", "regions", ("timezone",), "an IANA time zone name", _time_zones("regions")),
    Rule(
        "time_zone",
        "promise_policies",
        ("timezone",),
        "an IANA time zone name",
        _time_zones("promise_policies"),
    ),
    Rule(
        "currency", "parts", ("currency",), "three capital letters (ISO 4217)", _currencies("parts")
    ),
    Rule(
        "currency",
        "promise_policies",
        ("currency",),
        "three capital letters (ISO 4217)",
        _currencies("promise_policies"),
    ),
    Rule(
        "key_hash",
        "users",
        ("api_key_hash",),
        "a SHA-256 hex digest, never a key",
        _key_hashes,
    ),
    Rule(
        "van_is_a_van",
        "engineers",
        ("van_depot_id",),
        "the engineer's van depot is a depot of kind van",
        _vans,
    ),
    Rule(
        "severity_of_policy",
        "tickets",
        ("severity",),
        "a severity code of the policy of the site's contract",
        _severities,
    ),
)
