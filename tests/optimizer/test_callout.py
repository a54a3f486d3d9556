"""Call-outs: an on-call engineer is woken for a severe ticket when that is worth its cost.

Grid fake: one step = 1 min; the site is at (3, 3); service 1 h, arrival promised in 2 h.
"""

from __future__ import annotations

from optimizer import (
    DispatchWorld,
    Engineer,
    OnCall,
    Plan,
    PlanParams,
    PlanQuality,
    Recommendation,
    RecommendParams,
    Ticket,
    callout_options,
    plan,
    recommend,
    validate,
)
from optimizer.callout import wake_for
from optimizer.deadline import Deadline
from tests.optimizer.builders import (
    HOUR,
    grid,
    grid_travel,
    make_engineer,
    make_ticket,
    make_world,
)

TRAVEL = grid_travel()
CALLOUT = 30_000  # fen: CNY 300, the documented default
NIGHT = ((-2 * HOUR, 10 * HOUR),)  # on call from two hours ago
FLAGGED = (PlanQuality.TIME_LIMITED, PlanQuality.FALLBACK, PlanQuality.NOTHING_PLACED)


def _on_call(engineer_id: int = 9, at: tuple[int, int] = (3, 4), **kw: int) -> OnCall:
    kw.setdefault("cost", CALLOUT)
    kw.setdefault("lead_s", 1_800)
    return OnCall(make_engineer(engineer_id, at, shifts=NIGHT), **kw)


def _busy() -> Engineer:
    return make_engineer(1, (0, 0), busy_until=2 * HOUR, busy_location=grid(0, 0))


def _recommend(working: list, on_call: list[OnCall], **ticket: object) -> Recommendation:
    world = make_world(working)
    world = type(world)(world.epoch, world.engineers, on_call=tuple(on_call))
    return recommend(world, make_ticket(**ticket), now=0, travel=TRAVEL, params=RecommendParams())


class TestWhenToWake:
    def test_nobody_working_keeps_the_arrival_so_the_on_call_engineer_goes(self) -> None:
        far = _busy()  # free in 2 h: on site 6 min after the promise
        rec = _recommend([far], [_on_call()])
        best = rec.options[0]
        assert (best.engineer_id, best.callout, best.callout_cost) == (9, True, CALLOUT)
        assert best.departs_at == 1_800  # his call-out lead
        assert best.keeps_all
        assert best.cost >= CALLOUT
        assert "call-out" in best.reason
        assert "CNY 300" in best.reason
        assert [o.engineer_id for o in rec.options] == [9, 1]

    def test_a_working_engineer_who_keeps_every_promise_is_not_outbid(self) -> None:
        near = make_engineer(1, (3, 2))
        rec = _recommend([near], [_on_call()])
        assert [(o.engineer_id, o.callout) for o in rec.options] == [(1, False)]

    def test_without_anyone_at_work_the_call_out_is_the_option(self) -> None:
        rec = _recommend([], [_on_call()])
        assert [(o.engineer_id, o.callout) for o in rec.options] == [(9, True)]

    def test_a_call_out_that_keeps_a_clock_nobody_else_keeps_is_offered_second(self) -> None:
        # Depart within 15 min, on site within 24: the working engineer leaves at 10 min
        # and is on site at 26 (late); the on-call one leaves after his 20 min lead (late)
        # and is on site at 21 (in time). The depart clock ranks first.
        far = make_engineer(1, (11, 11), busy_until=600, busy_location=grid(11, 11))
        rec = _recommend([far], [_on_call(lead_s=1_200)], depart_by=900, arrive_by=1_440)
        assert [(o.engineer_id, o.callout) for o in rec.options] == [(1, False), (9, True)]

    def test_a_general_ticket_wakes_nobody(self) -> None:
        rec = _recommend([], [_on_call()], severity_rank=2, arrive_by=4 * HOUR)
        assert rec.options == ()

    def test_the_policy_may_let_serious_tickets_wake_him(self) -> None:
        rec = _recommend([], [_on_call(max_rank=2)], severity_rank=1)
        assert [o.engineer_id for o in rec.options] == [9]

    def test_nobody_is_woken_outside_his_on_call_window(self) -> None:
        later = OnCall(make_engineer(9, (3, 4), shifts=((HOUR, 9 * HOUR),)), cost=CALLOUT)
        assert _recommend([], [later]).options == ()

    def test_the_call_out_cost_decides_between_two_on_call_engineers(self) -> None:
        dear, cheap = _on_call(8, (3, 4), cost=90_000), _on_call(9, (3, 5))
        world = make_world([])
        world = type(world)(world.epoch, (), on_call=(dear, cheap))
        found = callout_options(world, make_ticket(), now=0, travel=TRAVEL)
        assert [(o.engineer_id, o.callout_cost) for o in found] == [(9, CALLOUT), (8, 90_000)]


class TestPlan:
    """Route planning wakes on-call engineers by the recommendation's rule, before routing."""

    @staticmethod
    def _plan(working: list, on_call: list[OnCall], tickets: list) -> Plan:
        world = make_world(working)
        world = type(world)(world.epoch, world.engineers, on_call=tuple(on_call))
        return plan(world, tickets, now=0, travel=TRAVEL, params=PlanParams(time_limit_ms=0))

    def test_the_urgent_ticket_nobody_at_work_keeps_is_a_call_out(self) -> None:
        urgent = make_ticket(ticket_id=1)
        general = make_ticket((5, 5), ticket_id=2, severity_rank=2, arrive_by=8 * HOUR,
                              fix_by=10 * HOUR)  # fmt: skip
        result = self._plan([_busy()], [_on_call()], [urgent, general])
        assert [(t, o.engineer_id, o.callout) for t, o in result.callouts] == [(1, 9, True)]
        routed = {s.ticket_id for r in result.routes for s in r.visits}
        assert routed == {2}
        out = result.to_dict()["callouts"]
        assert (out[0]["ticket_id"], out[0]["engineer_id"], out[0]["callout_cost_minor"]) == (
            1,
            9,
            CALLOUT,
        )

    def test_each_on_call_engineer_is_woken_once(self) -> None:
        tickets = [make_ticket(ticket_id=1), make_ticket((4, 4), ticket_id=2)]
        result = self._plan([_busy()], [_on_call()], tickets)
        assert len(result.callouts) == 1
        assert {s.ticket_id for r in result.routes for s in r.visits} | {
            d.ticket_id for d in result.dropped
        } == {t.id for t in tickets} - {result.callouts[0][0]}

    def test_a_working_engineer_in_time_keeps_the_ticket_in_the_routes(self) -> None:
        result = self._plan([make_engineer(1, (3, 2))], [_on_call()], [make_ticket()])
        assert result.callouts == ()
        assert [s.ticket_id for r in result.routes for s in r.visits] == [1]


class TestWithinTheLimit:
    """Judging call-outs counts against the plan's own limit (issue 20): under a deadline
    already passed the most severe candidate is judged, the rest wake nobody; no timing."""

    @staticmethod
    def _world() -> DispatchWorld:
        world = make_world([_busy()])
        on_call = (_on_call(8, (4, 5)), _on_call(9, (3, 4)))
        return type(world)(world.epoch, world.engineers, on_call=on_call)

    @staticmethod
    def _tickets() -> list[Ticket]:  # both urgent; nobody at work keeps either arrival
        return [make_ticket((4, 4), ticket_id=2, reported_at=-60), make_ticket(ticket_id=1)]

    def test_without_a_limit_both_urgent_tickets_are_call_outs(self) -> None:
        out = plan(self._world(), self._tickets(), now=0, travel=TRAVEL,
                   params=PlanParams(time_limit_ms=0))  # fmt: skip
        assert sorted(t for t, _ in out.callouts) == [1, 2]
        assert out.violations == ()

    def test_a_tiny_limit_judges_the_first_candidate_only_and_flags_the_plan(self) -> None:
        runs = [
            plan(
                self._world(),
                self._tickets(),
                now=0,
                travel=TRAVEL,
                params=PlanParams(time_limit_ms=1),
            )  # fmt: skip
            for _ in range(3)
        ]
        for out in runs:
            # ticket 2 was reported first: judged first (same severity), woken
            assert [(t, o.engineer_id, o.callout) for t, o in out.callouts] == [(2, 8, True)]
            assert out.violations == ()
            assert validate(self._world().with_on_call(()), [self._tickets()[1]], out,
                            travel=TRAVEL) == []  # fmt: skip
            routed = [s.ticket_id for r in out.routes for s in r.visits]
            assert sorted(routed + [d.ticket_id for d in out.dropped]) == [1]
            assert out.quality in FLAGGED

    def test_wake_for_past_its_deadline_routes_the_unjudged(self) -> None:
        woken, rest, at_work, unjudged = wake_for(
            self._world(), self._tickets(), now=0, travel=TRAVEL, params=PlanParams(),
            deadline=Deadline(0.0),
        )  # fmt: skip
        assert [t for t, _ in woken] == [2]
        assert [t.id for t in rest] == [1]
        assert unjudged == 1
        assert at_work.on_call == ()
        woken, rest, _, unjudged = wake_for(
            self._world(), self._tickets(), now=0, travel=TRAVEL, params=PlanParams()
        )
        assert sorted(t for t, _ in woken) == [1, 2]
        assert (rest, unjudged) == ([], 0)
