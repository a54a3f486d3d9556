"""An idempotent request that lost a transient race runs once more before answering 409/503.

Test routes fail their first attempt with each kind of transient loss (a version check,
PostgreSQL's own serialization failure, a SQLite lock past its timeout, a ticket's stale
version) after writing a row; the retry must start clean (the row written once) and see
the same body. A request that does not say it is idempotent answers the loss at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from api.app import create_app
from api.deps import SessionDep, requires
from api.settings import Settings
from db.identity import Role
from dispatch.errors import StaleTicketError
from inventory.models import Region
from tests.api.conftest import TestClient
from tests.api.test_errors import ADMIN, DATABASE_ERRORS, assert_problem

KEYED = ADMIN | {"Idempotency-Key": "retry-1"}


class Note(BaseModel):
    text: str


def _serialization_failure(session: Session) -> None:
    """PostgreSQL itself raises SQLSTATE 40001; SQLite has no such thing (a stale row)."""
    if session.get_bind().dialect.name != "postgresql":
        raise StaleDataError("UPDATE statement on table 'tickets' expected to update 1 row(s)")
    session.execute(text("DO $$ BEGIN RAISE EXCEPTION 'lost' USING ERRCODE = '40001'; END $$"))


FAILURES: dict[str, Any] = {
    "stale": lambda _s: (_ for _ in ()).throw(DATABASE_ERRORS["stale"]),
    "locked": lambda _s: (_ for _ in ()).throw(DATABASE_ERRORS["locked"]),
    "stale-ticket": lambda _s: (_ for _ in ()).throw(StaleTicketError(1, 3)),
    "serialization": _serialization_failure,
}


@pytest.fixture
def app(settings: Settings, api_engine: Engine, users: None) -> FastAPI:
    app = create_app(settings, engine=api_engine)
    app.state.attempts = []

    def flaky(kind: str, failures: int, body: Note, session: Session) -> dict[str, Any]:
        app.state.attempts.append(body.text)
        session.add(Region(code=f"R{len(app.state.attempts)}", name="Written", lat=0, lon=0))
        session.flush()
        if len(app.state.attempts) <= failures:
            FAILURES[kind](session)
        return {"attempts": len(app.state.attempts), "text": body.text}

    @app.post("/test/flaky/{kind}", dependencies=[requires(Role.ADMIN)])
    def post(kind: str, body: Note, session: SessionDep, failures: int = 1) -> dict[str, Any]:
        return flaky(kind, failures, body, session)

    @app.put("/test/flaky/{kind}", dependencies=[requires(Role.ADMIN)])
    def put(kind: str, body: Note, session: SessionDep, failures: int = 1) -> dict[str, Any]:
        return flaky(kind, failures, body, session)

    return app


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def _regions(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Region)) or 0


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_a_keyed_request_is_run_once_more_and_starts_clean(
    client: TestClient, app: FastAPI, api_engine: Engine, kind: str
) -> None:
    response = client.post(f"/test/flaky/{kind}", json={"text": "hello"}, headers=KEYED)
    assert response.status_code == 200, response.text
    assert response.json() == {"attempts": 2, "text": "hello"}  # the body, read again
    assert response.headers["Spares-Retried"] == "1"
    assert _regions(api_engine) == 1  # the first attempt's row was rolled back


def test_a_put_is_idempotent_without_a_key(client: TestClient, api_engine: Engine) -> None:
    response = client.put("/test/flaky/stale", json={"text": "x"}, headers=ADMIN)
    assert response.status_code == 200, response.text
    assert _regions(api_engine) == 1


def test_an_expected_version_makes_a_request_idempotent(client: TestClient) -> None:
    headers = ADMIN | {"If-Match": '"3"'}
    response = client.post("/test/flaky/stale-ticket", json={"text": "x"}, headers=headers)
    assert response.status_code == 200, response.text


def test_a_plain_post_answers_at_once(client: TestClient, app: FastAPI) -> None:
    for kind, status in (("stale", 409), ("locked", 503)):
        response = client.post(f"/test/flaky/{kind}?failures=5", json={"text": "x"}, headers=ADMIN)
        assert_problem(response, status)
    assert len(app.state.attempts) == 2  # one each


@pytest.mark.parametrize(("kind", "status"), [("stale", 409), ("locked", 503)])
def test_only_once(
    client: TestClient, app: FastAPI, api_engine: Engine, kind: str, status: int
) -> None:
    url = f"/test/flaky/{kind}?failures=5"
    assert_problem(client.post(url, json={"text": "x"}, headers=KEYED), status)
    assert len(app.state.attempts) == 2
    assert _regions(api_engine) == 0


def test_other_failures_are_not_retried(client: TestClient, app: FastAPI) -> None:
    response = client.post("/test/flaky/stale", json={"text": 1}, headers=KEYED)
    assert_problem(response, 422)
    assert app.state.attempts == []
