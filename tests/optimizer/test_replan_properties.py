"""Properties of re-planning on random small worlds (hypothesis).

Urgent insertion never changes more announced visits than its change budget (reassigned or
deferred), never changes a pinned, in-progress or frozen visit, defers only less severe
work, keeps every other ETA within the tolerance, and every result passes the validator and
the stability check; a larger budget never gives the urgent ticket a worse outcome. Every
`replan` keeps the locks too.
"""

from __future__ import annotations

from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer import (
    Baseline,
    Commitment,
    DispatchWorld,
    Insertion,
    PlanParams,
    Ticket,
    check_commitments,
    insert_prepared,
    insert_urgent,
    plan,
    prepare_insertion,
    replan,
    validate,
)
from tests.optimizer.builders import grid_travel
from tests.optimizer.strategies import tickets, worlds

TRAVEL = grid_travel()
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SEARCH = PlanParams(time_limit_ms=None, solution_limit=10, failure_limit=300)


@st.composite
def published(draw: st.DrawFn) -> tuple[DispatchWorld, list[Ticket], Baseline, Ticket, int]:
    world = draw(worlds())
    drawn = draw(st.lists(tickets(), min_size=1, max_size=6))
    todo = [replace(t, id=i, severity_rank=i % 3) for i, t in enumerate(drawn, 1)]
    first = plan(world, todo, now=0, travel=TRAVEL, params=SEARCH)
    pins = draw(st.sets(st.sampled_from([t.id for t in todo])))
    base = Baseline.from_plan(
        first, pinned=pins, frozen_horizon_s=draw(st.sampled_from([0, 1_800, 3 * 3_600])),
        eta_tolerance_s=draw(st.sampled_from([600, 3_600])),
    )  # fmt: skip
    going = [c for c in base.commitments if c.eta <= 0]
    if going and draw(st.booleans()):  # the earliest visit has begun
        started = min(going, key=lambda c: c.eta)
        base = replace(base, commitments=tuple(
            replace(c, in_progress=True) if c is started else c for c in base.commitments
        ))  # fmt: skip
    urgent = replace(draw(tickets()), id=99, severity_rank=0)
    return world, todo, base, urgent, draw(st.integers(0, 4))


def _locked(base: Baseline, now: int) -> dict[int, Commitment]:
    return {c.ticket_id: c for c in base.commitments if base.is_locked(c, now)}


@SETTINGS
@given(case=published())
def test_urgent_insertion_keeps_the_budget_and_the_locks(
    case: tuple[DispatchWorld, list[Ticket], Baseline, Ticket, int],
) -> None:
    world, todo, base, urgent, budget = case
    out = insert_urgent(
        world, todo, base, urgent, now=0, travel=TRAVEL, params=SEARCH, change_budget=budget
    )
    assert out.moved <= budget
    locked = _locked(base, 0)
    for change in out.changes:
        if change.ticket_id in locked:
            assert not change.moved
    rank = {t.id: t.severity_rank for t in todo}
    assert all(rank[tid] > urgent.severity_rank for tid in out.deferred)
    assert {d.ticket_id for d in out.plan.dropped} >= set(out.deferred)
    assert out.plan.violations == ()
    assert validate(world, [*todo, urgent], out.plan, travel=TRAVEL) == [] or any(
        c.in_progress or base.is_fixed(c, 0) for c in base.commitments
    )  # fixed visits count their parts as on board: the plain validator may disagree
    assert check_commitments(base, out.plan) == []


@SETTINGS
@given(case=published(), later=st.integers(0, 60))
def test_every_replan_keeps_the_locks(
    case: tuple[DispatchWorld, list[Ticket], Baseline, Ticket, int], later: int
) -> None:
    world, todo, base, urgent, _ = case
    now = later * 60
    out = replan(world, [*todo, urgent], base, now=now, travel=TRAVEL, params=SEARCH)
    assert out.violations == ()
    served = {s.ticket_id: r.engineer_id for r in out.routes for s in r.visits}
    for tid, c in _locked(base, now).items():
        assert served.get(tid, c.engineer_id) == c.engineer_id


def _lateness(out: Insertion, urgent: Ticket) -> int:
    """Seconds the urgent visit starts past its due time (what the search minimises)."""
    if out.eta is None:
        return 1 << 60
    fix = None if urgent.fix_by is None else urgent.fix_by - urgent.service_s
    due = [d for d in (urgent.arrive_by, fix) if d is not None]
    return max(0, out.eta - min(due)) if due else 0


@SETTINGS
@given(case=published())
def test_a_larger_budget_never_gives_a_worse_urgent_outcome(
    case: tuple[DispatchWorld, list[Ticket], Baseline, Ticket, int],
) -> None:
    world, todo, base, urgent, _ = case
    prep = prepare_insertion(world, todo, base, now=0, travel=TRAVEL, params=SEARCH)
    found = [insert_prepared(prep, urgent, change_budget=b) for b in range(4)]
    late = [_lateness(out, urgent) for out in found]
    assert late == sorted(late, reverse=True), late
    for b, out in enumerate(found):
        assert out.moved <= b
        assert out.plan.violations == ()
