"""`POST /v1/dispatch/plans/{id}/insert`: an urgent ticket into the published plan, at once."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import optimizer as opt
from db import Role, User, make_sessionmaker
from db.jobs import Job
from dispatch.models import Channel, Ticket, TicketStatus
from dispatch.tickets import TicketIntake, create_ticket
from spares.worker import Worker, handlers
from tests.api.conftest import TestClient
from tests.api.plan_helpers import draft_plan, published_plan
from tests.builders import key_for
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0, open_ticket

DISPATCHER = {"X-API-Key": key_for(Role.DISPATCHER)}


@dataclass
class Ids:
    ticket: int
    urgent: int
    region: int
    intake: dict[str, object]
    dispatcher: int


@pytest.fixture
def ids(api_engine: Engine) -> Ids:
    with Session(api_engine) as s, s.begin():
        dw = make_dispatch_world(s)
        urgent = open_ticket(s, dw.base, parts=[]).id
        intake = dw.base.intake(parts=[])
        fields = {k: getattr(intake, k) for k in ("site_id", "ticket_type_id", "asset_id")}
        return Ids(dw.ticket.id, urgent, dw.base.region.id, fields, dw.base.dispatcher.id)


@pytest.fixture
def client(client: TestClient, app: FastAPI) -> TestClient:
    app.state.clock = lambda: T0
    return client


def test_insert_makes_a_draft_that_diffs_and_publishes(client: TestClient, ids: Ids) -> None:
    plan_id = published_plan(client, ids.ticket)
    response = client.post(
        f"/v1/dispatch/plans/{plan_id}/insert",
        json={"ticket_id": ids.urgent, "change_budget": 1}, headers=DISPATCHER,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["ticket_id"] == ids.urgent
    assert body["engineer_id"] is not None
    assert body["promise"] in ("kept", "late", "no_promise")
    assert body["feasible"] is True
    assert body["job_id"] is None  # a plan of a ticket list has no region to re-plan
    draft = body["plan_id"]
    diff = client.get(f"/v1/dispatch/plans/{draft}/diff", headers=DISPATCHER).json()
    assert diff["against_plan_id"] == plan_id
    assert ids.urgent in [t["ticket_id"] for t in diff["tickets"] if t["newly_served"]]
    headers = DISPATCHER | {"Idempotency-Key": f"publish-{draft}"}
    published = client.post(f"/v1/dispatch/plans/{draft}/publish", headers=headers)
    assert published.status_code == 200, published.text
    assert ids.urgent in published.json()["assigned"]


def test_bad_inserts_are_problems(client: TestClient, ids: Ids) -> None:
    draft = draft_plan(client, ids.ticket)
    cases = [
        (draft, {"ticket_id": ids.urgent}, 409),  # a draft: insert into a published plan
        (999_999, {"ticket_id": ids.urgent}, 404),
        (draft, {"ticket_id": ids.urgent, "change_budget": 6}, 422),
        (draft, {"ticket_id": ids.urgent, "surprise": 1}, 422),
    ]
    for plan_id, body, code in cases:
        response = client.post(
            f"/v1/dispatch/plans/{plan_id}/insert", json=body, headers=DISPATCHER
        )
        assert response.status_code == code, (body, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    plan_id = published_plan(client, ids.ticket)
    taken = client.post(
        f"/v1/dispatch/plans/{plan_id}/insert", json={"ticket_id": ids.ticket},
        headers=DISPATCHER,
    )  # fmt: skip
    assert taken.status_code == 422
    assert "assigned" in taken.json()["detail"]


def test_a_region_plan_queues_the_background_replan(
    client: TestClient, ids: Ids, api_engine: Engine
) -> None:
    with Session(api_engine) as s, s.begin():  # the urgent ticket waits outside the region
        s.get(Ticket, ids.urgent).status = TicketStatus.CANCELLED  # type: ignore[union-attr]
        s.get(Ticket, ids.urgent).cancel_reason = "not this one"  # type: ignore[union-attr]
    made = client.post(
        "/v1/dispatch/plans", json={"region_id": ids.region, "time_limit_s": 0},
        headers=DISPATCHER,
    )  # fmt: skip
    plan_id = made.json()["id"]
    headers = DISPATCHER | {"Idempotency-Key": f"publish-{plan_id}"}
    assert client.post(f"/v1/dispatch/plans/{plan_id}/publish", headers=headers).is_success
    with Session(api_engine) as s, s.begin():  # a new urgent call comes in
        user = s.get(User, ids.dispatcher)
        assert user is not None
        intake = TicketIntake(**ids.intake, severity="urgent", channel=Channel.PHONE,
                              reported_at=T0)  # type: ignore[arg-type]  # fmt: skip
        new = create_ticket(s, intake, user=user, now=T0).id
    response = client.post(
        f"/v1/dispatch/plans/{plan_id}/insert", json={"ticket_id": new}, headers=DISPATCHER
    )
    assert response.status_code == 201, response.text
    job_id = response.json()["job_id"]
    assert job_id is not None
    with Session(api_engine) as s, s.begin():  # deterministic here (see test_plans_api)
        row = s.get(Job, job_id)
        assert row is not None
        assert row.kind == "replan"
        row.payload = row.payload | {"time_limit_s": None, "failure_limit": 50}
    worker = Worker(make_sessionmaker(api_engine), handlers(opt.GeodesicTravelTimes()),
                    clock=lambda: T0)  # fmt: skip
    assert str(worker.run_once()) == "done"
    polled = client.get(f"/v1/jobs/{job_id}", headers=DISPATCHER).json()
    improved = client.get(polled["result_url"], headers=DISPATCHER).json()
    assert sorted(improved["ticket_ids"]) == sorted([ids.ticket, new])
    assert improved["violations"] == []


def test_insertions_into_one_published_plan_share_its_reads(
    client: TestClient, ids: Ids, app: FastAPI, api_engine: Engine
) -> None:
    plan_id = published_plan(client, ids.ticket)
    with Session(api_engine) as s, s.begin():  # a second urgent call, same world
        dw_user = s.get(User, ids.dispatcher)
        assert dw_user is not None
        intake = TicketIntake(**ids.intake, severity="urgent", channel=Channel.PHONE,
                              reported_at=T0)  # type: ignore[arg-type]  # fmt: skip
        second = create_ticket(s, intake, user=dw_user, now=T0).id
    cache = app.state.published
    before = (cache.misses, cache.hits)
    bodies = []
    for ticket_id in (ids.urgent, second):
        response = client.post(
            f"/v1/dispatch/plans/{plan_id}/insert", json={"ticket_id": ticket_id},
            headers=DISPATCHER,
        )  # fmt: skip
        assert response.status_code == 201, response.text
        bodies.append(response.json())
    # one read of the published plan: neither a new ticket nor a draft changes it
    assert (cache.misses - before[0], cache.hits - before[1]) == (1, 1)
    assert [b["ticket_id"] for b in bodies] == [ids.urgent, second]
    assert all(b["feasible"] for b in bodies)
    for change in (c for b in bodies for c in b["changes"]):
        assert set(change) >= {"moved", "deferred", "eta_delta_min"}


def test_the_dispatcher_may_allow_larger_eta_moves(client: TestClient, ids: Ids) -> None:
    plan_id = published_plan(client, ids.ticket)
    response = client.post(
        f"/v1/dispatch/plans/{plan_id}/insert",
        json={"ticket_id": ids.urgent, "allow_eta_moves": True}, headers=DISPATCHER,
    )  # fmt: skip
    assert response.status_code == 201, response.text
    draft = client.get(f"/v1/dispatch/plans/{response.json()['plan_id']}", headers=DISPATCHER)
    assert draft.json()["params"]["insert"]["allow_eta_moves"] is True
    bad = client.post(
        f"/v1/dispatch/plans/{plan_id}/insert",
        json={"ticket_id": ids.urgent, "allow_eta_moves": "sometimes"}, headers=DISPATCHER,
    )  # fmt: skip
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
