"""Write scopes: warehouse staff at their depots, dispatchers in their regions; 403 elsewhere."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db.identity import Role
from inventory.models import InstalledPart, LedgerEntry
from tests.api.conftest import TestClient, auth
from tests.builders import make_depot, make_region, make_site, make_user
from tests.ticket_builders import make_ticket_world


@pytest.fixture
def ids(api_engine: Engine) -> dict[str, int]:
    with Session(api_engine) as s, s.begin():
        w = make_ticket_world(s)  # its dispatcher holds the dispatcher's test key
        away = make_region(s)
        return {
            "admin": make_user(s, Role.ADMIN).id,
            "warehouse": make_user(s, Role.WAREHOUSE).id,
            "dispatcher": w.dispatcher.id,
            "region": w.region.id,
            "away_region": away.id,
            "site": w.site.id,
            "away_site": make_site(s, away, w.contract).id,
            "asset": w.asset.id,
            "ticket_type": w.ticket_type.id,
            "part": w.part.id,
            "depot": make_depot(s, w.region).id,
            "away_depot": make_depot(s, away).id,
        }


def _scope(client: TestClient, user_id: int, **body: list[int]) -> Any:
    return client.patch(f"/v1/users/{user_id}/scope", json=body, headers=auth(Role.ADMIN))


def _receive(client: TestClient, ids: dict[str, int], depot: str, key: str) -> Any:
    body = {"depot_id": ids[depot], "part_id": ids["part"], "quantity": 2}
    headers = auth(Role.WAREHOUSE) | {"Idempotency-Key": key}
    return client.post("/v1/receipts", json=body, headers=headers)


def _ticket(client: TestClient, ids: dict[str, int], site: str, role: Role) -> Any:
    body = {"site_id": ids[site], "ticket_type_id": ids["ticket_type"], "severity": "urgent",
            "channel": "phone"}  # fmt: skip
    return client.post("/v1/tickets", json=body, headers=auth(role))


def test_an_admin_sets_and_reads_a_users_scope(client: TestClient, ids: dict[str, int]) -> None:
    set_ = _scope(client, ids["warehouse"], depot_ids=[ids["depot"]])
    assert set_.status_code == 200, set_.text
    assert set_.json() == {"depot_ids": [ids["depot"]], "region_ids": None}
    read = client.get(f"/v1/users/{ids['warehouse']}/scope", headers=auth(Role.ADMIN))
    assert read.json() == set_.json()
    cleared = _scope(client, ids["warehouse"], depot_ids=[])
    assert cleared.json() == {"depot_ids": None, "region_ids": None}
    unknown = _scope(client, ids["warehouse"], depot_ids=[987654])
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"
    not_admin = client.patch(f"/v1/users/{ids['warehouse']}/scope", json={"depot_ids": []},
                             headers=auth(Role.DISPATCHER))  # fmt: skip
    assert not_admin.status_code == 403


def test_scoped_warehouse_staff_write_only_at_their_depots(
    client: TestClient, ids: dict[str, int], api_engine: Engine
) -> None:
    _scope(client, ids["warehouse"], depot_ids=[ids["depot"]])
    with Session(api_engine) as s:
        before = s.scalar(select(func.count()).select_from(LedgerEntry))
    refused = _receive(client, ids, "away_depot", "r-away")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["type"] == "urn:spares:problem:out-of-scope"
    assert (problem["scope"], problem["target"]) == ("depot", ids["away_depot"])
    with Session(api_engine) as s:  # nothing of the refused write was kept
        assert s.scalar(select(func.count()).select_from(LedgerEntry)) == before
    adjust = client.post(
        "/v1/adjustments",
        json={"depot_id": ids["away_depot"], "part_id": ids["part"], "delta": 1, "reason": "x"},
        headers=auth(Role.WAREHOUSE) | {"Idempotency-Key": "a-away"},
    )
    assert adjust.status_code == 403
    assert _receive(client, ids, "depot", "r-home").status_code == 201
    reads = client.get(f"/v1/depots/{ids['away_depot']}", headers=auth(Role.WAREHOUSE))
    assert reads.status_code == 200  # reads are not scoped


def test_unscoped_warehouse_staff_write_anywhere(client: TestClient, ids: dict[str, int]) -> None:
    assert _receive(client, ids, "away_depot", "r-1").status_code == 201


def test_scoped_dispatchers_write_only_in_their_regions(
    client: TestClient, ids: dict[str, int]
) -> None:
    home_ticket = _ticket(client, ids, "site", Role.ADMIN).json()["id"]
    _scope(client, ids["dispatcher"], region_ids=[ids["away_region"]])
    refused = _ticket(client, ids, "site", Role.DISPATCHER)
    assert refused.status_code == 403
    assert refused.json()["scope"] == "region"
    assert _ticket(client, ids, "away_site", Role.DISPATCHER).status_code == 201
    patched = client.patch(f"/v1/tickets/{home_ticket}", json={"severity": "general"},
                           headers=auth(Role.DISPATCHER))  # fmt: skip
    assert patched.status_code == 403
    moved = client.post(f"/v1/tickets/{home_ticket}/transitions", json={"to": "responded"},
                        headers=auth(Role.DISPATCHER))  # fmt: skip
    assert moved.status_code == 403
    assert (
        client.get(f"/v1/tickets/{home_ticket}", headers=auth(Role.DISPATCHER)).status_code == 200
    )


def test_admins_are_never_scoped(client: TestClient, ids: dict[str, int]) -> None:
    scoped = _scope(client, ids["admin"], region_ids=[ids["away_region"]])
    assert scoped.json()["region_ids"] == [ids["away_region"]]  # stored, yet not applied
    assert _ticket(client, ids, "site", Role.ADMIN).status_code == 201


def _doa_swap(client: TestClient, ids: dict[str, int], role: Role) -> Any:
    url = f"/v1/assets/{ids['asset']}/installed-parts/{ids['installed']}/doa-swap"
    return client.post(url, json={"part_id": ids["part"]}, headers=auth(role))


@pytest.fixture
def fitted(ids: dict[str, int], api_engine: Engine) -> dict[str, int]:
    """`ids` and a part installed in the asset (at `site`, in `region`), to swap."""
    with Session(api_engine) as s, s.begin():
        part = InstalledPart(asset_id=ids["asset"], part_id=ids["part"],
                             installed_on=date(2026, 10, 1))  # fmt: skip
        s.add(part)
        s.flush()
        return ids | {"installed": part.id}


def test_a_doa_swap_keeps_dispatchers_to_their_regions(
    client: TestClient, fitted: dict[str, int]
) -> None:
    _scope(client, fitted["dispatcher"], region_ids=[fitted["away_region"]])
    refused = _doa_swap(client, fitted, Role.DISPATCHER)
    assert refused.status_code == 403, refused.text
    assert (refused.json()["scope"], refused.json()["target"]) == ("region", fitted["region"])
    _scope(client, fitted["dispatcher"], region_ids=[fitted["region"]])
    assert _doa_swap(client, fitted, Role.DISPATCHER).status_code == 201


def test_a_doa_swap_keeps_warehouse_staff_to_their_depots_regions(
    client: TestClient, fitted: dict[str, int]
) -> None:
    _scope(client, fitted["warehouse"], depot_ids=[fitted["away_depot"]])
    refused = _doa_swap(client, fitted, Role.WAREHOUSE)
    assert refused.status_code == 403, refused.text
    problem = refused.json()
    assert (problem["scope"], problem["target"]) == ("region", fitted["region"])
    assert problem["allowed"] == [fitted["away_region"]]
    _scope(client, fitted["warehouse"], depot_ids=[fitted["depot"]])  # a depot in its region
    assert _doa_swap(client, fitted, Role.WAREHOUSE).status_code == 201


def test_a_scope_set_applies_at_once_though_it_is_remembered(
    client: TestClient, ids: dict[str, int]
) -> None:
    assert _ticket(client, ids, "site", Role.DISPATCHER).status_code == 201  # scope remembered
    _scope(client, ids["dispatcher"], region_ids=[ids["away_region"]])
    assert _ticket(client, ids, "site", Role.DISPATCHER).status_code == 403
    _scope(client, ids["dispatcher"], region_ids=[])
    assert _ticket(client, ids, "site", Role.DISPATCHER).status_code == 201
