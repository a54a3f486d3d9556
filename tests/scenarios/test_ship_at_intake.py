"""Parts not in stock in reach are shipped at intake (issue 16: shipped within 8 h).

The simulator's intake applies production's rule (`optimizer.ship_at_intake`) for every
policy; the visit planned later waits for that shipment instead of ordering another.
"""

from __future__ import annotations

import pytest

from scenarios.demand import ticket_stream
from scenarios.model import SimWorld
from scenarios.records import JobRecord
from scenarios.simulate import RunParams, simulate
from scenarios.spec import Demand

DAY = 86_400


def _jobs(world: SimWorld, policy: str) -> list[JobRecord]:
    stream = ticket_stream(world, Demand(tickets_per_day=80), horizon_s=DAY, seed=5, replication=0)
    return simulate(world, stream, RunParams("base", policy, 0, DAY)).jobs


@pytest.mark.parametrize("policy", ["optimised", "naive"])
def test_parts_out_of_reach_ship_at_intake_and_the_visit_uses_them(
    small: SimWorld, policy: str
) -> None:
    jobs = _jobs(small, policy)
    shipped = [j for j in jobs if j.shipped_at_intake]
    assert shipped, "the stream has tickets whose parts no stock in reach holds"
    for job in shipped:
        assert job.swap_due is False  # never ships what is swappable from stock in reach
        assert job.source == "shipment"  # the visit waited for it: no pickup, no second order
        assert job.ships_at is not None
    # a depot or supplier that leaves within the promise was found for this world's parts
    assert all(j.shipped_in_time() for j in shipped)


def test_tickets_with_stock_in_reach_are_left_to_dispatch(small: SimWorld) -> None:
    jobs = _jobs(small, "optimised")
    assert any(j.swap_due for j in jobs)
    assert not any(j.shipped_at_intake for j in jobs if j.swap_due or not j.needs_parts)
