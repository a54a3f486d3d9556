"""Shared fixtures: the small demo world as a simulation world, built once per session."""

from __future__ import annotations

import pytest

from dispatch.world import REFERENCE_DATE, generate_world
from scenarios.base import build_sim_world
from scenarios.model import SimWorld
from scenarios.spec import Scenario


@pytest.fixture(scope="session")
def small() -> SimWorld:
    return build_sim_world(generate_world(7, "small"), REFERENCE_DATE)


def tiny_scenario(**changes: object) -> Scenario:
    """A 1-day scenario on the small world: fast enough for every test."""
    data: dict[str, object] = {
        "name": "tiny", "horizon_days": 1, "replications": 2,
        "demand": {"tickets_per_day": 40}, "policies": ["optimised", "naive"],
    }  # fmt: skip
    data.update(changes)
    return Scenario.model_validate(data)
