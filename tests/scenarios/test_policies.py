"""Simulation tickets as the optimizer sees them: the depart clock it is scored on is passed."""

from __future__ import annotations

from scenarios.demand import ticket_stream
from scenarios.model import SimWorld
from scenarios.policies import deadlines_of, optimizer_ticket
from scenarios.spec import Demand

DAY = 86_400


def test_optimizer_ticket_carries_the_measured_depart_deadline(small: SimWorld) -> None:
    stream = ticket_stream(small, Demand(tickets_per_day=80), horizon_s=DAY, seed=1, replication=0)
    seen: set[int | None] = set()
    for t in stream:
        site = next(s for s in small.sites if s.id == t.site_id)
        d = deadlines_of(small, site, t)
        ticket = optimizer_ticket(small, site, t, d)
        assert (ticket.depart_by, ticket.arrive_by, ticket.fix_by) == (
            d.depart_by, d.arrive_by, d.fix_by,
        )  # fmt: skip
        offsets = small.policies[site.policy_id].by_rank(t.rank).offsets
        if offsets.depart_min is None:  # e.g. general: no depart clock, no deadline
            assert ticket.depart_by is None
        else:
            assert ticket.depart_by == t.at_s + offsets.depart_min * 60
        seen.add(None if ticket.depart_by is None else ticket.depart_by - t.at_s)
    assert {None, 15 * 60} <= seen  # both kinds occur in the stream
