"""Engine and session factories; nothing is created at import time."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 30_000
# A pooled server connection idle longer than this is pinged before use (the default).
PING_IDLE_S = 5.0


def make_engine(
    url: str, *, echo: bool = False, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, **kwargs: Any
) -> Engine:
    """Create an engine; SQLite files get WAL, foreign keys and a busy timeout.

    SQLite has no row locks, so writers serialise on the database lock: WAL lets
    readers go on while one writer works, and the busy timeout makes a second
    writer wait instead of failing at once (after it, the API answers 503).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {}).setdefault("check_same_thread", False)
        engine = create_engine(url, echo=echo, **kwargs)
        in_memory = parsed.database in (None, "", ":memory:")
        _configure_sqlite(engine, in_memory=in_memory, busy_timeout_ms=busy_timeout_ms)
        return engine
    ping_idle_s = kwargs.pop("ping_idle_s", PING_IDLE_S)
    engine = create_engine(url, echo=echo, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_when_idle(engine, ping_idle_s)
    return engine


def _ping_when_idle(engine: Engine, idle_s: float) -> None:
    """Ping a pooled connection before use only when it sat idle longer than `idle_s`.

    Why not `pool_pre_ping`: it costs a round trip on every checkout (two on psycopg:
    BEGIN and SELECT 1), a fifth of a reservation's. A connection in steady use needs no
    ping: when the server goes away under traffic, the first statement that fails is a
    disconnect, which invalidates the whole pool (SQLAlchemy), so only that request fails
    (503) and the next ones connect afresh. One idle for a while (the server restarted
    overnight) is pinged and silently replaced, as `pool_pre_ping` would.
    """

    @event.listens_for(engine.pool, "checkin")
    def _returned(_dbapi: Any, record: Any) -> None:
        record.info["spares_idle_since"] = time.monotonic()

    @event.listens_for(engine.pool, "checkout")
    def _taken(dbapi: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("spares_idle_since")
        if since is None or time.monotonic() - since <= idle_s:
            return
        try:
            engine.dialect.do_ping(dbapi)
        except Exception as exc:  # any failure: the pool replaces the connection
            raise DisconnectionError(f"an idle pooled connection is gone: {exc}") from exc


def _configure_sqlite(engine: Engine, *, in_memory: bool, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself, so `BEGIN IMMEDIATE` can be issued where needed.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if not in_memory:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded objects usable after commit (the API serialises after it)."""
    return sessionmaker(bind=engine, expire_on_commit=False)
