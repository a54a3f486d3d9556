"""Input bounded in one place: ids, NUL, instants; and the key and role checked before the body.

Each of these was a 500 on PostgreSQL (integer out of range, NUL in text) or on both
databases (OverflowError at the calendar's edges), or a 422 that showed a caller without
a key the body a route expects.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.deps import route_table
from api.settings import Settings
from db.identity import Role
from tests.api.conftest import TestClient, World, auth, delete_all_rows
from tests.api.test_errors import assert_problem
from tests.builders import make_region, make_user

DISPATCHER = auth(Role.DISPATCHER)
ADMIN = auth(Role.ADMIN)
HUGE = 3464308791686906880
BODY_METHODS = {"POST", "PUT", "PATCH"}


def _guarded_writes(app: FastAPI) -> list[tuple[str, str, frozenset[Role]]]:
    rows = []
    for route in route_table(app):
        (access,) = route.declarations
        if access == "public":
            continue
        for method in sorted(route.methods & BODY_METHODS):
            rows.append((method, route.path.replace("{", "").replace("}", ""), access))
    return rows


def _concrete(path: str) -> str:
    """A path template with every parameter set to 1 (`plan_id.geojson` stays a name)."""
    return "/".join("1" if p.endswith("_id") else p for p in path.split("/"))


def _media(path: str) -> str:
    """The type a route's body is sent as (a body of another type is a 415 before anything)."""
    return "application/zip" if path == "/v1/world/import" else "application/json"


@pytest.mark.usefixtures("world")
class TestAccessBeforeBody:
    def test_no_key_and_a_malformed_body_is_401_on_every_write(
        self, client: TestClient, app: FastAPI
    ) -> None:
        writes = _guarded_writes(app)
        assert len(writes) > 40
        for method, path, _ in writes:
            response = client.request(method, _concrete(path), content=b"{not json",
                                      headers={"Content-Type": _media(path)})  # fmt: skip
            assert response.status_code == 401, (method, path, response.text)
            assert "errors" not in response.json()

    def test_a_wrong_role_with_a_malformed_body_is_403(
        self, client: TestClient, app: FastAPI
    ) -> None:
        for method, path, roles in _guarded_writes(app):
            outsider = next(r for r in Role if r not in roles)
            headers = auth(outsider) | {"Content-Type": _media(path)}
            response = client.request(method, _concrete(path), content=b"[", headers=headers)
            assert response.status_code == 403, (method, path, response.text)

    def test_an_admitted_key_still_learns_what_is_wrong(self, client: TestClient) -> None:
        headers = DISPATCHER | {"Content-Type": "application/json"}
        body = assert_problem(client.post("/v1/tickets", content=b"{", headers=headers), 422)
        assert body["errors"]


@pytest.mark.usefixtures("world")
class TestIds:
    @pytest.mark.parametrize(
        ("method", "url", "location"),
        [
            ("GET", f"/v1/tickets/{HUGE}", ["path", "ticket_id"]),
            ("GET", f"/v1/regions?after={2**31}", ["query", "after"]),
            ("GET", f"/v1/engineers?region_id={2**40}", ["query", "region_id"]),
            ("POST", f"/v1/dispatch/assignments/{HUGE}/pin", ["path", "assignment_id"]),
        ],
    )
    def test_beyond_the_column_is_422(
        self, client: TestClient, method: str, url: str, location: list[str]
    ) -> None:
        body = assert_problem(client.request(method, url, headers=DISPATCHER), 422)
        assert [e["location"] for e in body["errors"]] == [location]

    def test_in_a_body(self, client: TestClient, world: World) -> None:
        body = {"ticket_id": HUGE, "engineer_id": world["e1"]}
        headers = DISPATCHER | {"Idempotency-Key": "huge"}
        problem = assert_problem(client.post("/v1/dispatch/assignments", json=body,
                                             headers=headers), 422)  # fmt: skip
        assert [e["location"] for e in problem["errors"]] == [["body", "ticket_id"]]


@pytest.mark.usefixtures("world")
class TestNul:
    def test_in_a_body_is_422_naming_the_field(self, client: TestClient, world: World) -> None:
        body = {"code": "D-\x00", "name": "ok", "kind": "regional", "region_id": world["gz"],
                "lat": 23.1, "lon": 113.3}  # fmt: skip
        problem = assert_problem(client.post("/v1/depots", json=body, headers=ADMIN), 422)
        assert problem["errors"][0]["location"] == ["body", "code"]
        assert problem["errors"][0]["type"] == "string_nul"

    def test_nested_and_in_a_query(self, client: TestClient, world: World) -> None:
        body = {"site_id": world["s1"], "ticket_type_id": 1, "severity": "urgent",
                "channel": "phone", "description": "ok", "parts": [],
                "skills": [{"product_line_id": 1, "note\x00": 1}]}  # fmt: skip
        problem = assert_problem(client.post("/v1/tickets", json=body, headers=DISPATCHER), 422)
        assert problem["errors"][0]["location"] == ["body", "skills", 0, "note\x00"]
        problem = assert_problem(client.get("/v1/parts?q=a%00b", headers=DISPATCHER), 422)
        assert problem["errors"][0]["location"] == ["query", "q"]


@pytest.mark.usefixtures("world")
class TestInstants:
    @pytest.mark.parametrize("instant", ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"])
    def test_at_the_calendars_edges_is_422(
        self, client: TestClient, world: World, instant: str
    ) -> None:
        sent: list[tuple[str, dict[str, Any], list[Any]]] = [
            ("/v1/dispatch/recommendations", {"ticket_id": 1, "as_of": instant},
             ["body", "as_of"]),
            ("/v1/tickets", {"site_id": world["s1"], "ticket_type_id": 1, "severity": "urgent",
                             "channel": "phone", "agreed_arrival_at": instant},
             ["body", "agreed_arrival_at"]),
            ("/v1/dispatch/plans", {"ticket_ids": [1], "as_of": instant}, ["body", "as_of"]),
        ]  # fmt: skip
        for url, body, location in sent:
            problem = assert_problem(client.post(url, json=body, headers=DISPATCHER), 422)
            assert location in [e["location"] for e in problem["errors"]], (url, problem)

    def test_a_day_at_the_edge_is_422(self, client: TestClient, world: World) -> None:
        body = {"code": "C-OLD", "customer_name": "x", "policy_id": world["std"],
                "starts_on": "0001-01-01"}  # fmt: skip
        problem = assert_problem(client.post("/v1/contracts", json=body, headers=ADMIN), 422)
        assert [e["location"] for e in problem["errors"]] == [["body", "starts_on"]]


@pytest.mark.usefixtures("world")
class TestBodySize:
    def test_a_declared_oversized_body_is_413_before_it_is_read(self, client: TestClient) -> None:
        big = b"{" + b" " * (2**20) + b"}"
        headers = DISPATCHER | {"Content-Type": "application/json"}
        problem = assert_problem(client.post("/v1/tickets", content=big, headers=headers), 413)
        assert problem["limit"] == 2**20

    def test_a_chunked_body_is_counted_as_it_arrives(self, client: TestClient) -> None:
        def chunks() -> Any:
            for _ in range(40):
                yield b" " * 2**15

        headers = DISPATCHER | {"Content-Type": "application/json"}
        assert_problem(client.post("/v1/tickets", content=chunks(), headers=headers), 413)

    def test_without_a_key_it_is_413_too(self, client: TestClient) -> None:
        big = b"x" * (2**20 + 1)
        assert_problem(client.post("/v1/tickets", content=big), 413)


@pytest.mark.usefixtures("world")
class TestServiceArea:
    """The world's regions span 22.54-23.35 N, 113.26-116.68 E; the margin is 1 degree."""

    def test_a_site_far_outside_is_422_naming_the_field(
        self, client: TestClient, world: World
    ) -> None:
        body = {"code": "S-SH", "name": "Shanghai", "region_id": world["gz"],
                "contract_id": world["c1"], "lat": 31.23, "lon": 121.47}  # fmt: skip
        problem = assert_problem(client.post("/v1/sites", json=body, headers=ADMIN), 422)
        assert [e["location"] for e in problem["errors"]] == [["body", "lat"], ["body", "lon"]]
        assert {e["type"] for e in problem["errors"]} == {"service_area"}
        inside = client.post("/v1/sites", json=body | {"lat": 24.2, "lon": 112.4}, headers=ADMIN)
        assert inside.status_code == 201, inside.text  # within the margin

    def test_every_coordinate_field_is_checked(self, client: TestClient, world: World) -> None:
        body = {"code": "E-X", "name": "X", "region_id": world["gz"], "home_lat": 23.1,
                "home_lon": 13.3}  # fmt: skip
        problem = assert_problem(client.post("/v1/engineers", json=body, headers=ADMIN), 422)
        assert [e["location"] for e in problem["errors"]] == [["body", "home_lon"]]
        url = f"/v1/depots/{world['dgz']}"
        problem = assert_problem(client.patch(url, json={"lat": 0.0}, headers=ADMIN), 422)
        assert [e["location"] for e in problem["errors"]] == [["body", "lat"]]

    def test_the_margin_is_a_setting(self, client: TestClient, world: World, app: FastAPI) -> None:
        app.state.settings = app.state.settings.model_copy(update={"service_area_margin_deg": None})
        body = {"code": "S-SH", "name": "Shanghai", "region_id": world["gz"],
                "contract_id": world["c1"], "lat": 31.23, "lon": 121.47}  # fmt: skip
        assert client.post("/v1/sites", json=body, headers=ADMIN).status_code == 201


def test_the_area_a_previous_test_looked_up_does_not_outlive_its_regions(
    app: FastAPI, api_engine: Engine, settings: Settings, request: pytest.FixtureRequest
) -> None:
    """The suite shares one app and empties the tables behind its back: the next test's
    client must not validate against the box the last test's regions cached (up to a minute)."""
    with Session(api_engine) as s, s.begin():  # an earlier test: one region near Beijing
        make_user(s, Role.ADMIN)
        make_region(s, code="BJ", name="Beijing", lat=39.9, lon=116.4)
    app.state.settings = settings  # no client fixture here to forget the last test's changes
    app.state.service_area.clear()
    with TestClient(app) as earlier:  # a body with a coordinate: the area 38.9-40.9 N cached
        problem = assert_problem(earlier.post("/v1/sites", json={"lat": 24.2}, headers=ADMIN), 422)
        assert ["body", "lat"] in [e["location"] for e in problem["errors"]]
    delete_all_rows(api_engine)  # as api_engine does between tests
    client: TestClient = request.getfixturevalue("client")
    world: World = request.getfixturevalue("world")  # regions 22.54-23.35 N
    body = {"code": "S-X", "name": "X", "region_id": world["gz"], "contract_id": world["c1"],
            "lat": 24.2, "lon": 112.4}  # fmt: skip
    response = client.post("/v1/sites", json=body, headers=ADMIN)
    assert response.status_code == 201, response.text


def test_a_setting_a_previous_test_swapped_in_does_not_outlive_it(
    app: FastAPI, request: pytest.FixtureRequest
) -> None:
    """A test that turned the area check off on the shared app must not turn it off for the
    tests after it."""
    app.state.settings = app.state.settings.model_copy(update={"service_area_margin_deg": None})
    client: TestClient = request.getfixturevalue("client")
    world: World = request.getfixturevalue("world")
    body = {"code": "S-SH", "name": "Shanghai", "region_id": world["gz"],
            "contract_id": world["c1"], "lat": 31.23, "lon": 121.47}  # fmt: skip
    assert_problem(client.post("/v1/sites", json=body, headers=ADMIN), 422)


@pytest.mark.usefixtures("world")
class TestMediaType:
    def test_a_body_of_another_type_is_415_naming_json(self, client: TestClient) -> None:
        headers = DISPATCHER | {"Content-Type": "text/plain"}
        problem = assert_problem(client.post("/v1/tickets", content=b"hi", headers=headers), 415)
        assert problem["accepted"] == ["application/json"]
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        assert_problem(client.patch("/v1/tickets/1", content=b"a=1", headers=ADMIN | form), 415)

    def test_json_types_and_no_type_are_read(self, client: TestClient, world: World) -> None:
        body = b'{"site_id": %d}' % world["s1"]
        for content_type in ("application/json; charset=utf-8", "application/problem+json"):
            headers = DISPATCHER | {"Content-Type": content_type}
            response = client.post("/v1/tickets", content=body, headers=headers)
            assert response.status_code == 422, response.text  # read, then found incomplete

    def test_the_import_takes_a_zip_only(self, client: TestClient) -> None:
        headers = ADMIN | {"Content-Type": "application/json"}
        problem = assert_problem(client.post("/v1/world/import", content=b"{}", headers=headers),
                                 415)  # fmt: skip
        assert "application/zip" in problem["accepted"]
