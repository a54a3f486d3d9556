"""The simulator's fast paths decide exactly what the full scans they replaced decided.

The large world (2,000 engineers and vans) made per-ticket scans the bulk of a run: the
swap promise's "a spare in stock in reach" over every depot and van, the naive policy's
search over every engineer and his shift, and the recommendation's parts sourcing (a copy of
a depot's whole stock per candidate). They now read an index (parts held per depot and van,
engineers qualified per line and level, shift ends kept until the next window boundary) or
copy nothing; these tests run the same small world and ticket stream with the full scans put
back and compare every record and KPI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

import pytest

from optimizer import (
    Location,
    PartLine,
    PartUse,
    Ticket,
    candidates,
    coordinates,
    sourcing,
    travel_at,
)
from scenarios.context import RunContext
from scenarios.demand import ticket_stream
from scenarios.kpis import run_kpis
from scenarios.model import SimWorld
from scenarios.policies import NaiveDispatcher
from scenarios.records import JobRecord
from scenarios.run import build_variants
from scenarios.simulate import RunParams, simulate
from scenarios.spec import Demand
from tests.scenarios.conftest import tiny_scenario

DAY = 86_400


def _scan_stock_in_reach(
    self: RunContext, site_id: int, parts: Sequence[int], within_s: int
) -> bool:
    """The full scan of before: every depot, then every engineer's van."""
    state, world = self.state, self.world
    places: list[Location] = []
    for d in world.depots:
        if d.location is None or any(p.covers(self.now) for p in world.outages.get(d.id, ())):
            continue
        if all(state.available((d.id, p)) >= 1 for p in parts):
            places.append(d.location)
    for eid, van in state.van_of.items():
        if van is not None and all(state.available((van, p)) >= 1 for p in parts):
            places.append(state.position[eid])
    if not places:
        return False
    travel = travel_at(self.travel, world.epoch + timedelta(seconds=self.now))
    seconds, _ = travel.many_to_one(
        coordinates(places), coordinates([self.sites[site_id].location])
    )
    return bool(seconds.min() <= within_s)


def _scan_qualified(self: NaiveDispatcher, line: str, level: int) -> list[int]:
    """Every engineer looked at on every call (no cache)."""
    return [i for i in range(len(self.ids)) if self.skills[i].get(line, 0) >= level]


def _scan_shift_ends(self: NaiveDispatcher, now: int) -> list[int | None]:
    """Every engineer's window looked up on every call (no span kept)."""
    return [self._shift_end(eid, now) for eid in self.ids]


def _copy_take_whole(
    ticket: Ticket, lines: Sequence[PartLine], stock: Mapping[int, int]
) -> tuple[PartUse, ...] | None:
    """The sourcing rule of before: a copy of the whole stock, lines taken from it."""
    left = dict(stock)
    uses = []
    for line in lines:
        part = sourcing.pick_part(ticket, line, left)
        if part is None:
            return None
        left[part] -= line.qty
        uses.append(PartUse(line.part_id, part, line.qty))
    return tuple(uses)


def _copy_split_van(
    ticket: Ticket, van: Mapping[int, int]
) -> tuple[tuple[PartUse, ...], tuple[PartLine, ...]]:
    left = dict(van)
    uses: list[PartUse] = []
    missing: list[PartLine] = []
    for line in ticket.parts:
        part = sourcing.pick_part(ticket, line, left)
        if part is None:
            missing.append(line)
        else:
            left[part] -= line.qty
            uses.append(PartUse(line.part_id, part, line.qty))
    return tuple(uses), tuple(missing)


def _world(small: SimWorld) -> SimWorld:
    """The small world with a depot outage, so the index must skip a closed depot."""
    outage = {"kind": "depot_outage", "depot": small.depots[1].code, "start_day": 0, "days": 1}
    scenario = tiny_scenario(variants=[{"name": "outage", "changes": [outage]}])
    return build_variants(scenario, small)["outage"]


def _run(world: SimWorld, policy: str) -> tuple[list[JobRecord], dict[tuple[str, str], float]]:
    stream = ticket_stream(
        world, Demand(tickets_per_day=120, part_share=0.6), horizon_s=DAY, seed=11, replication=0
    )
    result = simulate(world, stream, RunParams("base", policy, 0, DAY, redispatch_grace_s=900))
    return list(result.jobs), dict(run_kpis(result))


@pytest.mark.parametrize("policy", ["optimised", "naive"])
def test_fast_paths_decide_as_the_full_scans(
    small: SimWorld, policy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    world = _world(small)
    fast_jobs, fast_kpis = _run(world, policy)
    with monkeypatch.context() as m:
        m.setattr(RunContext, "stock_in_reach", _scan_stock_in_reach)
        m.setattr(NaiveDispatcher, "qualified", _scan_qualified)
        m.setattr(NaiveDispatcher, "shift_ends", _scan_shift_ends)
        m.setattr(sourcing, "take_whole", _copy_take_whole)
        m.setattr(sourcing, "split_van", _copy_split_van)
        m.setattr(candidates, "split_van", _copy_split_van)
        scan_jobs, scan_kpis = _run(world, policy)
    assert any(j.swap_due for j in fast_jobs)
    assert fast_jobs == scan_jobs
    assert fast_kpis == scan_kpis


def test_the_holders_index_follows_every_stock_move(small: SimWorld) -> None:
    """After a day of reservations, picks, releases and receipts the index equals a scan."""
    world = _world(small)
    stream = ticket_stream(
        world, Demand(tickets_per_day=120, part_share=0.6), horizon_s=DAY, seed=11, replication=0
    )
    seen: list[RunContext] = []
    start = RunContext.start

    def keep(w: SimWorld, p: RunParams) -> RunContext:
        run = start(w, p)
        seen.append(run)
        return run

    with pytest.MonkeyPatch.context() as m:
        m.setattr(RunContext, "start", staticmethod(keep))
        simulate(world, stream, RunParams("base", "optimised", 0, DAY))
    state = seen[0].state
    scan: dict[int, set[int]] = {}
    for depot_id, rows in state.balances.items():
        for part, balance in rows.items():
            if balance.available >= 1:
                scan.setdefault(part, set()).add(depot_id)
    assert {p: s for p, s in state.holders.items() if s} == scan
