"""Labour rules and clock penalties over HTTP: admin only, 422 per field, 409 on clashes."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from db.audit import AuditEntry
from db.identity import Role
from tests.api.conftest import TestClient, World, auth
from tests.api.test_errors import assert_problem

ADMIN = auth(Role.ADMIN)


def locations(body: dict[str, Any]) -> set[tuple[Any, ...]]:
    return {tuple(e["location"]) for e in body["errors"]}


def _create(client: TestClient, **kw: Any) -> Any:
    body = {"code": "LR-GZ", "name": "Guangzhou"} | kw
    return client.post("/v1/labour-rules", json=body, headers=ADMIN)


class TestLabourRules:
    def test_create_read_list_update_delete(self, client: TestClient, world: World) -> None:
        created = _create(client, region_id=world["gz"], overtime_max_min=60, callout_cost="250")
        assert created.status_code == 201, created.text
        rule = created.json()
        assert (rule["overtime_max_min"], rule["callout_cost"]) == (60, "250.00")
        assert rule["overtime_week_max_min"] == 480  # the documented default
        got = client.get(f"/v1/labour-rules/{rule['id']}", headers=ADMIN).json()
        assert got == rule
        listed = client.get("/v1/labour-rules", headers=ADMIN).json()["items"]
        assert [r["id"] for r in listed] == [rule["id"]]
        patched = client.patch(
            f"/v1/labour-rules/{rule['id']}", json={"start_into_overtime": False}, headers=ADMIN
        )
        assert patched.status_code == 200, patched.text
        assert (patched.json()["start_into_overtime"], patched.json()["overtime_max_min"]) == (
            False,
            60,
        )
        assert client.delete(f"/v1/labour-rules/{rule['id']}", headers=ADMIN).status_code == 204
        assert_problem(client.get(f"/v1/labour-rules/{rule['id']}", headers=ADMIN), 404)

    def test_the_defaults_are_readable(self, client: TestClient, world: World) -> None:
        found = client.get("/v1/labour-rules/defaults", headers=ADMIN).json()
        assert (found["overtime_max_min"], found["callout_cost"], found["callout_max_rank"]) == (
            120,
            "300.00",
            1,
        )

    @pytest.mark.parametrize("role", [r for r in Role if r != Role.ADMIN])
    def test_only_admins(self, client: TestClient, world: World, role: Role) -> None:
        assert_problem(client.get("/v1/labour-rules", headers=auth(role)), 403)
        response = client.post(
            "/v1/labour-rules", json={"code": "X", "name": "X"}, headers=auth(role)
        )
        assert_problem(response, 403)

    def test_bad_numbers_are_field_errors(self, client: TestClient, world: World) -> None:
        problem = assert_problem(
            _create(client, overtime_max_min=-1, callout_cost="1.001", callout_max_rank=99,
                    overtime_week_max_min=20_000),
            422,
        )  # fmt: skip
        assert locations(problem) == {
            ("body", "overtime_max_min"), ("body", "callout_cost"), ("body", "callout_max_rank"),
            ("body", "overtime_week_max_min"),
        }  # fmt: skip

    def test_an_unknown_region_is_a_field_error(self, client: TestClient, world: World) -> None:
        problem = assert_problem(_create(client, region_id=999_999), 422)
        assert locations(problem) == {("body", "region_id")}

    def test_a_duplicate_code_or_a_region_ruled_twice_is_409(
        self, client: TestClient, world: World
    ) -> None:
        assert _create(client, region_id=world["gz"]).status_code == 201
        assert_problem(_create(client, region_id=world["sz"]), 409)  # the same code
        assert_problem(_create(client, code="LR-2", region_id=world["gz"]), 409)

    def test_a_rule_engineers_work_under_is_not_deleted(
        self, client: TestClient, world: World
    ) -> None:
        rule = _create(client, code="NIGHTS").json()
        patched = client.patch(
            f"/v1/engineers/{world['e1']}", json={"labour_rule_id": rule["id"]}, headers=ADMIN
        )
        assert patched.status_code == 200, patched.text
        assert patched.json()["labour_rule_id"] == rule["id"]
        assert_problem(client.delete(f"/v1/labour-rules/{rule['id']}", headers=ADMIN), 409)
        client.patch(f"/v1/engineers/{world['e1']}", json={"labour_rule_id": None}, headers=ADMIN)
        assert client.delete(f"/v1/labour-rules/{rule['id']}", headers=ADMIN).status_code == 204

    def test_an_engineer_pointing_at_no_rule_is_a_field_error(
        self, client: TestClient, world: World
    ) -> None:
        response = client.patch(
            f"/v1/engineers/{world['e1']}", json={"labour_rule_id": 999_999}, headers=ADMIN
        )
        assert locations(assert_problem(response, 422)) == {("body", "labour_rule_id")}

    def test_changes_are_audited(
        self, client: TestClient, world: World, api_engine: Engine
    ) -> None:
        rule = _create(client).json()
        client.patch(f"/v1/labour-rules/{rule['id']}", json={"callout_lead_min": 5}, headers=ADMIN)
        with Session(api_engine) as s:
            actions = [
                e.action
                for e in s.scalars(
                    select(AuditEntry)
                    .where(AuditEntry.entity == "labour_rules")
                    .order_by(AuditEntry.id)  # PostgreSQL returns rows in no set order
                )
            ]
        assert actions == ["insert", "update"]


class TestClockPenalties:
    def test_defaults_then_set_then_reset(self, client: TestClient, world: World) -> None:
        url = f"/v1/policies/{world['std']}/clock-penalties"
        found = client.get(url, headers=ADMIN).json()
        s1 = found["severities"][0]
        assert (s1["code"], s1["arrive"], len(s1["defaults"])) == ("S1", "1000.00", 6)
        assert found["late_penalty_pct_per_hour"] == 25
        put = client.put(f"{url}/S1", json={"arrive": "2500", "fix": None}, headers=ADMIN)
        assert put.status_code == 200, put.text
        s1 = put.json()["severities"][0]
        assert (s1["arrive"], s1["fix"]) == ("2500.00", "1000.00")
        assert "arrive" not in s1["defaults"]
        assert "fix" in s1["defaults"]
        shares = client.patch(url, json={"late_penalty_pct_per_hour": 50}, headers=ADMIN)
        assert shares.json()["late_penalty_pct_per_hour"] == 50
        assert client.delete(f"{url}/S1", headers=ADMIN).status_code == 204
        assert client.get(url, headers=ADMIN).json()["severities"][0]["arrive"] == "1000.00"

    def test_unknown_policy_or_severity_is_404(self, client: TestClient, world: World) -> None:
        assert_problem(client.get("/v1/policies/999999/clock-penalties", headers=ADMIN), 404)
        url = f"/v1/policies/{world['std']}/clock-penalties/NOPE"
        assert_problem(client.put(url, json={}, headers=ADMIN), 404)

    def test_bad_amounts_and_shares_are_422(self, client: TestClient, world: World) -> None:
        url = f"/v1/policies/{world['std']}/clock-penalties"
        problem = assert_problem(
            client.put(f"{url}/S1", json={"arrive": "-1", "depart": "x"}, headers=ADMIN), 422
        )
        assert locations(problem) == {("body", "arrive"), ("body", "depart")}
        too_much = client.patch(url, json={"at_risk_penalty_pct": 5_000}, headers=ADMIN)
        assert_problem(too_much, 422)

    @pytest.mark.parametrize("role", [Role.DISPATCHER, Role.PLANNER])
    def test_only_admins(self, client: TestClient, world: World, role: Role) -> None:
        url = f"/v1/policies/{world['std']}/clock-penalties"
        assert_problem(client.get(url, headers=auth(role)), 403)
        assert_problem(client.put(f"{url}/S1", json={}, headers=auth(role)), 403)
