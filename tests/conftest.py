"""Database fixtures: the same storage tests run on SQLite and on PostgreSQL.

PostgreSQL is switched on by `SPARES_TEST_POSTGRES_URL` (CI sets it to
``postgresql+psycopg://postgres@127.0.0.1:5432/test``). Each test run creates a
fresh database next to that one and drops it afterwards, so runs never see each
other's rows. Without the variable the PostgreSQL variants are skipped, with
the reason shown by ``pytest -ra``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from db import make_engine, upgrade

# Hypothesis' per-example deadline is a timed assert: on a shared 2-core machine an example
# can wait for a core for seconds (test_rush_hours failed so once). Speed lives in benchmarks.
settings.register_profile("spares", deadline=None)
settings.load_profile("spares")

POSTGRES_ENV = "SPARES_TEST_POSTGRES_URL"
BACKENDS = ["sqlite", "postgresql"]


def postgres_url() -> str | None:
    """The PostgreSQL server URL for tests, or None when they are switched off."""
    return os.environ.get(POSTGRES_ENV) or None


def skip_without_postgres() -> None:
    if postgres_url() is None:
        pytest.skip(
            f"PostgreSQL tests are off: set {POSTGRES_ENV}="
            "postgresql+psycopg://postgres@127.0.0.1:5432/test to run them"
        )


def pytest_report_header() -> str:
    url = postgres_url()
    if url is None:
        return f"postgresql: off (set {POSTGRES_ENV} to run the PostgreSQL variants)"
    return f"postgresql: on ({make_url(url).render_as_string(hide_password=True)})"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say once, not per test, why the PostgreSQL variants were skipped."""
    skipped = terminalreporter.stats.get("skipped", [])
    off = sum(1 for report in skipped if "PostgreSQL tests are off" in str(report.longrepr))
    if off:
        terminalreporter.write_line(
            f"{off} PostgreSQL variants skipped: set {POSTGRES_ENV}="
            "postgresql+psycopg://postgres@127.0.0.1:5432/test to run them",
            yellow=True,
        )


def _admin_engine(url: str) -> Engine:
    return create_engine(url, isolation_level="AUTOCOMMIT", poolclass=None)


@contextmanager
def fresh_postgresql_database(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database named ``prefix`` + a random suffix; dropped after."""
    skip_without_postgres()
    server_url = make_url(postgres_url() or "")
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = _admin_engine(server_url.render_as_string(hide_password=False))
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgresql_database() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test process; dropped at the end."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with fresh_postgresql_database(f"spares_test_{worker}") as url:
        yield url


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file (not in-memory: tests must see what a real deployment sees)."""
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'spares-test.db'}"


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """The URL of a migrated, empty database, once per backend."""
    url: str = request.getfixturevalue(f"{request.param}_database")
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session inside a transaction that is rolled back after the test.

    Code under test may call `commit()`; it only releases a savepoint here.
    """
    with engine.connect() as connection:
        outer = connection.begin()
        db_session = Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        try:
            yield db_session
        finally:
            db_session.close()
            outer.rollback()
