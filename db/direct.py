"""A hot Core statement run through the driver's cursor on PostgreSQL, compiled once.

SQLAlchemy's execution of a cached Core statement costs about as much CPU again as psycopg's
own (the cache key built anew, the execution context, the cursor's description read into
result metadata): 96 against 57 us for the idempotency key's lock-and-lookup (BENCHMARKS.md,
issue 18, round 8). A stock write runs three such statements. `Direct` compiles its
statement once per dialect, with SQLAlchemy, and runs the same SQL with the same parameter
and result processing (the statement's types' own processors) on the connection's driver
cursor, inside the connection's transaction; a driver error goes through SQLAlchemy's own
handling (wrapped as `DBAPIError`, a disconnect invalidates the pool). Anything it does not
cover (SQLite, positional or escaped parameters, Python-side defaults, expanding
parameters) runs through `Connection.execute` as before, and so does every statement
while cursor events are listened to (a statement counter, a tracer): they see them all.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import Executable

_UNPLANNED = object()


class _Plan:
    __slots__ = ("binds", "columns", "defaults", "keys", "make", "processors", "sql")

    def __init__(self, sql: str, binds: Mapping[str, Callable[[Any], Any]],
                 defaults: Mapping[str, Any], keys: Sequence[str],
                 columns: Sequence[Any]) -> None:  # fmt: skip
        self.sql = sql
        self.binds = binds
        self.defaults = defaults  # the statement's own bound values
        self.keys = keys
        self.columns = columns  # each result column's type
        self.processors: list[Callable[[Any], Any] | None] | None = None  # at first rows
        self.make = _row_class(keys) if keys else None


def _row_class(keys: Sequence[str]) -> Any:
    base = namedtuple("Row", list(keys), rename=True)  # type: ignore[misc]

    class Row(base):
        """A result row: by attribute, by index, or as `_mapping` (as SQLAlchemy's Row)."""

        __slots__ = ()

        @property
        def _mapping(self) -> dict[str, Any]:
            return dict(zip(keys, self, strict=True))

    return Row


class Direct:
    """A Core statement executed on PostgreSQL (psycopg) through the driver's cursor."""

    def __init__(self, statement: Executable, *, column_keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.column_keys = list(column_keys) if column_keys is not None else None
        self._plans: dict[int, Any] = {}

    def rows(self, connection: Connection, params: Mapping[str, Any]) -> Sequence[Any]:
        """The statement's rows (none for a statement that returns none), run in
        `connection`'s transaction; rows read by attribute, index or `_mapping`."""
        dialect = connection.dialect
        plan = self._plans.get(id(dialect), _UNPLANNED)
        if plan is _UNPLANNED:
            plan = self._plans[id(dialect)] = self._plan(dialect)
        events = connection.dispatch
        if plan is None or events.before_cursor_execute or events.after_cursor_execute:
            result = connection.execute(self.statement, dict(params))
            return result.all() if result.returns_rows else ()
        return _run(connection, plan, params)

    def _plan(self, dialect: Dialect) -> _Plan | None:
        """The compiled plan, or None to run through `Connection.execute`: on another
        dialect, or when a SQLAlchemy release lacks a private attribute the plan relies on
        (pyproject allows any SQLAlchemy >= 2.0.30)."""
        if dialect.name != "postgresql" or dialect.driver != "psycopg":
            return None
        try:
            return self._compile(dialect)
        except AttributeError:
            return None

    def _compile(self, dialect: Dialect) -> _Plan | None:
        Connection._handle_dbapi_exception  # noqa: B018  used by _run on a driver error
        statement: Any = self.statement  # a ClauseElement too
        compiled: Any = statement.compile(dialect=dialect, column_keys=self.column_keys)
        if (
            compiled.positional
            or compiled.escaped_bind_names
            or compiled.insert_prefetch
            or compiled.update_prefetch
            or compiled.literal_execute_params
            or compiled.post_compile_params
        ):
            return None
        defaults: dict[str, Any] = {}
        for bind, name in compiled.bind_names.items():
            if bind.callable is not None or bind.type._is_tuple_type:
                return None
            if not bind.required:
                defaults[name] = bind.value
        binds = {k: v for k, v in compiled._bind_processors.items() if v is not None}
        columns = compiled._result_columns
        for column in columns:
            column[3]._cached_result_processor  # noqa: B018  used by _run at the first rows
        return _Plan(compiled.string, binds, defaults, [c[0] for c in columns],
                     [c[3] for c in columns])  # fmt: skip


def _run(connection: Connection, plan: _Plan, params: Mapping[str, Any]) -> Sequence[Any]:
    values = {**plan.defaults, **params}
    given = {k: (plan.binds[k](v) if k in plan.binds else v) for k, v in values.items()}
    raw: Any = connection.connection.dbapi_connection
    cursor = None
    try:
        cursor = raw.cursor()
        cursor.execute(plan.sql, given)
        fetched = cursor.fetchall() if plan.make is not None else []
        if plan.processors is None and plan.make is not None:
            dialect = connection.dialect
            plan.processors = [
                kind._cached_result_processor(dialect, d.type_code)
                for kind, d in zip(plan.columns, cursor.description, strict=True)
            ]
        cursor.close()
    except Exception as exc:  # wrapped, a disconnect invalidating the pool, as SQLAlchemy does
        connection._handle_dbapi_exception(exc, plan.sql, given, cursor, None)
    if plan.make is None:
        return ()
    processors = plan.processors or ()
    make = plan.make
    if not any(processors):
        return [make(*row) for row in fetched]
    return [
        make(*[v if p is None else p(v) for p, v in zip(processors, row, strict=True)])
        for row in fetched
    ]
