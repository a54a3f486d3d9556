"""`/v1/dispatch/plans` and `/v1/jobs`: plans at once or as jobs, JSON and GeoJSON, refusals."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import optimizer as opt
from db import Role, make_sessionmaker
from spares.worker import Worker, handlers
from tests.api.conftest import TestClient
from tests.builders import key_for
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0

DISPATCHER = {"X-API-Key": key_for(Role.DISPATCHER)}
# Deterministic: the search stops on rejected moves, never on the clock.
LIMITS = {"failure_limit": 200}


@dataclass
class Ids:
    region: int
    ticket: int


@pytest.fixture
def ids(api_engine: Engine) -> Ids:
    with Session(api_engine) as s, s.begin():
        dw = make_dispatch_world(s)
        return Ids(dw.base.region.id, dw.ticket.id)


@pytest.fixture
def client(client: TestClient, app: FastAPI) -> TestClient:
    app.state.clock = lambda: T0
    return client


def _plan(client: TestClient, **body: object) -> dict[str, object]:
    response = client.post("/v1/dispatch/plans", json=LIMITS | body, headers=DISPATCHER)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/dispatch/plans/{response.json()['id']}"
    result: dict[str, object] = response.json()
    return result


def test_a_small_region_is_planned_at_once(client: TestClient, ids: Ids) -> None:
    body = _plan(client, region_id=ids.region)
    assert body["stage"] == "draft"
    assert body["ticket_ids"] == [ids.ticket]
    assert body["feasible"] is True
    assert body["violations"] == []
    routes = body["routes"]
    assert isinstance(routes, list)
    (route,) = routes
    assert [s["ticket_id"] for s in route["stops"] if s["kind"] == "visit"] == [ids.ticket]
    assert route["stops"][0]["arrives_at"] > T0.isoformat()
    kpis = body["kpis"]
    assert isinstance(kpis, dict)
    assert kpis["served"] == 1
    assert {"travel_min", "distance_km", "overtime_min", "promises"} <= set(kpis)
    assert body["quality"] in {q.value for q in opt.PlanQuality}
    again = client.get(f"/v1/dispatch/plans/{body['id']}", headers=DISPATCHER)
    assert again.json() == body


def test_a_plan_as_geojson_two_ways(client: TestClient, ids: Ids) -> None:
    plan_id = _plan(client, ticket_ids=[ids.ticket])["id"]
    for url in (f"/v1/dispatch/plans/{plan_id}.geojson",
                f"/v1/dispatch/plans/{plan_id}?format=geojson"):  # fmt: skip
        response = client.get(url, headers=DISPATCHER)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/geo+json"
        fc = response.json()
        assert fc["type"] == "FeatureCollection"
        kinds = {f["geometry"]["type"] for f in fc["features"]}
        assert kinds == {"LineString", "Point"}
        for feature in fc["features"]:
            coords = feature["geometry"]["coordinates"]
            points = coords if feature["geometry"]["type"] == "LineString" else [coords]
            assert all(113 < lon < 114 and 22 < lat < 24 for lon, lat in points)


def test_a_large_request_gets_a_job_that_the_worker_runs(
    client: TestClient, ids: Ids, api_engine: Engine
) -> None:
    response = client.post(
        "/v1/dispatch/plans",
        json={"ticket_ids": [ids.ticket], "time_limit_s": 30},
        headers=DISPATCHER,
    )
    assert response.status_code == 202, response.text
    job = response.json()
    assert response.headers["location"] == job["url"] == f"/v1/jobs/{job['id']}"
    assert (job["status"], job["result_url"]) == ("queued", None)
    # The worker makes it deterministic here: the payload's time limit is swapped for a
    # failure limit before it runs (a wall-clock run of 30 s would slow the suite).
    with Session(api_engine) as s, s.begin():
        from db.jobs import Job

        row = s.get(Job, job["id"])
        assert row is not None
        row.payload = row.payload | {"time_limit_s": None, "failure_limit": 200}
    worker = Worker(make_sessionmaker(api_engine), handlers(opt.GeodesicTravelTimes()),
                    clock=lambda: T0)  # fmt: skip
    assert str(worker.run_once()) == "done"
    polled = client.get(job["url"], headers=DISPATCHER).json()
    assert (polled["status"], polled["progress"], polled["attempts"]) == ("done", 1.0, 1)
    plan = client.get(polled["result_url"], headers=DISPATCHER)
    assert plan.status_code == 200
    assert plan.json()["job_id"] == job["id"]
    assert plan.json()["ticket_ids"] == [ids.ticket]


def test_a_queued_job_can_be_cancelled(client: TestClient, ids: Ids) -> None:
    job = client.post("/v1/dispatch/plans", json={"ticket_ids": [ids.ticket], "time_limit_s": 30},
                      headers=DISPATCHER).json()  # fmt: skip
    cancelled = client.post(f"/v1/jobs/{job['id']}/cancel", headers=DISPATCHER)
    assert cancelled.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"region_id": 987_654}, 422),
        ({"ticket_ids": []}, 422),
        ({"ticket_ids": [987_654]}, 422),
        ({"region_id": 1, "ticket_ids": [1]}, 422),
        ({"ticket_ids": [1], "time_limit_s": 100_000}, 422),
        ({"ticket_ids": [1], "color": "red"}, 422),
    ],
)
def test_bad_requests_are_problems(
    client: TestClient, ids: Ids, body: dict[str, object], status: int
) -> None:
    response = client.post("/v1/dispatch/plans", json=body, headers=DISPATCHER)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_ticket_that_is_not_open_is_refused_by_name(
    client: TestClient, ids: Ids, api_engine: Engine
) -> None:
    with Session(api_engine) as s, s.begin():
        from dispatch.models import Ticket, TicketStatus

        ticket = s.get(Ticket, ids.ticket)
        assert ticket is not None
        ticket.status = TicketStatus.RESOLVED_REMOTELY
    response = client.post("/v1/dispatch/plans", json={"ticket_ids": [ids.ticket]},
                           headers=DISPATCHER)  # fmt: skip
    assert response.status_code == 422
    assert response.json()["ticket_ids"] == [ids.ticket]
    assert response.json()["type"] == "urn:spares:problem:invalid-plan-request"


def test_unknown_plan_and_job_are_404(client: TestClient, ids: Ids) -> None:
    for url in ("/v1/dispatch/plans/987654", "/v1/dispatch/plans/987654.geojson",
                "/v1/jobs/987654"):  # fmt: skip
        response = client.get(url, headers=DISPATCHER)
        assert response.status_code == 404, url
        assert response.headers["content-type"] == "application/problem+json"
