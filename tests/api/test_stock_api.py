"""Stock over HTTP: idempotent writes, reservations, movements and reads (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db.identity import Role, User
from dispatch.models import Channel, Ticket
from inventory import idempotency
from inventory.models import IdempotencyKey, LedgerEntry, ProductLine
from inventory.verify import verify
from tests.api.conftest import World, auth
from tests.ticket_builders import make_ticket_type

_keys = itertools.count(1)


def post(client: TestClient, path: str, body: Any, role: Role = Role.WAREHOUSE,
         key: str | None = None) -> Any:  # fmt: skip
    headers = auth(role) | {"Idempotency-Key": key or f"k-{next(_keys)}"}
    return client.post(f"/v1{path}", json=body, headers=headers)


def receive(client: TestClient, depot: int, part: int, qty: int) -> None:
    got = post(client, "/receipts", {"depot_id": depot, "part_id": part, "quantity": qty})
    assert got.status_code == 201, got.json()


def ledger_size(engine: Engine) -> int:
    with Session(engine) as s:
        return s.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()


def consistent(engine: Engine) -> bool:
    with Session(engine) as s:
        return verify(session=s) == []


@pytest.mark.usefixtures("world")
class TestIdempotency:
    def test_a_write_without_a_key_is_400(self, client: TestClient, world: World) -> None:
        body = {"depot_id": world["dgz"], "part_id": world["psu"], "quantity": 1}
        got = client.post("/v1/receipts", json=body, headers=auth(Role.WAREHOUSE))
        assert got.status_code == 400
        assert got.json()["type"].endswith("idempotency-key-missing")

    def test_same_key_and_body_replays_and_changes_nothing(
        self, client: TestClient, world: World, api_engine: Engine
    ) -> None:
        receive(client, world["dgz"], world["psu"], 3)
        body = {"depot_id": world["dgz"], "lines": [{"part_id": world["psu"], "quantity": 2}]}
        first = post(client, "/reservations", body, key="same")
        before = ledger_size(api_engine)
        again = post(client, "/reservations", body, key="same")
        assert (first.status_code, again.status_code) == (201, 201)
        assert again.json() == first.json()
        assert again.headers["Idempotent-Replayed"] == "true"
        assert ledger_size(api_engine) == before
        assert consistent(api_engine)

    def test_a_write_shows_and_replays_times_in_the_zone_asked_for(
        self, client: TestClient, world: World
    ) -> None:
        """The answer is written (and stored with its key) where the handler runs: the
        request's display zone and its `Time-Zone` header must still apply."""
        receive(client, world["dgz"], world["psu"], 3)
        body = {"depot_id": world["dgz"], "lines": [{"part_id": world["psu"], "quantity": 1}]}
        headers = auth(Role.WAREHOUSE) | {"Idempotency-Key": "zoned"}
        url = "/v1/reservations?tz=Asia/Shanghai"
        first = client.post(url, json=body, headers=headers)
        again = client.post(url, json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 201)
        assert first.headers["Time-Zone"] == "Asia/Shanghai"
        assert first.json()[0]["expires_at"].endswith("+08:00")
        assert again.json() == first.json()

    def test_same_key_with_another_body_is_422(self, client: TestClient, world: World) -> None:
        receive(client, world["dgz"], world["psu"], 3)
        body = {"depot_id": world["dgz"], "lines": [{"part_id": world["psu"], "quantity": 1}]}
        assert post(client, "/reservations", body, key="k1").status_code == 201
        body["lines"][0]["quantity"] = 2
        got = post(client, "/reservations", body, key="k1")
        assert got.status_code == 422
        assert got.json()["type"].endswith("idempotency-key-reused")

    def test_keys_are_scoped_per_api_key(self, client: TestClient, world: World) -> None:
        receive(client, world["dgz"], world["psu"], 3)
        body = {"depot_id": world["dgz"], "lines": [{"part_id": world["psu"], "quantity": 1}]}
        a = post(client, "/reservations", body, role=Role.WAREHOUSE, key="shared")
        b = post(client, "/reservations", body, role=Role.DISPATCHER, key="shared")
        assert (a.status_code, b.status_code) == (201, 201)
        assert a.json()[0]["id"] != b.json()[0]["id"]

    def test_a_refused_request_stores_no_key(
        self, client: TestClient, world: World, api_engine: Engine
    ) -> None:
        body = {"depot_id": world["dgz"], "lines": [{"part_id": world["psu"], "quantity": 1}]}
        assert post(client, "/reservations", body, key="retry-me").status_code == 409
        receive(client, world["dgz"], world["psu"], 1)
        assert post(client, "/reservations", body, key="retry-me").status_code == 201
        with Session(api_engine) as s:
            assert s.execute(select(func.count()).select_from(IdempotencyKey)).scalar_one() == 2

    def test_a_twin_in_flight_is_409(
        self, client: TestClient, world: World, api_engine: Engine
    ) -> None:
        if api_engine.dialect.name != "postgresql":
            pytest.skip("SQLite serialises writers: a twin waits for the lock, then replays")
        body = {"depot_id": world["dgz"], "part_id": world["psu"], "quantity": 1}
        printed = idempotency.fingerprint("POST", "/v1/receipts", b"")
        with Session(api_engine) as other:
            user_id = other.scalars(select(User.id).where(User.role == Role.WAREHOUSE)).first()
            assert user_id is not None
            from datetime import UTC, datetime

            idempotency.claim(session=other, user_id=user_id, key="busy", fingerprint=printed,
                              now=datetime.now(UTC))  # fmt: skip
            got = post(client, "/receipts", body, key="busy")
            other.rollback()
        assert got.status_code == 409
        assert got.json()["type"].endswith("idempotency-key-in-flight")


@pytest.mark.usefixtures("world")
class TestReservationsApi:
    def test_short_stock_is_409_with_available_and_substitutes(
        self, client: TestClient, world: World, api_engine: Engine
    ) -> None:
        receive(client, world["dgz"], world["psu3"], 1)
        receive(client, world["dgz"], world["psu"], 4)
        body = {"depot_id": world["dgz"], "lines": [{"part_id": world["psu3"], "quantity": 2}]}
        before = ledger_size(api_engine)
        got = post(client, "/reservations", body, role=Role.DISPATCHER)
        assert got.status_code == 409
        problem = got.json()
        assert problem["type"].endswith("insufficient-stock")
        assert problem["lines"] == [{"depot_id": world["dgz"], "part_id": world["psu3"],
                                     "requested": 2, "available": 1}]  # fmt: skip
        assert [(s["part_id"], s["available"]) for s in problem["substitutes"]] == [
            (world["psu"], 4)
        ]
        assert ledger_size(api_engine) == before
        body["lines"] = [{"part_id": world["psu"], "quantity": 2, "substitute_for": world["psu3"]}]
        held = post(client, "/reservations", body, role=Role.DISPATCHER)
        assert held.status_code == 201
        assert held.json()[0]["requested_part_id"] == world["psu3"]

    def test_release_then_pick_is_409(self, client: TestClient, world: World) -> None:
        receive(client, world["dgz"], world["lens"], 2)
        body = {"depot_id": world["dgz"], "lines": [{"part_id": world["lens"]}]}
        [held] = post(client, "/reservations", body).json()
        rid = held["id"]
        released = post(client, f"/reservations/{rid}/release", {"reason": "plan changed"},
                        role=Role.DISPATCHER)  # fmt: skip
        assert released.json()["status"] == "released"
        again = post(client, f"/reservations/{rid}/pick", {})
        assert again.status_code == 409
        assert again.json()["type"].endswith("reservation-not-active")

    def test_pick_and_ship_to_a_site(
        self, client: TestClient, world: World, api_engine: Engine
    ) -> None:
        receive(client, world["dgz"], world["lens"], 2)
        body = {"depot_id": world["dgz"], "lines": [{"part_id": world["lens"]}]}
        [held] = post(client, "/reservations", body).json()
        picked = post(client, f"/reservations/{held['id']}/pick",
                      {"ship_to_site_id": world["s1"], "transit_min": 120})  # fmt: skip
        assert picked.status_code == 200
        shipment = picked.json()["shipment"]
        assert shipment["status"] == "pending"
        sent = post(client, f"/shipments/{shipment['id']}/ship", None)
        assert sent.json()["status"] == "in_transit"
        late = client.get("/v1/shipments?late=true", headers=auth(Role.DISPATCHER))
        assert late.json()["items"] == []
        assert consistent(api_engine)

    def test_lists_carry_the_part_and_ticket_codes(
        self, client: TestClient, world: World, api_engine: Engine
    ) -> None:
        with Session(api_engine) as s, s.begin():
            line = s.get(ProductLine, world["cctv"])
            assert line is not None
            kind = make_ticket_type(s, line)
            ticket = Ticket(code="T-CODES-1", site_id=world["s1"], ticket_type_id=kind.id,
                            severity="urgent", channel=Channel.PHONE,
                            reported_at=datetime(2025, 3, 1, 8, tzinfo=UTC))  # fmt: skip
            s.add(ticket)
            s.flush()
            ticket_id = ticket.id
        receive(client, world["dgz"], world["lens"], 3)
        body = {"depot_id": world["dgz"], "ticket_id": ticket_id,
                "lines": [{"part_id": world["lens"]}]}  # fmt: skip
        [first] = post(client, "/reservations", body).json()
        post(client, "/reservations", body)
        post(client, f"/reservations/{first['id']}/pick", {"ship_to_site_id": world["s1"]})
        post(
            client,
            "/reservations",
            {"depot_id": world["dgz"], "lines": [{"part_id": world["lens"]}]},
        )
        codes = ("part_sku", "part_name", "ticket_code")
        held = client.get("/v1/reservations?limit=2", headers=auth(Role.WAREHOUSE)).json()
        assert [tuple(r[k] for k in codes) for r in held["items"]] == [
            ("CAM-LENS-01", "Camera lens", "T-CODES-1")
        ] * 2
        rest = client.get(
            f"/v1/reservations?after={held['next_after']}", headers=auth(Role.WAREHOUSE)
        )
        assert [tuple(r[k] for k in codes) for r in rest.json()["items"]] == [
            ("CAM-LENS-01", "Camera lens", None)  # no ticket: no code
        ]
        sent = client.get("/v1/shipments?status=pending", headers=auth(Role.WAREHOUSE)).json()
        assert [(r["ticket_id"], *(r[k] for k in codes)) for r in sent["items"]] == [
            (ticket_id, "CAM-LENS-01", "Camera lens", "T-CODES-1")
        ]

    def test_dispatcher_may_not_pick(self, client: TestClient, world: World) -> None:
        got = post(client, "/reservations/1/pick", {}, role=Role.DISPATCHER)
        assert got.status_code == 403


@pytest.mark.usefixtures("world")
class TestMovementsApi:
    def test_transfer_receipt_return_adjustment_and_reads(
        self, client: TestClient, world: World, api_engine: Engine
    ) -> None:
        dgz, dsz, part = world["dgz"], world["dsz"], world["lock"]
        receive(client, dgz, part, 5)
        moved = post(
            client,
            "/transfers",
            {
                "from_depot_id": dgz,
                "to_depot_id": dsz,
                "part_id": part,
                "quantity": 2,
                "transit_min": 240,
            },
        )
        assert moved.status_code == 201, moved.json()
        got = post(client, "/receipts", {"shipment_id": moved.json()["id"]})
        assert got.status_code == 201
        returned = post(client, "/returns", {"depot_id": dsz, "part_id": part, "quantity": 1})
        assert returned.status_code == 201
        adjusted = post(client, "/adjustments", {"depot_id": dgz, "part_id": part, "counted": 2,
                                                 "reason": "cycle count"})  # fmt: skip
        assert adjusted.json()["delta"] == -1
        rows = client.get(f"/v1/stock?part_id={part}", headers=auth(Role.PLANNER)).json()["items"]
        seen = {r["depot_id"]: (r["on_hand"], r["in_transit"], r["returns"]) for r in rows}
        assert seen == {dgz: (2, 0, 0), dsz: (2, 0, 1)}
        entries = client.get(f"/v1/ledger?part_id={part}&kind=adjustment&limit=5",
                             headers=auth(Role.WAREHOUSE)).json()["items"]  # fmt: skip
        assert [e["d_on_hand"] for e in entries] == [-1]
        assert consistent(api_engine)

    def test_unknown_part_is_404_and_writes_nothing(
        self, client: TestClient, world: World, api_engine: Engine
    ) -> None:
        before = ledger_size(api_engine)
        got = post(client, "/receipts", {"depot_id": world["dgz"], "part_id": 999999,
                                         "quantity": 1})  # fmt: skip
        assert got.status_code == 404
        assert ledger_size(api_engine) == before

    def test_body_rules_are_422(self, client: TestClient, world: World) -> None:
        got = post(client, "/receipts", {"depot_id": world["dgz"]})
        assert got.status_code == 422
        got = post(client, "/transfers", {"from_depot_id": world["dgz"],
                                          "to_depot_id": world["dgz"], "part_id": world["psu"],
                                          "quantity": 1, "transit_min": 0})  # fmt: skip
        assert got.status_code == 422


@pytest.mark.usefixtures("world")
class TestOrdersApi:
    def test_order_then_receive_it(
        self, client: TestClient, world: World, api_engine: Engine
    ) -> None:
        from inventory.models import Supplier, SupplierKind

        with Session(api_engine) as s, s.begin():
            supplier = Supplier(code="SUP-API", name="Supplier", kind=SupplierKind.PARTNER,
                                lat=None, lon=None, lead_time_hours=24)  # fmt: skip
            s.add(supplier)
            s.flush()
            supplier_id = supplier.id
        body = {"supplier_id": supplier_id, "depot_id": world["dgz"], "part_id": world["odd"],
                "quantity": 3}  # fmt: skip
        placed = post(client, "/orders", body)
        assert placed.status_code == 201, placed.json()
        rows = client.get(f"/v1/stock?part_id={world['odd']}", headers=auth(Role.WAREHOUSE))
        assert rows.json()["items"][0]["on_order"] == 3
        got = post(client, "/receipts", {"order_id": placed.json()["id"]})
        assert got.json()["order"]["received_at"] is not None
        assert consistent(api_engine)
