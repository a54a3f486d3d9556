"""Users and their keys over HTTP: a key is shown once and works at once."""

from __future__ import annotations

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.identity import Role, User, hash_api_key
from tests.api.conftest import TestClient, World, auth
from tests.api.test_admin_engineers import locations
from tests.api.test_errors import assert_problem

ADMIN = auth(Role.ADMIN)


class TestUsers:
    def test_create_shows_the_key_once(self, client: TestClient, api_engine: Engine,
                                       world: World) -> None:  # fmt: skip
        response = client.post("/v1/users", json={"name": "Li Wei", "role": "planner"},
                               headers=ADMIN)  # fmt: skip
        assert response.status_code == 201, response.text
        created = response.json()
        key = created["api_key"]
        assert key.startswith("spk_")
        assert client.get("/v1/regions", headers={"X-API-Key": key}).status_code == 200
        listed = client.get("/v1/users", headers=ADMIN).json()["items"]
        assert all("api_key" not in u and "api_key_hash" not in u for u in listed)
        with Session(api_engine) as session:
            stored = session.scalars(select(User).where(User.name == "Li Wei")).one()
            assert stored.api_key_hash == hash_api_key(key)

    def test_a_user_created_inactive_cannot_sign_in_until_activated(
        self, client: TestClient, world: World
    ) -> None:
        response = client.post("/v1/users", json={"name": "Later", "role": "planner",
                                                  "active": False}, headers=ADMIN)  # fmt: skip
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["active"] is False
        key = {"X-API-Key": created["api_key"]}
        assert_problem(client.get("/v1/regions", headers=key), 401)
        client.patch(f"/v1/users/{created['id']}", json={"active": True}, headers=ADMIN)
        assert client.get("/v1/regions", headers=key).status_code == 200

    def test_rotate_key(self, client: TestClient, world: World) -> None:
        created = client.post("/v1/users", json={"name": "Rotor", "role": "warehouse"},
                              headers=ADMIN).json()  # fmt: skip
        old = {"X-API-Key": created["api_key"]}
        rotated = client.post(f"/v1/users/{created['id']}/rotate-key", headers=ADMIN)
        assert rotated.status_code == 200, rotated.text
        new = {"X-API-Key": rotated.json()["api_key"]}
        assert client.get("/v1/depots", headers=old).status_code == 401
        assert client.get("/v1/depots", headers=new).status_code == 200

    def test_patch_role_and_deactivate(self, client: TestClient, world: World) -> None:
        created = client.post("/v1/users", json={"name": "Temp", "role": "engineer"},
                              headers=ADMIN).json()  # fmt: skip
        key = {"X-API-Key": created["api_key"]}
        url = f"/v1/users/{created['id']}"
        changed = client.patch(url, json={"role": "dispatcher"}, headers=ADMIN).json()
        assert changed["role"] == "dispatcher"
        assert client.get("/v1/engineers", headers=key).status_code == 200
        client.patch(url, json={"active": False}, headers=ADMIN)
        assert client.get("/v1/engineers", headers=key).status_code == 401

    def test_the_last_admin_stays(self, client: TestClient, world: World) -> None:
        admins = [u for u in client.get("/v1/users", headers=ADMIN).json()["items"]
                  if u["role"] == "admin"]  # fmt: skip
        assert len(admins) == 1
        url = f"/v1/users/{admins[0]['id']}"
        problem = assert_problem(client.patch(url, json={"role": "planner"}, headers=ADMIN), 409)
        assert "last active admin" in problem["detail"]
        assert_problem(client.patch(url, json={"active": False}, headers=ADMIN), 409)

    def test_errors(self, client: TestClient, world: World) -> None:
        taken = client.get("/v1/users", headers=ADMIN).json()["items"][0]["name"]
        dup = client.post("/v1/users", json={"name": taken, "role": "planner"}, headers=ADMIN)
        assert assert_problem(dup, 409)["type"] == "urn:spares:problem:duplicate"
        bad = {"name": "", "role": "boss", "api_key_hash": "x"}
        problem = assert_problem(client.post("/v1/users", json=bad, headers=ADMIN), 422)
        assert locations(problem) == {("body", "name"), ("body", "role"), ("body", "api_key_hash")}
        assert_problem(client.patch("/v1/users/999999", json={}, headers=ADMIN), 404)
        assert_problem(client.post("/v1/users/999999/rotate-key", headers=ADMIN), 404)
        assert_problem(client.get("/v1/users", headers=auth(Role.DISPATCHER)), 403)
