"""`POST /v1/dispatch/recommendations`: ranked options with times, names and explanations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db import Role
from dispatch.models import Engineer
from tests.api.conftest import TestClient
from tests.builders import key_for
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0


@dataclass
class Ids:
    ticket: int
    haizhu: int
    yuexiu: int
    depot: int


@pytest.fixture
def ids(api_engine: Engine) -> Ids:
    with Session(api_engine) as s, s.begin():
        dw = make_dispatch_world(s)
        return Ids(dw.ticket.id, dw.haizhu.id, dw.yuexiu.id, dw.depot.id)


@pytest.fixture
def client(client: TestClient, app: FastAPI) -> TestClient:
    app.state.clock = lambda: T0
    return client


DISPATCHER = {"X-API-Key": key_for(Role.DISPATCHER)}


def keyed(key: str) -> dict[str, str]:
    """Assigning holds parts: a stock write, which needs an Idempotency-Key."""
    return DISPATCHER | {"Idempotency-Key": key}


def test_options_are_ranked_with_times_and_names(client: TestClient, ids: Ids) -> None:
    response = client.post(
        "/v1/dispatch/recommendations", json={"ticket_id": ids.ticket}, headers=DISPATCHER
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert datetime.fromisoformat(body["as_of"]) == T0
    assert body["keepable"] is True
    best = body["options"][0]
    assert best["engineer_id"] == ids.haizhu
    assert best["engineer_name"]
    assert best["parts"]["source"] == "pickup"
    assert best["parts"]["depot_id"] == ids.depot
    assert best["parts"]["depot_name"] == "Baiyun depot"
    assert datetime.fromisoformat(best["arrives_at"]) > T0
    # urgent: the depart promise (15 min) is checked along with arrival, fix and the swap of
    # the part it needs (in stock), each with what it costs: kept, at most the at-risk share
    promises = {p["promise"]: p for p in best["promises"]}
    assert set(promises) == {"depart", "arrival", "fix", "swap"}
    assert all(p["kept"] for p in best["promises"])
    assert all(0 <= p["cost"] <= 100 for p in best["promises"])  # 10 % of CNY 1,000
    assert best["cost"] >= sum(p["cost"] for p in best["promises"])
    assert datetime.fromisoformat(promises["depart"]["deadline"]) == (T0 + timedelta(minutes=15))
    assert promises["depart"]["at"] == best["departs_at"]
    excluded = {x["engineer_id"]: x["reason"] for x in body["excluded"]}
    assert excluded[ids.yuexiu] == "skill"


def test_fast_path_without_explanations(client: TestClient, ids: Ids) -> None:
    response = client.post(
        "/v1/dispatch/recommendations",
        json={"ticket_id": ids.ticket, "explain": False, "limit": 1},
        headers=DISPATCHER,
    )
    body = response.json()
    assert len(body["options"]) >= 1
    assert body["excluded"] is None


def test_unknown_ticket_is_404(client: TestClient, ids: Ids) -> None:
    response = client.post(
        "/v1/dispatch/recommendations", json={"ticket_id": 999999}, headers=DISPATCHER
    )
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_bad_limit_is_422(client: TestClient, ids: Ids) -> None:
    response = client.post(
        "/v1/dispatch/recommendations",
        json={"ticket_id": ids.ticket, "limit": 99},
        headers=DISPATCHER,
    )
    assert response.status_code == 422


def test_engineers_may_not_ask(client: TestClient, ids: Ids) -> None:
    response = client.post(
        "/v1/dispatch/recommendations",
        json={"ticket_id": ids.ticket},
        headers={"X-API-Key": key_for(Role.ENGINEER)},
    )
    assert response.status_code == 403


def _engineer(api_engine: Engine, engineer_id: int) -> Engineer:
    with Session(api_engine, expire_on_commit=False) as s:
        e = s.get(Engineer, engineer_id)
        assert e is not None
        return e


def test_confirm_then_refuse_a_second_assignment(
    client: TestClient, ids: Ids, api_engine: Engine
) -> None:
    response = client.post(
        "/v1/dispatch/assignments",
        json={"ticket_id": ids.ticket, "engineer_id": ids.haizhu, "pinned": True},
        headers=keyed("assign-1"),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["engineer_id"] == ids.haizhu
    assert body["status"] == "active"
    assert body["pinned"] is True
    assert len(body["reservation_ids"]) == 1
    assert body["option"]["parts"]["depot_id"] == ids.depot
    ticket = client.get(f"/v1/tickets/{ids.ticket}", headers=DISPATCHER).json()
    assert (ticket["status"], ticket["engineer_id"]) == ("assigned", ids.haizhu)
    log = client.get(f"/v1/tickets/{ids.ticket}/log", headers=DISPATCHER).json()
    haizhu = _engineer(api_engine, ids.haizhu)  # issue 17: the log names him, not his id
    assert f"assigned to engineer {haizhu.name} ({haizhu.code})" in [e["reason"] for e in log]
    again = client.post(
        "/v1/dispatch/assignments",
        json={"ticket_id": ids.ticket, "engineer_id": ids.haizhu},
        headers=keyed("assign-2"),
    )
    assert again.status_code == 409
    assert again.json()["type"] == "urn:spares:problem:assignment-conflict"


def test_refusal_names_the_next_best_and_writes_nothing(
    client: TestClient, ids: Ids, api_engine: Engine
) -> None:
    response = client.post(
        "/v1/dispatch/assignments",
        json={"ticket_id": ids.ticket, "engineer_id": ids.yuexiu},
        headers=keyed("assign-3"),
    )
    assert response.status_code == 409
    problem = response.json()
    assert problem["next_best"]["engineer_id"] == ids.haizhu
    assert "skill" in problem["detail"]
    yuexiu, haizhu = _engineer(api_engine, ids.yuexiu), _engineer(api_engine, ids.haizhu)
    assert f"engineer {yuexiu.name} ({ids.yuexiu}) is not an option" in problem["detail"]
    assert f"next best: engineer {haizhu.name} ({ids.haizhu})" in problem["detail"]
    ticket = client.get(f"/v1/tickets/{ids.ticket}", headers=DISPATCHER).json()
    assert ticket["status"] == "new"


def test_assigning_without_a_key_is_400(client: TestClient, ids: Ids) -> None:
    response = client.post(
        "/v1/dispatch/assignments",
        json={"ticket_id": ids.ticket, "engineer_id": ids.haizhu},
        headers=DISPATCHER,
    )
    assert response.status_code == 400


def test_plan_diff_then_publish_over_http(client: TestClient, ids: Ids) -> None:
    made = client.post(
        "/v1/dispatch/plans",
        json={"ticket_ids": [ids.ticket], "time_limit_s": 0},
        headers=DISPATCHER,
    )
    assert made.status_code == 201, made.text
    plan_id = made.json()["id"]
    diff = client.get(f"/v1/dispatch/plans/{plan_id}/diff", headers=DISPATCHER).json()
    assert diff["against_plan_id"] is None
    published = client.post(
        f"/v1/dispatch/plans/{plan_id}/publish", headers=keyed(f"publish-{plan_id}")
    )
    assert published.status_code == 200, published.text
    assert published.json()["assigned"] == [ids.ticket]
    again = client.post(f"/v1/dispatch/plans/{plan_id}/publish", headers=keyed("publish-again"))
    assert again.status_code == 409
    assert again.json()["conflicts"]


def test_an_option_says_whether_it_is_a_call_out_and_what_that_costs(
    client: TestClient, api_engine: Engine
) -> None:
    from tests.dispatch.test_callout_db import _nobody_at_work

    with Session(api_engine) as s, s.begin():
        dw = make_dispatch_world(s)
        _nobody_at_work(s, dw)
        ticket, liwan = dw.ticket.id, dw.liwan.id
    response = client.post(
        "/v1/dispatch/recommendations", json={"ticket_id": ticket}, headers=DISPATCHER
    )
    assert response.status_code == 200, response.text
    best = response.json()["options"][0]
    assert (best["engineer_id"], best["kind"], best["callout_cost"]) == (liwan, "call_out", 300)
    assert best["cost"] >= 300
