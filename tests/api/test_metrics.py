"""/metrics: who may scrape it, request latency per route template, the domain's gauges."""

from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.app import create_app
from api.settings import Settings
from db import jobs
from db.identity import Role
from tests.api.conftest import TestClient, auth
from tests.ticket_builders import T0


def _client(engine: Engine, **settings: object) -> TestClient:
    base: dict[str, object] = {"rate_limit_per_key": None, "rate_limit_per_address": None}
    return TestClient(create_app(Settings(_env_file=None, **(base | settings)), engine=engine))


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


@pytest.mark.usefixtures("users")
def test_metrics_need_an_admin_or_planner_key_by_default(api_engine: Engine) -> None:
    with _client(api_engine) as client:
        codes = {
            "none": client.get("/metrics").status_code,
            "dispatcher": client.get("/metrics", headers=auth(Role.DISPATCHER)).status_code,
            "planner": client.get("/metrics", headers=auth(Role.PLANNER)).status_code,
            "admin": client.get("/metrics", headers=auth(Role.ADMIN)).status_code,
        }
    assert codes == {"none": 401, "dispatcher": 403, "planner": 200, "admin": 200}


def test_metrics_can_be_public(api_engine: Engine) -> None:
    with _client(api_engine, metrics_public=True) as client:
        response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")


@pytest.mark.usefixtures("users")
def test_latency_is_recorded_per_route_template_and_status(api_engine: Engine) -> None:
    with _client(api_engine) as client:
        for depot in (1, 2):
            client.get(f"/v1/depots/{depot}", headers=auth(Role.WAREHOUSE))
        client.get("/v1/no/such/path/42")
        text = client.get("/metrics", headers=auth(Role.ADMIN)).text
    samples = _samples(text)
    name = "spares_http_request_duration_seconds_count"
    labels = (("method", "GET"), ("route", "/v1/depots/{depot_id}"), ("status", "404"))
    assert samples[(name, labels)] == 2  # one series for both ids
    unmatched = (("method", "GET"), ("route", "unmatched"), ("status", "404"))
    assert samples[(name, unmatched)] == 1  # made-up paths do not make series


@pytest.mark.usefixtures("users")
def test_domain_gauges_are_read_at_scrape_time(api_engine: Engine) -> None:
    with Session(api_engine) as s, s.begin():
        jobs.enqueue(s, kind="plan", payload={}, user_id=None, now=T0)
    with _client(api_engine) as client:
        client.app.state.clock = lambda: T0 + timedelta(minutes=3)  # type: ignore[attr-defined]
        samples = _samples(client.get("/metrics", headers=auth(Role.PLANNER)).text)
    assert samples[("spares_domain_metrics_up", ())] == 1
    assert samples[("spares_jobs", (("kind", "plan"), ("status", "queued")))] == 1
    assert samples[("spares_job_oldest_queued_seconds", (("kind", "plan"),))] == 180
    assert samples[("spares_reservations_live", ())] == 0
