"""A live demo world: open tickets reported shortly before `as_of`, deadlines by intake's rule."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from dispatch.promises import SeverityOffsets, compute_deadlines
from dispatch.world import generate_world
from dispatch.world.policies import POLICIES

AS_OF = datetime(2026, 11, 22, 6, 30, tzinfo=UTC)  # 14:30 in Guangdong


def test_tickets_are_reported_shortly_before_as_of() -> None:
    world = generate_world(7, "small", as_of=AS_OF)
    reported = [t["reported_at"] for t in world.tables["tickets"]]
    assert reported
    assert all(AS_OF - timedelta(hours=3) <= r < AS_OF for r in reported)
    assert world.reference_date == date(2026, 11, 22)


def test_as_of_must_be_aware() -> None:
    with pytest.raises(ValueError, match="time zone"):
        generate_world(7, "small", as_of=datetime(2026, 11, 22, 6, 30))  # noqa: DTZ001


def test_demo_deadlines_follow_the_intake_rule() -> None:
    world = generate_world(7, "small", as_of=AS_OF)
    sites = {s["id"]: s for s in world.tables["sites"]}
    contracts = {c["id"]: c for c in world.tables["contracts"]}
    for ticket in world.tables["tickets"]:
        policy_id = contracts[sites[ticket["site_id"]]["contract_id"]]["policy_id"]
        level = next(s for s in POLICIES[policy_id - 1].severities if s.code == ticket["severity"])
        offsets = SeverityOffsets(
            level.respond_min, level.depart_min, level.arrive_min, level.fix_min
        )
        expected = compute_deadlines(ticket["reported_at"], offsets)
        assert ticket["arrive_by"] == expected.arrive_by
        assert ticket["fix_by"] == expected.fix_by


def test_nothing_in_the_world_lies_after_as_of() -> None:
    late = datetime(2026, 11, 22, 18, 30, tzinfo=UTC)  # 02:30 next day in Guangdong
    world = generate_world(7, "small", as_of=late)
    assert all(e["position_at"] <= late for e in world.tables["engineers"])
    assert all(u["created_at"] <= late for u in world.tables["users"])
