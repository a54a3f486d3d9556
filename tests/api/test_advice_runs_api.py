"""POST/GET /v1/advice/runs: capacity advice queued as a job that `spares worker` runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import optimizer as opt
from db import Role, jobs, make_sessionmaker
from spares.worker import Worker, handlers
from tests.api.conftest import TestClient, auth

pytestmark = pytest.mark.usefixtures("users")  # the demo API keys of each role

URL = "/v1/advice/runs"
PLANNER = auth(Role.PLANNER)
T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)
# A tiny advice: a quarter day of the small demo world, one replication, one round.
TINY: dict[str, Any] = {
    "name": "tiny-advice",
    "scenario": {
        "name": "tiny", "horizon_days": 0.25, "replications": 1, "policies": ["naive"],
        "demand": {"tickets_per_day": 20},
    },
    "policy": "naive",
    "targets": [{"kpi": "arrival_attainment", "share": 0.999, "scope": "every_region"}],
    "costs": {"engineer_per_month": {"default": "12000"}},
    "max_rounds": 1,
}  # fmt: skip


def _worker(engine: Engine, reports: Path) -> Worker:
    registry = handlers(opt.GeodesicTravelTimes(), reports=reports)
    return Worker(make_sessionmaker(engine), registry, name="w-test", clock=lambda: T0)


def test_an_advice_is_queued_run_by_the_worker_and_answers_its_plan(
    client: TestClient, api_engine: Engine, tmp_path: Path
) -> None:
    response = client.post(URL, json=TINY, headers=PLANNER)
    assert response.status_code == 202, response.text
    run = response.json()
    assert response.headers["location"] == run["url"] == f"{URL}/{run['id']}"
    assert (run["status"], run["name"], run["plan"], run["charts"]) == (
        "queued", "tiny-advice", None, [],
    )  # fmt: skip
    assert str(_worker(api_engine, tmp_path).run_once()) == "done"
    done = client.get(run["url"], headers=PLANNER).json()
    assert (done["status"], done["progress"]) == ("done", 1.0)
    assert isinstance(done["reached"], bool)
    assert done["advised"]["holds"] == done["reached"]
    assert isinstance(done["plan"], list)
    assert done["plan"] == done["advised"]["changes"]
    today, advised = done["today"], done["advised"]
    assert float(done["cost_vs_today"]) == pytest.approx(
        float(advised["cost"]["total"]) - float(today["cost"]["total"])
    )
    # every_region: one target per region of the world, each saying where it binds
    regions = {t["region"] for t in done["targets"]}
    assert len(regions) > 1
    assert None not in regions
    for t in done["targets"]:
        key = f"{t['kpi']}@{t['scope']}"
        interval = today["attainment"][key]
        assert interval is None or interval["n"] == 1  # one replication: the CI is null
        assert isinstance(t["holds_today"], bool)
    for step in done["steps"]:
        assert step["binding"]
    assert done["log"]
    # no server path on the wire; the frontier chart is served by the API
    assert done["report"] == f"job-{run['id']}"
    assert done["charts"] == ["frontier.png"]
    assert done["chart_urls"] == [f"{run['url']}/charts/frontier.png"]
    assert (tmp_path / done["report"] / "advice.json").exists()
    assert str(tmp_path) not in str(done)
    chart = client.get(done["chart_urls"][0], headers=PLANNER)
    assert (chart.status_code, chart.headers["content-type"]) == (200, "image/png")
    assert chart.content.startswith(b"\x89PNG")
    refused = client.get(f"{run['url']}/charts/advice.json", headers=PLANNER)
    assert refused.status_code == 404
    assert refused.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"targets": []}, "targets"),
        ({"targets": [{"kpi": "tickets", "share": 0.9}]}, "kpi"),
        ({"targets": [{"kpi": "arrival_attainment", "share": 1.5}]}, "share"),
        ({"costs": {"engineer_per_month": {"shenzhen": "1"}}}, "engineer_per_month"),
        ({"max_rounds": 999}, "max_rounds"),
        ({"colour": "red"}, "colour"),
        ({"scenario": "../demo_optimised_vs_naive.yaml"}, "scenario"),
        ({"scenario": {**TINY["scenario"], "base": {"kind": "bundle", "path": "/etc"}}}, "demo"),
        ({"scenario": {**TINY["scenario"], "horizon_days": -1}}, "horizon_days"),
    ],
)
def test_field_errors_are_422_problems_naming_the_field(
    client: TestClient, change: dict[str, Any], field: str
) -> None:
    response = client.post(URL, json=TINY | change, headers=PLANNER)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert field in response.text


def test_junk_bodies_are_422_not_500(client: TestClient) -> None:
    junk: list[Any] = [None, [], "x", 3, {"name": None}, {**TINY, "targets": "all"}]
    for body in junk:
        response = client.post(URL, json=body, headers=PLANNER)
        assert response.status_code == 422, response.text


def test_only_planners_and_admins_advise(client: TestClient) -> None:
    for role in (Role.DISPATCHER, Role.WAREHOUSE, Role.ENGINEER):
        assert client.post(URL, json=TINY, headers=auth(role)).status_code == 403
    assert client.post(URL, json=TINY).status_code == 401
    assert client.post(URL, json=TINY, headers=auth(Role.ADMIN)).status_code == 202


def test_a_queued_advice_is_cancelled_and_scenario_runs_are_not_advice(
    client: TestClient,
) -> None:
    run = client.post(URL, json=TINY, headers=PLANNER).json()
    cancelled = client.post(f"{run['url']}/cancel", headers=PLANNER)
    assert cancelled.json()["status"] == "cancelled"
    scenario = client.post("/v1/scenarios/runs", json=TINY["scenario"], headers=PLANNER).json()
    assert client.get(f"{URL}/{scenario['id']}", headers=PLANNER).status_code == 404
    assert client.get(f"/v1/scenarios/runs/{run['id']}", headers=PLANNER).status_code == 404
    assert client.get(f"{URL}/987654", headers=PLANNER).status_code == 404


def test_every_status_of_the_advice_routes_is_documented(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    post = paths[URL]["post"]["responses"]
    assert {"202", "401", "403", "413", "415", "422", "429", "503"} <= set(post)
    get = paths[f"{URL}/{{run_id}}"]["get"]["responses"]
    assert {"200", "401", "403", "404", "422"} <= set(get)
    chart = paths[f"{URL}/{{run_id}}/charts/{{name}}"]["get"]["responses"]
    assert "image/png" in chart["200"]["content"]
    assert "404" in chart


def test_an_advice_whose_worker_died_is_claimed_again(
    client: TestClient, api_engine: Engine, tmp_path: Path
) -> None:
    overall = TINY | {"targets": [{"kpi": "arrival_attainment", "share": 0.5}]}
    run = client.post(URL, json=overall, headers=PLANNER).json()
    with Session(api_engine) as s, s.begin():  # a worker takes it, then dies: no heartbeat
        dead = jobs.claim(s, worker="w-dead", now=T0, stale_after=timedelta(seconds=60))
        assert dead is not None
        assert dead.id == run["id"]
    later = _worker(api_engine, tmp_path)
    later.clock = lambda: T0 + timedelta(minutes=5)
    assert str(later.run_once()) == "done"
    done = client.get(run["url"], headers=PLANNER).json()
    assert (done["status"], done["attempts"]) == ("done", 2)
    assert done["targets"][0]["region"] is None  # an overall target binds in no one region
