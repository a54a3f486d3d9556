"""Province scale (issue 20 item 6): regions planned apart, engineers borrowed across borders.

A small province of three towns in a row, 20 one-hour tickets each: the west town has spare
engineers, the middle one a single engineer, and three engineers live between the west and
middle towns (nearer the west one). Planned region by region, those three are offered to
both sides; the merged plan must pass the validator (every engineer once, every unit once)
and cost no more than the same regions planned independently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace
from types import SimpleNamespace
from typing import Any

import pytest

import optimizer.province as province_module
from optimizer import (
    DispatchWorld,
    GeodesicTravelTimes,
    Location,
    OnCall,
    PlanParams,
    Ticket,
    validate,
)
from optimizer.province import ProvinceParams, ProvincePlan, Runner, plan_province, seam_cost
from optimizer.solve import plan as _REAL_PLAN
from tests.optimizer.builders import HOUR, make_engineer, make_ticket, make_world

TRAVEL = GeodesicTravelTimes()
PARAMS = PlanParams(time_limit_ms=None, failure_limit=200, ruin_iterations=60)
TOWNS = (113.5, 113.8, 114.1)  # longitudes, 0.3 degree (about 30 km) apart, at 22.6 N


def _at(lon: float, k: int) -> Location:
    return Location(22.6 + 0.01 * (k % 5), lon + 0.01 * (k // 5))


def _province() -> tuple[list[Ticket], DispatchWorld]:
    tickets = [
        replace(
            make_ticket(ticket_id=20 * town + k + 1, arrive_by=4 * HOUR, fix_by=6 * HOUR),
            site=_at(lon, k),
        )
        for town, lon in enumerate(TOWNS)
        for k in range(20)
    ]
    west = [replace(make_engineer(1 + i), location=_at(TOWNS[0], 2 * i)) for i in range(4)]
    middle = [replace(make_engineer(10), location=_at(TOWNS[1], 0))]
    # nearer the west town (0.14 degree) than the middle one (0.16): offered to both
    border = [
        replace(make_engineer(20 + i), location=Location(22.6 + 0.01 * i, 113.655))
        for i in range(3)
    ]
    east = [replace(make_engineer(30 + i), location=_at(TOWNS[2], 3 * i)) for i in range(3)]
    return tickets, make_world([*west, *middle, *border, *east])


def _plan(
    province: ProvinceParams, run: Runner | None = None
) -> tuple[ProvincePlan, list[Ticket], DispatchWorld]:
    tickets, world = _province()
    out = plan_province(
        world, tickets, now=0, travel=TRAVEL, params=PARAMS, province=province, run=run
    )
    return out, tickets, world


SPLIT = ProvinceParams(region_tickets=20)
APART = ProvinceParams(region_tickets=20, border_ratio=1.0, seam_repair=False)


def test_the_decomposed_plan_is_valid_and_books_every_engineer_once() -> None:
    out, tickets, world = _plan(SPLIT)
    assert len(out.regions) == 3
    assert out.plan.violations == ()
    assert validate(world, tickets, out.plan, travel=TRAVEL) == []
    assert all(r.feasible for r in out.regions)
    booked = Counter(r.engineer_id for r in out.plan.routes)
    assert max(booked.values()) == 1
    served = [s.ticket_id for r in out.plan.routes for s in r.visits]
    assert sorted(served + [d.ticket_id for d in out.plan.dropped]) == [t.id for t in tickets]


def test_an_engineer_on_call_is_woken_in_his_region_and_the_ticket_not_routed() -> None:
    # the east town's last ticket must be reached within a minute: only the engineer on call
    # at its site (no lead time) keeps that, so the rule of `optimizer.callout` wakes him
    tickets, world = _province()
    urgent = replace(tickets[-1], severity_rank=0, arrive_by=60, fix_by=2 * HOUR)
    tickets[-1] = urgent
    sleeper = replace(make_engineer(99, shifts=((-2 * HOUR, 10 * HOUR),)), location=urgent.site)
    world = DispatchWorld(
        world.epoch, world.engineers, world.depots, world.suppliers,
        (OnCall(sleeper, cost=30_000, lead_s=0),),
    )  # fmt: skip
    out = plan_province(world, tickets, now=0, travel=TRAVEL, params=PARAMS, province=SPLIT)
    assert [(t, o.engineer_id, o.callout) for t, o in out.plan.callouts] == [(urgent.id, 99, True)]
    assert out.plan.violations == ()
    served = {s.ticket_id for r in out.plan.routes for s in r.visits}
    dropped = {d.ticket_id for d in out.plan.dropped}
    assert urgent.id not in served | dropped
    assert served | dropped == {t.id for t in tickets} - {urgent.id}


def test_the_border_engineers_are_shared_and_the_seam_reported() -> None:
    out, _, _ = _plan(SPLIT)
    assert sum(r.borrowed for r in out.regions) == 3
    (seam,) = out.seams
    assert seam.regions == (0, 1)
    assert seam.shared == 3
    assert seam.cost_after <= seam.cost_before or not seam.kept


def test_it_is_not_worse_than_planning_the_regions_independently() -> None:
    split, tickets, _ = _plan(SPLIT)
    apart, _, _ = _plan(APART)
    assert apart.seams == ()
    by_id = {t.id: t for t in tickets}

    def cost(p: ProvincePlan) -> int:
        return seam_cost(p.plan.routes, (d.ticket_id for d in p.plan.dropped), by_id, PARAMS)

    assert cost(split) <= cost(apart)
    assert split.plan.kpis.served >= apart.plan.kpis.served


def test_a_cut_follows_the_staff_so_no_region_is_left_short() -> None:
    # 40 tickets evenly along a 60 km road, six engineers at its west end and two at its
    # east end: cut by tickets alone, the east half gets 20 tickets for two engineers
    tickets = [
        replace(make_ticket(ticket_id=k + 1, arrive_by=4 * HOUR, fix_by=6 * HOUR),
                site=Location(22.6, 113.5 + 0.015 * k))
        for k in range(40)
    ]  # fmt: skip
    crew = [
        replace(make_engineer(1 + i), location=Location(22.6 + 0.01 * i, 113.5 if i < 6 else 114.1))
        for i in range(8)
    ]  # fmt: skip
    world = make_world(crew)

    def worst(slack: float) -> float:
        params = ProvinceParams(region_tickets=20, border_ratio=1.0, staff_slack=slack)
        out = plan_province(world, tickets, now=0, travel=TRAVEL, params=PARAMS, province=params)
        assert out.plan.violations == ()
        return max(r.tickets / max(1, r.engineers) for r in out.regions)

    assert worst(0.25) < worst(0.0) == 10.0


def test_any_map_like_executor_runs_the_parts_alike() -> None:
    calls: list[int] = []

    def run(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        calls.append(len(items))
        return [fn(item) for item in items]

    mapped, _, _ = _plan(SPLIT, run=run)
    serial, _, _ = _plan(SPLIT)
    assert calls == [3, 1]  # the regions, then the one seam
    assert mapped.plan.routes == serial.plan.routes


def _road(n: int, engineers: int) -> tuple[list[Ticket], DispatchWorld]:
    """``n`` tickets evenly along a road east of 113.5 E, every engineer at its west end:
    each staffed cut moves as far as it may towards the west (more tickets there)."""
    tickets = [
        replace(make_ticket(ticket_id=k + 1, arrive_by=4 * HOUR, fix_by=6 * HOUR),
                site=Location(22.6, 113.5 + 0.6 * k / n))
        for k in range(n)
    ]  # fmt: skip
    west = Location(22.6, 113.49)
    crew = [replace(make_engineer(1 + i), location=west) for i in range(engineers)]
    return tickets, make_world(crew)


def test_no_region_is_more_than_the_staff_slack_off_the_mean() -> None:
    # cut after cut moved west: by a quarter of each half, the west region got 31 tickets of
    # a mean of 20 (the 10,000-ticket day: 828 of 500, whose start did not finish in its limit)
    tickets, world = _road(80, 6)
    params = ProvinceParams(
        region_tickets=20, border_ratio=1.0, seam_repair=False, staff_slack=0.25
    )
    out = plan_province(world, tickets, now=0, travel=TRAVEL, params=PARAMS, province=params)
    assert out.plan.violations == ()
    sizes = [r.tickets for r in out.regions]
    assert sum(sizes) == 80
    assert max(sizes) == 25  # the staffed cut still moves, as far as (1 + 0.25) * 20
    assert min(sizes) >= 15


class _FakePool:
    """Two workers on a fake clock: each item goes to the worker free first, the clock is set
    to when it starts, and its plan takes its limit plus ``overrun`` (the first call's
    ``first_overrun``): the limits handed out are exact, no timing involved."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, overrun: float, first_overrun: float):
        self.clock = 1_000.0
        fake = SimpleNamespace(monotonic=lambda: self.clock, time=lambda: self.clock)
        monkeypatch.setattr(province_module, "time", fake)
        self.overrun, self.first_overrun = overrun, first_overrun
        self.free = [self.clock, self.clock]
        self.started: list[tuple[float, int, int]] = []  # (start, tickets, limit ms)
        self.ends: list[float] = []

        def plan(world: DispatchWorld, tickets: Sequence[Ticket], **kw: Any) -> Any:
            limit = kw["params"].time_limit_ms
            self.started.append((self.clock, len(tickets), limit))
            late = self.first_overrun if len(self.started) == 1 else self.overrun
            self.ends.append(self.clock + limit / 1_000 + late)
            return _REAL_PLAN(world, tickets, **{**kw, "params": PARAMS})  # quick and repeatable

        monkeypatch.setattr(province_module, "plan", plan)

    def run(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        out = []
        for item in items:
            worker = self.free.index(min(self.free))
            self.clock = self.free[worker]
            out.append(fn(item))
            self.free[worker] = self.ends[-1]
        self.clock = max(self.free)
        return out


def _queued_plan(pool: _FakePool, floor: float = 1.0) -> ProvincePlan:
    tickets, world = _road(100, 6)
    province = ProvinceParams(
        region_tickets=20, workers=2, seam_repair=False, staff_slack=0.4,
        part_overhead_s=0.5, part_floor_s=floor,
    )  # fmt: skip
    return plan_province(
        world, tickets, now=0, travel=TRAVEL, params=PlanParams(time_limit_ms=10_000),
        province=province, run=pool.run,
    )  # fmt: skip


def test_with_a_limit_the_regions_are_queued_largest_first_and_end_by_their_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # each region's plan call takes its limit and the 0.5 s reserved for it: all five end
    # within the regions' 6.5 s share, the limits by tickets
    pool = _FakePool(monkeypatch, overrun=0.5, first_overrun=0.5)
    out = _queued_plan(pool)
    assert out.plan.violations == ()
    sizes = [size for _, size, _ in pool.started]
    assert sorted(sizes) == sorted(r.tickets for r in out.regions)
    assert len(set(sizes)) > 1  # unequal regions, or the test shows nothing
    assert sizes == sorted(sizes, reverse=True)  # largest first
    assert max(pool.ends) <= 1_000 + 6.5 + 1e-3
    assert max(pool.ends) >= 1_000 + 6.5 - 0.5  # the share is used, not left over
    first, second = pool.started[0], pool.started[1]
    assert first[2] / first[1] == pytest.approx(second[2] / second[1], rel=0.1)  # by tickets


def test_a_region_that_runs_long_shortens_those_started_after_it_not_the_minute(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the first region runs 3 s past its limit (a loaded machine): the regions started after
    # it get their limits from the time left when they start, so they still end about in the
    # share (rounds made the last round wait for the slow one and gave it 1 ms)
    calm = _FakePool(monkeypatch, overrun=0.5, first_overrun=0.5)
    _queued_plan(calm)
    pool = _FakePool(monkeypatch, overrun=0.5, first_overrun=3.0)
    out = _queued_plan(pool)
    assert out.plan.violations == ()
    # past the share by at most one call's overhead (the floor is capped at the time left)
    assert max(pool.ends) <= 1_000 + 6.5 + 0.5 + 1e-3
    later = pool.started[2:]
    assert sum(limit for *_, limit in later) < sum(limit for *_, limit in calm.started[2:])
    for start, _, limit in later:  # none under the floor (or the time left) while time is left
        assert limit >= min(1_000, int((1_006.5 - start) * 1_000))


def test_no_region_is_given_less_than_the_floor_while_time_is_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # every call runs 2 s past its limit: the time runs short, and the regions started
    # before the share is up still get the floor, those after it 1 ms (the minute comes first)
    pool = _FakePool(monkeypatch, overrun=2.0, first_overrun=2.0)
    out = _queued_plan(pool, floor=1.5)
    assert out.plan.violations == ()
    until = 1_000 + 6.5
    for start, _, limit in pool.started:
        if start < until:
            assert limit >= min(1_500, int((until - start) * 1_000))
        else:
            assert limit == 1
    assert any(limit == 1_500 for _, _, limit in pool.started)  # the floor was needed


def test_bad_province_params_are_refused() -> None:
    with pytest.raises(ValueError, match="border_ratio"):
        ProvinceParams(border_ratio=0.5)
    with pytest.raises(ValueError, match="staff_slack"):
        ProvinceParams(staff_slack=1.0)
    with pytest.raises(ValueError, match="part_floor_s"):
        ProvinceParams(part_floor_s=-1.0)
