"""Every list route pages the same way: small pages walk exactly the rows of one large page.

Each list route (a GET without path parameters whose answer has `next_after`) is walked with
`limit=1` and `limit=2`, following `next_after` until it is null, and must yield the same
ids, in the same order, as one page large enough to hold them all, which must say it is the
last (`next_after` null). A filter applied after the page is cut fails this: a page comes
back short, or the walk stops early. A new list route must be added to `QUERIES`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db import Role
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    Channel,
    LabourRule,
    Plan,
    PlanStage,
    Shift,
)
from dispatch.tickets import TicketIntake, create_ticket
from inventory import stock
from inventory.models import ProductLine, StockLevel
from inventory.reservations import ReserveLine, reserve
from inventory.shipments import ship_to_site
from tests.api.conftest import TestClient, World, auth
from tests.builders import make_user
from tests.ticket_builders import make_ticket_type

ADMIN = auth(Role.ADMIN)
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
WHOLE = 200  # the default cap of a page: every list below holds fewer rows

Query = Callable[[World], dict[str, Any]]


def _all(_: World) -> dict[str, Any]:
    return {}


# Per list route, the queries walked: the bare list and its filters that keep several rows.
QUERIES: dict[str, list[Query]] = {
    "/v1/regions": [_all],
    "/v1/depots": [_all, lambda w: {"region_id": w["sz"]}],
    "/v1/product-lines": [_all],
    "/v1/product-models": [_all, lambda w: {"product_line_id": w["cctv"]}],
    "/v1/parts": [_all, lambda w: {"product_line_id": w["cctv"]}],
    "/v1/assets": [_all, lambda w: {"site_id": w["s1"]}],
    "/v1/engineers": [_all, lambda w: {"region_id": w["gz"]}],
    "/v1/sites": [_all, lambda w: {"region_id": w["gz"]}],
    "/v1/contracts": [_all],
    "/v1/tickets": [
        _all,
        lambda w: {"at_risk": "true"},
        lambda w: {"at_risk": "true", "site_id": w["s1"]},
        lambda w: {"status": "new"},
    ],
    "/v1/ticket-types": [_all],
    "/v1/policies": [_all],
    "/v1/users": [_all],
    "/v1/stock": [_all, lambda w: {"below_reorder_point": "true"}],
    "/v1/ledger": [_all, lambda w: {"depot_id": w["dgz"]}],
    "/v1/shipments": [_all],
    "/v1/audit": [_all],
    "/v1/dispatch/plans": [_all, lambda w: {"region_id": w["gz"]}],
    "/v1/dispatch/assignments": [_all, lambda w: {"engineer_id": w["e1"]}],
    "/v1/engineer-shifts": [_all, lambda w: {"engineer_id": w["e1"]}],
    "/v1/engineer-positions": [_all, lambda w: {"region_id": w["gz"]}],
    "/v1/reservations": [_all, lambda w: {"depot_id": w["dgz"]}],
    "/v1/labour-rules": [_all],
}


def list_routes(app: FastAPI) -> set[str]:
    """GET routes without path parameters whose answer model pages (has `next_after`)."""
    found = set()
    for context in iter_route_contexts(app.routes):
        model = getattr(context, "response_model", None)
        fields = getattr(model, "model_fields", {})
        if "GET" in (context.methods or ()) and "{" not in context.path and "next_after" in fields:
            found.add(str(context.path))
    return found


def test_every_list_route_is_walked(app: FastAPI) -> None:
    assert list_routes(app) == set(QUERIES)


@dataclass
class FixedClock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def rows(api_engine: Engine, world: World, app: FastAPI) -> World:
    """The world plus tickets (five at risk, two calm), stock, ledger lines and shipments."""
    with Session(api_engine) as s, s.begin():
        dispatcher = make_user(s, Role.DISPATCHER, key="spk_test_paging_dispatcher")
        fault = make_ticket_type(s, _line(s, world["cctv"]))
        make_ticket_type(s, _line(s, world["acs"]))
        for i, severity in enumerate(["S1", "S2", "S1", "S2", "S1", "S3", "S3"]):
            # the S3 ones are reported later: calm at the clock's time
            reported = T0 + timedelta(hours=3 if severity == "S3" else 0, minutes=i)
            intake = TicketIntake(
                site_id=world["s1"] if i % 2 else world["s2"], ticket_type_id=fault.id,
                severity=severity, channel=Channel.PHONE, reported_at=reported,
            )  # fmt: skip
            ticket = create_ticket(s, intake, user=dispatcher, now=reported)
            if i < 3:  # on paper only: the list reads rows, not the schedule
                s.add(Assignment(
                    ticket_id=ticket.id, engineer_id=world["e1"],
                    status=AssignmentStatus.ACTIVE, departs_at=reported, arrives_at=reported,
                    fixes_at=reported, parts_source="none", created_at=reported,
                    created_by_id=dispatcher.id,
                ))  # fmt: skip
        for weekday in range(3):
            s.add(Shift(engineer_id=world["e1"], weekday=weekday, starts_at=time(8),
                        ends_at=time(18)))  # fmt: skip
        for n, region in enumerate((world["gz"], world["sz"], None)):
            s.add(LabourRule(code=f"LR{n}", name=f"rules {n}", region_id=region))
        for stage in (PlanStage.DRAFT, PlanStage.DRAFT):
            s.add(Plan(region_id=world["gz"], stage=stage, as_of=T0, ticket_ids=[], params={},
                       result=None, created_at=T0))  # fmt: skip
        who = stock.Who(None, T0)
        for depot in ("dgz", "dsz", "central"):
            for part in ("lens", "psu", "lock"):
                stock.receive(session=s, depot_id=world[depot], part_id=world[part],
                              quantity=3, who=who)  # fmt: skip
        for _ in range(3):
            ship_to_site(session=s, from_depot_id=world["dgz"], site_id=world["s1"],
                         part_id=world["lens"], quantity=1, requested_at=T0,
                         transit_min=60, who=who)  # fmt: skip
        for _ in range(3):
            reserve(session=s, depot_id=world["dgz"], lines=[ReserveLine(world["psu"], 1)],
                    user_id=None, now=T0)  # fmt: skip
        low = select(StockLevel).where(StockLevel.part_id.in_([world["lens"], world["psu"]]))
        for level in s.scalars(low):
            level.reorder_point = 50
    app.state.clock = FixedClock(T0 + timedelta(minutes=30))
    return world


def _line(s: Session, line_id: int) -> ProductLine:
    line = s.get(ProductLine, line_id)
    assert line is not None
    return line


def _walk(client: TestClient, path: str, query: dict[str, Any], limit: int) -> list[int]:
    seen: list[int] = []
    after = None
    for _ in range(500):
        params = query | {"limit": limit} | ({} if after is None else {"after": after})
        response = client.get(path, params=params, headers=ADMIN)
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["items"]) <= limit
        if body["next_after"] is not None:
            assert len(body["items"]) == limit  # a page is short only when it is the last
        seen += [item["id"] for item in body["items"]]
        after = body["next_after"]
        if after is None:
            return seen
    raise AssertionError(f"{path} did not end")


@pytest.mark.parametrize(
    ("path", "query"),
    [(path, q) for path, queries in QUERIES.items() for q in queries],
    ids=[f"{p}#{i}" for p, queries in QUERIES.items() for i in range(len(queries))],
)
def test_small_pages_walk_the_whole_list(
    client: TestClient, rows: World, path: str, query: Query
) -> None:
    params = query(rows)
    whole = client.get(path, params=params | {"limit": WHOLE}, headers=ADMIN)
    assert whole.status_code == 200, whole.text
    body = whole.json()
    assert body["next_after"] is None  # one page holds them all and says so
    ids = [item["id"] for item in body["items"]]
    assert len(ids) >= 2, f"{path} {params}: too few rows to page"
    assert len(set(ids)) == len(ids)
    for limit in (1, 2):
        assert _walk(client, path, params, limit) == ids, f"limit={limit}"


def test_the_worklist_pages_all_five_tickets_at_risk(client: TestClient, rows: World) -> None:
    first = client.get("/v1/tickets?at_risk=true&limit=3", headers=ADMIN).json()
    assert len(first["items"]) == 3
    assert first["next_after"] == first["items"][-1]["id"]
    rest = client.get(
        f"/v1/tickets?at_risk=true&limit=3&after={first['next_after']}", headers=ADMIN
    ).json()
    assert len(rest["items"]) == 2
    assert rest["next_after"] is None
    assert all(t["at_risk"] for t in first["items"] + rest["items"])


def test_an_unknown_worklist_cursor_is_a_problem(client: TestClient, rows: World) -> None:
    response = client.get("/v1/tickets?at_risk=true&after=999999", headers=ADMIN)
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
