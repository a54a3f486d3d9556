"""Every route declares who may call it, and the declaration is what the server enforces."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi import FastAPI

from api.app import create_app
from api.deps import FIELD_READERS, RouteAccess, check_route_access, route_table
from api.settings import Settings
from db.identity import Role
from tests.api.conftest import INACTIVE_KEY, TestClient, auth

ROLES_DOC = Path(__file__).parents[2] / "docs" / "api-roles.md"


def _app() -> FastAPI:
    return create_app(Settings(_env_file=None))  # builds no engine: that is the lifespan's job


ROUTES = route_table(_app())
GUARDED = [
    (route, method)
    for route in ROUTES
    for method in sorted(route.methods)
    if route.declarations != ("public",)
]


REFUSING = [
    (route, method)
    for route, method in GUARDED
    if any(role not in route.declarations[0] for role in Role)
]


def _ids(value: object) -> str:
    if isinstance(value, RouteAccess):
        return value.path
    return str(value)


def _url(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


class TestDeclarations:
    @pytest.mark.parametrize("route", ROUTES, ids=_ids)
    def test_each_route_declares_roles_or_public_once(self, route: RouteAccess) -> None:
        assert len(route.declarations) == 1, f"{route.path} declares {route.declarations}"

    def test_the_table_covers_every_route(self) -> None:
        paths = {r.path for r in ROUTES}
        assert {"/healthz", "/readyz", "/docs", "/openapi.json", "/v1/regions"} <= paths
        public = {r.path for r in ROUTES if r.declarations == ("public",)}
        pages = {"/", "/board", "/warehouse", "/planner", "/my-day", "/static/{path:path}"}
        assert public == {"/healthz", "/readyz", "/docs", "/openapi.json"} | pages
        assert len(GUARDED) == len(ROUTES) - len(public)

    def test_an_app_with_an_undeclared_route_is_refused(self) -> None:
        app = _app()

        @app.get("/v1/forgotten")
        def forgotten() -> None:
            """A route without requires() or public()."""

        with pytest.raises(RuntimeError, match="/v1/forgotten"):
            check_route_access(app)

    def test_the_roles_document_matches_the_routes(self) -> None:
        documented = set()
        for line in ROLES_DOC.read_text(encoding="utf-8").splitlines():
            cells = [c.strip().strip("`") for c in line.strip().strip("|").split("|")]
            if len(cells) == 3 and cells[0] in {"GET", "POST", "PUT", "PATCH", "DELETE"}:
                documented.add((cells[0], cells[1], cells[2]))
        actual = set()
        for route in ROUTES:
            (access,) = route.declarations
            who = "public" if access == "public" else ", ".join(r for r in Role if r in access)
            actual |= {(m, route.path, who) for m in route.methods}
        assert documented == actual


@pytest.mark.usefixtures("users")
class TestEnforcement:
    @pytest.mark.parametrize(("route", "method"), GUARDED, ids=_ids)
    def test_without_a_key_is_401(
        self, client: TestClient, route: RouteAccess, method: str
    ) -> None:
        response = client.request(method, _url(route.path))
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "ApiKey"
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 401

    @pytest.mark.parametrize(("route", "method"), REFUSING, ids=_ids)
    def test_a_role_not_admitted_is_403(
        self, client: TestClient, route: RouteAccess, method: str
    ) -> None:
        (admitted,) = route.declarations
        for role in (role for role in Role if role not in admitted):
            response = client.request(method, _url(route.path), headers=auth(role))
            assert response.status_code == 403, role
            assert response.json()["role"] == role.value

    @pytest.mark.parametrize(("route", "method"), GUARDED, ids=_ids)
    def test_an_admitted_role_passes_the_guard(
        self, client: TestClient, route: RouteAccess, method: str
    ) -> None:
        (admitted,) = route.declarations
        for role in admitted:
            response = client.request(method, _url(route.path), headers=auth(role))
            assert response.status_code not in (401, 403), role

    def test_an_unknown_key_is_401(self, client: TestClient) -> None:
        response = client.get("/v1/regions", headers={"X-API-Key": "spk_nobody"})
        assert response.status_code == 401
        assert "unknown" in response.json()["detail"]

    def test_an_inactive_user_is_401(self, client: TestClient) -> None:
        response = client.get("/v1/regions", headers={"X-API-Key": INACTIVE_KEY})
        assert response.status_code == 401

    @pytest.mark.parametrize("path", ["/healthz", "/readyz", "/docs", "/openapi.json"])
    def test_public_routes_need_no_key(self, client: TestClient, path: str) -> None:
        assert client.get(path).status_code == 200

    def test_engineers_read_field_data_only(self, client: TestClient) -> None:
        assert set(FIELD_READERS) == set(Role)
        engineer = auth(Role.ENGINEER)
        assert client.get("/v1/sites", headers=engineer).status_code == 200
        assert client.get("/v1/engineers", headers=engineer).status_code == 403
