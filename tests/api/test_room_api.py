"""GET /v1/dispatch/tickets/{id}/room: production's answer of `optimizer.make_room`."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db import Role
from tests.api.conftest import TestClient
from tests.builders import key_for
from tests.dispatch.test_room import far_visit_world
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
