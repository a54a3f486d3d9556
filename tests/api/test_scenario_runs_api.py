"""POST/GET /v1/scenarios/runs: a what-if run queued as a job that `spares worker` runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import optimizer as opt
from db import Role, jobs, make_sessionmaker
from spares.worker import Worker, handlers
from tests.api.conftest import TestClient, auth

pytestmark = pytest.mark.usefixtures("users")  # the demo API keys of each role

URL = "/v1/scenarios/runs"
PLANNER = auth(Role.PLANNER)
T0 = datetime(2026, 11, 2, 8, tzinfo=UTC)
TINY = {
    "name": "tiny-api", "horizon_days": 0.25, "replications": 1, "policies": ["naive"],
    "demand": {"tickets_per_day": 20},
}  # fmt: skip


def _worker(engine: Engine, reports: Path, now: datetime = T0) -> Worker:
    registry = handlers(opt.GeodesicTravelTimes(), reports=reports)
    return Worker(make_sessionmaker(engine), registry, name="w-test", clock=lambda: now)


def test_a_run_is_queued_run_by_the_worker_and_answers_kpis(
    client: TestClient, api_engine: Engine, tmp_path: Path
) -> None:
    response = client.post(URL, json=TINY, headers=PLANNER)
    assert response.status_code == 202, response.text
    run = response.json()
    assert response.headers["location"] == run["url"] == f"{URL}/{run['id']}"
    assert (run["status"], run["kpis"], run["charts"]) == ("queued", None, [])
    assert str(_worker(api_engine, tmp_path).run_once()) == "done"
    done = client.get(run["url"], headers=PLANNER).json()
    assert (done["status"], done["progress"], done["partial"]) == ("done", 1.0, False)
    assert {k["kpi"] for k in done["kpis"]} >= {"arrival_attainment", "inventory_value"}
    assert "promise_attainment.png" in done["charts"]
    # issue 17, defect 10: no server path on the wire; each chart has a URL the API serves
    assert not Path(done["report"]).is_absolute()
    assert (tmp_path / done["report"] / "kpis.json").exists()
    assert done["chart_urls"] == [f"{run['url']}/charts/{name}" for name in done["charts"]]
    chart = client.get(done["chart_urls"][0], headers=PLANNER)
    assert (chart.status_code, chart.headers["content-type"]) == (200, "image/png")


def test_a_run_with_precision_says_how_precise_it_ended(
    client: TestClient, api_engine: Engine, tmp_path: Path
) -> None:
    # Enough tickets that two replications differ (5 tickets can all be kept in both).
    busy = {**TINY, "demand": {"tickets_per_day": 120}}
    precise = {**busy, "precision": {"half_width_points": 0.001, "max_replications": 2}}
    run = client.post(URL, json=precise, headers=PLANNER).json()
    assert str(_worker(api_engine, tmp_path).run_once()) == "done"
    done = client.get(run["url"], headers=PLANNER).json()
    assert "after 2 replications" in done["precision"]
    assert "NOT reached" in done["precision"]
    assert {k["n"] for k in done["kpis"] if k["kpi"] == "tickets"} == {2}


def test_field_errors_are_422_with_the_field(client: TestClient) -> None:
    for body, field in (
        (TINY | {"horizon_days": -1}, "horizon_days"),
        (TINY | {"variants": [{"name": "x", "changes": [{"kind": "travel_speed"}]}]}, "factor"),
        (TINY | {"colour": "red"}, "colour"),
        (TINY | {"base": {"kind": "bundle", "path": "/etc"}}, "demo"),
    ):
        response = client.post(URL, json=body, headers=PLANNER)
        assert response.status_code == 422, response.text
        assert field in response.text


def test_dispatchers_may_not_run_scenarios(client: TestClient) -> None:
    assert client.post(URL, json=TINY, headers=auth(Role.DISPATCHER)).status_code == 403


def test_a_queued_run_is_cancelled_and_other_jobs_are_not_runs(client: TestClient) -> None:
    run = client.post(URL, json=TINY, headers=PLANNER).json()
    cancelled = client.post(f"{run['url']}/cancel", headers=PLANNER)
    assert cancelled.json()["status"] == "cancelled"
    assert client.get(f"{URL}/987654", headers=PLANNER).status_code == 404


def test_a_run_whose_worker_died_is_claimed_again(
    client: TestClient, api_engine: Engine, tmp_path: Path
) -> None:
    run = client.post(URL, json=TINY, headers=PLANNER).json()
    with Session(api_engine) as s, s.begin():  # a worker takes it, then dies: no heartbeat
        dead = jobs.claim(s, worker="w-dead", now=T0, stale_after=timedelta(seconds=60))
        assert dead is not None
        assert dead.id == run["id"]
    later = T0 + timedelta(minutes=5)
    assert str(_worker(api_engine, tmp_path, later).run_once()) == "done"
    done = client.get(run["url"], headers=PLANNER).json()
    assert (done["status"], done["attempts"]) == ("done", 2)


def test_a_finished_run_serves_its_charts_as_images(
    client: TestClient, api_engine: Engine, tmp_path: Path
) -> None:
    run = client.post(URL, json=TINY, headers=PLANNER).json()
    _worker(api_engine, tmp_path).run_once()
    done = client.get(run["url"], headers=PLANNER).json()
    chart = client.get(f"{run['url']}/charts/{done['charts'][0]}", headers=PLANNER)
    assert chart.status_code == 200
    assert chart.headers["content-type"] == "image/png"
    assert chart.content.startswith(b"\x89PNG")
    for name in ("kpis.json", "nothing.png", "..%2fkpis.json"):
        refused = client.get(f"{run['url']}/charts/{name}", headers=PLANNER)
        assert refused.status_code == 404
        assert refused.headers["content-type"] == "application/problem+json"
    dispatcher = client.get(
        f"{run['url']}/charts/{done['charts'][0]}", headers=auth(Role.DISPATCHER)
    )
    assert dispatcher.status_code == 403


def test_the_example_scenarios_are_listed_as_runnable_documents(client: TestClient) -> None:
    examples = client.get("/v1/scenarios/examples", headers=PLANNER).json()
    assert {e["file"] for e in examples} >= {"demo_optimised_vs_naive.yaml"}
    for example in examples:
        assert example["document"]["base"]["kind"] == "demo"  # runnable over the API as is
