"""Committed work as reserved time (issue 16): busy back to back, free in the gap before a
later visit, and a job offered in that gap only when the committed visit still arrives as
planned. Grid fake: one step = 1 min; the ticket's site is (3, 3), the committed one (5, 5)."""

from __future__ import annotations

from optimizer import Recommendation, RecommendParams, Reserved, free_gap, recommend
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
