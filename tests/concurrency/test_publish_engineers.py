"""A publish and a confirmation racing for one engineer on different tickets never book him twice.

The plan sends engineer E to ticket T1; meanwhile a dispatcher confirms E for T2 (a ticket
outside the plan) at the same hours. Publish locks the plan's engineers after its tickets
(the order a confirmation takes: ticket, then engineer) and refuses a visit that overlaps
an assignment made since: whichever comes second loses with a 409 problem+json, or (a
confirmation after the publish) is booked after the planned visit, never over it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db import Role
from dispatch.models import Assignment, AssignmentStatus
from inventory.verify import verify
from tests.builders import key_for
from tests.concurrency.conftest import race
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0, TicketWorld, open_ticket

ROUNDS = 4  # each a fresh world; which request wins varies
TIMEOUT_S = 120.0
PROBLEM_JSON = "application/problem+json"
HEADERS = {"X-API-Key": key_for(Role.DISPATCHER)}


@pytest.fixture
def clock() -> Callable[[], datetime]:
    return lambda: T0


@dataclass
class Pair:
    planned: int  # T1: the plan's ticket
    other: int  # T2: confirmed outside the plan


@pytest.fixture
def world(wide_engine: Engine) -> TicketWorld:
    with Session(wide_engine, expire_on_commit=False) as s, s.begin():
        return make_dispatch_world(s, with_part=False).base


def _pair(engine: Engine, world: TicketWorld) -> Pair:
    with Session(engine) as s, s.begin():  # the world's rows, detached, give ids only
        return Pair(open_ticket(s, world, parts=[]).id, open_ticket(s, world, parts=[]).id)


def _draft(base: str, ticket_id: int) -> tuple[int, int]:
    """A draft plan of one ticket: its id and the engineer it sends."""
    with httpx.Client(base_url=base, timeout=TIMEOUT_S) as client:
        made = client.post("/v1/dispatch/plans", json={"ticket_ids": [ticket_id],
                           "time_limit_s": 0}, headers=HEADERS)  # fmt: skip
        assert made.status_code == 201, made.text
        (route,) = made.json()["routes"]
        return int(made.json()["id"]), int(route["engineer_id"])


def _publish(base: str, plan_id: int) -> httpx.Response:
    headers = HEADERS | {"Idempotency-Key": f"publish-{plan_id}"}
    with httpx.Client(base_url=base, timeout=TIMEOUT_S) as client:
        return client.post(f"/v1/dispatch/plans/{plan_id}/publish", headers=headers)


def _confirm(base: str, ticket_id: int, engineer_id: int) -> httpx.Response:
    headers = HEADERS | {"Idempotency-Key": f"confirm-{ticket_id}"}
    body = {"ticket_id": ticket_id, "engineer_id": engineer_id}
    with httpx.Client(base_url=base, timeout=TIMEOUT_S) as client:
        return client.post("/v1/dispatch/assignments", json=body, headers=headers)


def _assert_never_twice(engine: Engine) -> None:
    """No engineer's active assignments overlap; the stock ledger is clean."""
    with Session(engine) as s:
        active = s.scalars(
            select(Assignment).where(Assignment.status == AssignmentStatus.ACTIVE)
        ).all()
        for a, b in combinations(active, 2):
            if a.engineer_id == b.engineer_id:
                overlap = a.departs_at < b.fixes_at and b.departs_at < a.fixes_at
                assert not overlap, (a.ticket_id, b.ticket_id, a.engineer_id)
        assert verify(session=s) == []


def _refused(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    return body


def test_a_confirmation_first_makes_the_publish_409(
    served: str, world: TicketWorld, wide_engine: Engine
) -> None:
    pair = _pair(wide_engine, world)
    plan_id, engineer = _draft(served, pair.planned)
    assert _confirm(served, pair.other, engineer).status_code == 201
    problem = _refused(_publish(served, plan_id))
    assert problem["type"] == "urn:spares:problem:publish-conflict"
    assert f"booked for ticket {pair.other}" in problem["conflicts"][0]
    _assert_never_twice(wide_engine)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_racing_publish_and_confirmation_never_double_book(
    served: str, world: TicketWorld, wide_engine: Engine, round_: int
) -> None:
    pair = _pair(wide_engine, world)
    plan_id, engineer = _draft(served, pair.planned)

    def attempt(i: int) -> httpx.Response:
        return _publish(served, plan_id) if i == 0 else _confirm(served, pair.other, engineer)

    published, confirmed = race(2, attempt)
    codes = (published.status_code, confirmed.status_code)
    assert codes in {(200, 201), (200, 409), (409, 201)}, (codes, published.text, confirmed.text)
    for loser in (r for r in (published, confirmed) if r.status_code == 409):
        _refused(loser)
    _assert_never_twice(wide_engine)
