"""Every error is RFC 9457 problem+json; the request session commits or rolls back as a whole."""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import Engine, func, select
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from api.app import create_app
from api.deps import SessionDep, requires
from api.settings import Settings
from db.identity import Role
from dispatch.errors import DispatchError
from inventory.errors import InventoryError, NotFoundError
from inventory.models import Region
from tests.api.conftest import TestClient, auth

STANDARD = {"type", "title", "status", "detail", "instance"}


class _Orig(Exception):
    """A driver exception as psycopg raises it: a SQLSTATE and diagnostics."""

    def __init__(self, message: str, sqlstate: str | None = None, **diag: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate
        self.diag = SimpleNamespace(**diag)


DATABASE_ERRORS: dict[str, Exception] = {
    "locked": sa_exc.OperationalError("INSERT", {}, _Orig("database is locked")),
    "pool": sa_exc.TimeoutError("QueuePool limit of size 5 overflow 10 reached"),
    "stale": StaleDataError("UPDATE statement on table 'tickets' expected to update 1 row(s)"),
    "unique": sa_exc.IntegrityError("INSERT", {}, _Orig(
        "duplicate key", "23505", table_name="contracts", constraint_name="uq_contracts_code",
        message_detail="Key (code)=(C-1) already exists.")),
    "sqlite-unique": sa_exc.IntegrityError(
        "INSERT", {}, _Orig("UNIQUE constraint failed: users.name")),
    "foreign-key": sa_exc.IntegrityError("INSERT", {}, _Orig("FOREIGN KEY constraint failed")),
    "other": sa_exc.OperationalError("SELECT", {}, _Orig("disk I/O error")),
}  # fmt: skip
ADMIN = auth(Role.ADMIN)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    """The response is problem+json with the standard members and this status."""
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body.keys() >= STANDARD
    assert body["status"] == status
    return body


class RegionIn(BaseModel):
    code: str = Field(min_length=2)
    lat: float = Field(ge=-90, le=90)


def _test_app(settings: Settings, engine: Engine) -> FastAPI:
    """The real app plus routes that exist only here, to provoke each kind of failure."""
    app = create_app(settings, engine=engine)
    admin = [requires(Role.ADMIN)]

    @app.post("/test/body", dependencies=admin)
    def body(payload: RegionIn) -> dict[str, str]:
        return {"code": payload.code}

    @app.get("/test/boom", dependencies=admin)
    def boom() -> None:
        raise RuntimeError("secret internals: password=hunter2")

    @app.post("/test/write", dependencies=admin)
    def write(session: SessionDep, fail: bool = False) -> dict[str, bool]:
        session.add(Region(code="WRITTEN", name="Written", lat=0, lon=0))
        session.flush()
        if fail:
            raise NotFoundError("Thing", 7)
        return {"written": True}

    @app.get("/test/conflict/{package}", dependencies=admin)
    def conflict(package: str) -> None:
        raise InventoryError("no") if package == "inventory" else DispatchError("no")

    @app.get("/test/database/{kind}", dependencies=admin)
    def database(kind: str) -> None:
        raise DATABASE_ERRORS[kind]

    return app


@pytest.fixture
def test_client(settings: Settings, api_engine: Engine, users: None) -> Iterator[TestClient]:
    # Unexpected exceptions are re-raised by Starlette after the 500 is sent; see them as 500s.
    app = _test_app(settings, api_engine)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.mark.usefixtures("users")
class TestFrameworkErrors:
    def test_unknown_route_is_404(self, client: TestClient) -> None:
        body = assert_problem(client.get("/v1/nothing-here", headers=ADMIN), 404)
        assert body["instance"] == "/v1/nothing-here"
        assert body["type"] == "about:blank"

    def test_wrong_method_is_405_with_allow(self, client: TestClient) -> None:
        response = client.delete("/v1/regions", headers=ADMIN)
        assert_problem(response, 405)
        assert response.headers["Allow"] == "GET"

    def test_missing_entity_is_404_naming_it(self, client: TestClient) -> None:
        body = assert_problem(client.get("/v1/depots/999", headers=ADMIN), 404)
        assert body["entity"] == "Depot"
        assert body["key"] == 999

    def test_missing_dispatch_entity_is_404(self, client: TestClient) -> None:
        body = assert_problem(client.get("/v1/contracts/5", headers=ADMIN), 404)
        assert body["entity"] == "Contract"


@pytest.mark.usefixtures("users")
class TestBadQueryParameters:
    @pytest.mark.parametrize(
        ("url", "location"),
        [
            ("/v1/regions?limit=-1", ["query", "limit"]),
            ("/v1/regions?limit=0", ["query", "limit"]),
            ("/v1/regions?limit=100000", ["query", "limit"]),
            ("/v1/regions?limit=ten", ["query", "limit"]),
            ("/v1/regions?after=-5", ["query", "after"]),
            (f"/v1/regions?after={2**70}", ["query", "after"]),
            ("/v1/depots?kind=warehouse", ["query", "kind"]),
            ("/v1/depots?region_id=abc", ["query", "region_id"]),
            ("/v1/engineers?min_level=4", ["query", "min_level"]),
            ("/v1/sites?rural=perhaps", ["query", "rural"]),
            ("/v1/parts?q=", ["query", "q"]),
            ("/v1/regions/abc", ["path", "region_id"]),
            (f"/v1/regions/{2**70}", ["path", "region_id"]),
        ],
    )
    def test_is_422_naming_the_field(
        self, client: TestClient, url: str, location: list[str]
    ) -> None:
        body = assert_problem(client.get(url, headers=ADMIN), 422)
        assert [e["location"] for e in body["errors"]] == [location]
        assert all(e["message"] for e in body["errors"])

    def test_every_bad_field_is_listed(self, client: TestClient) -> None:
        body = assert_problem(client.get("/v1/depots?limit=-1&kind=x", headers=ADMIN), 422)
        locations = {tuple(e["location"]) for e in body["errors"]}
        assert locations == {("query", "limit"), ("query", "kind")}


class TestWithTestRoutes:
    def test_invalid_body_is_422_per_field(self, test_client: TestClient) -> None:
        response = test_client.post("/test/body", json={"code": "x", "lat": 91}, headers=ADMIN)
        body = assert_problem(response, 422)
        locations = {tuple(e["location"]) for e in body["errors"]}
        assert locations == {("body", "code"), ("body", "lat")}

    def test_unexpected_exception_is_500_without_internals(
        self, test_client: TestClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        response = test_client.get("/test/boom", headers=ADMIN)
        body = assert_problem(response, 500)
        assert "hunter2" not in response.text
        assert "Traceback" not in response.text
        assert body["instance"] == "/test/boom"
        assert any("hunter2" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)

    @pytest.mark.parametrize("package", ["inventory", "dispatch"])
    def test_domain_conflict_is_409(self, test_client: TestClient, package: str) -> None:
        assert_problem(test_client.get(f"/test/conflict/{package}", headers=ADMIN), 409)

    @pytest.mark.parametrize(
        ("kind", "status", "problem", "extra"),
        [
            ("locked", 503, "busy", {}),
            ("pool", 503, "busy", {}),
            ("stale", 409, "stale-row", {}),
            ("unique", 409, "duplicate", {"field": "code", "value": "C-1"}),
            ("sqlite-unique", 409, "duplicate", {"field": "name", "value": None}),
            ("foreign-key", 409, "constraint-conflict", {}),
        ],
    )
    def test_database_races_and_busy_are_never_500(
        self, test_client: TestClient, kind: str, status: int, problem: str,
        extra: dict[str, Any],
    ) -> None:  # fmt: skip
        response = test_client.get(f"/test/database/{kind}", headers=ADMIN)
        body = assert_problem(response, status)
        assert body["type"] == f"urn:spares:problem:{problem}"
        assert body.items() >= extra.items()
        if status == 503:
            assert response.headers["Retry-After"] == "2"  # the setting's default

    def test_other_database_failures_stay_500(self, test_client: TestClient) -> None:
        assert_problem(test_client.get("/test/database/other", headers=ADMIN), 500)

    def test_a_successful_request_commits(
        self, test_client: TestClient, api_engine: Engine
    ) -> None:
        assert test_client.post("/test/write", headers=ADMIN).status_code == 200
        assert _regions(api_engine) == 1

    def test_a_failed_request_rolls_back(self, test_client: TestClient, api_engine: Engine) -> None:
        assert_problem(test_client.post("/test/write?fail=true", headers=ADMIN), 404)
        assert _regions(api_engine) == 0


def _regions(engine: Engine) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(Region)) or 0
