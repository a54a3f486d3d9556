"""Intakes race for a depot's last units (ship at intake), over HTTP, on SQLite and PostgreSQL.

Each intake of a part no stock in reach can swap holds a unit at a far depot and opens its
shipment in the ticket's transaction (`dispatch.intake_parts`). Raced: exactly the stock's
worth of tickets get a shipment with a hold; every other ticket is still taken in (its
refused hold rolled back to a savepoint) and left to dispatch; never a 5xx; the ledger
agrees with the balances (`spares stock verify`). No timed asserts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db import Role
from dispatch.models import Ticket
from inventory.models import Reservation, ReservationStatus, Shipment, ShipmentStatus
from inventory.stock import Who, receive
from inventory.verify import verify
from tests.builders import key_for, make_depot, make_part, make_user
from tests.concurrency.conftest import race
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0

RACERS = 8  # each intake loads a snapshot and asks the rule: few, all at once
UNITS = 2
SHANTOU = (23.354, 116.682)  # about 350 km from the Tianhe site: shipped, never swapped
TIMEOUT_S = 120.0


@pytest.fixture
def clock() -> Callable[[], datetime]:
    return lambda: T0


@dataclass
class World:
    depot: int
    part: int
    body: dict[str, object]


@pytest.fixture
def world(wide_engine: Engine) -> World:
    with Session(wide_engine) as s, s.begin():
        dw = make_dispatch_world(s, with_part=False)
        part = make_part(s, dw.base.line)
        far = make_depot(s, dw.base.region, lat=SHANTOU[0], lon=SHANTOU[1], name="Shantou")
        who = Who(make_user(s, Role.WAREHOUSE, key="spk_test_intake_race").id, T0)
        receive(session=s, depot_id=far.id, part_id=part.id, quantity=UNITS, who=who)
        body: dict[str, object] = {
            "site_id": dw.base.site.id, "asset_id": dw.base.asset.id, "severity": "urgent",
            "ticket_type_id": dw.base.ticket_type.id, "channel": "phone",
            "parts": [{"part_id": part.id}],
        }  # fmt: skip
        return World(far.id, part.id, body)


def _intake(base: str, body: dict[str, object], key: str) -> tuple[int, dict[str, object]]:
    headers = {"X-API-Key": key_for(Role.DISPATCHER), "Idempotency-Key": key}
    with httpx.Client(base_url=base, timeout=TIMEOUT_S) as client:
        got = client.post("/v1/tickets", json=body, headers=headers)
    return got.status_code, got.json()


def test_intakes_racing_for_the_last_units_hold_exactly_the_stock(
    served: str, world: World, wide_engine: Engine
) -> None:
    results = race(RACERS, lambda i: _intake(served, world.body, f"intake-race-{i}"))
    assert Counter(code for code, _ in results) == {201: RACERS}, results[:3]
    taken = {int(str(body["id"])) for _, body in results}
    assert len(taken) == RACERS  # every ticket taken in, none lost
    with Session(wide_engine) as s:
        shipped = s.scalars(select(Shipment).where(Shipment.ticket_id.in_(taken))).all()
        assert len(shipped) == UNITS
        assert len({sh.ticket_id for sh in shipped}) == UNITS  # one ticket, one unit
        assert {sh.status for sh in shipped} == {ShipmentStatus.PENDING}
        holds = s.scalars(select(Reservation).where(Reservation.ticket_id.in_(taken))).all()
        assert sorted(h.id for h in holds) == sorted(sh.reservation_id or 0 for sh in shipped)
        assert {(h.depot_id, h.part_id, h.status) for h in holds} == {
            (world.depot, world.part, ReservationStatus.RESERVED)
        }
        assert len(s.scalars(select(Ticket.id).where(Ticket.id.in_(taken))).all()) == RACERS
        assert verify(session=s) == []


def test_a_retried_intake_in_the_race_takes_one_ticket(
    served: str, world: World, wide_engine: Engine
) -> None:
    """The same request sent by every racer (a client's retries): one ticket, one hold."""
    with Session(wide_engine) as s:
        before = len(s.scalars(select(Ticket.id)).all())
    results = race(RACERS, lambda _: _intake(served, world.body, "one-intake"))
    assert not [r for r in results if r[0] >= 500], results[:3]
    codes = Counter(code for code, _ in results)
    assert set(codes) <= {201, 409}, codes  # 409: its twin still running (PostgreSQL)
    assert codes[201] >= 1, codes
    assert len({body["id"] for code, body in results if code == 201}) == 1
    with Session(wide_engine) as s:
        assert len(s.scalars(select(Ticket.id)).all()) == before + 1
        assert len(s.scalars(select(Shipment.id)).all()) == 1
        assert verify(session=s) == []
