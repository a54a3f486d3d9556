"""Rate limits, request ids and structured logs: what running the API in production adds."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine

from api.app import create_app
from api.logs import JsonFormatter, configure_logging
from api.settings import Settings
from db.identity import Role
from tests.api.conftest import TestClient, auth

pytestmark = pytest.mark.usefixtures("users")


def _client(engine: Engine, **settings: object) -> TestClient:
    base: dict[str, object] = {"rate_limit_per_key": None, "rate_limit_per_address": None}
    return TestClient(create_app(Settings(_env_file=None, **(base | settings)), engine=engine))


def test_a_key_over_its_limit_gets_429_problem_with_retry_after(api_engine: Engine) -> None:
    with _client(api_engine, rate_limit_per_key="3/minute") as client:
        answers = [client.get("/v1/regions", headers=auth(Role.DISPATCHER)) for _ in range(4)]
        other = client.get("/v1/regions", headers=auth(Role.PLANNER))
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    body = refused.json()
    assert body["type"] == "urn:spares:problem:rate-limited"
    assert body["status"] == 429
    assert body["limited_by"] == "key"
    assert body["request_id"] == refused.headers["X-Request-ID"]
    assert other.status_code == 200  # another key has its own budget


def test_an_address_over_its_limit_is_refused_whatever_keys_it_sends(api_engine: Engine) -> None:
    with _client(api_engine, rate_limit_per_address="2/minute") as client:
        codes = [
            client.get("/v1/regions", headers={"X-API-Key": f"spk_guess_{i}"}).status_code
            for i in range(3)
        ]
        refused = client.get("/v1/regions", headers=auth(Role.ADMIN))
        probes = [client.get("/healthz").status_code, client.get("/readyz").status_code]
    assert codes == [401, 401, 429]  # rotating made-up keys does not reset the count
    assert refused.status_code == 429
    assert refused.json()["limited_by"] == "address"
    assert probes == [200, 200]  # probes are never limited


@pytest.mark.parametrize("text", ["off", "", "none"])
def test_a_limit_can_be_switched_off(text: str) -> None:
    assert Settings(_env_file=None, rate_limit_per_key=text).rate_limit_per_key is None


def test_a_malformed_limit_is_refused_at_startup() -> None:
    with pytest.raises(ValidationError, match="not a rate limit"):
        Settings(_env_file=None, rate_limit_per_address="many per minute")


def test_a_worker_lease_must_outlast_two_heartbeats() -> None:
    with pytest.raises(ValidationError, match="two worker heartbeats"):
        Settings(_env_file=None, worker_heartbeat_s=10, worker_stale_after_s=15)


def test_every_response_carries_a_request_id(api_engine: Engine) -> None:
    with _client(api_engine) as client:
        made = client.get("/healthz")
        kept = client.get("/healthz", headers={"X-Request-ID": "lb-7f3a.42"})
        forged = client.get("/healthz", headers={"X-Request-ID": 'x\n{"level": "error"}'})
    assert len(made.headers["X-Request-ID"]) == 32
    assert kept.headers["X-Request-ID"] == "lb-7f3a.42"
    assert forged.headers["X-Request-ID"] != 'x\n{"level": "error"}'  # not a sane token


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [("/v1/regions", {}, 401), ("/v1/nowhere", {}, 404), ("/v1/regions?limit=0", None, 422)],
)
def test_every_problem_echoes_the_request_id(
    api_engine: Engine, path: str, headers: dict[str, str] | None, status: int
) -> None:
    sent = {"X-Request-ID": "trace-1"} | (auth(Role.ADMIN) if headers is None else headers)
    with _client(api_engine) as client:
        response = client.get(path, headers=sent)
    assert response.status_code == status
    assert response.json()["request_id"] == "trace-1"
    assert response.headers["X-Request-ID"] == "trace-1"


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """What the `api` loggers write through the JSON formatter during the test."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("api")
    logger.addHandler(handler)
    level = logger.level
    logger.setLevel(logging.INFO)
    yield out
    logger.removeHandler(handler)
    logger.setLevel(level)


def test_the_access_log_is_json_with_request_id_route_and_user_never_the_key(
    api_engine: Engine, json_lines: io.StringIO
) -> None:
    key = auth(Role.WAREHOUSE)
    with _client(api_engine) as client:
        response = client.get("/v1/depots/12345", headers=key | {"X-Request-ID": "abc"})
    assert response.status_code == 404
    lines = [json.loads(line) for line in json_lines.getvalue().splitlines()]
    [access] = [line for line in lines if line["logger"] == "api.access"]
    assert access["request_id"] == "abc"
    assert access["user"].startswith("warehouse-")
    assert access["route"] == "/v1/depots/{depot_id}"
    assert access["status"] == 404
    assert access["method"] == "GET"
    assert access["duration_ms"] >= 0
    assert key["X-API-Key"] not in json_lines.getvalue()


def test_configure_logging_installs_one_json_handler_on_the_root() -> None:
    root = logging.getLogger()
    before, level = list(root.handlers), root.level
    try:
        configure_logging("warning", "json")
        configure_logging("info", "json")  # idempotent: still one of ours
        ours = [h for h in root.handlers if h.get_name() == "spares"]
        assert len(ours) == 1
        assert isinstance(ours[0].formatter, JsonFormatter)
        assert root.level == logging.INFO
    finally:
        root.handlers, root.level = before, level
