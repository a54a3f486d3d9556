"""`POST /v1/dispatch/plans/{id}/disruptions`: a draft re-plan and the promises at risk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db import Role
from dispatch.models import Absence, Assignment, AssignmentStatus, Engineer, Ticket
from dispatch.snapshot import HORIZON
from tests.api.conftest import TestClient
from tests.api.plan_helpers import draft_plan, published_plan
from tests.api.test_errors import assert_problem
from tests.builders import key_for
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0, open_ticket

DISPATCHER = {"X-API-Key": key_for(Role.DISPATCHER)}


@dataclass
class Ids:
    ticket: int
    stray: int
    engineers: tuple[int, ...]
    depot: int
    part: int


@pytest.fixture
def ids(api_engine: Engine) -> Ids:
    with Session(api_engine) as s, s.begin():
        dw = make_dispatch_world(s)
        stray = open_ticket(s, dw.base, parts=[]).id
        engineers = (dw.haizhu.id, dw.panyu.id, dw.liwan.id)
        return Ids(dw.ticket.id, stray, engineers, dw.depot.id, dw.part.id)


@pytest.fixture
def client(client: TestClient, app: FastAPI) -> TestClient:
    app.state.clock = lambda: T0
    return client


def _absent(api_engine: Engine, engineer_id: int) -> str:
    """The cause as a dispatcher reads it: the engineer's name and code (issue 17)."""
    with Session(api_engine) as s:
        e = s.get(Engineer, engineer_id)
        assert e is not None
        return f"engineer {e.name} ({e.code}) is absent"


def _engineer_of(api_engine: Engine, ticket_id: int) -> int:
    with Session(api_engine) as s:
        return s.scalars(
            select(Assignment.engineer_id).where(
                Assignment.ticket_id == ticket_id, Assignment.status == AssignmentStatus.ACTIVE
            )
        ).one()


def _disrupt(client: TestClient, plan_id: int, body: dict[str, Any]) -> Any:
    return client.post(
        f"/v1/dispatch/plans/{plan_id}/disruptions", json={"time_limit_s": 0} | body,
        headers=DISPATCHER,
    )  # fmt: skip


def test_an_absence_is_recorded_and_replanned_as_a_draft_that_publishes(
    client: TestClient, ids: Ids, api_engine: Engine
) -> None:
    plan_id = published_plan(client, ids.ticket)
    gone = _engineer_of(api_engine, ids.ticket)
    response = _disrupt(client, plan_id, {"kind": "engineer_absent", "engineer_id": gone})
    assert response.status_code == 201, response.text
    body = response.json()
    draft = body["plan_id"]
    assert response.headers["Location"] == f"/v1/dispatch/plans/{draft}"
    assert (body["kind"], body["published_plan_id"]) == ("engineer_absent", plan_id)
    assert body["affected"] == [ids.ticket]
    assert body["feasible"] is True
    assert body["cause"] == _absent(api_engine, gone)
    with Session(api_engine) as s:
        absence = s.get(Absence, body["absence_id"])
        assert absence is not None
        assert (absence.engineer_id, absence.starts_at, absence.ends_at) == (gone, T0, T0 + HORIZON)
    diff = client.get(f"/v1/dispatch/plans/{draft}/diff", headers=DISPATCHER).json()
    assert diff["against_plan_id"] == plan_id
    headers = DISPATCHER | {"Idempotency-Key": f"publish-{draft}"}
    assert client.post(f"/v1/dispatch/plans/{draft}/publish", headers=headers).is_success
    assert _engineer_of(api_engine, ids.ticket) != gone


def test_promises_at_risk_are_listed_with_why(
    client: TestClient, ids: Ids, api_engine: Engine
) -> None:
    plan_id = published_plan(client, ids.ticket)
    gone = _engineer_of(api_engine, ids.ticket)
    with Session(api_engine) as s, s.begin():  # nobody else can go either
        for e in ids.engineers:
            if e != gone:
                s.add(Absence(engineer_id=e, starts_at=T0, ends_at=T0 + HORIZON, reason="training"))
    body = _disrupt(client, plan_id, {"kind": "engineer_absent", "engineer_id": gone}).json()
    (risk,) = body["at_risk"]
    assert risk["ticket_id"] == ids.ticket
    assert risk["promise_after"] == "dropped"
    assert risk["affected"] is True
    assert risk["why"].startswith(f"{_absent(api_engine, gone)}: its visit is re-planned; dropped")
    assert body["diff"]["newly_dropped"] == 1


def test_an_overrun_and_a_part_out_make_drafts(
    client: TestClient, ids: Ids, api_engine: Engine
) -> None:
    plan_id = published_plan(client, ids.ticket)
    overrun = _disrupt(
        client, plan_id, {"kind": "visit_overrun", "ticket_id": ids.ticket, "extra_min": 45}
    )
    assert overrun.status_code == 201, overrun.text
    with Session(api_engine) as s:
        code = s.get(Ticket, ids.ticket).code  # type: ignore[union-attr]
    assert overrun.json()["cause"] == f"the visit of ticket {code} runs 45 min over"
    out = _disrupt(
        client, plan_id, {"kind": "part_out", "depot_id": ids.depot, "part_id": ids.part}
    )
    assert out.status_code == 201, out.text
    draft = client.get(f"/v1/dispatch/plans/{out.json()['plan_id']}", headers=DISPATCHER).json()
    pickups = [s for r in draft["routes"] for s in r["stops"] if s["kind"] == "pickup"]
    assert all(s["depot_id"] != ids.depot for s in pickups)


def test_bad_disruptions_are_problems(client: TestClient, ids: Ids, api_engine: Engine) -> None:
    draft = draft_plan(client, ids.ticket)
    part_out = {"kind": "part_out", "depot_id": ids.depot, "part_id": ids.part}
    problem = assert_problem(_disrupt(client, draft, part_out), 409)
    assert problem["type"].endswith("disruption-conflict")
    assert "published" in problem["detail"]
    assert_problem(_disrupt(client, 999_999, part_out), 404)
    plan_id = published_plan(client, ids.ticket)
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"kind": "engineer_absent", "engineer_id": 999_999}, 404, "engineer 999999"),
        ({"kind": "visit_overrun", "ticket_id": 999_999, "extra_min": 5}, 404, "ticket 999999"),
        ({"kind": "visit_overrun", "ticket_id": ids.stray, "extra_min": 5}, 422, "not in plan"),
        ({"kind": "part_out", "depot_id": 999_999, "part_id": ids.part}, 404, "depot 999999"),
        ({"kind": "part_out", "depot_id": ids.depot, "part_id": 999_999}, 404, "part 999999"),
        ({"kind": "visit_overrun", "ticket_id": ids.ticket, "extra_min": 0}, 422, ""),
        ({"kind": "strike"}, 422, ""),
        (part_out | {"surprise": 1}, 422, ""),
    ]
    for body, status, detail in cases:
        problem = assert_problem(_disrupt(client, plan_id, body), status)
        assert detail in problem["detail"], (body, problem)
    gone = _engineer_of(api_engine, ids.ticket)
    late = {"kind": "engineer_absent", "engineer_id": gone, "until": T0.isoformat()}
    assert "later than now" in assert_problem(_disrupt(client, plan_id, late), 422)["detail"]
    with Session(api_engine) as s:  # nothing was recorded by the refusals
        assert s.scalars(select(Absence).where(Absence.engineer_id == gone)).all() == []
