"""The API key cache (api.keycache): a known key costs no query; a change applies at once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

from db import Role
from tests.api.conftest import TestClient, World, auth

ADMIN = auth(Role.ADMIN)


@contextmanager
def users_queries(engine: Engine) -> Iterator[list[str]]:
    """The statements that read the users table while the block runs."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "FROM users" in statement:
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_known_key_is_not_looked_up_again(
    client: TestClient, api_engine: Engine, world: World
) -> None:
    assert client.get("/v1/regions", headers=ADMIN).status_code == 200
    with users_queries(api_engine) as seen:
        for _ in range(3):
            assert client.get("/v1/regions", headers=ADMIN).status_code == 200
    assert seen == []


def test_a_cached_key_stops_working_when_revoked_or_rotated(
    client: TestClient, world: World
) -> None:
    made = client.post("/v1/users", json={"name": "Cached", "role": "dispatcher"}, headers=ADMIN)
    user = made.json()
    key = {"X-API-Key": user["api_key"]}
    assert client.get("/v1/depots", headers=key).status_code == 200  # now cached
    client.patch(f"/v1/users/{user['id']}", json={"role": "engineer"}, headers=ADMIN)
    assert client.get("/v1/depots", headers=key).status_code == 403  # engineers may not
    client.patch(f"/v1/users/{user['id']}", json={"role": "dispatcher"}, headers=ADMIN)
    rotated = client.post(f"/v1/users/{user['id']}/rotate-key", headers=ADMIN).json()
    assert client.get("/v1/depots", headers=key).status_code == 401
    new = {"X-API-Key": rotated["api_key"]}
    assert client.get("/v1/depots", headers=new).status_code == 200  # cached too
    client.patch(f"/v1/users/{user['id']}", json={"active": False}, headers=ADMIN)
    assert client.get("/v1/depots", headers=new).status_code == 401


def test_an_unknown_key_is_never_remembered(client: TestClient, world: World) -> None:
    stranger = {"X-API-Key": "spk_nobody"}
    assert client.get("/v1/depots", headers=stranger).status_code == 401
    assert client.get("/v1/depots", headers=stranger).status_code == 401
