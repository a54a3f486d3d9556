"""A price per promise clock: the one rule, and the planner's inlined copy agrees with it."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from optimizer import ClockPenalties, clock_cost, default_penalties
from optimizer.greedy import visit_cost

P = ClockPenalties(arrive=100_000, late_pct_per_hour=25, at_risk_pct=10, at_risk_margin_s=900)


class TestClockCost:
    def test_kept_with_the_margin_to_spare_costs_nothing(self) -> None:
        assert clock_cost(P.arrive, 3_600, 3_600 - 900, P) == 0

    def test_kept_inside_the_margin_costs_the_at_risk_share(self) -> None:
        assert clock_cost(P.arrive, 3_600, 3_600 - 899, P) == 10_000  # 10 % of 100,000
        assert clock_cost(P.arrive, 3_600, 3_600, P) == 10_000

    def test_broken_costs_the_penalty_and_a_share_per_hour_late(self) -> None:
        # 30 min late: 100,000 + 100,000 x 25 % x 0.5 h = 112,500
        assert clock_cost(P.arrive, 3_600, 3_600 + 1_800, P) == 112_500

    def test_no_deadline_or_no_price_costs_nothing(self) -> None:
        assert clock_cost(P.arrive, None, 10**6, P) == 0
        assert clock_cost(0, 0, 10**6, P) == 0

    def test_the_defaults_fall_with_severity(self) -> None:
        ranks = [default_penalties(r) for r in range(4)]
        assert [p.arrive for p in ranks] == [100_000, 60_000, 30_000, 30_000]


times = st.integers(-20_000, 20_000)
prices = st.sampled_from([0, 3_000, 100_000])


@given(
    deadlines=st.tuples(times, times, times), pens=st.tuples(prices, prices, prices),
    late=st.sampled_from([0, 25]), risk=st.sampled_from([0, 10]),
    margin=st.sampled_from([0, 900]), slack=st.sampled_from([0, 1_800]), start=times,
    after=st.booleans(),
)  # fmt: skip
def test_the_planners_visit_cost_is_the_sum_of_clock_costs(
    deadlines: tuple[int, int, int], pens: tuple[int, int, int], late: int, risk: int,
    margin: int, slack: int, start: int, after: bool,
) -> None:  # fmt: skip
    p = ClockPenalties(
        late_pct_per_hour=late, at_risk_pct=risk, at_risk_margin_s=margin, slack_s=slack
    )
    row = [x for pair in zip(deadlines, pens, strict=True) for x in pair]
    row += [late, risk, p.margin_s(False), p.margin_s(True)]
    # the slack is for the arrive and fix clocks (the swap clock keeps the margin)
    expected = sum(
        clock_cost(pen, d, start, p, after_job=after and i < 2)
        for i, (d, pen) in enumerate(zip(deadlines, pens, strict=True))
    )
    assert visit_cost(row, start, after) == expected
