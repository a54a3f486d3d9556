"""Warranty checks and quotes over HTTP: the rule behind every answer, exact money."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest
from fastapi import FastAPI
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from db import Role
from inventory.models import InstalledPart
from tests.api.conftest import TestClient
from tests.builders import key_for
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0

DISPATCHER = {"X-API-Key": key_for(Role.DISPATCHER)}


@dataclass
class Ids:
    asset: int
    part: int
    installed: int
    ticket: int
    cost: str


@pytest.fixture
def ids(api_engine: Engine) -> Ids:
    with Session(api_engine) as s, s.begin():
        dw = make_dispatch_world(s)
        dw.part.key_part = True
        fitted = InstalledPart(
            asset_id=dw.base.asset.id, part_id=dw.part.id, installed_on=date(2023, 5, 1)
        )
        s.add(fitted)
        s.flush()
        return Ids(dw.base.asset.id, dw.part.id, fitted.id, dw.ticket.id, str(dw.part.cost_price))


@pytest.fixture
def client(client: TestClient, app: FastAPI) -> TestClient:
    app.state.clock = lambda: T0
    return client


def test_warranty_on_the_last_day_and_after(client: TestClient, ids: Ids) -> None:
    url = f"/v1/assets/{ids.asset}/warranty"
    inside = client.get(url, params={"on": "2026-05-02"}, headers=DISPATCHER).json()
    assert inside["coverage"]["covered"] is True
    assert inside["coverage"]["covered_until"] == "2026-05-02"
    assert inside["coverage"]["rule"] == "asset_warranty"
    assert inside["parts"][0]["coverage"]["covered"] is True
    after = client.get(url, params={"on": "2026-05-03"}, headers=DISPATCHER).json()
    assert after["coverage"]["covered"] is False
    today = client.get(url, headers=DISPATCHER).json()
    assert today["on"] == "2026-11-02"


def test_post_warranty_quote_is_parts_at_cost(client: TestClient, ids: Ids) -> None:
    response = client.post("/v1/quotes", json={"ticket_id": ids.ticket}, headers=DISPATCHER)
    assert response.status_code == 201, response.text
    quote = response.json()
    assert quote["total"] == ids.cost
    assert {line["kind"] for line in quote["lines"]} == {"parts", "labour", "travel", "service"}
    parts = next(line for line in quote["lines"] if line["kind"] == "parts")
    assert parts["rule"] == "post_warranty_parts_at_cost"
    listed = client.get(f"/v1/tickets/{ids.ticket}/quotes", headers=DISPATCHER).json()
    assert [q["id"] for q in listed] == [quote["id"]]


def test_quote_refuses_bad_input(client: TestClient, ids: Ids) -> None:
    bad_cause = client.post(
        "/v1/quotes", json={"asset_id": ids.asset, "cause": "meteor"}, headers=DISPATCHER
    )
    assert bad_cause.status_code == 422
    no_asset = client.post("/v1/quotes", json={"parts": []}, headers=DISPATCHER)
    assert no_asset.status_code == 422
    assert no_asset.json()["field"] == "asset_id"
    float_money = client.post(
        "/v1/quotes", json={"asset_id": ids.asset, "labour_hours": 1.005}, headers=DISPATCHER
    )
    assert float_money.status_code == 422


def test_doa_swap(client: TestClient, ids: Ids) -> None:
    url = f"/v1/assets/{ids.asset}/installed-parts/{ids.installed}/doa-swap"
    response = client.post(url, json={"part_id": ids.part, "serial": "DOA-1"}, headers=DISPATCHER)
    assert response.status_code == 201, response.text
    assert response.json()["serial"] == "DOA-1"
    wrong_asset = client.post(
        f"/v1/assets/999999/installed-parts/{ids.installed}/doa-swap",
        json={"part_id": ids.part},
        headers=DISPATCHER,
    )
    assert wrong_asset.status_code == 404
