"""GET /v1/dispatch/tickets/{id}/room: production's answer of `optimizer.make_room`."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db import Role
from tests.api.conftest import TestClient
from tests.builders import key_for, make_user
from tests.dispatch.test_room import DRIVING_NOW, FarVisit, en_route_world, far_visit_world
from tests.ticket_builders import T0

DISPATCHER = {"X-API-Key": key_for(Role.DISPATCHER)}


def test_the_room_made_for_an_urgent_ticket(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    app.state.clock = lambda: T0 + timedelta(minutes=1)
    with Session(api_engine, expire_on_commit=False) as s, s.begin():
        ids = far_visit_world(s)
    answer = client.get(f"/v1/dispatch/tickets/{ids.ticket}/room", headers=DISPATCHER)
    assert answer.status_code == 200, answer.text
    room = answer.json()
    assert (room["engineer_id"], room["moved_ticket_id"], room["moved_to"]) == (
        ids.near,
        ids.visit,
        ids.far,
    )


def test_no_room_needed_answers_null(client: TestClient, app: FastAPI, api_engine: Engine) -> None:
    app.state.clock = lambda: T0
    with Session(api_engine, expire_on_commit=False) as s, s.begin():
        ids = far_visit_world(s, nearby_free=True)
    answer = client.get(f"/v1/dispatch/tickets/{ids.ticket}/room", headers=DISPATCHER)
    assert answer.status_code == 200, answer.text
    assert answer.json() is None


def _offered(client: TestClient, app: FastAPI, api_engine: Engine) -> tuple[FarVisit, Any]:
    """The far-visit world a minute after its visit was given, and the room GET offers."""
    app.state.clock = lambda: T0 + timedelta(minutes=1)
    with Session(api_engine, expire_on_commit=False) as s, s.begin():
        ids = far_visit_world(s)
    return ids, client.get(f"/v1/dispatch/tickets/{ids.ticket}/room", headers=DISPATCHER).json()


def test_making_the_room_offered_reassigns_both(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    ids, offered = _offered(client, app, api_engine)
    assert offered["engineer_name"]
    assert offered["moved_to_name"]
    assert offered["moved_ticket_code"]
    body = {k: offered[k] for k in ("engineer_id", "moved_assignment_id", "moved_to")}
    headers = DISPATCHER | {"Idempotency-Key": "room-1"}
    made = client.post(f"/v1/dispatch/tickets/{ids.ticket}/room", json=body, headers=headers)
    assert made.status_code == 200, made.text
    both = made.json()
    assert (both["taken"]["ticket_id"], both["taken"]["engineer_id"]) == (ids.ticket, ids.near)
    assert (both["moved"]["ticket_id"], both["moved"]["engineer_id"]) == (ids.visit, ids.far)
    # Made once: the same room is no longer offered, and asking for it again is a 409.
    headers = DISPATCHER | {"Idempotency-Key": "room-2"}
    again = client.post(f"/v1/dispatch/tickets/{ids.ticket}/room", json=body, headers=headers)
    assert again.status_code == 409, again.text
    assert again.headers["content-type"].startswith("application/problem+json")


def test_a_room_not_offered_is_a_409_and_writes_nothing(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    ids, offered = _offered(client, app, api_engine)
    body = {"engineer_id": ids.far, "moved_assignment_id": offered["moved_assignment_id"],
            "moved_to": ids.near}  # fmt: skip
    headers = DISPATCHER | {"Idempotency-Key": "room-refused"}
    refused = client.post(f"/v1/dispatch/tickets/{ids.ticket}/room", json=body, headers=headers)
    assert refused.status_code == 409, refused.text
    assert "not offered now" in refused.json()["detail"]
    still = client.get(f"/v1/dispatch/tickets/{ids.ticket}/room", headers=DISPATCHER).json()
    assert still["moved_assignment_id"] == offered["moved_assignment_id"]  # nothing moved


def test_only_dispatchers_make_room(client: TestClient, app: FastAPI, api_engine: Engine) -> None:
    app.state.clock = lambda: T0 + timedelta(minutes=1)
    with Session(api_engine, expire_on_commit=False) as s, s.begin():
        ids = far_visit_world(s)
        make_user(s, Role.WAREHOUSE)
    body = {"engineer_id": ids.near, "moved_assignment_id": 1, "moved_to": ids.far}
    url = f"/v1/dispatch/tickets/{ids.ticket}/room"
    assert client.post(url, json=body).status_code == 401
    warehouse = {"X-API-Key": key_for(Role.WAREHOUSE), "Idempotency-Key": "room-wh"}
    assert client.post(url, json=body, headers=warehouse).status_code == 403


def test_a_driver_diverted_through_the_room_endpoint(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    """Nobody holds a visit not departed: the answer is a divert (`optimizer.divert`), with
    the names and code the board words it with; POST with its kind stops his drive, a
    second POST is a 409, and a bad kind a 422."""
    app.state.clock = lambda: DRIVING_NOW
    with Session(api_engine, expire_on_commit=False) as s, s.begin():
        ids = en_route_world(s)
    url = f"/v1/dispatch/tickets/{ids.ticket}/room"
    offered = client.get(url, headers=DISPATCHER).json()
    assert offered["kind"] == "divert"
    assert (offered["engineer_id"], offered["moved_ticket_id"]) == (ids.near, ids.visit)
    assert offered["engineer_name"]
    assert offered["moved_to_name"]
    assert offered["moved_ticket_code"]
    body = {k: offered[k] for k in ("engineer_id", "moved_assignment_id", "moved_to", "kind")}
    bad = client.post(url, json=body | {"kind": "swap"},
                      headers=DISPATCHER | {"Idempotency-Key": "divert-0"})  # fmt: skip
    assert bad.status_code == 422, bad.text
    made = client.post(url, json=body, headers=DISPATCHER | {"Idempotency-Key": "divert-1"})
    assert made.status_code == 200, made.text
    both = made.json()
    assert (both["taken"]["ticket_id"], both["taken"]["engineer_id"]) == (ids.ticket, ids.near)
    assert (both["moved"]["ticket_id"], both["moved"]["engineer_id"]) == (
        ids.visit, offered["moved_to"]
    )  # fmt: skip
    again = client.post(url, json=body, headers=DISPATCHER | {"Idempotency-Key": "divert-2"})
    assert again.status_code == 409, again.text
    assert again.headers["content-type"].startswith("application/problem+json")
