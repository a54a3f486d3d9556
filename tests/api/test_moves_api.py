"""GET /v1/dispatch/moves: production's proposals of the simulator's re-dispatch rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

import optimizer as opt
from db import Role
from dispatch.assign import confirm_assignment
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    MoveProposal,
    PromisePolicy,
    ServiceLogEntry,
    Site,
    Ticket,
)
from tests.api.conftest import TestClient
from tests.builders import key_for, make_region
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0, open_ticket

DISPATCHER = {"X-API-Key": key_for(Role.DISPATCHER)}


def _late_visit(
    client: TestClient, app: FastAPI, api_engine: Engine, *, pinned: bool
) -> tuple[int, int]:
    """A general ticket whose engineer's plan departs 6 h late: (ticket id, engineer id)."""
    app.state.clock = lambda: T0
    with Session(api_engine, expire_on_commit=False) as s, s.begin():
        dw = make_dispatch_world(s, with_part=False)
    assert client.get("/v1/dispatch/moves", headers=DISPATCHER).json() == []
    with Session(api_engine) as s, s.begin():
        ticket = open_ticket(s, dw.base, severity="general")
        confirm_assignment(
            s, ticket_id=ticket.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher, now=T0,
            travel=opt.GeodesicTravelTimes(), pinned=pinned,
        )  # fmt: skip
        row = s.scalars(select(Assignment).where(Assignment.ticket_id == ticket.id)).one()
        for name in ("departs_at", "arrives_at", "fixes_at"):
            setattr(row, name, getattr(row, name) + timedelta(hours=6))
        return ticket.id, dw.haizhu.id


def test_a_visit_planned_late_is_proposed_to_another_engineer(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    ids = _late_visit(client, app, api_engine, pinned=True)
    answer = client.get("/v1/dispatch/moves", headers=DISPATCHER)
    assert answer.status_code == 200, answer.text
    (move,) = answer.json()
    assert (move["ticket_id"], move["from_engineer_id"]) == ids
    assert move["to_engineer_id"] != ids[1]
    assert move["move_cost"] < move["keep_cost"]
    assert move["text"].startswith("move to engineer")
    assert move["text"].startswith(f"move to {move['to_engineer']} keeps")  # the board's name
    assert "keeps the promise" in move["text"]
    assert move["pinned"] is True


def _accept(client: TestClient, move: dict[str, Any], key: str) -> Any:
    return client.post(
        f"/v1/dispatch/moves/{move['assignment_id']}/accept",
        json={"to_engineer_id": move["to_engineer_id"]},
        headers=DISPATCHER | {"Idempotency-Key": key},
    )


def test_accepting_a_move_reassigns_the_visit_and_the_log_says_why(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    ticket_id, planned = _late_visit(client, app, api_engine, pinned=False)
    (move,) = client.get("/v1/dispatch/moves", headers=DISPATCHER).json()
    assert move["late_min"] > 0
    assert move["pinned"] is False
    answer = _accept(client, move, "accept-1")
    assert answer.status_code == 200, answer.text
    assert answer.json()["engineer_id"] == move["to_engineer_id"] != planned
    with Session(api_engine) as s:
        rows = s.scalars(select(Assignment).where(Assignment.ticket_id == ticket_id)).all()
        assert sorted((r.engineer_id, str(r.status)) for r in rows) == sorted(
            [(planned, "withdrawn"), (move["to_engineer_id"], "active")]
        )
        reasons = [e.reason or "" for e in s.scalars(select(ServiceLogEntry).where(
            ServiceLogEntry.ticket_id == ticket_id))]  # fmt: skip
    why = "min late"
    assert any(r.startswith("re-dispatched: engineer") and why in r for r in reasons), reasons
    assert client.get("/v1/dispatch/moves", headers=DISPATCHER).json() == []
    again = _accept(client, move, "accept-2")
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")


def test_a_pinned_visit_never_moves(client: TestClient, app: FastAPI, api_engine: Engine) -> None:
    ticket_id, planned = _late_visit(client, app, api_engine, pinned=True)
    (move,) = client.get("/v1/dispatch/moves", headers=DISPATCHER).json()
    answer = _accept(client, move, "accept-pinned")
    assert answer.status_code == 409, answer.text
    assert "pinned" in answer.json()["detail"]
    with Session(api_engine) as s:
        (row,) = s.scalars(select(Assignment).where(Assignment.ticket_id == ticket_id))
        assert (row.engineer_id, str(row.status)) == (planned, "active")


def _overrun(
    client: TestClient, app: FastAPI, api_engine: Engine, *, apply: bool, pinned: bool
) -> tuple[int, int, dict[str, Any]]:
    """Engineer Haizhu on site at one ticket, his next visit planned late; the fix is then
    recorded (a job's end). (next ticket id, his id, the fix's answer)."""
    app.state.clock = lambda: T0
    with Session(api_engine, expire_on_commit=False) as s, s.begin():
        dw = make_dispatch_world(s, with_part=False)
        s.execute(update(PromisePolicy).values(redispatch_apply=apply))
    travel = opt.GeodesicTravelTimes()
    with Session(api_engine) as s, s.begin():
        first = open_ticket(s, dw.base, severity="general")
        confirm_assignment(
            s, ticket_id=first.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher, now=T0,
            travel=travel,
        )  # fmt: skip
        first_id = first.id
    for step in ("en_route", "on_site"):
        answer = client.post(
            f"/v1/tickets/{first_id}/transitions", json={"to": step}, headers=DISPATCHER
        )
        assert answer.status_code == 200, answer.text
    with Session(api_engine) as s, s.begin():
        nxt = open_ticket(s, dw.base, severity="general")
        confirm_assignment(
            s, ticket_id=nxt.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher, now=T0,
            travel=travel, pinned=pinned,
        )  # fmt: skip
        row = s.scalars(select(Assignment).where(Assignment.ticket_id == nxt.id)).one()
        for name in ("departs_at", "arrives_at", "fixes_at"):
            setattr(row, name, getattr(row, name) + timedelta(hours=6))
        ids = (nxt.id, dw.haizhu.id)
    fixed = client.post(f"/v1/tickets/{first_id}/transitions", json={"to": "fixed"},
                        headers=DISPATCHER)  # fmt: skip
    assert fixed.status_code == 200, fixed.text
    return ids[0], ids[1], fixed.json()


def _holder(api_engine: Engine, ticket_id: int) -> tuple[int, list[str]]:
    """Who holds the ticket's active assignment, and its log's reasons."""
    with Session(api_engine) as s:
        active = s.scalars(select(Assignment).where(
            Assignment.ticket_id == ticket_id, Assignment.status == AssignmentStatus.ACTIVE
        )).one()  # fmt: skip
        log = s.scalars(select(ServiceLogEntry).where(ServiceLogEntry.ticket_id == ticket_id))
        return active.engineer_id, [e.reason or "" for e in log]


def test_a_job_end_recorded_proposes_the_late_next_visit_by_default(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    nxt, haizhu, _ = _overrun(client, app, api_engine, apply=False, pinned=False)
    assert _holder(api_engine, nxt)[0] == haizhu
    moves = client.get("/v1/dispatch/moves", headers=DISPATCHER).json()
    assert [m["ticket_id"] for m in moves] == [nxt]


def test_with_the_policy_applying_moves_a_job_end_moves_the_next_visit_and_says_why(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    nxt, haizhu, _ = _overrun(client, app, api_engine, apply=True, pinned=False)
    holder, reasons = _holder(api_engine, nxt)
    assert holder != haizhu
    assert any(r.startswith("re-dispatched: engineer") and "min late" in r for r in reasons)
    assert client.get("/v1/dispatch/moves", headers=DISPATCHER).json() == []


def test_with_the_policy_applying_moves_a_pinned_visit_still_never_moves(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    nxt, haizhu, _ = _overrun(client, app, api_engine, apply=True, pinned=True)
    assert _holder(api_engine, nxt)[0] == haizhu


def test_the_board_reads_the_stored_answers_until_they_are_out_of_date(
    client: TestClient, app: FastAPI, api_engine: Engine
) -> None:
    ticket_id, _ = _late_visit(client, app, api_engine, pinned=False)
    (move,) = client.get("/v1/dispatch/moves", headers=DISPATCHER).json()  # asked, stored
    with Session(api_engine) as s, s.begin():  # the stored answer says "keep the plan"
        s.execute(update(MoveProposal).values(to_engineer_id=None))
    app.state.clock = lambda: T0 + timedelta(minutes=30)  # twice the interval, world unchanged
    assert client.get("/v1/dispatch/moves", headers=DISPATCHER).json() == []  # read, not asked
    with Session(api_engine) as s, s.begin():  # the world changes (master data: audited)
        other, ours = make_region(s).id, _region_of(s, ticket_id)
    (again,) = client.get(f"/v1/dispatch/moves?region_id={ours}", headers=DISPATCHER).json()
    assert (again["ticket_id"], again["to_engineer_id"]) == (ticket_id, move["to_engineer_id"])
    assert client.get(f"/v1/dispatch/moves?region_id={other}", headers=DISPATCHER).json() == []


def _region_of(session: Session, ticket_id: int) -> int:
    stmt = (
        select(Site.region_id).join(Ticket, Ticket.site_id == Site.id).where(Ticket.id == ticket_id)
    )
    return session.scalars(stmt).one()
