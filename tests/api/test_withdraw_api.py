"""`POST /v1/dispatch/assignments/{id}/withdraw`: the engineer cannot go on; dispatch again."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db import Role
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    Engineer,
    LogKind,
    ServiceLogEntry,
    Ticket,
    TicketStatus,
)
from inventory.models import Reservation, ReservationStatus
from tests.api.conftest import TestClient
from tests.api.plan_helpers import published_plan
from tests.builders import key_for
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0

DISPATCHER = {"X-API-Key": key_for(Role.DISPATCHER)}


@dataclass
class Ids:
    ticket: int


@pytest.fixture
def ids(api_engine: Engine) -> Ids:
    with Session(api_engine) as s, s.begin():
        return Ids(make_dispatch_world(s).ticket.id)


@pytest.fixture
def client(client: TestClient, app: FastAPI) -> TestClient:
    app.state.clock = lambda: T0
    return client


def _active(api_engine: Engine, ticket_id: int) -> Assignment:
    with Session(api_engine) as s:
        return s.scalars(
            select(Assignment).where(
                Assignment.ticket_id == ticket_id, Assignment.status == AssignmentStatus.ACTIVE
            )
        ).one()


def _holds(api_engine: Engine, ticket_id: int) -> list[ReservationStatus]:
    with Session(api_engine) as s:
        stmt = select(Reservation.status).where(Reservation.ticket_id == ticket_id)
        return list(s.scalars(stmt.order_by(Reservation.id)))


@pytest.mark.parametrize("step", [TicketStatus.ASSIGNED, TicketStatus.EN_ROUTE])
def test_a_withdrawn_ticket_waits_for_dispatch_again(
    client: TestClient, ids: Ids, api_engine: Engine, step: TicketStatus
) -> None:
    published_plan(client, ids.ticket)
    a = _active(api_engine, ids.ticket)
    assert _holds(api_engine, ids.ticket) == [ReservationStatus.RESERVED]
    with Session(api_engine) as s, s.begin():  # he set off (or not yet)
        s.get(Ticket, ids.ticket).status = step  # type: ignore[union-attr]
    url = f"/v1/dispatch/assignments/{a.id}/withdraw"
    done = client.post(url, json={"reason": "van broke down"}, headers=DISPATCHER)
    assert done.status_code == 200, done.text
    assert (done.json()["id"], done.json()["status"]) == (a.id, "withdrawn")
    assert _holds(api_engine, ids.ticket) == [ReservationStatus.RELEASED]
    ticket = client.get(f"/v1/tickets/{ids.ticket}", headers=DISPATCHER).json()
    assert (ticket["status"], ticket["engineer_id"]) == ("responded", None)
    with Session(api_engine) as s:
        stmt = select(ServiceLogEntry.reason).where(
            ServiceLogEntry.ticket_id == ids.ticket, ServiceLogEntry.kind == LogKind.TRANSITION
        )
        last = list(s.scalars(stmt.order_by(ServiceLogEntry.id)))[-1]
        e = s.get(Engineer, a.engineer_id)
        assert e is not None
    # issue 17: the engineer's name and code, not his id
    assert last == f"withdrawn from engineer {e.name} ({e.code}): van broke down"
    again = client.post(url, json={"reason": "twice"}, headers=DISPATCHER)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "only an active, unfinished one" in again.json()["detail"]


def test_bad_withdrawals_are_problems(client: TestClient, ids: Ids, api_engine: Engine) -> None:
    published_plan(client, ids.ticket)
    a = _active(api_engine, ids.ticket)
    url = f"/v1/dispatch/assignments/{a.id}/withdraw"
    cases = [
        (url, {}, 422),  # a reason is required
        (url, {"reason": ""}, 422),
        ("/v1/dispatch/assignments/999999/withdraw", {"reason": "ill"}, 404),
    ]
    for path, body, code in cases:
        response = client.post(path, json=body, headers=DISPATCHER)
        assert response.status_code == code, (path, body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert _active(api_engine, ids.ticket).id == a.id  # nothing changed
