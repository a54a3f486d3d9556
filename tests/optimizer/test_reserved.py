"""Committed work as reserved time (issue 16): busy back to back, free in the gap before a
later visit, and a job offered in that gap only when the committed visit still arrives as
planned. Grid fake: one step = 1 min; the ticket's site is (3, 3), the committed one (5, 5)."""

from __future__ import annotations

from dataclasses import replace
from random import Random

from hypothesis import given
from hypothesis import strategies as st

from optimizer import Recommendation, RecommendParams, Reserved, free_gap, recommend, retimed
from tests.optimizer.builders import HOUR, grid, grid_travel, make_engineer, make_ticket, make_world

TRAVEL = grid_travel()
LATER = grid(5, 5)  # 4 steps from the ticket's site


def _first(work: list[Reserved], *, old_rule: bool = False) -> Recommendation:
    """Recommend the (3, 3) ticket to one engineer at (0, 0) with ``work`` committed."""
    committed = free_gap(0, work)
    engineer = make_engineer(
        1, busy_until=committed.busy_until, busy_location=committed.busy_location,
        gap=None if old_rule else committed.gap,
    )  # fmt: skip
    return recommend(
        make_world([engineer]), make_ticket(), now=0, travel=TRAVEL, params=RecommendParams()
    )


class TestFreeGap:
    def test_back_to_back_work_keeps_him_busy_until_its_end(self) -> None:
        work = [
            Reserved(-600, 0, 1_800, grid(1, 1)),  # in progress
            Reserved(1_800, 2_000, 4_000, LATER),  # departs as it ends
        ]
        committed = free_gap(0, work)
        assert (committed.busy_until, committed.busy_location, committed.gap) == (
            4_000, LATER, None,
        )  # fmt: skip

    def test_a_later_visit_leaves_the_time_before_it_free(self) -> None:
        work = [Reserved(-600, 0, 1_800, grid(1, 1)), Reserved(5 * HOUR, 5 * HOUR + 240,
                                                               6 * HOUR, LATER)]  # fmt: skip
        committed = free_gap(0, work)
        assert committed.busy_until == 6 * HOUR  # a job that does not fit comes after it
        gap = committed.gap
        assert gap is not None
        assert (gap.ready, gap.origin, gap.back_to, gap.back_by) == (
            1_800, grid(1, 1), LATER, 5 * HOUR + 240,
        )  # fmt: skip

    def test_nothing_committed_is_free(self) -> None:
        assert free_gap(0, []).busy_until is None


class TestRecommendInTheGap:
    def test_a_job_that_fits_before_the_committed_visit_is_offered_now(self) -> None:
        work = [Reserved(5 * HOUR, 5 * HOUR + 600, 6 * HOUR, LATER)]
        (old,) = _first(work, old_rule=True).options
        assert old.departs_at == 6 * HOUR  # the old rule: busy until the visit ends
        (option,) = _first(work).options
        assert (option.departs_at, option.arrives_at, option.fixes_at) == (0, 360, 360 + HOUR)
        assert option.keeps_all

    def test_the_return_leg_bounds_the_gap(self) -> None:
        # 6 min there, 1 h service, 4 min back: the committed visit is reached at 1:10
        fits = [Reserved(HOUR, HOUR + 600, 2 * HOUR, LATER)]
        (option,) = _first(fits).options
        assert option.departs_at == 0
        late = [Reserved(HOUR, HOUR + 599, 2 * HOUR, LATER)]  # one second too early
        (option,) = _first(late).options
        assert option.departs_at == 2 * HOUR  # after the committed work, as before


class TestRetimed:
    """A committed visit behind an overrun departs when the work before it ends."""

    def test_the_next_visit_moves_by_the_overrun(self) -> None:
        # on site, planned to end 1:00, now seen ending 1:40; next planned 1:10 -> 1:30 -> 2:30
        on_site = Reserved(0, 0, HOUR + 40 * 60, grid(1, 1), under_way=True)
        nxt = Reserved(HOUR + 600, HOUR + 1_800, 2 * HOUR + 1_800, LATER)
        later = Reserved(5 * HOUR, 5 * HOUR + 600, 6 * HOUR, grid(2, 2))  # after a gap
        assert retimed([on_site, nxt, later]) == [
            on_site, Reserved(HOUR + 2_400, HOUR + 3_600, 3 * HOUR, LATER), later,
        ]  # fmt: skip
        committed = free_gap(0, [on_site, nxt, later])
        assert committed.gap is not None
        assert committed.gap.ready == 3 * HOUR  # the gap starts when the pushed visit ends

    def test_busy_until_moves_with_a_pushed_last_visit(self) -> None:
        on_site = Reserved(0, 0, 2 * HOUR, grid(1, 1), under_way=True)
        nxt = Reserved(HOUR, HOUR + 600, HOUR + 1_800, LATER)
        assert free_gap(0, [nxt, on_site]).busy_until == 2 * HOUR + 1_800

    def test_work_under_way_goes_first_and_is_never_pushed(self) -> None:
        # a visit whose planned departure passed (he has not left) follows the job on site
        late_start = Reserved(-600, 0, 1_800, LATER)
        on_site = Reserved(0, 0, 3_600, grid(1, 1), under_way=True)
        assert retimed([late_start, on_site]) == [Reserved(3_600, 4_200, 6_000, LATER), on_site]


_visit = st.tuples(
    st.integers(0, 4 * HOUR),  # idle before it departs, after the previous one ends
    st.integers(0, HOUR),  # drive
    st.integers(0, 3 * HOUR),  # on site
)


@st.composite
def _plans(draw: st.DrawFn) -> tuple[list[Reserved], list[Reserved]]:
    """A plan (each visit departs once the one before ends) and the same plan with the
    job on site overrunning by some minutes (0: nothing overruns)."""
    ends = draw(st.integers(1, 2 * HOUR))
    overrun = draw(st.sampled_from([0, draw(st.integers(1, 4 * HOUR))]))
    plan = [Reserved(0, 0, ends, grid(0, 0), under_way=True)]
    for idle, drive, service in draw(st.lists(_visit, max_size=6)):
        departs = plan[-1].ends + idle
        plan.append(Reserved(departs, departs + drive, departs + drive + service, grid(1, 1)))
    return plan, [replace(plan[0], ends=ends + overrun), *plan[1:]]


@given(plans=_plans(), order=st.randoms())
def test_the_retimed_chain_departs_after_the_work_before_and_never_earlier(
    plans: tuple[list[Reserved], list[Reserved]], order: Random
) -> None:
    plan, seen = plans
    order.shuffle(seen)  # in any order: the chain is read in departure order
    out = retimed(seen)
    ready = 0
    for before, after in sorted(zip(seen, out, strict=True), key=lambda p: p[1].departs):
        assert after.departs >= before.departs  # never earlier than planned
        assert after.departs >= ready  # never before the work before it ends
        assert (after.arrives - after.departs, after.ends - after.arrives) == (
            before.arrives - before.departs, before.ends - before.arrives,
        )  # fmt: skip
        ready = max(ready, after.ends)
    if sorted(seen, key=lambda r: r.departs) == plan:  # nothing overruns: the plan itself
        assert out == seen
    assert free_gap(0, seen).busy_until == max(r.ends for r in out)
