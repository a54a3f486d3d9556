"""Every phase of a plan call under one deadline (issue 20): cut short, never invalid.

No timed asserts: an expired `Deadline` makes each phase take its fallback deterministically,
and a plan with a limit of a few milliseconds is checked for what holds however fast the
machine is (valid, every ticket accounted for, flagged when a ticket was cut off).
"""

from __future__ import annotations

import gc
import sys
import threading
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optimizer.allocation as allocation
import optimizer.problem as problem
import optimizer.solve as solve
from optimizer import DispatchWorld, DropReason, PlanParams, PlanQuality, Ticket, plan, validate
from optimizer.allocation import allocate
from optimizer.deadline import Deadline, collector_held
from optimizer.problem import build_problem, vehicles_of
from optimizer.screening import screen
from tests.optimizer.builders import grid_travel, make_engineer, make_ticket, make_world
from tests.optimizer.strategies import nows, tickets, worlds

TRAVEL = grid_travel()
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
PASSED = Deadline(0.0)  # long over: every phase takes its fallback
FAR = Deadline.after(3_600.0)  # a deadline that never passes within a test
FLAGGED = (PlanQuality.TIME_LIMITED, PlanQuality.FALLBACK, PlanQuality.NOTHING_PLACED)


@st.composite
def ticket_lists(draw: st.DrawFn) -> list[Ticket]:
    drawn = draw(st.lists(tickets(), min_size=1, max_size=8))
    return [replace(t, id=i, severity_rank=i % 3) for i, t in enumerate(drawn, 1)]


@SETTINGS
@given(world=worlds(), todo=ticket_lists(), now=nows, limit=st.integers(1, 30))
def test_a_plan_with_a_tiny_limit_is_valid_and_flagged(
    world: DispatchWorld, todo: list[Ticket], now: int, limit: int
) -> None:
    out = plan(world, todo, now=now, travel=TRAVEL, params=PlanParams(time_limit_ms=limit))
    assert out.violations == ()
    assert validate(world, todo, out, travel=TRAVEL) == []
    served = [s.ticket_id for r in out.routes for s in r.visits]
    dropped = [d.ticket_id for d in out.dropped]
    assert sorted(served + dropped) == sorted(t.id for t in todo)  # each exactly once
    if any(d.reason is DropReason.OUT_OF_TIME for d in out.dropped):
        assert out.quality in FLAGGED


@SETTINGS
@given(world=worlds(), todo=ticket_lists(), now=nows)
def test_an_allocation_out_of_time_sources_only_tickets_without_parts(
    world: DispatchWorld, todo: list[Ticket], now: int
) -> None:
    params = PlanParams()
    got = allocate(world, todo, now=now, travel=TRAVEL, params=params, deadline=PASSED)
    assert set(got) == {t.id for t in todo if not t.parts}
    keep, _, dropped = screen(
        world, todo, got, vehicles_of(world, now, params), now=now, travel=TRAVEL, params=params
    )
    cut = {d.ticket_id for d in dropped if d.reason is DropReason.OUT_OF_TIME}
    assert cut == {t.id for t in todo if t.parts}
    assert not cut & {t.id for t in keep}


@SETTINGS
@given(world=worlds(), todo=ticket_lists(), now=nows)
def test_a_screening_out_of_time_drops_every_ticket_as_out_of_time(
    world: DispatchWorld, todo: list[Ticket], now: int
) -> None:
    params = PlanParams()
    supplies = allocate(world, todo, now=now, travel=TRAVEL, params=params)
    vehicles = vehicles_of(world, now, params)
    keep, allowed, dropped = screen(
        world, todo, supplies, vehicles, now=now, travel=TRAVEL, params=params, deadline=PASSED
    )
    assert keep == []
    assert allowed == []
    assert [d.reason for d in dropped] == [DropReason.OUT_OF_TIME] * len(todo)


@SETTINGS
@given(world=worlds(), todo=ticket_lists(), now=nows)
def test_a_problem_built_out_of_time_keeps_the_engineers_and_no_visit(
    world: DispatchWorld, todo: list[Ticket], now: int
) -> None:
    params = PlanParams()
    supplies = allocate(world, todo, now=now, travel=TRAVEL, params=params)
    vehicles = vehicles_of(world, now, params)
    keep, allowed, _ = screen(
        world, todo, supplies, vehicles, now=now, travel=TRAVEL, params=params
    )
    p = build_problem(
        world, keep, supplies, vehicles, allowed, now=now, travel=TRAVEL, params=params,
        deadline=PASSED,
    )  # fmt: skip
    assert p.vehicles == len(vehicles)
    assert len(p.visits) == 0
    assert len(p.kind) == 2 * len(vehicles)


def test_the_problem_keeps_time_to_fill_its_node_matrices(monkeypatch: pytest.MonkeyPatch) -> None:
    """Filling the per-node matrices costs the square of the nodes after the last check:
    no ticket is added once that would take more than half the time left (here, with an
    hour left, a fill priced at an hour per entry leaves only the engineers' nodes)."""
    params = PlanParams()
    world = make_world(engineers=[make_engineer()])
    todo = [make_ticket(ticket_id=1), make_ticket((4, 4), ticket_id=2)]
    vehicles = vehicles_of(world, 0, params)
    supplies = allocate(world, todo, now=0, travel=TRAVEL, params=params)
    keep, allowed, _ = screen(world, todo, supplies, vehicles, now=0, travel=TRAVEL, params=params)
    args = (world, keep, supplies, vehicles, allowed)
    assert len(build_problem(*args, now=0, travel=TRAVEL, params=params, deadline=FAR).visits) == 2
    monkeypatch.setattr(problem, "_EXPAND_PER_ENTRY_S", 3_600.0)
    p = build_problem(*args, now=0, travel=TRAVEL, params=params, deadline=FAR)
    assert len(p.visits) == 0
    assert len(p.kind) == 2 * len(vehicles)
    p = build_problem(*args, now=0, travel=TRAVEL, params=params)  # no deadline: no reserve
    assert len(p.visits) == 2


@SETTINGS
@given(world=worlds(), todo=ticket_lists(), now=nows)
def test_a_problem_built_in_row_blocks_equals_the_one_built_at_once(
    world: DispatchWorld, todo: list[Ticket], now: int
) -> None:
    params = PlanParams()
    supplies = allocate(world, todo, now=now, travel=TRAVEL, params=params)
    vehicles = vehicles_of(world, now, params)
    keep, allowed, _ = screen(
        world, todo, supplies, vehicles, now=now, travel=TRAVEL, params=params
    )
    args = (world, keep, supplies, vehicles, allowed)
    once = build_problem(*args, now=now, travel=TRAVEL, params=params)
    blocks = build_problem(*args, now=now, travel=TRAVEL, params=params, deadline=FAR)
    for name in ("kind", "ticket", "earliest", "latest", "seconds", "metres", "drop"):
        assert np.array_equal(getattr(once, name), getattr(blocks, name)), name
    assert once.pickups == blocks.pickups
    assert once.visit_of == blocks.visit_of


@SETTINGS
@given(world=worlds(), todo=ticket_lists(), now=nows)
def test_the_allocation_fallback_never_promises_a_unit_twice(
    world: DispatchWorld, todo: list[Ticket], now: int
) -> None:
    # no time for the flow as far as the allocation can tell: each line its cheapest source
    # with stock left, most urgent first; the validator counts every unit of the plan
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(allocation, "_FLOW_PER_LISTING", 1e12)
        params = PlanParams(time_limit_ms=2_000, ruin_patience=20, ruin_patience_after=0.0)
        out = plan(world, todo, now=now, travel=TRAVEL, params=params)
    assert out.violations == ()
    assert validate(world, todo, out, travel=TRAVEL) == []


def test_a_short_plan_holds_the_collector_off_and_gives_it_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A full collection (0.1-0.2 s on a large world) no deadline check sees coming is held
    off for a short plan, and the collector is on again afterwards."""
    seen: list[bool] = []
    real = solve.allocate

    def watching(*args: Any, **kwargs: Any) -> Any:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(solve, "allocate", watching)
    world, todo = make_world(engineers=[make_engineer()]), [make_ticket()]
    assert gc.isenabled()
    # patience from the start: the search of one ticket converges at once and need not
    # search half of 60 s (`PlanParams.ruin_patience_after`)
    eager = PlanParams(ruin_patience_after=0.0)
    plan(world, todo, now=0, travel=TRAVEL, params=replace(eager, time_limit_ms=200))
    plan(world, todo, now=0, travel=TRAVEL, params=replace(eager, time_limit_ms=60_000))
    plan(world, todo, now=0, travel=TRAVEL, params=eager)
    assert seen == [False, True, True]  # held for 200 ms only, not for long or unlimited plans
    assert gc.isenabled()


def test_the_collection_that_came_due_starts_after_the_plan_returned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Held off, a collection comes due; it must not start inside `plan` once the collector
    is back on (with a generator context the ``StopIteration`` of its exit started it there:
    a full collection, 0.1-0.2 s, inside a 200 ms call)."""
    starts: list[bool] = []  # per collection: whether `plan` was on the stack

    def watch(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            frame, codes = sys._getframe(1), set()
            while frame is not None:
                codes.add(frame.f_code)
                frame = frame.f_back
            starts.append(solve.plan.__code__ in codes)

    kept: list[list[int]] = []
    real = solve.allocate

    def allocating(*args: Any, **kwargs: Any) -> Any:
        kept.extend([] for _ in range(5_000))  # containers enough for a collection to come due
        return real(*args, **kwargs)

    monkeypatch.setattr(solve, "allocate", allocating)
    world, todo = make_world(engineers=[make_engineer()]), [make_ticket()]
    gc.collect()
    gc.callbacks.append(watch)
    try:
        plan(world, todo, now=0, travel=TRAVEL, params=PlanParams(time_limit_ms=200))
        after = [[] for _ in range(8)]  # the first containers after the call
    finally:
        gc.callbacks.remove(watch)
    assert len(after) == 8
    assert starts == [False]  # one collection, after the call


def test_the_collector_comes_back_with_the_last_call_out_and_only_if_it_was_on() -> None:
    with collector_held(0.2):
        with collector_held(0.05):
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer call still runs
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_held(0.2):
            pass
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_threads_share_the_hold() -> None:
    inside, leave = threading.Barrier(3), threading.Event()

    def call() -> None:
        with collector_held(0.2):
            inside.wait()
            leave.wait()

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    inside.wait()
    assert not gc.isenabled()
    leave.set()
    for t in threads:
        t.join()
    assert gc.isenabled()
