"""Liveness, readiness and the served API documentation."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from api.app import create_app
from api.settings import Settings
from db import make_engine, upgrade
from tests.api.conftest import TestClient


def test_healthz_is_ok(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_is_ready_on_a_migrated_database(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready"}


def test_readyz_is_503_on_a_database_never_migrated(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with TestClient(create_app(Settings(_env_file=None), engine=engine)) as client:
            response = client.get("/readyz")
    finally:
        engine.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["reason"] == "not-migrated"
    assert "spares db upgrade" in body["detail"]


def test_readyz_is_503_when_the_database_does_not_answer(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}")
    try:
        with TestClient(create_app(Settings(_env_file=None), engine=engine)) as client:
            response = client.get("/readyz")
    finally:
        engine.dispose()
    assert response.status_code == 503
    assert response.json()["reason"] == "database-unreachable"


def test_the_lifespan_builds_and_disposes_its_own_engine(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'own.db'}"
    app = create_app(Settings(_env_file=None, database_url=url))
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 503
        engine: Engine = app.state.engine
        assert str(engine.url) == url
        upgrade(engine)
        assert client.get("/readyz").status_code == 200


def test_nothing_is_built_before_startup() -> None:
    app = create_app(Settings(_env_file=None))
    assert not hasattr(app.state, "engine")


def test_openapi_and_docs_are_served(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    assert "/v1/regions" in document["paths"]
    assert "/v1/contracts/{contract_id}" in document["paths"]
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("name") == "X-API-Key" for s in schemes.values())
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/openapi.json" in docs.text
