"""`POST /v1/dispatch/assignments/{id}/pin` and `/unpin`: active assignments only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db import Role
from dispatch.models import Assignment, AssignmentStatus, Engineer, LogKind, ServiceLogEntry
from tests.api.conftest import TestClient
from tests.builders import key_for
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0

DISPATCHER = {"X-API-Key": key_for(Role.DISPATCHER)}


@dataclass
class Ids:
    active: int
    withdrawn: int
    ticket: int


def _assignment(s: Session, ticket_id: int, engineer_id: int, user_id: int, **kw: object) -> int:
    row = Assignment(
        ticket_id=ticket_id, engineer_id=engineer_id, departs_at=T0,
        arrives_at=T0 + timedelta(minutes=20), fixes_at=T0 + timedelta(minutes=80),
        parts_source="none", created_at=T0, created_by_id=user_id, **kw,
    )  # fmt: skip
    s.add(row)
    s.flush()
    return row.id


@pytest.fixture
def ids(api_engine: Engine) -> Ids:
    with Session(api_engine) as s, s.begin():
        dw = make_dispatch_world(s)
        user, t, e = dw.base.dispatcher.id, dw.ticket.id, dw.haizhu.id
        old = _assignment(s, t, e, user, status=AssignmentStatus.WITHDRAWN)
        return Ids(_assignment(s, t, e, user), old, t)


@pytest.fixture
def client(client: TestClient, app: FastAPI) -> TestClient:
    app.state.clock = lambda: T0
    return client


def test_pin_then_unpin_an_active_assignment(
    client: TestClient, ids: Ids, api_engine: Engine
) -> None:
    pinned = client.post(f"/v1/dispatch/assignments/{ids.active}/pin", headers=DISPATCHER)
    assert pinned.status_code == 200, pinned.text
    assert (pinned.json()["id"], pinned.json()["pinned"]) == (ids.active, True)
    again = client.post(f"/v1/dispatch/assignments/{ids.active}/pin", headers=DISPATCHER)
    assert again.json()["pinned"] is True
    unpinned = client.post(f"/v1/dispatch/assignments/{ids.active}/unpin", headers=DISPATCHER)
    assert unpinned.json()["pinned"] is False
    with Session(api_engine) as s:
        assert s.get(Assignment, ids.active).pinned is False  # type: ignore[union-attr]
        e = s.get(Engineer, pinned.json()["engineer_id"])
        assert e is not None
        who = f"engineer {e.name} ({e.code})"
        logged = s.query(ServiceLogEntry).filter_by(ticket_id=ids.ticket, kind=LogKind.DECISION)
        # one line per change: the repeated pin changed nothing and logged nothing
        assert [e.reason for e in logged.order_by(ServiceLogEntry.id)][-2:] == [
            f"pinned to {who}",
            f"unpinned from {who}",
        ]  # issue 17: the engineer's name and code, not his id


def test_a_withdrawn_assignment_is_409(client: TestClient, ids: Ids) -> None:
    for action in ("pin", "unpin"):
        response = client.post(
            f"/v1/dispatch/assignments/{ids.withdrawn}/{action}", headers=DISPATCHER
        )
        assert response.status_code == 409, response.text
        assert response.json()["type"] == "urn:spares:problem:assignment-conflict"
        assert "withdrawn" in response.json()["detail"]


def test_unknown_assignment_is_404_and_engineers_are_403(client: TestClient, ids: Ids) -> None:
    missing = client.post("/v1/dispatch/assignments/999999/pin", headers=DISPATCHER)
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    engineer = {"X-API-Key": key_for(Role.ENGINEER)}
    refused = client.post(f"/v1/dispatch/assignments/{ids.active}/pin", headers=engineer)
    assert refused.status_code == 403
