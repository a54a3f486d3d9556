"""Administration of depots and parts over HTTP."""

from __future__ import annotations

from typing import Any

from db.identity import Role
from tests.api.conftest import TestClient, World, auth
from tests.api.test_admin_engineers import locations
from tests.api.test_errors import assert_problem

ADMIN = auth(Role.ADMIN)


def new_part(w: World, **kw: Any) -> dict[str, Any]:
    return {"sku": "NEW-1", "name": "New", "product_line_id": w["cctv"], "cost_price": "10.5",
            "list_price": "12"} | kw  # fmt: skip


class TestDepots:
    def test_create_and_patch(self, client: TestClient, world: World) -> None:
        body = {"code": "D-NEW", "name": "New", "kind": "regional", "region_id": world["st"],
                "lat": 23.3, "lon": 116.6, "opens_at": "08:00", "closes_at": "20:00"}  # fmt: skip
        response = client.post("/v1/depots", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        depot = response.json()
        assert (depot["opens_at"], depot["closes_at"]) == ("08:00:00", "20:00:00")
        open_all_day = {"opens_at": None, "closes_at": None}
        changed = client.patch(f"/v1/depots/{depot['id']}", json=open_all_day, headers=ADMIN)
        assert changed.json() == depot | open_all_day

    def test_pick_time_defaults_to_ten_minutes_and_is_editable(
        self, client: TestClient, world: World
    ) -> None:
        body = {"code": "D-PICK", "name": "Pick", "kind": "central", "lat": 23.1, "lon": 113.3}
        depot = client.post("/v1/depots", json=body, headers=ADMIN).json()
        assert depot["pick_min"] == 10  # the documented default (docs/world-format.md)
        url = f"/v1/depots/{depot['id']}"
        assert client.patch(url, json={"pick_min": 25}, headers=ADMIN).json()["pick_min"] == 25
        assert client.get(url, headers=ADMIN).json()["pick_min"] == 25
        for bad in (-1, None):
            problem = assert_problem(client.patch(url, json={"pick_min": bad}, headers=ADMIN), 422)
            assert locations(problem) == {("body", "pick_min")}

    def test_location_and_hours(self, client: TestClient, world: World) -> None:
        body = {"code": "D-NEW", "name": "New", "kind": "central", "opens_at": "08:00"}
        problem = assert_problem(client.post("/v1/depots", json=body, headers=ADMIN), 422)
        assert locations(problem) == {("body", "lat"), ("body", "lon"), ("body", "closes_at")}
        van = {"code": "V-NEW", "name": "Van", "kind": "van"}
        assert client.post("/v1/depots", json=van, headers=ADMIN).status_code == 201

    def test_a_patch_that_unlocates_a_depot(self, client: TestClient, world: World) -> None:
        url = f"/v1/depots/{world['dgz']}"
        problem = assert_problem(client.patch(url, json={"lat": None}, headers=ADMIN), 422)
        assert locations(problem) == {("body", "lat")}
        problem = assert_problem(client.patch(url, json={"kind": "van"}, headers=ADMIN), 422)
        assert locations(problem) == {("body", "kind")}

    def test_duplicate_unknown_missing_forbidden(self, client: TestClient, world: World) -> None:
        body = {"code": "D-GZ", "name": "x", "kind": "van"}
        assert_problem(client.post("/v1/depots", json=body, headers=ADMIN), 409)
        unknown = body | {"code": "D-X", "stock": []}
        problem = assert_problem(client.post("/v1/depots", json=unknown, headers=ADMIN), 422)
        assert locations(problem) == {("body", "stock")}
        assert_problem(client.patch("/v1/depots/999999", json={}, headers=ADMIN), 404)
        warehouse = auth(Role.WAREHOUSE)
        assert_problem(client.post("/v1/depots", json=body, headers=warehouse), 403)


class TestParts:
    def test_create_with_fits_and_substitutes(self, client: TestClient, world: World) -> None:
        body = new_part(world, fits=[world["cam1"]], substitutes=[world["psu"]], key_part=True)
        response = client.post("/v1/parts", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        part = response.json()
        assert (part["cost_price"], part["list_price"]) == ("10.50", "12.00")
        assert [m["id"] for m in part["fits"]] == [world["cam1"]]
        assert [p["sku"] for p in part["substitutes"]] == ["CAM-PSU-02"]

    def test_money_rules(self, client: TestClient, world: World) -> None:
        wire = new_part(world, cost_price="-1", list_price="1.234")
        problem = assert_problem(client.post("/v1/parts", json=wire, headers=ADMIN), 422)
        assert locations(problem) == {("body", "cost_price"), ("body", "list_price")}
        below = new_part(world, cost_price="10", list_price="9.99")
        problem = assert_problem(client.post("/v1/parts", json=below, headers=ADMIN), 422)
        assert problem["errors"] == [{"location": ["body", "list_price"],
                                      "message": "must not be below cost_price",
                                      "type": "value_error"}]  # fmt: skip

    def test_substitutes_never_itself_and_same_line(self, client: TestClient, world: World) -> None:
        url = f"/v1/parts/{world['psu']}"
        body = {"substitutes": [world["psu"], world["lock"]], "fits": [world["door"]]}
        problem = assert_problem(client.patch(url, json=body, headers=ADMIN), 422)
        assert locations(problem) == {("body", "substitutes", 0), ("body", "substitutes", 1),
                                      ("body", "fits", 0)}  # fmt: skip

    def test_patch_lists_and_prices(self, client: TestClient, world: World) -> None:
        url = f"/v1/parts/{world['lens']}"
        body = {"fits": [world["cam2"]], "list_price": "2500.00", "supplier_id": None}
        response = client.patch(url, json=body, headers=ADMIN)
        assert response.status_code == 200, response.text
        assert [m["id"] for m in response.json()["fits"]] == [world["cam2"]]
        problem = assert_problem(client.patch(url, json={"cost_price": "3000"}, headers=ADMIN), 422)
        assert locations(problem) == {("body", "list_price")}

    def test_duplicate_and_missing(self, client: TestClient, world: World) -> None:
        problem = assert_problem(
            client.post("/v1/parts", json=new_part(world, sku="CAM-LENS-01"), headers=ADMIN), 409
        )
        assert problem["detail"] == "a part with sku 'CAM-LENS-01' exists already"
        assert_problem(client.patch("/v1/parts/999999", json={}, headers=ADMIN), 404)
