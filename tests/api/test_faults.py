"""The database goes away mid-traffic: 503 problem+json and /readyz false, never a 500, and
everything answers again once it is back, without restarting the app.

SQLite: the database file is moved away and a directory put in its place (the tests run as
root, so taking read permission away would not stop anyone); the engine opens a connection
per request (NullPool), as a server would once its pooled connections were gone.
PostgreSQL: a throwaway database refuses new connections (ALLOW_CONNECTIONS false, which
binds superusers too) and its backends are terminated while clients keep sending.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from api.app import create_app
from api.settings import Settings
from db import make_engine, upgrade
from db.identity import Role
from inventory.models import Depot
from tests.api.conftest import TestClient, auth
from tests.builders import make_user
from tests.conftest import _admin_engine, fresh_postgresql_database, postgres_url


def _app_client(engine: Engine) -> TestClient:
    settings = Settings(_env_file=None, rate_limit_per_key=None, rate_limit_per_address=None)
    # raise_server_exceptions: an error that reached the server-error middleware (a 500)
    # fails the test loudly instead of becoming a response.
    return TestClient(create_app(settings, engine=engine), raise_server_exceptions=True)


def _seed(engine: Engine) -> None:
    upgrade(engine)
    with Session(engine) as s, s.begin():
        make_user(s, Role.ADMIN)


def _assert_unavailable(client: TestClient) -> None:
    down = client.get("/v1/regions", headers=auth(Role.ADMIN))
    assert down.status_code == 503
    assert down.headers["content-type"] == "application/problem+json"
    assert down.json()["type"] == "urn:spares:problem:database-unavailable"
    assert int(down.headers["Retry-After"]) >= 1
    assert down.json()["request_id"] == down.headers["X-Request-ID"]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["reason"] == "database-unreachable"
    assert client.get("/healthz").status_code == 200  # the process itself lives


def test_sqlite_file_gone_then_back(tmp_path: Path) -> None:
    path = tmp_path / "spares.db"
    engine = make_engine(f"sqlite:///{path}", poolclass=NullPool)
    try:
        _seed(engine)
        with _app_client(engine) as client:
            assert client.get("/v1/regions", headers=auth(Role.ADMIN)).status_code == 200
            path.rename(tmp_path / "away.db")
            path.mkdir()  # nothing can open it as a database
            _assert_unavailable(client)
            van = {"code": "VAN-9", "name": "Van 9", "kind": "van"}
            write = client.post("/v1/depots", headers=auth(Role.ADMIN), json=van)
            assert write.status_code == 503
            path.rmdir()
            (tmp_path / "away.db").rename(path)
            assert client.get("/readyz").status_code == 200
            assert client.get("/v1/regions", headers=auth(Role.ADMIN)).status_code == 200
    finally:
        engine.dispose()


@pytest.fixture
def throwaway_postgresql() -> Iterator[str]:
    with fresh_postgresql_database("spares_fault") as url:
        yield url


def _set_connections(database: str, allowed: bool) -> None:
    admin = _admin_engine(postgres_url() or "")
    try:
        with admin.connect() as conn:
            conn.execute(
                text(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allowed).lower()}')
            )
            if not allowed:
                conn.execute(
                    text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                         " WHERE datname = :d AND pid <> pg_backend_pid()"),
                    {"d": database},
                )  # fmt: skip
    finally:
        admin.dispose()


def test_postgresql_goes_away_mid_traffic_and_comes_back(throwaway_postgresql: str) -> None:
    engine = make_engine(throwaway_postgresql)
    database = engine.url.database
    assert database is not None
    statuses: Counter[int] = Counter()
    created: list[str] = []
    stop = threading.Event()
    lock = threading.Lock()
    try:
        _seed(engine)
        with _app_client(engine) as client:

            def traffic(worker: int) -> None:
                n = 0
                while not stop.is_set():
                    n += 1
                    code = f"W{worker}N{n}"
                    body = {"code": code, "name": code, "kind": "van"}
                    write = client.post("/v1/depots", headers=auth(Role.ADMIN), json=body)
                    read = client.get("/v1/regions", headers=auth(Role.ADMIN))
                    with lock:
                        statuses.update([write.status_code, read.status_code])
                        if write.status_code == 201:
                            created.append(code)

            threads = [threading.Thread(target=traffic, args=(i,)) for i in range(4)]
            for t in threads:
                t.start()
            try:
                _wait_for(lambda: statuses[201] >= 8)
                _set_connections(database, allowed=False)
                _wait_for(lambda: statuses[503] >= 8)
                _assert_unavailable(client)
                _set_connections(database, allowed=True)
                seen = statuses[201]
                _wait_for(lambda: statuses[201] >= seen + 8)  # writes succeed again
            finally:
                stop.set()
                for t in threads:
                    t.join()
            assert client.get("/readyz").status_code == 200
        assert set(statuses) <= {200, 201, 503}, statuses  # never a 500
        with Session(engine) as s:
            stored = set(s.scalars(select(Depot.code)))
        assert set(created) <= stored  # every write the API confirmed is there
    finally:
        engine.dispose()
        _set_connections(database, allowed=True)


def _wait_for(condition: object, timeout_s: float = 60.0) -> None:
    assert callable(condition)
    deadline = threading.Event()
    timer = threading.Timer(timeout_s, deadline.set)
    timer.start()
    try:
        while not condition():
            if deadline.wait(0.05):
                raise AssertionError("the condition did not come true in time")
    finally:
        timer.cancel()
