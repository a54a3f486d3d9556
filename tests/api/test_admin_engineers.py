"""Administration of engineers over HTTP: admin only, field-level 422s, all or nothing."""

from __future__ import annotations

from typing import Any

import pytest

from db.identity import Role
from tests.api.conftest import TestClient, World, auth
from tests.api.test_errors import assert_problem

ADMIN = auth(Role.ADMIN)


def locations(body: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {tuple(e["location"]) for e in body["errors"]}


def new_engineer(w: World, **kw: Any) -> dict[str, Any]:
    return {"code": "E-NEW", "name": "New", "region_id": w["gz"], "home_lat": 23.1,
            "home_lon": 113.3} | kw  # fmt: skip


class TestCreateAndUpdate:
    def test_create_with_skills_and_van(self, client: TestClient, world: World) -> None:
        body = new_engineer(world, create_van=True, van_capacity=20, cost_per_hour="80.5",
                            skills=[{"product_line_id": world["cctv"], "level": 2}])  # fmt: skip
        response = client.post("/v1/engineers", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        created = response.json()
        assert created["skills"] == [{"product_line_id": world["cctv"], "level": 2,
                                      "product_line_code": "CCTV",
                                      "product_line_name": "Video surveillance"}]  # fmt: skip
        assert created["cost_per_hour"] == "80.50"
        van = client.get(f"/v1/depots/{created['van_depot_id']}", headers=ADMIN).json()
        assert (van["kind"], van["code"]) == ("van", "VAN-E-NEW")

    @pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
    def test_only_admins(self, client: TestClient, world: World, role: Role) -> None:
        response = client.post("/v1/engineers", json=new_engineer(world), headers=auth(role))
        assert_problem(response, 403)

    def test_unknown_fields_are_refused(self, client: TestClient, world: World) -> None:
        body = new_engineer(world, current_lat=1.0, id=5)
        problem = assert_problem(client.post("/v1/engineers", json=body, headers=ADMIN), 422)
        assert locations(problem) == {("body", "current_lat"), ("body", "id")}
        assert {e["type"] for e in problem["errors"]} == {"extra_forbidden"}

    def test_domain_rules_are_field_errors(self, client: TestClient, world: World) -> None:
        body = new_engineer(world, region_id=999_999,
                            skills=[{"product_line_id": 999_999, "level": 1}])  # fmt: skip
        problem = assert_problem(client.post("/v1/engineers", json=body, headers=ADMIN), 422)
        assert problem["type"] == "urn:spares:problem:validation-error"
        assert locations(problem) == {
            ("body", "region_id"),
            ("body", "skills", 0, "product_line_id"),
        }
        assert problem["errors"][0]["message"] == "Region 999999 does not exist"
        assert problem["errors"][0]["type"] == "reference_not_found"

    def test_duplicate_code_is_409(self, client: TestClient, world: World) -> None:
        response = client.post("/v1/engineers", json=new_engineer(world, code="E1"), headers=ADMIN)
        problem = assert_problem(response, 409)
        assert problem["type"] == "urn:spares:problem:duplicate"
        assert "code 'E1'" in problem["detail"]

    def test_a_failure_after_a_write_leaves_nothing(self, client: TestClient, world: World) -> None:
        # The engineer is flushed before the van, whose code VAN-1 is taken: all rolls back.
        response = client.post(
            "/v1/engineers", json=new_engineer(world, code="1", create_van=True), headers=ADMIN
        )
        assert_problem(response, 409)
        found = client.get("/v1/engineers", params={"region": "GZ"}, headers=ADMIN).json()
        assert "1" not in [e["code"] for e in found["items"]]

    def test_patch_changes_only_what_is_sent(self, client: TestClient, world: World) -> None:
        url = f"/v1/engineers/{world['e4']}"
        before = client.get(url, headers=ADMIN).json()
        response = client.patch(url, json={"name": "Renamed", "van_capacity": None}, headers=ADMIN)
        assert response.status_code == 200, response.text
        after = response.json()
        assert after == before | {"name": "Renamed", "van_capacity": None}

    def test_patch_refuses_null_for_required_fields(self, client: TestClient, world: World) -> None:
        url = f"/v1/engineers/{world['e1']}"
        problem = assert_problem(client.patch(url, json={"name": None}, headers=ADMIN), 422)
        assert locations(problem) == {("body", "name")}

    def test_patch_missing_engineer_is_404(self, client: TestClient, world: World) -> None:
        assert_problem(client.patch("/v1/engineers/999999", json={}, headers=ADMIN), 404)

    def test_deactivating_a_dedicated_engineer_is_409(
        self, client: TestClient, world: World
    ) -> None:
        url = f"/v1/engineers/{world['e1']}"
        problem = assert_problem(client.patch(url, json={"active": False}, headers=ADMIN), 409)
        assert "S1" in problem["detail"]


class TestSkills:
    def test_replace(self, client: TestClient, world: World) -> None:
        body = {"skills": [{"product_line_id": world["acs"], "level": 3}]}
        response = client.put(f"/v1/engineers/{world['e2']}/skills", json=body, headers=ADMIN)
        assert response.status_code == 200, response.text
        assert response.json()["skills"] == [{"product_line_id": world["acs"], "level": 3,
                                              "product_line_code": "ACS",
                                              "product_line_name": "Access control"}]  # fmt: skip

    def test_one_bad_line_leaves_the_old_skills(self, client: TestClient, world: World) -> None:
        url = f"/v1/engineers/{world['e1']}"
        before = client.get(url, headers=ADMIN).json()["skills"]
        body = {"skills": [{"product_line_id": world["cctv"], "level": 1},
                           {"product_line_id": 999_999, "level": 1}]}  # fmt: skip
        problem = assert_problem(client.put(f"{url}/skills", json=body, headers=ADMIN), 422)
        assert locations(problem) == {("body", "skills", 1, "product_line_id")}
        assert client.get(url, headers=ADMIN).json()["skills"] == before

    def test_level_out_of_range(self, client: TestClient, world: World) -> None:
        body = {"skills": [{"product_line_id": world["cctv"], "level": 4}]}
        url = f"/v1/engineers/{world['e1']}/skills"
        problem = assert_problem(client.put(url, json=body, headers=ADMIN), 422)
        assert locations(problem) == {("body", "skills", 0, "level")}


class TestShiftsAndAbsences:
    def test_add_and_remove_a_shift(self, client: TestClient, world: World) -> None:
        url = f"/v1/engineers/{world['e1']}/shifts"
        body = {"weekday": 4, "starts_at": "22:00", "ends_at": "06:00"}
        response = client.post(url, json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        shift = response.json()
        assert shift | {"id": 0} == {"id": 0, "engineer_id": world["e1"], "weekday": 4,
                                     "starts_at": "22:00:00", "ends_at": "06:00:00"}  # fmt: skip
        overlap = {"weekday": 5, "starts_at": "05:00", "ends_at": "07:00"}
        assert_problem(client.post(url, json=overlap, headers=ADMIN), 422)
        assert client.delete(f"{url}/{shift['id']}", headers=ADMIN).status_code == 204
        assert_problem(client.delete(f"{url}/{shift['id']}", headers=ADMIN), 404)

    def test_a_shift_needs_local_times(self, client: TestClient, world: World) -> None:
        body = {"weekday": 7, "starts_at": "08:00+08:00", "ends_at": "08:00"}
        url = f"/v1/engineers/{world['e1']}/shifts"
        problem = assert_problem(client.post(url, json=body, headers=ADMIN), 422)
        assert locations(problem) == {("body", "weekday"), ("body", "starts_at")}

    def test_sick_leave_ended_early(self, client: TestClient, world: World) -> None:
        url = f"/v1/engineers/{world['e2']}/absences"
        body = {"starts_at": "2026-03-02T00:00:00+08:00", "ends_at": "2026-03-09T00:00:00+08:00",
                "reason": "sick leave"}  # fmt: skip
        response = client.post(url, json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        absence = response.json()
        assert absence["starts_at"] == "2026-03-02T00:00:00+08:00"  # the regions' zone
        ended = client.patch(f"{url}/{absence['id']}", json={"ends_at": "2026-03-04T00:00:00Z"},
                             headers=ADMIN)  # fmt: skip
        assert ended.status_code == 200, ended.text
        assert ended.json()["ends_at"] == "2026-03-04T08:00:00+08:00"

    def test_absence_rules(self, client: TestClient, world: World) -> None:
        url = f"/v1/engineers/{world['e2']}/absences"
        naive = {"starts_at": "2026-03-02T00:00:00", "ends_at": "2026-03-01T00:00:00Z"}
        problem = assert_problem(client.post(url, json=naive, headers=ADMIN), 422)
        assert locations(problem) == {("body", "starts_at"), ("body", "reason")}
        backwards = {"starts_at": "2026-03-02T00:00:00Z", "ends_at": "2026-03-01T00:00:00Z",
                     "reason": "holiday"}  # fmt: skip
        problem = assert_problem(client.post(url, json=backwards, headers=ADMIN), 422)
        assert locations(problem) == {("body", "ends_at")}
        assert_problem(client.patch(f"{url}/999999", json={}, headers=ADMIN), 404)


class TestVanStock:
    def test_set_and_replace(self, client: TestClient, world: World) -> None:
        url = f"/v1/engineers/{world['e4']}/van-stock"
        body = {"levels": [{"part_id": world["lens"], "on_hand": 2},
                           {"part_id": world["psu"], "on_hand": 1,
                            "reorder_point": 1}]}  # fmt: skip
        response = client.put(url, json=body, headers=ADMIN)
        assert response.status_code == 200, response.text
        assert [(s["part_id"], s["on_hand"]) for s in response.json()] == [
            (world["lens"], 2), (world["psu"], 1)]  # fmt: skip
        again = client.put(url, json={"levels": [{"part_id": world["psu"], "on_hand": 4}]},
                           headers=ADMIN)  # fmt: skip
        assert [(s["part_id"], s["on_hand"]) for s in again.json()] == [(world["psu"], 4)]

    def test_bad_lines_leave_the_stock(self, client: TestClient, world: World) -> None:
        url = f"/v1/engineers/{world['e4']}/van-stock"
        client.put(url, json={"levels": [{"part_id": world["lens"], "on_hand": 2}]}, headers=ADMIN)
        body = {"levels": [{"part_id": world["psu"], "on_hand": 1},
                           {"part_id": 999_999, "on_hand": 1}]}  # fmt: skip
        problem = assert_problem(client.put(url, json=body, headers=ADMIN), 422)
        assert locations(problem) == {("body", "levels", 1, "part_id")}
        same = client.put(url, json={"levels": [{"part_id": world["lens"], "on_hand": 2}]},
                          headers=ADMIN)  # fmt: skip
        assert [(s["part_id"], s["on_hand"]) for s in same.json()] == [(world["lens"], 2)]

    def test_an_engineer_without_a_van_is_409(self, client: TestClient, world: World) -> None:
        url = f"/v1/engineers/{world['e1']}/van-stock"
        problem = assert_problem(client.put(url, json={"levels": []}, headers=ADMIN), 409)
        assert "create_van" in problem["detail"]
