"""The world over HTTP: zip export and import (admin), errors as problem+json."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.app import create_app
from api.settings import Settings
from db import Base
from db.identity import Role
from dispatch.world import DEMO_USERS, WorldSize, generate_world, load_world
from tests.api.conftest import World, auth

ZIP = {"Content-Type": "application/zip"}
ADMIN = auth(Role.ADMIN)


def _files(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _zip(files: dict[str, bytes]) -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return output.getvalue()


def _delete_all_but_users(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name != "users":
                conn.execute(table.delete())


def _export(client: TestClient) -> bytes:
    response = client.get("/v1/world/export", headers=ADMIN)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert "attachment" in response.headers["content-disposition"]
    return response.content


class TestRoundTrip:
    def test_export_then_import_gives_the_same_world(
        self, client: TestClient, api_engine: Engine, world: World
    ) -> None:
        first = _export(client)
        _delete_all_but_users(api_engine)  # the admin's own user stays, and must match
        response = client.post("/v1/world/import", content=first, headers=ADMIN | ZIP)
        assert response.status_code == 200, response.text
        assert response.json()["rows"]["sites"] == 3
        again = _files(_export(client))
        before = _files(first)
        assert again.keys() == before.keys()
        assert {n: b for n, b in again.items() if n != "manifest.json"} == {
            n: b for n, b in before.items() if n != "manifest.json"
        }

    def test_an_import_sets_the_service_area_at_once(
        self, client: TestClient, api_engine: Engine, world: World
    ) -> None:
        """Regions loaded by an import bound coordinates from the next request on, not after
        the area cache's minute: before it, an empty database had no area (nothing refused)."""
        bundle = _export(client)
        _delete_all_but_users(api_engine)
        empty = client.post("/v1/sites", json={"lat": 31.23, "lon": 121.47}, headers=ADMIN)
        assert empty.status_code == 422  # missing fields; the coordinates pass: no regions
        assert all(e["type"] != "service_area" for e in empty.json()["errors"])
        response = client.post("/v1/world/import", content=bundle, headers=ADMIN | ZIP)
        assert response.status_code == 200, response.text
        far = client.post("/v1/sites", json={"lat": 31.23, "lon": 121.47}, headers=ADMIN)
        assert far.status_code == 422
        assert {e["type"] for e in far.json()["errors"]} >= {"service_area"}

    def test_the_export_holds_key_hashes_not_keys(self, client: TestClient, world: World) -> None:
        users = _files(_export(client))["users.csv"].decode()
        assert "api_key_hash" in users.splitlines()[0]
        assert "spk_test_" not in users


class TestErrors:
    def test_a_database_with_a_world_is_409(self, client: TestClient, world: World) -> None:
        response = client.post("/v1/world/import", content=_export(client), headers=ADMIN | ZIP)
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert "sites" in response.json()["tables"]

    def test_an_invalid_bundle_is_422_with_every_problem(
        self, client: TestClient, api_engine: Engine, world: World
    ) -> None:
        files = _files(_export(client))
        sites = files["sites.csv"].decode().splitlines()
        header = sites[0].split(",")
        row = sites[1].split(",")
        row[header.index("lat")] = "north"
        row[header.index("region_id")] = "999"
        files["sites.csv"] = "\n".join([sites[0], ",".join(row), *sites[2:], ""]).encode()
        files["extra.csv"] = b"x\n"
        _delete_all_but_users(api_engine)
        response = client.post("/v1/world/import", content=_zip(files), headers=ADMIN | ZIP)
        assert response.status_code == 422
        body = response.json()
        assert response.headers["content-type"] == "application/problem+json"
        assert body["type"] == "urn:spares:problem:invalid-world-bundle"
        assert body["total"] == 3
        assert body["errors"] == [
            {"file": "sites.csv", "row": 1, "field": "lat", "reason": "'north' is not a number"},
            {
                "file": "sites.csv",
                "row": 1,
                "field": "region_id",
                "reason": "999 matches no id in regions.csv",
            },
            {
                "file": "extra.csv",
                "row": None,
                "field": None,
                "reason": body["errors"][2]["reason"],
            },
        ]
        assert client.get("/v1/sites", headers=ADMIN).json()["items"] == []  # nothing written

    def test_not_a_zip_is_422(self, client: TestClient, users: None) -> None:
        response = client.post("/v1/world/import", content=b"id,code\n", headers=ADMIN | ZIP)
        assert response.status_code == 422
        assert response.json()["errors"][0]["file"] == "(upload)"

    def test_a_user_clash_is_409(
        self, client: TestClient, api_engine: Engine, world: World
    ) -> None:
        files = _files(_export(client))
        lines = files["users.csv"].decode().splitlines()
        first = lines[1].split(",")
        first[1] = "someone-else"
        files["users.csv"] = "\n".join([lines[0], ",".join(first), *lines[2:], ""]).encode()
        _delete_all_but_users(api_engine)
        response = client.post("/v1/world/import", content=_zip(files), headers=ADMIN | ZIP)
        assert response.status_code == 409
        assert response.json()["type"] == "urn:spares:problem:world-bundle-conflict"
        assert response.json()["errors"][0]["field"] == "id"

    def test_an_upload_over_the_limit_is_413(
        self, settings: Settings, api_engine: Engine, users: None
    ) -> None:
        small = settings.model_copy(update={"world_import_max_bytes": 1_000})
        with TestClient(create_app(small, engine=api_engine)) as client:
            response = client.post("/v1/world/import", content=b"x" * 1_001, headers=ADMIN | ZIP)
        assert response.status_code == 413
        assert response.json()["type"] == "urn:spares:problem:too-large"

    def test_other_roles_may_not_export(self, client: TestClient, users: None) -> None:
        response = client.get("/v1/world/export", headers=auth(Role.DISPATCHER))
        assert response.status_code == 403


class TestDemoOpeningStock:
    """The demo's opening balances are dated in the past, whatever the hour it is loaded."""

    @pytest.mark.parametrize("hour", [17, 23])  # 01:00 and 07:00 the next day in Guangdong
    def test_ledger_until_now_holds_the_opening_stock(
        self, client: TestClient, app: FastAPI, api_engine: Engine, hour: int
    ) -> None:
        now = datetime(2026, 11, 2, hour, 0, tzinfo=UTC)
        world = generate_world(7, WorldSize.SMALL, as_of=now)
        with Session(api_engine) as session, session.begin():
            load_world(session, world)
        app.state.clock = lambda: now
        admin = {"X-API-Key": DEMO_USERS[Role.ADMIN][1]}
        at = {"until": now.isoformat(), "kind": "opening", "limit": 1}
        opened = client.get("/v1/ledger", params=at, headers=admin)
        assert opened.status_code == 200, opened.text
        assert len(opened.json()["items"]) == 1
        later = {"since": (now + timedelta(seconds=1)).isoformat(), "kind": "opening"}
        assert client.get("/v1/ledger", params=later, headers=admin).json()["items"] == []
