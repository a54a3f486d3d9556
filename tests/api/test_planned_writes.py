"""Stock writes answer exactly as FastAPI's own handler did (api.fastpath plans their
dependencies once per route): the same validation errors gathered from every parameter,
the same body parsing, the same headers. Written and passed against FastAPI's handler first.
"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api import fastpath
from api.idempotency import StockWriteRoute
from db.identity import Role
from tests.api.conftest import World, auth

_keys = itertools.count(1)


def headers(role: Role = Role.WAREHOUSE, **more: str) -> dict[str, str]:
    return auth(role) | {"Idempotency-Key": f"planned-{next(_keys)}"} | more


def locations(got: Any) -> list[list[Any]]:
    assert got.status_code == 422, got.text
    return sorted(e["location"] for e in got.json()["errors"])


def receive(client: TestClient, world: World, qty: int = 3) -> None:
    body = {"depot_id": world["dgz"], "part_id": world["psu"], "quantity": qty}
    assert client.post("/v1/receipts", json=body, headers=headers()).status_code == 201


@pytest.mark.usefixtures("world")
class TestPlannedStockWrites:
    def test_errors_from_the_query_and_the_body_come_in_one_answer(
        self, client: TestClient, world: World
    ) -> None:
        got = client.post(
            "/v1/reservations?tz=" + "x" * 65, json={"depot_id": world["dgz"]}, headers=headers()
        )
        assert locations(got) == [["body", "lines"], ["query", "tz"]]

    def test_a_header_too_long_is_a_422_naming_it(self, client: TestClient, world: World) -> None:
        body = {"depot_id": world["dgz"], "lines": [{"part_id": world["psu"], "quantity": 1}]}
        got = client.post("/v1/reservations", json=body, headers=headers(**{"Time-Zone": "y" * 65}))
        assert locations(got) == [["header", "Time-Zone"]]

    def test_a_header_at_its_bound_reaches_the_dependency(
        self, client: TestClient, world: World
    ) -> None:
        # 64 characters pass the length check unvalidated; the zone itself is then unknown.
        body = {"depot_id": world["dgz"], "lines": [{"part_id": world["psu"], "quantity": 1}]}
        got = client.post("/v1/reservations", json=body, headers=headers(**{"Time-Zone": "y" * 64}))
        assert got.status_code == 422, got.text
        [error] = got.json()["errors"]
        assert (error["location"], error["type"]) == (["header", "Time-Zone"], "value_error")

    def test_a_replayed_reservation_answers_the_first_answer(
        self, client: TestClient, world: World
    ) -> None:
        receive(client, world)
        body = {"depot_id": world["dgz"], "lines": [{"part_id": world["psu"], "quantity": 1}]}
        sent = headers(**{"Time-Zone": "UTC"})
        first = client.post("/v1/reservations", json=body, headers=sent)
        again = client.post("/v1/reservations", json={**body}, headers=sent)
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"

    def test_invalid_json_is_a_422_at_its_position(self, client: TestClient) -> None:
        got = client.post(
            "/v1/reservations",
            content=b'{"depot_id": 1,',
            headers=headers() | {"Content-Type": "application/json"},
        )
        assert got.status_code == 422
        [error] = got.json()["errors"]
        assert error["type"] == "json_invalid"
        assert error["location"] == ["body", 15]

    def test_no_body_is_a_422_for_the_missing_body(self, client: TestClient) -> None:
        got = client.post("/v1/reservations", headers=headers())
        assert locations(got) == [["body"]]

    def test_a_json_null_body_is_a_422_for_the_body(self, client: TestClient) -> None:
        got = client.post(
            "/v1/reservations",
            content=b"null",
            headers=headers() | {"Content-Type": "application/json"},
        )
        assert locations(got) == [["body"]]

    def test_a_path_id_out_of_range_is_a_422_with_the_body_errors(self, client: TestClient) -> None:
        got = client.post(
            "/v1/reservations/99999999999999999999/pick",
            json={"transit_min": "soon"},
            headers=headers(),
        )
        assert locations(got) == [["body", "transit_min"], ["path", "reservation_id"]]

    def test_a_reservation_answers_201_with_its_zone_and_request_id(
        self, client: TestClient, world: World
    ) -> None:
        receive(client, world)
        body = {"depot_id": world["dgz"], "lines": [{"part_id": world["psu"], "quantity": 1}]}
        got = client.post(
            "/v1/reservations",
            json=body,
            headers=headers(**{"Time-Zone": "Asia/Shanghai", "X-Request-ID": "planned-1"}),
        )
        assert got.status_code == 201, got.text
        assert got.headers["Time-Zone"] == "Asia/Shanghai"
        assert got.headers["X-Request-ID"] == "planned-1"
        assert got.headers["content-type"] == "application/json"
        assert int(got.headers["content-length"]) == len(got.content)
        [held] = got.json()
        assert held["quantity"] == 1
        assert held["expires_at"].endswith("+08:00")

    def test_a_release_answers_200_with_the_reservation(
        self, client: TestClient, world: World
    ) -> None:
        receive(client, world)
        body = {"depot_id": world["dgz"], "lines": [{"part_id": world["psu"], "quantity": 1}]}
        [held] = client.post("/v1/reservations", json=body, headers=headers()).json()
        got = client.post(
            f"/v1/reservations/{held['id']}/release", json={"reason": "r"}, headers=headers()
        )
        assert got.status_code == 200, got.text
        assert got.json()["id"] == held["id"]

    def test_the_wrong_role_with_a_bad_body_learns_nothing_of_the_body(
        self, client: TestClient
    ) -> None:
        got = client.post(
            "/v1/reservations", json={"nonsense": True}, headers=headers(Role.ENGINEER)
        )
        assert got.status_code == 403

    def test_no_key_with_a_bad_body_is_401(self, client: TestClient) -> None:
        got = client.post("/v1/reservations", json={"nonsense": True})
        assert got.status_code == 401


def test_the_installed_fastapi_serves_every_stock_write_by_its_plan(app: FastAPI) -> None:
    """api.fastpath reads FastAPI internals and falls back to FastAPI's own handler (same
    answers, slower) when an upgrade moves them: this test is what notices the fallback."""
    assert fastpath.AVAILABLE, "FastAPI moved what api.fastpath imports: plain handlers serve"
    writes = [
        route
        for included in app.router.routes
        for route in getattr(included, "original_router", included).routes
        if isinstance(route, StockWriteRoute)
    ]
    assert len(writes) >= 18  # receipts, reservations, picks, transfers, returns, swaps...
    unplanned = [r.path for r in writes if fastpath.compile_handler(r, _never) is None]
    assert unplanned == []


async def _never(request: Any) -> Any:
    raise AssertionError("the plan, not the fallback, is asked for here")


@pytest.mark.parametrize(
    "path",
    ["/v1/reservations", "/v1/reservations/12/release", "/", "/é", "/a%20b", "//x", "/a?b",
     "/a#b", "/a\\b", "/a b", "/a\tb", "/a\nb", "/a\x7fb", "/ a", "*", ""],
)  # fmt: skip
def test_the_key_fingerprints_the_path_the_request_url_gives(path: str) -> None:
    """The claim reads a plain path straight from the scope: it must be what `request.url.path`
    gives (what fingerprints hashed before), or a key's replay would read as a reuse."""
    from starlette.requests import Request

    from api.idempotency import _url_path

    scope = {"type": "http", "method": "POST", "path": path, "root_path": "", "scheme": "http",
             "query_string": b"", "server": ("127.0.0.1", 8000),
             "headers": [(b"host", b"127.0.0.1:8000")]}  # fmt: skip
    assert _url_path(Request(scope)) == Request(scope).url.path


@pytest.mark.parametrize(
    ("content_type", "json"),
    [("application/json", True), ("application/json; charset=utf-8", True),
     ("Application/JSON", True), ("application/problem+json", True), ("text/json", False),
     ("application/x-www-form-urlencoded", False), ("text/plain", False), ("nonsense", False),
     ("application/jsonx", False)],
)  # fmt: skip
def test_a_body_is_json_by_the_content_type_fastapi_reads_as_json(
    content_type: str, json: bool
) -> None:
    assert fastpath._is_json(content_type) is json
