"""Call-outs: an on-call engineer is woken for a severe ticket when that is worth its cost.

Grid fake: one step = 1 min; the site is at (3, 3); service 1 h, arrival promised in 2 h.
"""

from __future__ import annotations

from optimizer import (
    Engineer,
    OnCall,
    Plan,
    PlanParams,
    Recommendation,
    RecommendParams,
    callout_options,
    plan,
    recommend,
)
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
