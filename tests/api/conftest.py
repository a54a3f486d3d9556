"""API fixtures: a TestClient on the conftest engine (SQLite and PostgreSQL) and a small world.

The API commits (its request dependency ends each transaction), so the rolled-back
`session` fixture cannot isolate these tests. Instead `api_engine` deletes every
row of every table before and after each test, children first (the reverse of
`Base.metadata.sorted_tables`); the schema and its migration stamp stay.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

import dispatch.models  # noqa: F401  (every table on the metadata, for the cleanup)
import inventory.models  # noqa: F401
from api.app import create_app
from api.settings import Settings
from db import Base
from db.identity import Role
from inventory.models import DepotKind
from tests.builders import (
    key_for,
    make_asset,
    make_contract,
    make_depot,
    make_engineer,
    make_part,
    make_policy,
    make_product_line,
    make_product_model,
    make_region,
    make_site,
    make_user,
)

INACTIVE_KEY = "spk_test_inactive"


def auth(role: Role) -> dict[str, str]:
    """Headers carrying the API key of the world's user with `role`."""
    return {"X-API-Key": key_for(role)}


def delete_all_rows(engine: Engine) -> None:
    """Empty every table, children before parents."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture
def api_engine(engine: Engine) -> Iterator[Engine]:
    """The conftest engine, with no rows before and after the test."""
    delete_all_rows(engine)
    yield engine
    delete_all_rows(engine)


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Settings that ignore any `.env` file; no rate limits (the suite shares app and address)."""
    return Settings(
        _env_file=None,
        database_url=database_url,
        rate_limit_per_key=None,
        rate_limit_per_address=None,
    )


@pytest.fixture(scope="session")
def app(settings: Settings, engine: Engine) -> FastAPI:
    """One app per backend: building ~100 routes costs a quarter second, so tests share it."""
    return create_app(settings, engine=engine)


@pytest.fixture
def client(app: FastAPI, api_engine: Engine, settings: Settings) -> Iterator[TestClient]:
    """A client of the real app; the lifespan runs (with the injected engine), clock: now."""
    app.state.clock = None
    app.state.settings = settings  # as the suite made them, whatever a test swapped in
    # Tests empty the tables, so ids (the cache's world version) repeat on SQLite.
    app.state.snapshots.clear()
    app.state.published.clear()
    app.state.shared_zone.clear()  # each test builds its own regions
    app.state.key_cache.clear()  # and its own users, behind the app's back
    app.state.service_area.clear()  # the last test's regions' box, kept up to a minute
    with TestClient(app) as test_client:
        yield test_client
    app.state.clock = None


@dataclass
class World:
    """The ids of the rows `world` built, by a short name."""

    ids: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, name: str) -> int:
        return self.ids[name]


@pytest.fixture
def users(api_engine: Engine) -> None:
    """One active user per role (keys from `key_for`) and an inactive dispatcher."""
    with Session(api_engine) as session, session.begin():
        for role in Role:
            make_user(session, role)
        make_user(session, Role.DISPATCHER, key=INACTIVE_KEY, active=False)


@pytest.fixture
def world(api_engine: Engine, users: None) -> World:
    """Regions, depots, a catalogue, policies, contracts, engineers, sites and assets."""
    w = World()
    with Session(api_engine) as s, s.begin():
        gz = make_region(s, code="GZ", name="Guangzhou", name_local="广州", lat=23.13, lon=113.26)
        sz = make_region(s, code="SZ", name="Shenzhen", lat=22.54, lon=114.06)
        st = make_region(s, code="ST", name="Shantou", lat=23.35, lon=116.68)
        cctv = make_product_line(s, code="CCTV", name="Video surveillance")
        acs = make_product_line(s, code="ACS", name="Access control")
        cam1 = make_product_model(s, cctv, code="CAM-1")
        cam2 = make_product_model(s, cctv, code="CAM-2")
        door = make_product_model(s, acs, code="DOOR-1")
        lens = make_part(s, cctv, sku="CAM-LENS-01", name="Camera lens", key_part=True,
                         fits=(cam1, cam2), cost_price=Decimal("1234.5"),
                         list_price=Decimal("2000"))  # fmt: skip
        psu = make_part(s, cctv, sku="CAM-PSU-02", name="Power supply", fits=(cam1,))
        psu3 = make_part(s, cctv, sku="CAM-PSU-03", name="Power supply v3", substitutes=(psu,))
        lock = make_part(s, acs, sku="DOOR-LOCK-01", name="Door lock", key_part=True,
                         fits=(door,))  # fmt: skip
        odd = make_part(s, acs, sku="ACS-SEAL", name="Seal 100% waterproof")
        central = make_depot(s, gz, code="CENTRAL", kind=DepotKind.CENTRAL)
        dgz = make_depot(s, gz, code="D-GZ", opens_at=None, closes_at=None)
        dsz = make_depot(s, sz, code="D-SZ")
        van = make_depot(s, sz, code="VAN-1", kind=DepotKind.VAN, lat=None, lon=None)
        std = make_policy(s, code="STD", severities=3)
        rural = make_policy(s, code="RURAL", severities=2, warranty_years=1,
                            labour_rate_per_hour=Decimal("80"))  # fmt: skip
        c1 = make_contract(s, std, code="C-STD-1")
        c2 = make_contract(s, std, code="C-STD-2")
        c3 = make_contract(s, rural, code="C-RURAL")
        e1 = make_engineer(s, gz, code="E1", skills={cctv: 3, acs: 1})
        e2 = make_engineer(s, gz, code="E2", skills={cctv: 1})
        e3 = make_engineer(s, sz, code="E3", skills={acs: 2}, active=False)
        e4 = make_engineer(s, sz, code="E4", van_depot_id=van.id,
                           position_at=datetime(2025, 3, 1, 8, 30, tzinfo=UTC),
                           current_lat=22.6, current_lon=114.1,
                           cost_per_hour=Decimal("85.5"))  # fmt: skip
        s1 = make_site(s, gz, c1, code="S1", dedicated_engineer_id=e1.id)
        s2 = make_site(s, gz, c2, code="S2")
        s3 = make_site(s, st, c3, code="S3", rural=True)
        a1 = make_asset(s, s1, cam1, serial="SN-A1")
        a2 = make_asset(s, s1, door, serial="SN-A2")
        a3 = make_asset(s, s3, cam2, serial="SN-A3")
        rows = dict(gz=gz, sz=sz, st=st, cctv=cctv, acs=acs, cam1=cam1, cam2=cam2, door=door,
                    lens=lens, psu=psu, psu3=psu3, lock=lock, odd=odd, central=central, dgz=dgz,
                    dsz=dsz, van=van, std=std, rural=rural, c1=c1, c2=c2, c3=c3, e1=e1, e2=e2,
                    e3=e3, e4=e4, s1=s1, s2=s2, s3=s3, a1=a1, a2=a2, a3=a3)  # fmt: skip
        w.ids = {name: row.id for name, row in rows.items()}
    return w
