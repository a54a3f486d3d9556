"""The read endpoints: each filter, each detail view, and the wire formats."""

from __future__ import annotations

from typing import Any

import pytest

from db.identity import Role
from tests.api.conftest import TestClient, World, auth

DISPATCHER = auth(Role.DISPATCHER)


def codes(client: TestClient, path: str, key: str = "code", **query: Any) -> list[str]:
    """The `key` of every item of one page of `path` with `query`, in order."""
    response = client.get(path, params=query, headers=DISPATCHER)
    assert response.status_code == 200, response.text
    return [item[key] for item in response.json()["items"]]


@pytest.fixture
def w(world: World) -> World:
    return world


class TestRegions:
    def test_list(self, client: TestClient, w: World) -> None:
        assert codes(client, "/v1/regions") == ["GZ", "SZ", "ST"]

    def test_detail(self, client: TestClient, w: World) -> None:
        body = client.get(f"/v1/regions/{w['gz']}", headers=DISPATCHER).json()
        assert body == {
            "id": w["gz"],
            "code": "GZ",
            "name": "Guangzhou",
            "name_local": "广州",
            "lat": 23.13,
            "lon": 113.26,
            "timezone": "Asia/Shanghai",
        }


class TestDepots:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({}, ["CENTRAL", "D-GZ", "D-SZ", "VAN-1"]),
            ({"region": "SZ"}, ["D-SZ", "VAN-1"]),
            ({"region": "XX"}, []),
            ({"kind": "van"}, ["VAN-1"]),
            ({"region": "GZ", "kind": "regional"}, ["D-GZ"]),
        ],
    )
    def test_filters(
        self, client: TestClient, w: World, query: dict[str, str], expected: list[str]
    ) -> None:
        assert codes(client, "/v1/depots", **query) == expected

    def test_filter_by_region_id(self, client: TestClient, w: World) -> None:
        assert codes(client, "/v1/depots", region_id=w["gz"]) == ["CENTRAL", "D-GZ"]

    def test_detail_of_a_van_without_location(self, client: TestClient, w: World) -> None:
        body = client.get(f"/v1/depots/{w['van']}", headers=DISPATCHER).json()
        assert (body["kind"], body["lat"], body["opens_at"]) == ("van", None, None)


class TestCatalogue:
    def test_product_lines(self, client: TestClient, w: World) -> None:
        assert codes(client, "/v1/product-lines") == ["CCTV", "ACS"]
        body = client.get(f"/v1/product-lines/{w['acs']}", headers=DISPATCHER).json()
        assert body["code"] == "ACS"

    def test_product_models(self, client: TestClient, w: World) -> None:
        assert codes(client, "/v1/product-models", product_line="CCTV") == ["CAM-1", "CAM-2"]
        assert codes(client, "/v1/product-models", product_line_id=w["acs"]) == ["DOOR-1"]
        body = client.get(f"/v1/product-models/{w['door']}", headers=DISPATCHER).json()
        assert body["product_line_id"] == w["acs"]

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({}, ["CAM-LENS-01", "CAM-PSU-02", "CAM-PSU-03", "DOOR-LOCK-01", "ACS-SEAL"]),
            ({"product_line": "ACS"}, ["DOOR-LOCK-01", "ACS-SEAL"]),
            ({"key_part": "true"}, ["CAM-LENS-01", "DOOR-LOCK-01"]),
            ({"key_part": "false", "product_line": "ACS"}, ["ACS-SEAL"]),
            ({"q": "cam-psu"}, ["CAM-PSU-02", "CAM-PSU-03"]),  # SKU prefix, any case
            ({"q": "LOCK"}, ["DOOR-LOCK-01"]),  # part of the name
            ({"q": "psu-02"}, []),  # the SKU matches by prefix only
            ({"q": "%"}, ["ACS-SEAL"]),  # a wildcard character is a literal
            ({"q": "_"}, []),
            ({"fits": "CAM-1"}, ["CAM-LENS-01", "CAM-PSU-02"]),
            ({"fits": "CAM-2", "key_part": "true"}, ["CAM-LENS-01"]),
        ],
    )
    def test_part_filters(
        self, client: TestClient, w: World, query: dict[str, str], expected: list[str]
    ) -> None:
        assert codes(client, "/v1/parts", key="sku", **query) == expected

    def test_part_filters_by_id(self, client: TestClient, w: World) -> None:
        assert codes(client, "/v1/parts", key="sku", fits_model_id=w["door"]) == ["DOOR-LOCK-01"]
        by_line = codes(client, "/v1/parts", key="sku", product_line_id=w["acs"])
        assert by_line == ["DOOR-LOCK-01", "ACS-SEAL"]

    def test_part_detail_with_money_as_strings(self, client: TestClient, w: World) -> None:
        body = client.get(f"/v1/parts/{w['lens']}", headers=DISPATCHER).json()
        assert (body["cost_price"], body["list_price"], body["currency"]) == (
            "1234.50",
            "2000.00",
            "CNY",
        )
        assert [m["code"] for m in body["fits"]] == ["CAM-1", "CAM-2"]

    def test_part_substitutes(self, client: TestClient, w: World) -> None:
        body = client.get(f"/v1/parts/{w['psu3']}", headers=DISPATCHER).json()
        assert body["substitutes"] == [
            {"id": w["psu"], "sku": "CAM-PSU-02", "name": "Power supply"}
        ]


class TestAssets:
    def test_filters(self, client: TestClient, w: World) -> None:
        assert codes(client, "/v1/assets", key="serial", site_id=w["s1"]) == ["SN-A1", "SN-A2"]
        assert codes(client, "/v1/assets", key="serial", product_model="CAM-2") == ["SN-A3"]
        by_model = codes(client, "/v1/assets", key="serial", product_model_id=w["door"])
        assert by_model == ["SN-A2"]
        assert codes(client, "/v1/assets", key="serial", serial="SN-A3") == ["SN-A3"]

    def test_detail_with_dates(self, client: TestClient, w: World) -> None:
        body = client.get(f"/v1/assets/{w['a1']}", headers=auth(Role.ENGINEER)).json()
        assert (body["installed_on"], body["accepted_on"]) == ("2023-05-01", "2023-05-02")


class TestEngineers:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({}, ["E1", "E2", "E3", "E4"]),
            ({"region": "GZ"}, ["E1", "E2"]),
            ({"skill": "CCTV"}, ["E1", "E2"]),
            ({"skill": "CCTV", "min_level": 2}, ["E1"]),
            ({"skill": "ACS", "min_level": 2}, ["E3"]),  # E1 has ACS at level 1 only
            ({"min_level": 2}, ["E1", "E3"]),  # any skill at level 2 or above
            ({"active": "false"}, ["E3"]),
            ({"active": "true", "region": "SZ"}, ["E4"]),
        ],
    )
    def test_filters(
        self, client: TestClient, w: World, query: dict[str, Any], expected: list[str]
    ) -> None:
        assert codes(client, "/v1/engineers", **query) == expected

    def test_filters_by_id(self, client: TestClient, w: World) -> None:
        assert codes(client, "/v1/engineers", region_id=w["sz"]) == ["E3", "E4"]
        assert codes(client, "/v1/engineers", skill_id=w["acs"], min_level=1) == ["E1", "E3"]

    def test_detail_with_skills_timestamp_and_money(self, client: TestClient, w: World) -> None:
        body = client.get(f"/v1/engineers/{w['e1']}", headers=DISPATCHER).json()
        skills = {(s["product_line_id"], s["level"]) for s in body["skills"]}
        assert skills == {(w["cctv"], 3), (w["acs"], 1)}
        e4 = client.get(f"/v1/engineers/{w['e4']}", headers=DISPATCHER).json()
        assert e4["position_at"] == "2025-03-01T16:30:00+08:00"  # in the regions' zone
        assert (e4["cost_per_hour"], e4["cost_per_km"]) == ("85.50", "0.00")
        assert isinstance(e4["current_lat"], float)
        assert e4["van_depot_id"] == w["van"]


class TestSites:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({}, ["S1", "S2", "S3"]),
            ({"region": "GZ"}, ["S1", "S2"]),
            ({"contract": "C-RURAL"}, ["S3"]),
            ({"rural": "true"}, ["S3"]),
            ({"rural": "false", "region": "ST"}, []),
        ],
    )
    def test_filters(
        self, client: TestClient, w: World, query: dict[str, str], expected: list[str]
    ) -> None:
        assert codes(client, "/v1/sites", **query) == expected

    def test_filters_by_id(self, client: TestClient, w: World) -> None:
        assert codes(client, "/v1/sites", dedicated_engineer_id=w["e1"]) == ["S1"]
        assert codes(client, "/v1/sites", contract_id=w["c2"]) == ["S2"]
        assert codes(client, "/v1/sites", region_id=w["st"]) == ["S3"]

    def test_detail(self, client: TestClient, w: World) -> None:
        body = client.get(f"/v1/sites/{w['s3']}", headers=auth(Role.ENGINEER)).json()
        assert (body["rural"], body["contract_id"], body["region_id"]) == (True, w["c3"], w["st"])


class TestContracts:
    def test_filters(self, client: TestClient, w: World) -> None:
        assert codes(client, "/v1/contracts") == ["C-STD-1", "C-STD-2", "C-RURAL"]
        assert codes(client, "/v1/contracts", policy="STD") == ["C-STD-1", "C-STD-2"]
        assert codes(client, "/v1/contracts", policy_id=w["rural"]) == ["C-RURAL"]

    def test_list_items_do_not_embed_the_policy(self, client: TestClient, w: World) -> None:
        item = client.get("/v1/contracts", headers=DISPATCHER).json()["items"][0]
        assert "policy" not in item
        assert item["policy_id"] == w["std"]

    def test_detail_embeds_policy_and_severities(self, client: TestClient, w: World) -> None:
        body = client.get(f"/v1/contracts/{w['c3']}", headers=DISPATCHER).json()
        assert body["code"] == "C-RURAL"
        policy = body["policy"]
        assert (policy["code"], policy["warranty_years"]) == ("RURAL", 1)
        assert policy["labour_rate_per_hour"] == "80.00"
        assert [s["rank"] for s in policy["severities"]] == [1, 2]
        assert policy["severities"][1]["depart_min"] is None
