"""Write transactions at the edge: `BEGIN IMMEDIATE` on SQLite, bounded retries on PostgreSQL.

Services only flush; whoever runs them (the API's write routes, the CLI, the worker,
benchmarks) opens the transaction here. On SQLite a write transaction must take the
database lock when it begins: a deferred one that reads first and writes later fails
at once (SQLITE_BUSY) if another writer committed meanwhile, and the busy timeout
cannot help it. On PostgreSQL a serialization failure or a deadlock (SQLSTATE 40001,
40P01) means "run the whole transaction again"; that is safe because it wrote nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

T = TypeVar("T")

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
# A twin request committed its idempotency key between our read and our lock (see
# inventory.idempotency): running again finds the key and replays its response.
RETRYABLE_UNIQUE = frozenset({"uq_idempotency_keys_user_id_key"})
DEFAULT_RETRIES = 5
WRITE_OPTIONS = {"sqlite_begin": "IMMEDIATE"}


def is_retryable(exc: BaseException) -> bool:
    """True when the transaction may simply run again: serialization failure, deadlock,
    or a twin's idempotency key committed under our feet."""
    if not isinstance(exc, DBAPIError):
        return False
    sqlstate = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    if sqlstate == "23505":
        diag = getattr(exc.orig, "diag", None)
        return getattr(diag, "constraint_name", None) in RETRYABLE_UNIQUE
    return sqlstate in RETRYABLE_SQLSTATES


def begin_write(session: Session) -> None:
    """Open the session's transaction as a writer (`BEGIN IMMEDIATE` on SQLite)."""
    session.connection(execution_options=WRITE_OPTIONS)


def restart_as_writer(session: Session) -> None:
    """End the session's read transaction (nothing written yet) and begin a write one.

    A SQLite reader cannot become a writer once another writer committed meanwhile (a
    worker's heartbeat, say), so a request that read first (authentication, a solve) and
    then writes takes a fresh write transaction for the write.
    """
    session.commit()
    begin_write(session)


def run_in_transaction(
    factory: sessionmaker[Session],
    fn: Callable[[Session], T],
    *,
    retries: int = DEFAULT_RETRIES,
) -> T:
    """Run `fn(session)` in one write transaction and commit; rerun it on a retryable failure."""
    for attempt in range(retries + 1):
        with factory() as session:
            try:
                begin_write(session)
                result = fn(session)
                session.commit()
                return result
            except DBAPIError as exc:
                session.rollback()
                if not is_retryable(exc) or attempt == retries:
                    raise
    raise AssertionError("unreachable")  # pragma: no cover
