"""Each table's file and each column's cell format, derived once from the ORM metadata.

Deriving the layout from `Base.metadata` (types, nullability, defaults, keys) keeps the
format and the schema from drifting apart: a new column or table shows up in bundles,
in validation and in the documentation test without a second list to update.
"""

from __future__ import annotations

import enum
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Enum,
    Float,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Table,
    Time,
    UniqueConstraint,
)

import dispatch.models  # noqa: F401 (registers dispatch's tables in Base.metadata)
import inventory.models  # noqa: F401 (registers inventory's tables)
from db.base import Base
from db.identity import User  # noqa: F401 (registers users)
from db.types import UTCDateTime


class Kind(enum.StrEnum):
    """The cell formats of the bundle (docs/world-format.md describes each)."""

    INTEGER = "integer"
    FLOAT = "float"
    DECIMAL = "decimal"
    STRING = "string"
    BOOLEAN = "boolean"
    DATE = "date"
    TIME = "time"
    TIMESTAMP = "timestamp"
    ENUM = "enum"
    JSON = "json"


# Files users may leave out (an empty table then): activity and history, not master data.
OPTIONAL_TABLES = frozenset(
    {
        "absences",
        "idempotency_keys",
        "labour_rules",  # absent (a bundle older than the table): the documented defaults
        "ledger_entries",
        "move_proposals",  # the re-dispatch rule's stored answers: asked again when absent
        "redispatch_ticks",
        "reservations",
        "service_log",
        "shipments",
        "supplier_orders",
        "ticket_parts",
        "ticket_parts_used",
        "ticket_skills",
        "tickets",
    }
)

_INT_BOUNDS = {
    SmallInteger: (-(2**15), 2**15 - 1),
    BigInteger: (-(2**63), 2**63 - 1),
    Integer: (-(2**31), 2**31 - 1),
}
_INT = re.compile(r"-?[0-9]+")
_FLOAT = re.compile(r"-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_DECIMAL = re.compile(r"-?([0-9]+)(?:\.([0-9]+))?")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?")
_TIMESTAMP = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})"
)


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """One column: its cell format, whether a cell may be empty, and what empty means."""

    name: str
    kind: Kind
    nullable: bool
    # The value an empty cell takes in a NOT NULL column (the model's default), if any.
    default: Any
    has_default: bool
    # server_default now(): an empty cell takes the manifest's created_at.
    defaults_to_created_at: bool
    max_length: int | None = None
    enum_values: tuple[str, ...] = ()
    int_bounds: tuple[int, int] | None = None
    precision: int | None = None
    scale: int | None = None

    @property
    def required(self) -> bool:
        """True when an empty cell is a problem."""
        return not (self.nullable or self.has_default or self.defaults_to_created_at)

    def describe(self) -> str:
        """The type as docs/world-format.md names it."""
        if self.kind is Kind.STRING and self.max_length:
            return f"string (<= {self.max_length})"
        if self.kind is Kind.DECIMAL:
            return f"decimal ({self.precision}, {self.scale})"
        if self.kind is Kind.ENUM:
            return "enum: " + ", ".join(self.enum_values)
        if self.kind is Kind.INTEGER and self.int_bounds == _INT_BOUNDS[SmallInteger]:
            return "integer (16-bit)"
        return self.kind.value

    def decode(self, text: str) -> Any:
        """The Python value of a non-empty cell; ValueError(reason) when it is not valid."""
        return _DECODERS[self.kind](self, text)

    def encode(self, value: Any) -> str:
        """The cell text of a value read from the database ("" for NULL)."""
        if value is None:
            return ""
        return _ENCODERS[self.kind](self, value)


@dataclass(frozen=True, slots=True)
class ForeignKeySpec:
    """Columns of this table that must match a row of another file."""

    columns: tuple[str, ...]
    table: str
    referred: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """A CHECK constraint of the model: its name, SQL text and the columns it reads."""

    name: str
    sql: str
    columns: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One table as a file of the bundle."""

    name: str
    columns: tuple[ColumnSpec, ...]
    primary_key: tuple[str, ...]
    unique: tuple[tuple[str, ...], ...]  # primary key first, then unique columns/constraints
    foreign_keys: tuple[ForeignKeySpec, ...]
    checks: tuple[CheckSpec, ...]
    optional: bool

    @property
    def file(self) -> str:
        return f"{self.name}.csv"

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)


@cache
def bundle_tables() -> tuple[TableSpec, ...]:
    """Every table of the schema as a file, in foreign-key order (parents first)."""
    return tuple(_table_spec(table) for table in Base.metadata.sorted_tables)


def _table_spec(table: Table) -> TableSpec:
    pk = tuple(c.name for c in table.primary_key.columns)
    # Primary key columns first, so a file reads like the table's identity then its data.
    ordered = [*table.primary_key.columns, *(c for c in table.columns if not c.primary_key)]
    unique = [pk]
    unique += [(c.name,) for c in table.columns if c.unique and (c.name,) != pk]
    for constraint in sorted(table.constraints, key=lambda c: str(c.name)):
        if isinstance(constraint, UniqueConstraint):
            names = tuple(c.name for c in constraint.columns)
            if names not in unique:
                unique.append(names)
    fks = [
        ForeignKeySpec(
            tuple(e.parent.name for e in fk.elements),
            fk.referred_table.name,
            tuple(e.column.name for e in fk.elements),
        )
        for fk in sorted(table.foreign_key_constraints, key=lambda f: str(f.name))
    ]
    return TableSpec(
        name=table.name,
        columns=tuple(_column_spec(c) for c in ordered),
        primary_key=pk,
        unique=tuple(unique),
        foreign_keys=tuple(fks),
        checks=_checks(table),
        optional=table.name in OPTIONAL_TABLES,
    )


def _checks(table: Table) -> tuple[CheckSpec, ...]:
    """The table's CHECK rules; enum CHECKs are left out (the enum type already says it)."""
    names = {c.name for c in table.columns}
    specs = []
    for constraint in table.constraints:
        if not isinstance(constraint, CheckConstraint) or getattr(constraint, "_type_bound", False):
            continue
        sql = str(constraint.sqltext)
        words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", sql)
        columns = tuple(dict.fromkeys(w for w in words if w in names))
        specs.append(CheckSpec(str(constraint.name), sql, columns))
    return tuple(sorted(specs, key=lambda s: s.name))


def _column_spec(column: Column[Any]) -> ColumnSpec:
    default = column.default
    has_default = default is not None and getattr(default, "is_scalar", False)
    value = default.arg if has_default else None  # type: ignore[union-attr]
    if isinstance(value, enum.Enum):
        value = value.value
    spec: dict[str, Any] = {
        "name": column.name,
        "nullable": bool(column.nullable),
        "default": value,
        "has_default": has_default,
        "defaults_to_created_at": column.server_default is not None
        and isinstance(column.type, UTCDateTime),
    }
    return ColumnSpec(kind=_kind(column, spec), **spec)


def _kind(column: Column[Any], spec: dict[str, Any]) -> Kind:
    """The cell format of a column type; extra limits go into `spec`."""
    kind_of = column.type
    if isinstance(kind_of, UTCDateTime):
        return Kind.TIMESTAMP
    if isinstance(kind_of, Enum):
        spec["enum_values"] = tuple(kind_of.enums)
        return Kind.ENUM
    if isinstance(kind_of, Boolean):
        return Kind.BOOLEAN
    if isinstance(kind_of, Integer):
        spec["int_bounds"] = next(b for t, b in _INT_BOUNDS.items() if isinstance(kind_of, t))
        return Kind.INTEGER
    if isinstance(kind_of, Float):  # before Numeric: Float is a Numeric
        return Kind.FLOAT
    if isinstance(kind_of, Numeric):
        spec["precision"], spec["scale"] = kind_of.precision, kind_of.scale
        return Kind.DECIMAL
    if isinstance(kind_of, Date):
        return Kind.DATE
    if isinstance(kind_of, Time):
        return Kind.TIME
    if isinstance(kind_of, JSON):
        return Kind.JSON
    if isinstance(kind_of, String):
        spec["max_length"] = kind_of.length
        return Kind.STRING
    raise TypeError(f"{column.table.name}.{column.name}: no bundle format for {kind_of!r}")


# Decoders: strict, so what one Spares writes another reads back to the same value.


def _integer(spec: ColumnSpec, text: str) -> int:
    if not _INT.fullmatch(text):
        raise ValueError(f"{text!r} is not an integer")
    value = int(text)
    low, high = spec.int_bounds or (-(2**63), 2**63 - 1)
    if not low <= value <= high:
        raise ValueError(f"{value} is outside {low}..{high}")
    return value


def _float(spec: ColumnSpec, text: str) -> float:
    if not _FLOAT.fullmatch(text):
        raise ValueError(f"{text!r} is not a number")
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a finite number")
    return value


def _decimal(spec: ColumnSpec, text: str) -> Decimal:
    match = _DECIMAL.fullmatch(text)
    if not match:
        raise ValueError(f"{text!r} is not a plain decimal (digits, optional point and digits)")
    whole, fraction = match.group(1).lstrip("0"), match.group(2) or ""
    if spec.scale is not None and len(fraction.rstrip("0")) > spec.scale:
        raise ValueError(f"{text} has more than {spec.scale} decimal places")
    if spec.precision is not None and len(whole) > spec.precision - (spec.scale or 0):
        raise ValueError(
            f"{text} has more than {spec.precision - (spec.scale or 0)} integer digits"
        )
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover (the pattern rules it out)
        raise ValueError(f"{text!r} is not a decimal") from exc


def _string(spec: ColumnSpec, text: str) -> str:
    if spec.max_length is not None and len(text) > spec.max_length:
        raise ValueError(f"longer than {spec.max_length} characters ({len(text)})")
    if "\x00" in text:
        raise ValueError("contains a NUL character")
    return text


def _boolean(spec: ColumnSpec, text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(f"{text!r} is not true or false")
    return text == "true"


def _date(spec: ColumnSpec, text: str) -> date:
    if not _DATE.fullmatch(text):
        raise ValueError(f"{text!r} is not an ISO date (YYYY-MM-DD)")
    return date.fromisoformat(text)


def _time(spec: ColumnSpec, text: str) -> time:
    if not _TIME.fullmatch(text):
        raise ValueError(f"{text!r} is not an ISO time (HH:MM or HH:MM:SS)")
    return time.fromisoformat(text)


def _timestamp(spec: ColumnSpec, text: str) -> datetime:
    if not _TIMESTAMP.fullmatch(text):
        raise ValueError(
            f"{text!r} is not an ISO 8601 timestamp with an offset (e.g. 2026-11-02T09:00:00+08:00)"
        )
    return datetime.fromisoformat(text).astimezone(UTC)


def _enum(spec: ColumnSpec, text: str) -> str:
    if text not in spec.enum_values:
        raise ValueError(f"{text!r} is not one of {', '.join(spec.enum_values)}")
    return text


def _json(spec: ColumnSpec, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from exc


_DECODERS: dict[Kind, Callable[[ColumnSpec, str], Any]] = {
    Kind.INTEGER: _integer,
    Kind.FLOAT: _float,
    Kind.DECIMAL: _decimal,
    Kind.STRING: _string,
    Kind.BOOLEAN: _boolean,
    Kind.DATE: _date,
    Kind.TIME: _time,
    Kind.TIMESTAMP: _timestamp,
    Kind.ENUM: _enum,
    Kind.JSON: _json,
}


def _encode_decimal(spec: ColumnSpec, value: Any) -> str:
    # A fixed scale, so SQLite (float storage) and PostgreSQL (numeric) write the same text.
    exponent = Decimal(1).scaleb(-(spec.scale or 0))
    return f"{Decimal(value).quantize(exponent):f}"


def _encode_timestamp(spec: ColumnSpec, value: Any) -> str:
    return str(value.astimezone(UTC).isoformat())


_ENCODERS: dict[Kind, Callable[[ColumnSpec, Any], str]] = {
    Kind.INTEGER: lambda spec, v: str(int(v)),
    Kind.FLOAT: lambda spec, v: repr(float(v)),
    Kind.DECIMAL: _encode_decimal,
    Kind.STRING: lambda spec, v: str(v),
    Kind.BOOLEAN: lambda spec, v: "true" if v else "false",
    Kind.DATE: lambda spec, v: v.isoformat(),
    Kind.TIME: lambda spec, v: v.isoformat(),
    Kind.TIMESTAMP: _encode_timestamp,
    Kind.ENUM: lambda spec, v: str(v.value if isinstance(v, enum.Enum) else v),
    Kind.JSON: lambda spec, v: json.dumps(
        v, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    ),
}
