"""POST /v1/stock/recommendations: METRIC levels against today's stock, over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db import Role
from dispatch.lifecycle import OPEN_STATUSES
from inventory.models import Depot, LedgerEntry, LedgerKind, Part
from inventory.stock_recommend import OPEN_TICKET_STATUSES
from tests.api.conftest import TestClient, World, auth

URL = "/v1/stock/recommendations"
PLANNER = auth(Role.PLANNER)


def test_open_statuses_are_dispatchs() -> None:
    assert set(OPEN_TICKET_STATUSES) == {s.value for s in OPEN_STATUSES}


class TestRecommend:
    def test_levels_values_and_scenario_changes(self, client: TestClient, world: World) -> None:
        r = client.post(URL, json={"target": 0.9}, headers=PLANNER)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["reached"] is True
        assert body["achieved"] >= 0.9
        assert body["metric"] == "fill-rate"
        assert Decimal(body["value_recommended"]) == sum(
            Decimal(x["value"]) for x in body["levels"]
        )
        levels = {(x["depot"], x["part"]): x["recommended"] for x in body["levels"]}
        changes = body["scenario_changes"]
        assert {(c["depot"], c["part"]): c["quantity"] for c in changes} == levels
        assert {c["kind"] for c in changes} == {"stock_level"}
        # Region ST has no depot: its demand falls on the central warehouse's own customers.
        assert set(body["attainment_recommended"]) == {"CENTRAL", "D-GZ", "D-SZ"}
        values = [Decimal(p["value"]) for p in body["curve"]]
        assert values == sorted(values)

    def test_swap_2h_holds_at_every_depot(self, client: TestClient, world: World) -> None:
        r = client.post(URL, json={"target": 0.8, "metric": "swap-2h"}, headers=PLANNER)
        assert r.status_code == 200, r.text
        attained = r.json()["attainment_recommended"]
        assert min(attained.values()) >= 0.8

    def test_one_region(self, client: TestClient, world: World) -> None:
        r = client.post(URL, json={"target": 0.9, "region": "GZ"}, headers=PLANNER)
        assert r.status_code == 200, r.text
        assert {x["depot"] for x in r.json()["levels"]} <= {"CENTRAL", "D-GZ"}

    def test_history_puts_stock_where_parts_were_used(
        self, client: TestClient, world: World, api_engine: Engine
    ) -> None:
        with Session(api_engine) as s, s.begin():
            depot = s.scalars(select(Depot).where(Depot.code == "D-SZ")).one()
            part = s.scalars(select(Part).where(Part.sku == "CAM-PSU-02")).one()
            now = datetime.now(UTC)
            for day in range(1, 31):  # a unit a day for a month
                at = now - timedelta(days=day)
                s.add(LedgerEntry(kind=LedgerKind.USE, depot_id=depot.id, part_id=part.id,
                                  d_on_hand=-1, at=at))  # fmt: skip
        r = client.post(URL, json={"target": 0.9, "metric": "swap-2h"}, headers=PLANNER)
        levels = {(x["depot"], x["part"]): x["recommended"] for x in r.json()["levels"]}
        assert levels[("D-SZ", "CAM-PSU-02")] >= 1

    def test_the_central_warehouse_keeps_its_pool_and_cuts_say_their_cost(
        self, client: TestClient, world: World
    ) -> None:
        """Issue 17, defect 9: the central floor and each cut's price are in the answer."""
        r = client.post(URL, json={"target": 0.9, "central_fill": 0.99}, headers=PLANNER)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["central_fill"] == 0.99
        floor = body["central_floor"]
        assert floor
        central = {x["part"]: x["recommended"] for x in body["levels"] if x["depot"] == "CENTRAL"}
        assert all(central.get(sku, 0) >= n for sku, n in floor.items())
        assert body["ship_8h_recommended"] >= 0.99
        assert body["backorders_today"] >= 0
        for x in body["levels"]:
            assert (x["cut"] is not None) == (x["delta"] < 0)
            if x["cut"] is not None:
                want = "ship-8h" if x["depot"] == "CENTRAL" else "swap-2h"
                assert x["cut"]["measure"] == want
                assert Decimal(x["cut"]["frees"]) == -x["delta"] * Decimal(x["unit_cost"])


class TestRefused:
    def test_central_fill_outside_the_open_interval(self, client: TestClient, world: World) -> None:
        r = client.post(URL, json={"target": 0.9, "central_fill": 1}, headers=PLANNER)
        assert r.status_code == 422
        assert r.json()["errors"][0]["location"] == ["body", "central_fill"]

    def test_target_outside_the_open_interval(self, client: TestClient, world: World) -> None:
        for target in (0, 1, 1.5, -0.1):
            r = client.post(URL, json={"target": target}, headers=PLANNER)
            assert r.status_code == 422
            assert r.headers["content-type"] == "application/problem+json"

    def test_unknown_region(self, client: TestClient, world: World) -> None:
        r = client.post(URL, json={"target": 0.9, "region": "XX"}, headers=PLANNER)
        assert r.status_code == 422
        assert r.json()["errors"][0]["location"] == ["body", "region"]

    def test_unknown_metric_and_fields(self, client: TestClient, world: World) -> None:
        for body in ({"target": 0.9, "metric": "uptime"}, {"target": 0.9, "budget": 5}):
            assert client.post(URL, json=body, headers=PLANNER).status_code == 422
