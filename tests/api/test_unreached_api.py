"""Explanations never price the engineers the search did not reach; asking for one does.

A crowd of qualified engineers north of Tianhe, all on shift, none with the part in his van
(each would pick it up at Baiyun): with one option asked for, the best-first search stops
after its first chunks (the farther ones, driving straight, arrive after the best pickup),
and the rest are reported once, together, unpriced.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db import Role
from tests.api.conftest import TestClient
from tests.builders import key_for
from tests.dispatch_world import add_crowd, make_dispatch_world
from tests.ticket_builders import T0

DISPATCHER = {"X-API-Key": key_for(Role.DISPATCHER)}
CROWD = 60


@dataclass
class Crowd:
    ticket: int
    yuexiu: int
    engineers: list[int]


@pytest.fixture
def crowd(api_engine: Engine) -> Crowd:
    with Session(api_engine) as s, s.begin():
        dw = make_dispatch_world(s)
        extra = add_crowd(s, dw)
        return Crowd(dw.ticket.id, dw.yuexiu.id, [dw.haizhu.id, dw.panyu.id, *extra])


@pytest.fixture
def client(client: TestClient, app: FastAPI) -> TestClient:
    app.state.clock = lambda: T0
    return client


def _ask(client: TestClient, **body: Any) -> dict[str, Any]:
    response = client.post("/v1/dispatch/recommendations", json=body, headers=DISPATCHER)
    assert response.status_code == 200, response.text
    return response.json()


def test_unreached_engineers_are_reported_once_together_without_a_price(
    client: TestClient, crowd: Crowd
) -> None:
    body = _ask(client, ticket_id=crowd.ticket, limit=1)
    gone = body["unreached"]
    assert gone is not None
    assert gone["reason"] == "unreached"
    assert gone["detail"].startswith("not priced, the search stopped before them")
    ids = [e["engineer_id"] for e in gone["engineers"]]
    assert gone["count"] == len(ids) == len(set(ids)) > 0
    for engineer in gone["engineers"]:  # a name and a drive, no plan, no cost
        assert set(engineer) == {"engineer_id", "engineer_name", "travel_min"}
    shown = {o["engineer_id"] for o in body["options"]}
    excluded = {x["engineer_id"] for x in body["excluded"]}
    assert not set(ids) & (shown | excluded)
    assert len(ids) >= 10  # the nearer ones were priced (and ranked below the one shown)
    # each ranks below the one option by the search's bound
    assert gone["cost_at_least"] > min(o["cost"] for o in body["options"])
    assert body["asked"] is None


def test_asking_for_an_unreached_engineer_prices_him_and_changes_nothing_else(
    client: TestClient, crowd: Crowd
) -> None:
    plain = _ask(client, ticket_id=crowd.ticket, limit=1)
    engineer_id = plain["unreached"]["engineers"][-1]["engineer_id"]
    body = _ask(client, ticket_id=crowd.ticket, limit=1, engineer_id=engineer_id)
    asked = body["asked"]
    assert asked["engineer_id"] == engineer_id
    assert asked["excluded"] is None
    option = asked["option"]
    assert option["rank"] == 0
    assert option["reason"].startswith("asked for, not among the options shown")
    assert option["parts"]["source"] in {"pickup", "shipment"}  # the part is not in his van
    assert {p["promise"] for p in option["promises"]} >= {"arrival", "fix"}
    assert option["cost"] >= body["unreached"]["cost_at_least"]
    assert {k: v for k, v in body.items() if k != "asked"} == {
        k: v for k, v in plain.items() if k != "asked"
    }


def test_asking_for_a_ranked_engineer_gives_his_option_as_ranked(
    client: TestClient, crowd: Crowd
) -> None:
    plain = _ask(client, ticket_id=crowd.ticket, limit=1)
    best = plain["options"][0]
    body = _ask(client, ticket_id=crowd.ticket, limit=1, engineer_id=best["engineer_id"])
    assert body["asked"]["option"] == best


def test_asking_for_an_unqualified_engineer_says_why_without_explanations(
    client: TestClient, crowd: Crowd
) -> None:
    body = _ask(client, ticket_id=crowd.ticket, limit=1, explain=False, engineer_id=crowd.yuexiu)
    assert body["unreached"] is None
    assert body["excluded"] is None
    assert body["asked"]["option"] is None
    assert body["asked"]["excluded"]["reason"] == "skill"


def test_asking_for_an_engineer_the_world_does_not_know_is_422(
    client: TestClient, crowd: Crowd
) -> None:
    response = client.post(
        "/v1/dispatch/recommendations",
        json={"ticket_id": crowd.ticket, "engineer_id": 999_999},
        headers=DISPATCHER,
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_the_written_answer_keeps_the_display_zone_and_its_header(
    client: TestClient, crowd: Crowd
) -> None:
    """The route writes its JSON itself (`RecommendationRead.json_of`): the zone asked for
    still sets every instant's offset and the Time-Zone header."""
    response = client.post(
        "/v1/dispatch/recommendations?tz=Europe/Berlin",
        json={"ticket_id": crowd.ticket, "limit": 1},
        headers=DISPATCHER,
    )
    assert response.status_code == 200, response.text
    assert response.headers["Time-Zone"] == "Europe/Berlin"
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["as_of"].endswith("+01:00")  # 2 Nov: Berlin in winter time
    assert body["options"][0]["arrives_at"].endswith("+01:00")
    assert body["unreached"]["arrives_from"].endswith("+01:00")
    assert {x["reason"] for x in body["excluded"]} >= {"skill"}
