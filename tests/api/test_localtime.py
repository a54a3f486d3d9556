"""Local time on the wire: the regions' zone by default, `tz` or `Time-Zone` to choose."""

from __future__ import annotations

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from db.identity import Role
from inventory.models import Region
from tests.api.conftest import TestClient, World, auth
from tests.api.test_errors import assert_problem

DISPATCHER = auth(Role.DISPATCHER)


def _position_at(client: TestClient, w: World, **kw: object) -> tuple[str, str]:
    response = client.get(f"/v1/engineers/{w['e4']}", headers=DISPATCHER | kw.pop("headers", {}),
                          params=kw)  # fmt: skip
    assert response.status_code == 200, response.text
    return response.json()["position_at"], response.headers["Time-Zone"]


class TestDisplayZone:
    def test_the_regions_zone_by_default_and_named_in_a_header(
        self, client: TestClient, world: World
    ) -> None:
        # stored 08:30 UTC; every region of the world is on Asia/Shanghai (+08:00)
        assert _position_at(client, world) == ("2025-03-01T16:30:00+08:00", "Asia/Shanghai")

    def test_tz_parameter_overrides(self, client: TestClient, world: World) -> None:
        assert _position_at(client, world, tz="UTC") == ("2025-03-01T08:30:00+00:00", "UTC")

    def test_time_zone_header_overrides(self, client: TestClient, world: World) -> None:
        got = _position_at(client, world, headers={"Time-Zone": "Europe/Berlin"})
        assert got == ("2025-03-01T09:30:00+01:00", "Europe/Berlin")

    def test_an_unknown_zone_is_a_422_naming_the_parameter(
        self, client: TestClient, world: World
    ) -> None:
        response = client.get(f"/v1/engineers/{world['e4']}", params={"tz": "Mars/Olympus"},
                              headers=DISPATCHER)  # fmt: skip
        body = assert_problem(response, 422)
        assert [e["location"] for e in body["errors"]] == [["query", "tz"]]

    def test_utc_when_regions_span_several_zones(
        self, client: TestClient, world: World, api_engine: Engine
    ) -> None:
        with Session(api_engine) as s, s.begin():
            s.execute(update(Region).where(Region.id == world["st"]).values(timezone="Asia/Tokyo"))
        assert _position_at(client, world) == ("2025-03-01T08:30:00+00:00", "UTC")
