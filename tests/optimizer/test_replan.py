"""Re-planning with stability, one small world per rule (grid travel: one step = 1 min, 1 km).

Every plan is checked by the validator and `check_commitments` (``violations`` empty).
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from optimizer import (
    Baseline,
    Commitment,
    Insertion,
    InvalidProblemError,
    Plan,
    PlanParams,
    PromiseState,
    Ticket,
    check_commitments,
    engineer_absent,
    insert_prepared,
    insert_urgent,
    part_runs_out,
    plan,
    prepare_insertion,
    replan,
    replan_disrupted,
    visit_overruns,
)
from optimizer.world import DispatchWorld
from tests.optimizer.builders import (
    HOUR,
    grid,
    grid_travel,
    make_depot,
    make_engineer,
    make_ticket,
    make_world,
)

TRAVEL = grid_travel()
SEARCH = PlanParams(time_limit_ms=None, solution_limit=50, failure_limit=2_000)
WIDE = 12 * HOUR
# the demo policy's stability terms (frozen_horizon_min and eta_tolerance_min, 30 min each)
STABILITY = {"frozen_horizon_s": 1_800, "eta_tolerance_s": 1_800}


def _ticket(tid: int, at: tuple[int, int], **kw: object) -> Ticket:
    kw.setdefault("arrive_by", WIDE)
    kw.setdefault("fix_by", WIDE + HOUR)
    return make_ticket(at, ticket_id=tid, service_s=1_800, **kw)


def _replan(world: DispatchWorld, tickets: list[Ticket], base: Baseline, now: int = 0) -> Plan:
    out = replan(world, tickets, base, now=now, travel=TRAVEL, params=SEARCH)
    assert out.is_feasible(), out.violations
    return out


def _by(p: Plan) -> dict[int, int]:
    return {s.ticket_id: r.engineer_id for r in p.routes for s in r.visits}


def _order(p: Plan, engineer_id: int) -> list[int]:
    return [s.ticket_id for r in p.routes if r.engineer_id == engineer_id for s in r.visits]


def _starts(p: Plan) -> dict[int, int]:
    return {s.ticket_id: s.starts_at for r in p.routes for s in r.visits}


class TestLocks:
    def test_a_pinned_visit_stays_with_its_engineer(self) -> None:
        # ticket 1 sits next to engineer 2, but the dispatcher pinned it on engineer 1
        world = make_world([make_engineer(1, (0, 0)), make_engineer(2, (9, 9))])
        tickets = [_ticket(1, (9, 8))]
        free = _replan(world, tickets, Baseline(**STABILITY))
        assert _by(free) == {1: 2}
        base = Baseline(
            (Commitment(1, 1, 20 * 60, pinned=True),), **STABILITY, allow_eta_moves=True
        )
        assert _by(_replan(world, tickets, base)) == {1: 1}

    def test_pinned_visits_keep_their_order(self) -> None:
        # announced 3 then 2 (2 is closer): pinned, the order stays 3 -> 2
        world = make_world([make_engineer(1, (0, 0))])
        tickets = [_ticket(2, (1, 0)), _ticket(3, (6, 0))]
        base = Baseline(
            (Commitment(3, 1, 2 * HOUR, pinned=True), Commitment(2, 1, 3 * HOUR, pinned=True)),
            **STABILITY,
            allow_eta_moves=True,
        )
        assert _order(_replan(world, tickets, base), 1) == [3, 2]

    def test_an_in_progress_visit_stays_first(self) -> None:
        # engineer 1 is on site at (5, 5); engineer 2 is closer to everything else
        world = make_world([make_engineer(1, (5, 5)), make_engineer(2, (5, 4))])
        tickets = [_ticket(1, (5, 5)), _ticket(2, (5, 4))]
        base = Baseline((Commitment(1, 1, -600, in_progress=True),), **STABILITY)
        out = _replan(world, tickets, base)
        assert _order(out, 1)[0] == 1
        assert _starts(out)[1] == 0  # he is there: service goes on from now

    def test_a_visit_inside_the_frozen_horizon_is_not_reshuffled(self) -> None:
        # announced at 00:20 (inside 30 min), far away; a nearer new ticket must not go first
        world = make_world([make_engineer(1, (0, 0))])
        tickets = [_ticket(1, (10, 10)), _ticket(2, (1, 0))]
        base = Baseline((Commitment(1, 1, 20 * 60),), **STABILITY, allow_eta_moves=True)
        out = _replan(world, tickets, base)
        assert _order(out, 1) == [1, 2]
        assert _starts(out)[1] == 20 * 60  # 20 steps of 1 min from now

    def test_outside_the_horizon_the_nearer_ticket_may_go_first(self) -> None:
        world = make_world([make_engineer(1, (0, 0))])
        tickets = [_ticket(1, (10, 10)), _ticket(2, (1, 0))]
        base = Baseline(
            (Commitment(1, 1, 20 * 60),), frozen_horizon_s=0, eta_tolerance_s=1_800,
            allow_eta_moves=True,
        )  # fmt: skip
        assert _order(_replan(world, tickets, base), 1) == [2, 1]


class TestWorkingTime:
    """An announced visit that no longer fits in working time is not kept there."""

    def _late_world(self) -> DispatchWorld:
        # His shift ends at 6 min; a job keeps him 1 min from home until 5:01, so the
        # route may end at 6:01 (the drive home), but no visit may start after 6 min.
        engineer = make_engineer(
            1, (0, 0), skills={"server": 1}, shifts=((0, 360),), overtime_s=0,
            busy_until=301, busy_location=grid(0, 1),
        )  # fmt: skip
        return make_world([engineer])

    def _door(self, tid: int, rank: int) -> Ticket:
        return make_ticket(
            (0, 0), ticket_id=tid, skills={"server": 1}, service_s=0, arrive_by=None,
            fix_by=None, severity_rank=rank,
        )  # fmt: skip

    def test_a_visit_announced_after_the_shift_is_not_seeded_there(self) -> None:
        world, door = self._late_world(), self._door(1, 1)
        base = Baseline((Commitment(1, 1, 361),), frozen_horizon_s=0, eta_tolerance_s=600)
        out = replan(world, [door], base, now=0, travel=TRAVEL, params=SEARCH)
        assert out.violations == ()
        assert _by(out) == {}  # nobody can still do it today

    def test_an_urgent_insertion_returns_a_valid_plan(self) -> None:
        world = self._late_world()
        base = Baseline((Commitment(1, 1, 361),), frozen_horizon_s=0, eta_tolerance_s=600)
        out = insert_urgent(
            world, [self._door(1, 1)], base, self._door(99, 0), now=0, travel=TRAVEL,
            change_budget=0,
        )  # fmt: skip
        assert out.plan.violations == ()


class TestTolerance:
    def test_an_announced_eta_moves_at_most_the_tolerance(self) -> None:
        # announced at 2 h, tolerance 10 min: the start stays in 1:50-2:10
        world = make_world([make_engineer(1, (0, 0))])
        base = Baseline((Commitment(1, 1, 2 * HOUR),), frozen_horizon_s=0, eta_tolerance_s=600)
        out = _replan(world, [_ticket(1, (3, 3))], base)
        assert abs(_starts(out)[1] - 2 * HOUR) <= 600

    def test_the_dispatcher_may_allow_more(self) -> None:
        world = make_world([make_engineer(1, (0, 0))])
        base = Baseline(
            (Commitment(1, 1, 2 * HOUR),), frozen_horizon_s=0, eta_tolerance_s=600,
            allow_eta_moves=True,
        )  # fmt: skip
        assert _starts(_replan(world, [_ticket(1, (3, 3))], base))[1] == 6 * 60

    def test_the_check_reports_a_move_past_the_tolerance(self) -> None:
        world = make_world([make_engineer(1, (0, 0))])
        free = plan(world, [_ticket(1, (3, 3))], now=0, travel=TRAVEL, params=SEARCH)
        base = Baseline((Commitment(1, 1, 2 * HOUR),), frozen_horizon_s=0, eta_tolerance_s=600)
        assert any("tolerance" in v for v in check_commitments(base, free))
        assert check_commitments(replace(base, allow_eta_moves=True), free) == []


def _published(
    world: DispatchWorld, tickets: list[Ticket], tolerance: int = HOUR
) -> tuple[Plan, Baseline]:
    p = plan(world, tickets, now=0, travel=TRAVEL, params=SEARCH)
    return p, Baseline.from_plan(p, frozen_horizon_s=0, eta_tolerance_s=tolerance)


class TestUrgentInsertion:
    def _full_day(self) -> tuple[DispatchWorld, list[Ticket]]:
        # engineer 1 (at 5,5) has a ticket next door; engineer 2 is 10 min further off
        world = make_world([make_engineer(1, (5, 5)), make_engineer(2, (0, 0))])
        return world, [_ticket(1, (5, 6))]

    def test_budget_0_inserts_without_moving_anyone(self) -> None:
        world, tickets = self._full_day()
        published, base = _published(world, tickets)
        urgent = _ticket(9, (5, 4), arrive_by=20 * 60, severity_rank=0)
        out = insert_urgent(
            world, tickets, base, urgent, now=0, travel=TRAVEL, params=SEARCH, change_budget=0
        )
        assert out.plan.is_feasible(), out.plan.violations
        assert out.moved == 0
        assert out.engineer_id is not None

    def test_budget_1_moves_one_visit_to_keep_the_urgent_promise(self) -> None:
        # the urgent ticket must start within 2 min next to engineer 1, whose announced
        # 30 min visit (announced at 1 min) blocks him: after the urgent one it would start
        # 32 min late, past the 15 min tolerance; engineer 2 can start it at 11 min
        world, tickets = self._full_day()
        published, base = _published(world, tickets, tolerance=15 * 60)
        assert _by(published) == {1: 1}
        urgent = _ticket(9, (5, 4), arrive_by=60, severity_rank=0, hard_arrival=False)
        kept = insert_urgent(
            world, tickets, base, urgent, now=0, travel=TRAVEL, params=SEARCH, change_budget=1
        )
        assert kept.plan.is_feasible(), kept.plan.violations
        assert kept.moved == 1
        assert kept.promise is PromiseState.KEPT
        stuck = insert_urgent(
            world, tickets, base, urgent, now=0, travel=TRAVEL, params=SEARCH, change_budget=0
        )
        assert stuck.moved == 0
        assert stuck.promise is not PromiseState.KEPT


class TestChangeBudget:
    """Engineer 1 at (5, 5) has two announced visits held to the minute (tolerance 0).

    A at (5, 6) starts at 0:01 (30 min), B at (5, 7) at 0:32. The urgent ticket at (5, 4)
    must start by 0:05: only engineer 1 can be there (1 min away; engineer 2 needs 9 min).
    Putting it first (0:01-0:31) leaves no room for A, and B would start at 0:34, not 0:32:
    both must leave engineer 1, which takes two changes.
    """

    def _case(
        self, rank: int = 2, pinned: bool = False
    ) -> tuple[DispatchWorld, list[Ticket], Baseline, Ticket]:
        world = make_world([make_engineer(1, (5, 5)), make_engineer(2, (0, 0))])
        tickets = [_ticket(1, (5, 6), severity_rank=rank), _ticket(2, (5, 7), severity_rank=rank)]
        base = Baseline(
            (Commitment(1, 1, 60, pinned=pinned), Commitment(2, 1, 60 + 1_800 + 60)),
            frozen_horizon_s=0, eta_tolerance_s=0,
        )  # fmt: skip
        urgent = _ticket(9, (5, 4), arrive_by=5 * 60, severity_rank=0)
        return world, tickets, base, urgent

    def _insert(
        self, case: tuple[DispatchWorld, list[Ticket], Baseline, Ticket], budget: int
    ) -> Insertion:
        world, tickets, base, urgent = case
        out = insert_urgent(
            world, tickets, base, urgent, now=0, travel=TRAVEL, params=SEARCH,
            change_budget=budget,
        )  # fmt: skip
        assert out.plan.is_feasible(), out.plan.violations
        assert out.moved <= budget
        return out

    def test_budget_2_keeps_the_promise_budget_1_cannot(self) -> None:
        case = self._case()
        one = self._insert(case, 1)
        assert one.promise is PromiseState.LATE
        two = self._insert(case, 2)
        assert two.promise is PromiseState.KEPT
        assert (two.engineer_id, two.eta) == (1, 60)
        assert two.moved == 2
        # nobody else can start A at 0:01: deferred; engineer 2 takes B at 0:32 sharp
        assert two.deferred == (1,)
        assert (_by(two.plan)[2], _starts(two.plan)[2]) == (2, 1_920)
        assert [d.ticket_id for d in two.plan.dropped] == [1]

    def test_a_larger_budget_is_never_worse(self) -> None:
        case = self._case()
        late = [self._insert(case, b).plan for b in range(4)]
        starts = [_starts(p).get(9, 10**9) for p in late]
        assert starts == sorted(starts, reverse=True)

    def test_work_as_severe_as_the_urgent_ticket_is_not_deferred(self) -> None:
        out = self._insert(self._case(rank=0), 3)
        assert out.deferred == ()
        assert out.promise is not PromiseState.KEPT

    def test_a_pinned_visit_is_never_deferred(self) -> None:
        out = self._insert(self._case(pinned=True), 3)
        assert 1 not in out.deferred
        assert _by(out.plan).get(1) == 1
        assert out.promise is not PromiseState.KEPT

    def test_a_chain_moves_a_visit_to_make_room_for_another(self) -> None:
        # the urgent ticket at (5, 4) must start by 0:02: only engineer 1 (at 5,5) can. His
        # visit A at (5, 6), held at 0:01 (tolerance 0), can only go to engineer 2 (6, 6),
        # whose visit B at (6, 7), also at 0:01, can only go to engineer 3 (7, 7): A and B
        # are as severe as the urgent ticket, so nothing is deferred; it takes a chain of 2
        world = make_world(
            [make_engineer(1, (5, 5)), make_engineer(2, (6, 6)), make_engineer(3, (7, 7))]
        )
        tickets = [_ticket(1, (5, 6)), _ticket(2, (6, 7))]
        base = Baseline(
            (Commitment(1, 1, 60), Commitment(2, 2, 60)), frozen_horizon_s=0, eta_tolerance_s=0
        )
        case = (world, tickets, base, _ticket(9, (5, 4), arrive_by=120, severity_rank=0))
        assert self._insert(case, 1).promise is PromiseState.LATE
        two = self._insert(case, 2)
        assert two.promise is PromiseState.KEPT
        assert two.deferred == ()
        assert _by(two.plan) == {9: 1, 1: 2, 2: 3}
        assert _starts(two.plan) == {9: 60, 1: 60, 2: 60}

    def test_a_prepared_plan_serves_several_insertions(self) -> None:
        world, tickets, base, urgent = self._case()
        prep = prepare_insertion(world, tickets, base, now=0, travel=TRAVEL, params=SEARCH)
        other = _ticket(8, (0, 1), arrive_by=HOUR, severity_rank=0)
        for new in (urgent, other, urgent):
            fast = insert_prepared(prep, new, change_budget=2)
            cold = insert_urgent(
                world, tickets, base, new, now=0, travel=TRAVEL, params=SEARCH, change_budget=2
            )
            assert fast.plan.routes == cold.plan.routes
            assert fast.changes == cold.changes

    def test_a_planned_ticket_cannot_be_inserted_again(self) -> None:
        world, tickets, base, _ = self._case()
        prep = prepare_insertion(world, tickets, base, now=0, travel=TRAVEL, params=SEARCH)
        with pytest.raises(InvalidProblemError, match="already planned"):
            insert_prepared(prep, tickets[0])


class TestDisruptions:
    def test_an_absent_engineer_puts_his_promises_at_risk(self) -> None:
        # one engineer, two tickets: absent from now on, both are dropped
        world = make_world([make_engineer(1, (0, 0))])
        tickets = [_ticket(1, (1, 1)), _ticket(2, (2, 2))]
        published, base = _published(world, tickets)
        hit = engineer_absent(world, tickets, base, 1, now=600)
        out = replan_disrupted(published, hit, now=600, travel=TRAVEL, params=SEARCH)
        assert out.plan.is_feasible(), out.plan.violations
        assert set(out.at_risk) == {1, 2}

    def test_an_overrun_makes_the_next_promise_late(self) -> None:
        # visit 1 overruns by 3 h; ticket 2 promised by 2 h cannot be reached in time
        world = make_world([make_engineer(1, (0, 0))])
        tickets = [_ticket(1, (0, 0)), _ticket(2, (1, 0), arrive_by=2 * HOUR)]
        published, base = _published(world, tickets)
        base = replace(base, commitments=(replace(base.commitments[0], in_progress=True),
                                          *base.commitments[1:]))  # fmt: skip
        hit = visit_overruns(world, tickets, base, 1, 3 * HOUR, now=0)
        out = replan_disrupted(published, hit, now=0, travel=TRAVEL, params=SEARCH)
        assert out.plan.is_feasible(), out.plan.violations
        assert out.at_risk == (2,)

    def test_a_depot_out_of_the_part_reroutes_the_pickup(self) -> None:
        # the part is at depots 1 (near) and 2 (far); depot 1 runs out
        world = make_world(
            [make_engineer(1, (0, 0))],
            [make_depot(1, (1, 0), stock={10: 1}), make_depot(2, (0, 8), stock={10: 1})],
        )
        tickets = [_ticket(1, (2, 0), parts=[(10, 1)])]
        published, base = _published(world, tickets)
        hit = part_runs_out(world, tickets, base, published, 1, 10)
        assert hit.affected == (1,)
        out = replan_disrupted(published, hit, now=0, travel=TRAVEL, params=SEARCH)
        assert out.plan.is_feasible(), out.plan.violations
        (change,) = out.diff.reservations
        assert change.before == ("depot:1 part 10 x1",)
        assert change.after == ("depot:2 part 10 x1",)
