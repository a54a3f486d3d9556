"""Keyset pages: `next_after` walks every row exactly once; `limit` is capped by settings."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.app import create_app
from api.settings import Settings
from db.identity import Role
from tests.api.conftest import TestClient, auth
from tests.builders import make_region

ADMIN = auth(Role.ADMIN)


@pytest.fixture
def regions(api_engine: Engine, users: None) -> list[int]:
    """55 regions: more than one default page."""
    with Session(api_engine) as session, session.begin():
        return [make_region(session).id for _ in range(55)]


def _walk(client: TestClient, path: str, **query: str | int) -> tuple[list[int], int]:
    """All ids of a list, page by page; and how many pages it took."""
    seen: list[int] = []
    after, pages = None, 0
    while True:
        params = query if after is None else query | {"after": after}
        body = client.get(path, params=params, headers=ADMIN).json()
        pages += 1
        seen += [item["id"] for item in body["items"]]
        after = body["next_after"]
        if after is None:
            return seen, pages


@pytest.mark.parametrize("limit", [1, 7, 55, 100])
def test_next_after_walks_every_row_once(
    client: TestClient, regions: list[int], limit: int
) -> None:
    seen, pages = _walk(client, "/v1/regions", limit=limit)
    assert seen == sorted(regions)
    assert pages == max(1, -(-len(regions) // limit))


def test_the_default_page_is_50(client: TestClient, regions: list[int]) -> None:
    body = client.get("/v1/regions", headers=ADMIN).json()
    assert len(body["items"]) == 50
    assert body["next_after"] == sorted(regions)[49]


def test_an_empty_list_is_one_empty_page(client: TestClient, users: None) -> None:
    assert client.get("/v1/regions", headers=ADMIN).json() == {"items": [], "next_after": None}


def test_filters_and_pages_combine(client: TestClient, world: object) -> None:
    seen, pages = _walk(client, "/v1/parts", product_line="CCTV", limit=2)
    assert len(seen) == 3
    assert pages == 2


class TestCap:
    @pytest.fixture
    def capped(self, database_url: str, api_engine: Engine) -> TestClient:
        settings = Settings(_env_file=None, database_url=database_url, page_size_max=5)
        return TestClient(create_app(settings, engine=api_engine))

    def test_limit_above_the_cap_is_422(self, capped: TestClient, regions: list[int]) -> None:
        with capped:
            response = capped.get("/v1/regions?limit=6", headers=ADMIN)
        assert response.status_code == 422
        assert response.json()["errors"][0]["location"] == ["query", "limit"]
        assert "5" in response.json()["errors"][0]["message"]

    def test_limit_at_the_cap_is_served(self, capped: TestClient, regions: list[int]) -> None:
        with capped:
            body = capped.get("/v1/regions?limit=5", headers=ADMIN).json()
        assert len(body["items"]) == 5

    def test_the_default_never_exceeds_the_cap(
        self, capped: TestClient, regions: list[int]
    ) -> None:
        with capped:
            body = capped.get("/v1/regions", headers=ADMIN).json()
        assert len(body["items"]) == 5
        assert body["next_after"] is not None
