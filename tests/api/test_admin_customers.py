"""Administration of sites, contracts and promise policies over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from db.identity import Role
from tests.api.conftest import TestClient, World, auth
from tests.api.test_admin_engineers import locations
from tests.api.test_errors import assert_problem

ADMIN = auth(Role.ADMIN)
DISPATCHER = auth(Role.DISPATCHER)


def new_site(w: World, **kw: Any) -> dict[str, Any]:
    return {"code": "S-NEW", "name": "New site", "region_id": w["gz"], "contract_id": w["c1"],
            "lat": 23.1, "lon": 113.2} | kw  # fmt: skip


def levels(*codes: str) -> list[dict[str, Any]]:
    return [{"code": c, "label": c.title(), "rank": i, "arrive_min": 120}
            for i, c in enumerate(codes, start=1)]  # fmt: skip


class TestSites:
    def test_create_and_patch(self, client: TestClient, world: World) -> None:
        body = new_site(world, dedicated_engineer_id=world["e2"], rural=True)
        response = client.post("/v1/sites", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        site = response.json()
        assert (site["dedicated_engineer_id"], site["rural"]) == (world["e2"], True)
        patch = {"dedicated_engineer_id": None, "address": "1 Road"}
        changed = client.patch(f"/v1/sites/{site['id']}", json=patch, headers=ADMIN).json()
        assert changed == site | patch

    def test_dedicated_engineer_must_be_active(self, client: TestClient, world: World) -> None:
        body = new_site(world, dedicated_engineer_id=world["e3"], contract_id=999_999, lat=91)
        problem = assert_problem(client.post("/v1/sites", json=body, headers=ADMIN), 422)
        assert locations(problem) == {("body", "lat")}  # the wire check runs first
        body["lat"] = 23.0
        problem = assert_problem(client.post("/v1/sites", json=body, headers=ADMIN), 422)
        assert locations(problem) == {("body", "contract_id"), ("body", "dedicated_engineer_id")}
        assert "not active" in problem["detail"]

    def test_duplicate_unknown_missing_and_forbidden(
        self, client: TestClient, world: World
    ) -> None:
        assert_problem(
            client.post("/v1/sites", json=new_site(world, code="S1"), headers=ADMIN), 409
        )
        problem = assert_problem(
            client.patch(f"/v1/sites/{world['s1']}", json={"owner": "me"}, headers=ADMIN), 422
        )
        assert locations(problem) == {("body", "owner")}
        assert_problem(client.patch("/v1/sites/999999", json={"name": "x"}, headers=ADMIN), 404)
        assert_problem(client.post("/v1/sites", json=new_site(world), headers=DISPATCHER), 403)


class TestContracts:
    def test_create_and_patch(self, client: TestClient, world: World) -> None:
        body = {"code": "C-NEW", "customer_name": "ACME", "policy_id": world["rural"],
                "starts_on": "2025-01-01", "ends_on": "2027-12-31"}  # fmt: skip
        response = client.post("/v1/contracts", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        contract = response.json()
        changed = client.patch(f"/v1/contracts/{contract['id']}", json={"ends_on": None},
                               headers=ADMIN)  # fmt: skip
        assert changed.json()["ends_on"] is None

    def test_period_and_policy(self, client: TestClient, world: World) -> None:
        body = {"code": "C-NEW", "customer_name": "ACME", "policy_id": 999_999,
                "starts_on": "2025-01-01", "ends_on": "2024-01-01"}  # fmt: skip
        problem = assert_problem(client.post("/v1/contracts", json=body, headers=ADMIN), 422)
        assert locations(problem) == {("body", "policy_id"), ("body", "ends_on")}
        url = f"/v1/contracts/{world['c1']}"
        problem = assert_problem(client.patch(url, json={"starts_on": "2030-01-01",
                                                         "ends_on": "2029-01-01"}, headers=ADMIN),
                                 422)  # fmt: skip
        assert locations(problem) == {("body", "ends_on")}

    def test_duplicate_and_missing(self, client: TestClient, world: World) -> None:
        url = f"/v1/contracts/{world['c1']}"
        problem = assert_problem(client.patch(url, json={"code": "C-RURAL"}, headers=ADMIN), 409)
        assert problem["field"] == "code"
        assert_problem(client.patch("/v1/contracts/999999", json={}, headers=ADMIN), 404)


class TestPolicies:
    def test_read_by_the_office(self, client: TestClient, world: World) -> None:
        found = client.get("/v1/policies", headers=DISPATCHER).json()
        assert [p["code"] for p in found["items"]] == ["STD", "RURAL"]
        one = client.get(f"/v1/policies/{world['rural']}", headers=DISPATCHER).json()
        assert [s["code"] for s in one["severities"]] == ["S1", "S2"]
        assert_problem(client.get("/v1/policies", headers=auth(Role.ENGINEER)), 403)
        assert_problem(client.get("/v1/policies/999999", headers=DISPATCHER), 404)

    def test_create_with_defaults(self, client: TestClient, world: World) -> None:
        body = {"code": "P-NEW", "name": "Rural 48h", "severities": levels("p1", "p2"),
                "labour_rate_per_hour": "60", "warranty_years": 1}  # fmt: skip
        response = client.post("/v1/policies", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        policy = response.json()
        assert (policy["timezone"], policy["currency"], policy["swap_within_min"]) == (
            "Asia/Shanghai", "CNY", 120)  # fmt: skip
        assert policy["labour_rate_per_hour"] == "60.00"
        assert [(s["code"], s["rank"]) for s in policy["severities"]] == [("p1", 1), ("p2", 2)]

    def test_severity_rules_are_field_errors(self, client: TestClient, world: World) -> None:
        bad = levels("a", "a") + [{"code": "c", "label": "C", "rank": 7}]
        body = {"code": "P-NEW", "name": "Bad", "severities": bad, "timezone": "Nowhere/Land"}
        problem = assert_problem(client.post("/v1/policies", json=body, headers=ADMIN), 422)
        assert locations(problem) == {
            ("body", "severities", 1, "code"), ("body", "severities", 2, "rank"),
            ("body", "timezone"),
        }  # fmt: skip
        negative = {
            "code": "P-NEW",
            "name": "Bad",
            "severities": [{"code": "a", "label": "A", "rank": 1, "fix_min": -5}],
        }
        problem = assert_problem(client.post("/v1/policies", json=negative, headers=ADMIN), 422)
        assert locations(problem) == {("body", "severities", 0, "fix_min")}

    def test_patch_replaces_severities(self, client: TestClient, world: World) -> None:
        url = f"/v1/policies/{world['rural']}"
        body = {"severities": levels("S2", "S1", "S3"), "ship_within_min": 720}
        response = client.patch(url, json=body, headers=ADMIN)
        assert response.status_code == 200, response.text
        changed = response.json()
        assert [s["code"] for s in changed["severities"]] == ["S2", "S1", "S3"]
        assert changed["ship_within_min"] == 720
        contract = client.get(f"/v1/contracts/{world['c3']}", headers=ADMIN).json()
        assert [s["code"] for s in contract["policy"]["severities"]] == ["S2", "S1", "S3"]

    def test_eta_tolerance_and_inspection_window_are_policy_data(
        self, client: TestClient, world: World
    ) -> None:
        url = f"/v1/policies/{world['rural']}"
        before = client.get(url, headers=ADMIN).json()
        assert (before["eta_tolerance_min"], before["inspection_window_days"]) == (30, 7)
        body = {"eta_tolerance_min": 45, "inspection_window_days": 14}
        changed = client.patch(url, json=body, headers=ADMIN).json()
        assert (changed["eta_tolerance_min"], changed["inspection_window_days"]) == (45, 14)
        for bad in ({"inspection_window_days": 0}, {"eta_tolerance_min": -1}):
            problem = assert_problem(client.patch(url, json=bad, headers=ADMIN), 422)
            assert locations(problem) == {("body", next(iter(bad)))}

    def test_planning_durations_and_slack_are_policy_data(
        self, client: TestClient, world: World
    ) -> None:
        url = f"/v1/policies/{world['rural']}"
        before = client.get(url, headers=ADMIN).json()
        assert (before["plan_duration_pct"], before["plan_min_jobs"], before["slack_min"]) == (
            50, 20, 30,
        )  # fmt: skip
        body = {"plan_duration_pct": 80, "plan_min_jobs": 10, "slack_min": 45}
        changed = client.patch(url, json=body, headers=ADMIN).json()
        assert (changed["plan_duration_pct"], changed["plan_min_jobs"], changed["slack_min"]) == (
            80, 10, 45,
        )  # fmt: skip
        for bad in ({"plan_duration_pct": 40}, {"plan_duration_pct": 100}, {"plan_min_jobs": 0}):
            problem = assert_problem(client.patch(url, json=bad, headers=ADMIN), 422)
            assert locations(problem) == {("body", next(iter(bad)))}

    @pytest.mark.parametrize(
        ("column", "code"), [("make_room_engineers", "P-ROOM"), ("divert_engineers", "P-DIVERT")]
    )
    def test_engineers_asked_to_make_room_or_take_a_ticket_first_are_policy_data(
        self, client: TestClient, world: World, column: str, code: str
    ) -> None:
        url = f"/v1/policies/{world['rural']}"
        assert client.get(url, headers=DISPATCHER).json()[column] == 3
        changed = client.patch(url, json={column: 0}, headers=ADMIN)
        assert changed.status_code == 200, changed.text
        assert changed.json()[column] == 0  # never
        trail = client.get("/v1/audit?entity=promise_policies&limit=100", headers=ADMIN).json()
        assert [e["changes"][column] for e in trail["items"]
                if column in e["changes"]][-1] == [3, 0]  # fmt: skip
        for bad in ({column: -1}, {column: "many"}):
            problem = assert_problem(client.patch(url, json=bad, headers=ADMIN), 422)
            assert locations(problem) == {("body", column)}
        body = {"code": code, "name": "Asks five", "severities": levels("a"), column: 5}
        assert client.post("/v1/policies", json=body, headers=ADMIN).json()[column] == 5

    def test_a_bad_patch_leaves_the_policy(self, client: TestClient, world: World) -> None:
        url = f"/v1/policies/{world['rural']}"
        before = client.get(url, headers=ADMIN).json()
        body = {"name": "Changed", "severities": levels("x") + [{"code": "y", "label": "Y",
                                                                 "rank": 1}]}  # fmt: skip
        assert_problem(client.patch(url, json=body, headers=ADMIN), 422)
        assert client.get(url, headers=ADMIN).json() == before

    @pytest.mark.parametrize("body", [{"severities": []}, {"name": None}, {"extra": 1}])
    def test_wire_rules(self, client: TestClient, world: World, body: dict[str, Any]) -> None:
        response = client.patch(f"/v1/policies/{world['std']}", json=body, headers=ADMIN)
        assert locations(assert_problem(response, 422)) == {("body", next(iter(body)))}

    def test_duplicate_code(self, client: TestClient, world: World) -> None:
        body = {"code": "STD", "name": "x", "severities": levels("a")}
        assert_problem(client.post("/v1/policies", json=body, headers=ADMIN), 409)
