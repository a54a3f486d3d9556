"""GET /v1/dispatch/moves: production's proposals of the simulator's re-dispatch rule."""

from __future__ import annotations

from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import optimizer as opt
from db import Role
from dispatch.assign import confirm_assignment
from dispatch.models import Assignment
from tests.api.conftest import TestClient
from tests.builders import key_for
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0, open_ticket

DISPATCHER = {"X-API-Key": key_for(Role.DISPATCHER)}


def test_a_visit_planned_late_is_proposed_to_another_engineer(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    app.state.clock = lambda: T0
    with Session(api_engine, expire_on_commit=False) as s, s.begin():
        dw = make_dispatch_world(s, with_part=False)
    assert client.get("/v1/dispatch/moves", headers=DISPATCHER).json() == []
    with Session(api_engine) as s, s.begin():
        ticket = open_ticket(s, dw.base, severity="general")
        confirm_assignment(
            s, ticket_id=ticket.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher, now=T0,
            travel=opt.GeodesicTravelTimes(),
        )  # fmt: skip
        row = s.scalars(select(Assignment).where(Assignment.ticket_id == ticket.id)).one()
        for name in ("departs_at", "arrives_at", "fixes_at"):
            setattr(row, name, getattr(row, name) + timedelta(hours=6))
        ids = (ticket.id, dw.haizhu.id)
    answer = client.get("/v1/dispatch/moves", headers=DISPATCHER)
    assert answer.status_code == 200, answer.text
    (move,) = answer.json()
    assert (move["ticket_id"], move["from_engineer_id"]) == ids
    assert move["to_engineer_id"] != ids[1]
    assert move["move_cost"] < move["keep_cost"]
    assert move["text"].startswith("move to engineer")
