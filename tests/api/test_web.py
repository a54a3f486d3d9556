"""The pages' foundation: public HTML shells, local assets only, whoami per role."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.web.pages import STATIC
from db.identity import Role
from tests.api.conftest import auth

# Any absolute URL to another host in a page or the docs would be fetched by the browser.
_EXTERNAL = re.compile(r"""(?:src|href|url)\s*[=:(]\s*["']?(?:https?:)?//""", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/", "/board", "/warehouse", "/planner", "/my-day", "/docs"])
def test_pages_are_public_html_with_local_assets_only(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert not _EXTERNAL.search(response.text), "a page refers to another host"


def test_docs_load_swagger_ui_from_the_package(client: TestClient) -> None:
    html = client.get("/docs").text
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
        assert client.get(asset).status_code == 200, asset


def test_every_vendored_library_carries_its_licence() -> None:
    libraries = sorted((STATIC / "vendor").iterdir())
    assert libraries
    for folder in libraries:
        assert re.fullmatch(r"[a-z0-9-]+-\d+\.\d+\.\d+", folder.name), folder.name
        assert (folder / "LICENSE").is_file(), f"{folder.name} has no LICENSE"


def test_static_files_never_leave_the_static_folder(client: TestClient) -> None:
    assert client.get("/static/app.css").status_code == 200
    for path in ("/static/%2e%2e/pages.py", "/static/..%2fpages.py", "/static/nothing.js"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.headers["content-type"] == "application/problem+json"


def test_vendored_assets_are_cached_and_page_code_revalidated(client: TestClient) -> None:
    vendored = client.get("/static/vendor/leaflet-1.9.4/leaflet.js")
    assert "immutable" in vendored.headers["cache-control"]
    assert client.get("/static/js/api.js").headers["cache-control"] == "no-cache"


@pytest.mark.parametrize(
    ("role", "pages"),
    [
        (Role.DISPATCHER, ["board"]),
        (Role.WAREHOUSE, ["warehouse"]),
        (Role.PLANNER, ["planner"]),
        (Role.ENGINEER, ["my-day"]),
        (Role.ADMIN, ["board", "warehouse", "planner"]),
    ],
)
def test_whoami_names_the_pages_of_the_role(
    client: TestClient, users: None, role: Role, pages: list[str]
) -> None:
    me = client.get("/v1/whoami", headers=auth(role)).json()
    assert me["role"] == role.value
    assert [p["name"] for p in me["pages"]] == pages
    for page in me["pages"]:
        assert client.get(page["href"]).status_code == 200


def test_whoami_needs_a_key(client: TestClient) -> None:
    assert client.get("/v1/whoami").status_code == 401


def test_static_files_are_package_data() -> None:
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert '"api.web" = [' in pyproject
