"""A SQLite database held busy past the busy timeout: the API answers 503 with Retry-After.

Another process holding the write lock (a long CLI import, a backup) makes a write
wait for `sqlite_busy_timeout_ms`; then it is told to come back, not given a 500.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.app import create_app
from api.settings import Settings
from db import Role, make_engine
from tests.api.conftest import delete_all_rows
from tests.builders import key_for, make_region, make_user

BUSY_MS = 200


@pytest.fixture
def impatient(clean_engine: Engine, database_url: str) -> Iterator[Engine]:
    if not database_url.startswith("sqlite"):
        pytest.skip("the database lock that makes writers wait is SQLite's")
    eng = make_engine(database_url, busy_timeout_ms=BUSY_MS)
    yield eng
    eng.dispose()
    delete_all_rows(clean_engine)


def test_a_write_waits_then_gets_503_with_retry_after(impatient: Engine, database_url: str) -> None:
    with Session(impatient) as s, s.begin():
        make_user(s, Role.ADMIN)
        region = make_region(s).id
    settings = Settings(_env_file=None, database_url=database_url, busy_retry_after_s=3)
    app = create_app(settings, engine=impatient)
    holder = sqlite3.connect(impatient.url.database or "", isolation_level=None)
    headers = {"X-API-Key": key_for(Role.ADMIN)}
    body = {"code": "D-BUSY", "name": "Busy depot", "kind": "regional", "region_id": region,
            "lat": 23.1, "lon": 113.3}  # fmt: skip
    with TestClient(app) as client:
        holder.execute("BEGIN IMMEDIATE")
        try:
            busy = client.post("/v1/depots", json=body, headers=headers)
            assert client.get("/v1/regions", headers=headers).status_code == 200  # reads go on
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        assert busy.status_code == 503, busy.text
        assert busy.headers["content-type"] == "application/problem+json"
        assert busy.headers["Retry-After"] == "3"
        assert busy.json()["type"] == "urn:spares:problem:busy"
        assert client.post("/v1/depots", json=body, headers=headers).status_code == 201
