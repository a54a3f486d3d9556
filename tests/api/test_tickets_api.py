"""Tickets over HTTP: intake to callback, clocks, the worklist, refusals, and engineers' updates."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db import Role
from dispatch.models import Engineer, Ticket, TicketStatus
from inventory import stock
from inventory.models import Asset, DepotKind, ProductLine, ProductModel, Shipment, StockLevel
from inventory.verify import verify
from tests.api.conftest import TestClient, auth
from tests.builders import make_depot, make_engineer, make_product_line, make_user
from tests.ticket_builders import T0, make_ticket_type, make_ticket_world

OTHER_ENGINEER_KEY = "spk_test_engineer_two"


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Ids:
    site: int
    asset: int
    ticket_type: int
    line: int
    part: int
    engineer: int
    other_engineer: int


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def ids(api_engine: Engine) -> Ids:
    with Session(api_engine) as s, s.begin():
        w = make_ticket_world(s)
        for role in (Role.ADMIN, Role.WAREHOUSE, Role.PLANNER):
            make_user(s, role)
        other_user = make_user(s, Role.ENGINEER, key=OTHER_ENGINEER_KEY)
        other = make_engineer(s, w.region, skills={w.line: 3}, user_id=other_user.id)
        return Ids(
            site=w.site.id,
            asset=w.asset.id,
            ticket_type=w.ticket_type.id,
            line=w.line.id,
            part=w.part.id,
            engineer=w.engineer.id,
            other_engineer=other.id,
        )


@pytest.fixture
def client(client: TestClient, app: FastAPI, clock: Clock) -> TestClient:
    app.state.clock = clock
    return client


def intake(ids: Ids, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "site_id": ids.site,
        "asset_id": ids.asset,
        "ticket_type_id": ids.ticket_type,
        "severity": "urgent",
        "channel": "phone",
        "description": "camera offline at the main gate",
    }
    return body | changes


_keys = itertools.count()


def create(client: TestClient, ids: Ids, **changes: object) -> dict:  # type: ignore[type-arg]
    """Take a ticket in, with a fresh Idempotency-Key (required when it lists parts)."""
    headers = auth(Role.DISPATCHER) | {"Idempotency-Key": f"intake-{next(_keys)}"}
    response = client.post("/v1/tickets", json=intake(ids, **changes), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()  # type: ignore[no-any-return]


def step(client: TestClient, ticket_id: int, to: str, **extra: object):  # type: ignore[no-untyped-def]
    return client.post(
        f"/v1/tickets/{ticket_id}/transitions",
        json={"to": to, **extra},
        headers=auth(Role.DISPATCHER),
    )


def stock_van(api_engine: Engine, engineer_id: int, part_id: int, quantity: int) -> None:
    """Give the engineer a van holding `quantity` of the part (received through the ledger)."""
    with Session(api_engine) as s, s.begin():
        engineer = s.get(Engineer, engineer_id)
        assert engineer is not None
        van = make_depot(s, None, kind=DepotKind.VAN, lat=None, lon=None)
        engineer.van_depot_id = van.id
        stock.receive(session=s, depot_id=van.id, part_id=part_id, quantity=quantity,
                      who=stock.Who(None, datetime.now(UTC)))  # fmt: skip


def assign(api_engine: Engine, ticket_id: int, engineer_id: int) -> None:
    """Stand-in for dispatch's assignment service (a later issue): set the engineer."""
    with Session(api_engine) as s, s.begin():
        ticket = s.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.engineer_id = engineer_id
        ticket.status = TicketStatus.ASSIGNED


class TestIntake:
    def test_created_with_deadlines_and_clocks(self, client: TestClient, ids: Ids) -> None:
        body = create(client, ids)
        assert body["status"] == "new"
        assert datetime.fromisoformat(body["reported_at"]) == T0
        clocks = {c["clock"]: c for c in body["clocks"]}
        assert datetime.fromisoformat(clocks["arrive"]["deadline"]) == (T0 + timedelta(hours=2))
        assert clocks["respond"]["state"] == "at_risk"  # 10 min to respond, 15 min margin
        assert clocks["fix"]["state"] == "on_time"
        (skill,) = body["skills"]
        assert (skill["product_line_id"], skill["min_level"]) == (ids.line, 1)
        # issue 17: names next to ids, where a person reads them
        assert skill["product_line_code"]
        assert skill["product_line_name"]
        assert body["site_name"]
        assert body["ticket_type_name"]
        assert body["engineer_name"] is None  # nobody assigned yet

    def test_unknown_severity_is_a_field_error(self, client: TestClient, ids: Ids) -> None:
        response = client.post(
            "/v1/tickets", json=intake(ids, severity="P9"), headers=auth(Role.DISPATCHER)
        )
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["field"] == "severity"
        assert "urgent, serious, general" in problem["detail"]

    def test_ticket_type_of_another_product_line_than_the_asset_is_refused(
        self, client: TestClient, ids: Ids, api_engine: Engine
    ) -> None:
        # a CCTV fault type on a rack server: nobody qualified for the server would be sent
        with Session(api_engine) as s, s.begin():
            servers = make_product_line(s, code="SRV", name="Rack servers")
            other_type = make_ticket_type(s, servers, code="SRV-PSU", name="Server PSU fault")
            asset = s.get(Asset, ids.asset)
            assert asset is not None
            model = s.get(ProductModel, asset.product_model_id)
            assert model is not None
            line = s.get(ProductLine, model.product_line_id)
            assert line is not None
            asset_line, other_id, serial = line.code, other_type.id, asset.serial
        response = client.post(
            "/v1/tickets", json=intake(ids, ticket_type_id=other_id), headers=auth(Role.DISPATCHER)
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["field"] == "ticket_type_id"
        for name in ("SRV-PSU", "SRV", serial, asset_line):
            assert name in problem["detail"]
        listed = client.get("/v1/tickets", headers=auth(Role.DISPATCHER)).json()
        assert listed["items"] == []

    def test_unknown_fields_are_refused(self, client: TestClient, ids: Ids) -> None:
        response = client.post(
            "/v1/tickets", json=intake(ids, status="closed"), headers=auth(Role.DISPATCHER)
        )
        assert response.status_code == 422
        assert any(e["location"][-1] == "status" for e in response.json()["errors"])

    def test_naive_reported_at_is_refused(self, client: TestClient, ids: Ids) -> None:
        response = client.post(
            "/v1/tickets",
            json=intake(ids, reported_at="2026-11-02T08:00:00"),
            headers=auth(Role.DISPATCHER),
        )
        assert response.status_code == 422

    def test_engineer_may_not_create(self, client: TestClient, ids: Ids) -> None:
        response = client.post("/v1/tickets", json=intake(ids), headers=auth(Role.ENGINEER))
        assert response.status_code == 403


class TestLifecycle:
    def test_intake_to_callback(
        self, client: TestClient, ids: Ids, clock: Clock, api_engine: Engine
    ) -> None:
        ticket = create(client, ids)
        tid = ticket["id"]
        clock.now = T0 + timedelta(minutes=5)
        assert step(client, tid, "responded").json()["status"] == "responded"
        assign(api_engine, tid, ids.engineer)
        engineer = auth(Role.ENGINEER)
        for minutes, status in ((10, "en_route"), (70, "on_site"), (150, "fixed")):
            clock.now = T0 + timedelta(minutes=minutes)
            response = client.post(
                f"/v1/me/tickets/{tid}/status", json={"status": status}, headers=engineer
            )
            assert response.status_code == 200, response.text
        clock.now = T0 + timedelta(minutes=160)
        assert step(client, tid, "closed").status_code == 200
        done = step(client, tid, "callback_done", satisfaction=5, comment="quick")
        assert done.status_code == 200
        body = done.json()
        assert (body["status"], body["satisfaction"]) == ("callback_done", 5)
        assert {c["clock"]: c["state"] for c in body["clocks"]} == {
            "respond": "met",
            "depart": "met",
            "arrive": "met",
            "fix": "met",
        }
        log = client.get(f"/v1/tickets/{tid}/log", headers=auth(Role.DISPATCHER)).json()
        assert all(e["user_name"] for e in log)  # issue 17: who by name, not only the key's id
        assert body["engineer_name"]
        assert [e["to_status"] for e in log] == [
            "new",
            "responded",
            "en_route",
            "on_site",
            "fixed",
            "closed",
            "callback_done",
        ]

    def test_remote_resolution_stays_visit_free_after_close_and_callback(
        self, client: TestClient, ids: Ids, clock: Clock
    ) -> None:
        # Solved on the phone: nobody departs or arrives, before or after the ticket closes.
        tid = create(client, ids)["id"]
        clock.now = T0 + timedelta(minutes=5)
        assert step(client, tid, "resolved_remotely").status_code == 200
        clock.now = T0 + timedelta(days=1)
        for to, extra in (("closed", {}), ("callback_done", {"satisfaction": 4})):
            body = step(client, tid, to, **extra).json()
            assert body["status"] == to
            assert body["at_risk"] is False
            states = {c["clock"]: c["state"] for c in body["clocks"]}
            assert states == {"respond": "met", "depart": "void", "arrive": "void", "fix": "met"}

    def test_illegal_step_names_the_allowed_ones(self, client: TestClient, ids: Ids) -> None:
        tid = create(client, ids)["id"]
        response = step(client, tid, "fixed")
        assert response.status_code == 409
        problem = response.json()
        assert problem["allowed"] == ["cancelled", "resolved_remotely", "responded"]
        assert "cannot become fixed" in problem["detail"]

    def test_assigned_is_refused_outside_dispatch(self, client: TestClient, ids: Ids) -> None:
        tid = create(client, ids)["id"]
        step(client, tid, "responded")
        assert step(client, tid, "assigned").status_code == 409

    def test_cancel_needs_a_reason(self, client: TestClient, ids: Ids) -> None:
        tid = create(client, ids)["id"]
        response = step(client, tid, "cancelled")
        assert response.status_code == 422
        assert response.json()["field"] == "reason"
        assert step(client, tid, "cancelled", reason="customer fixed it").status_code == 200

    def test_severity_change_recomputes_deadlines(
        self, client: TestClient, ids: Ids, clock: Clock
    ) -> None:
        tid = create(client, ids, severity="general")["id"]
        clock.now = T0 + timedelta(minutes=30)
        response = client.patch(
            f"/v1/tickets/{tid}",
            json={"severity": "urgent", "reason": "production line down"},
            headers=auth(Role.DISPATCHER),
        )
        assert response.status_code == 200
        clocks = {c["clock"]: c for c in response.json()["clocks"]}
        assert datetime.fromisoformat(clocks["depart"]["deadline"]) == (T0 + timedelta(minutes=15))
        assert clocks["depart"]["state"] == "breached"

    def test_unknown_ticket_is_404(self, client: TestClient, ids: Ids) -> None:
        response = client.get("/v1/tickets/999999", headers=auth(Role.DISPATCHER))
        assert response.status_code == 404
        assert response.json()["entity"] == "ticket"


class TestWorklist:
    def test_at_risk_most_urgent_first(self, client: TestClient, ids: Ids, clock: Clock) -> None:
        general = create(client, ids, severity="general")["id"]
        urgent = create(client, ids, severity="urgent")["id"]
        serious = create(client, ids, severity="serious")["id"]
        clock.now = T0 + timedelta(minutes=110)
        response = client.get("/v1/tickets?at_risk=true", headers=auth(Role.DISPATCHER))
        assert [t["id"] for t in response.json()["items"]] == [urgent, serious, general]
        clock.now = T0
        calm = client.get("/v1/tickets?at_risk=true", headers=auth(Role.PLANNER)).json()
        assert general not in [t["id"] for t in calm["items"]]

    def test_list_pages_and_filters(self, client: TestClient, ids: Ids) -> None:
        made = [create(client, ids)["id"] for _ in range(3)]
        step(client, made[0], "responded")
        first = client.get("/v1/tickets?limit=2", headers=auth(Role.WAREHOUSE)).json()
        rest = client.get(
            f"/v1/tickets?limit=2&after={first['next_after']}", headers=auth(Role.WAREHOUSE)
        ).json()
        assert [t["id"] for t in first["items"] + rest["items"]] == made
        responded = client.get("/v1/tickets?status=responded", headers=auth(Role.ADMIN)).json()
        assert [t["id"] for t in responded["items"]] == [made[0]]


class TestEngineerUpdates:
    def test_another_engineers_ticket_is_not_found(
        self, client: TestClient, ids: Ids, api_engine: Engine
    ) -> None:
        tid = create(client, ids)["id"]
        step(client, tid, "responded")
        assign(api_engine, tid, ids.engineer)
        other = {"X-API-Key": OTHER_ENGINEER_KEY}
        for method, url, body in (
            ("GET", f"/v1/me/tickets/{tid}", None),
            ("POST", f"/v1/me/tickets/{tid}/status", {"status": "en_route"}),
            ("POST", f"/v1/me/tickets/{tid}/parts-used", {"parts": [{"part_id": ids.part}]}),
        ):
            headers = other | {"Idempotency-Key": f"{method}-{url}"}
            response = client.request(method, url, json=body, headers=headers)
            assert response.status_code == 404, (method, url)
        mine = client.get("/v1/me/tickets", headers=auth(Role.ENGINEER)).json()
        assert [t["id"] for t in mine] == [tid]
        assert client.get("/v1/me/tickets", headers=other).json() == []

    def test_engineer_reports_only_field_steps(
        self, client: TestClient, ids: Ids, api_engine: Engine
    ) -> None:
        tid = create(client, ids)["id"]
        step(client, tid, "responded")
        assign(api_engine, tid, ids.engineer)
        response = client.post(
            f"/v1/me/tickets/{tid}/status", json={"status": "closed"}, headers=auth(Role.ENGINEER)
        )
        assert response.status_code == 422

    def test_parts_used_and_position(
        self, client: TestClient, ids: Ids, api_engine: Engine, clock: Clock
    ) -> None:
        tid = create(client, ids)["id"]
        step(client, tid, "responded")
        assign(api_engine, tid, ids.engineer)
        stock_van(api_engine, ids.engineer, ids.part, 2)
        engineer = auth(Role.ENGINEER) | {"Idempotency-Key": "parts-1"}
        early = client.post(
            f"/v1/me/tickets/{tid}/parts-used", json={"parts": [{"part_id": ids.part}]},
            headers=engineer,
        )  # fmt: skip
        assert early.status_code == 422  # not on site yet
        for status in ("en_route", "on_site"):
            client.post(
                f"/v1/me/tickets/{tid}/status",
                json={"status": status, "lat": 23.13, "lon": 113.26},
                headers=engineer,
            )
        used = client.post(
            f"/v1/me/tickets/{tid}/parts-used",
            json={"parts": [{"part_id": ids.part, "quantity": 2, "serial": "SN-NEW-1"}]},
            headers=engineer | {"Idempotency-Key": "parts-2"},
        )
        assert used.status_code == 201, used.text
        assert used.json()["parts_used"][0]["quantity"] == 2
        with Session(api_engine) as s:  # the van's two units were used, in the ledger
            van = s.get(Engineer, ids.engineer)
            assert van is not None
            assert van.van_depot_id is not None
            level = s.scalars(select(StockLevel).where(StockLevel.depot_id == van.van_depot_id))
            assert level.one().on_hand == 0
            assert verify(session=s) == []
        position = client.put("/v1/me/position", json={"lat": 23.2, "lon": 113.3}, headers=engineer)
        assert position.json()["current_lat"] == 23.2
        bad = client.put("/v1/me/position", json={"lat": 123, "lon": 113.3}, headers=engineer)
        assert bad.status_code == 422


class TestTicketTypes:
    def test_list_filter_and_get(self, client: TestClient, ids: Ids) -> None:
        listed = client.get(
            f"/v1/ticket-types?product_line_id={ids.line}", headers=auth(Role.ENGINEER)
        ).json()
        assert [t["id"] for t in listed["items"]] == [ids.ticket_type]
        none = client.get("/v1/ticket-types?product_line_id=999999", headers=auth(Role.ADMIN))
        assert none.json()["items"] == []
        one = client.get(f"/v1/ticket-types/{ids.ticket_type}", headers=auth(Role.DISPATCHER))
        assert one.json()["service_min"] == 60
        missing = client.get("/v1/ticket-types/999999", headers=auth(Role.DISPATCHER))
        assert missing.status_code == 404


class TestShipAtIntake:
    """Issue 16, ship within 8 h: a part no stock in reach can swap is shipped with the ticket."""

    def _far_stock(self, api_engine: Engine, part_id: int) -> int:
        """One unit at a depot in Shantou, about 350 km from the site (Guangzhou)."""
        with Session(api_engine) as s, s.begin():
            far = make_depot(s, None, lat=23.354, lon=116.682, name="Shantou")
            stock.receive(session=s, depot_id=far.id, part_id=part_id, quantity=1,
                          who=stock.Who(None, T0))  # fmt: skip
            return far.id

    def test_the_shipment_opens_with_the_ticket_and_cancelling_releases_it(
        self, client: TestClient, ids: Ids, api_engine: Engine
    ) -> None:
        far = self._far_stock(api_engine, ids.part)
        ticket = create(client, ids, parts=[{"part_id": ids.part}])
        found = client.get(
            f"/v1/shipments?ticket_id={ticket['id']}", headers=auth(Role.WAREHOUSE)
        ).json()["items"]
        assert [(s["from_depot_id"], s["part_id"], s["status"]) for s in found] == [
            (far, ids.part, "pending")
        ]
        assert datetime.fromisoformat(found[0]["ship_by"]) == T0 + timedelta(hours=8)
        levels = client.get(f"/v1/stock?depot_id={far}", headers=auth(Role.WAREHOUSE)).json()
        assert [(lv["part_id"], lv["available"]) for lv in levels["items"]] == [(ids.part, 0)]
        assert step(client, ticket["id"], "cancelled", reason="reported twice").status_code == 200
        levels = client.get(f"/v1/stock?depot_id={far}", headers=auth(Role.WAREHOUSE)).json()
        assert [(lv["part_id"], lv["available"]) for lv in levels["items"]] == [(ids.part, 1)]

    def test_a_ticket_without_parts_ships_nothing(
        self, client: TestClient, ids: Ids, api_engine: Engine
    ) -> None:
        self._far_stock(api_engine, ids.part)
        ticket = create(client, ids)
        found = client.get(f"/v1/shipments?ticket_id={ticket['id']}", headers=auth(Role.WAREHOUSE))
        assert found.json()["items"] == []


class TestIntakeIdempotency:
    """Intake may hold stock (ship at intake): a retried request must not take a ticket twice."""

    def _post(self, client: TestClient, body: dict[str, object], key: str | None) -> Any:
        headers = auth(Role.DISPATCHER) | ({"Idempotency-Key": key} if key else {})
        return client.post("/v1/tickets", json=body, headers=headers)

    def _count(self, api_engine: Engine, model: type[Any]) -> int:
        with Session(api_engine) as s:
            return int(s.execute(select(func.count()).select_from(model)).scalar_one())

    def test_a_retry_with_the_same_key_replays_one_ticket_and_one_hold(
        self, client: TestClient, ids: Ids, api_engine: Engine
    ) -> None:
        far = TestShipAtIntake()._far_stock(api_engine, ids.part)
        body = intake(ids, parts=[{"part_id": ids.part}])
        first = self._post(client, body, "retry-after-timeout")
        again = self._post(client, body, "retry-after-timeout")
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert self._count(api_engine, Ticket) == 1
        assert self._count(api_engine, Shipment) == 1
        levels = client.get(f"/v1/stock?depot_id={far}", headers=auth(Role.WAREHOUSE)).json()
        assert [(lv["part_id"], lv["reserved"]) for lv in levels["items"]] == [(ids.part, 1)]

    def test_the_same_key_with_another_body_is_422(
        self, client: TestClient, ids: Ids, api_engine: Engine
    ) -> None:
        assert self._post(client, intake(ids), "k-1").status_code == 201
        other = self._post(client, intake(ids, severity="serious"), "k-1")
        assert other.status_code == 422
        assert other.headers["content-type"].startswith("application/problem+json")
        assert other.json()["type"].endswith("idempotency-key-reused")
        assert self._count(api_engine, Ticket) == 1

    def test_parts_without_a_key_are_400_and_take_nothing_in(
        self, client: TestClient, ids: Ids, api_engine: Engine
    ) -> None:
        got = self._post(client, intake(ids, parts=[{"part_id": ids.part}]), None)
        assert got.status_code == 400
        assert got.json()["type"].endswith("idempotency-key-missing")
        assert self._count(api_engine, Ticket) == 0

    def test_a_ticket_without_parts_needs_no_key(
        self, client: TestClient, ids: Ids, api_engine: Engine
    ) -> None:
        """No part, no stock: the key is honoured when sent, not required (docs/stock.md)."""
        assert self._post(client, intake(ids), None).status_code == 201
        assert self._post(client, intake(ids), None).status_code == 201
        assert self._count(api_engine, Ticket) == 2

    def test_the_openapi_documents_the_header_and_its_statuses(self, client: TestClient) -> None:
        operation = client.get("/openapi.json").json()["paths"]["/v1/tickets"]["post"]
        [header] = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
        assert (header["in"], header.get("required", False)) == ("header", False)
        assert "parts" in header["description"]
        assert {"400", "409", "422"} <= set(operation["responses"])
