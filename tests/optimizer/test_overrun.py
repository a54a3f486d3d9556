"""Issue 16: a job on site past its planned end still runs; the log says how long
(`optimizer.overrun_ends`, the one rule production's snapshot and the simulator's view read)."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from optimizer import overrun_changes_at, overrun_ends

MIN = 60
LOG = [m * MIN for m in (40, 60, 80, 100, 120)]


def _ends(now: int, durations: Sequence[float] = LOG, pct: int = 50) -> int:
    return overrun_ends(
        started_at=0, planned_s=60 * MIN, now=now, durations=durations, quantile_pct=pct
    )


def test_within_its_plan_the_job_ends_when_planned() -> None:
    assert _ends(0) == _ends(30 * MIN) == _ends(60 * MIN) == 60 * MIN


def test_past_its_plan_it_ends_as_the_longer_logged_jobs_did() -> None:
    assert _ends(70 * MIN) == 100 * MIN  # 80, 100, 120 ran longer: their median (and mean)
    assert _ends(70 * MIN, pct=90) == 120 * MIN  # a safer contract expects the longest
    assert _ends(110 * MIN) == 120 * MIN


def test_longer_than_every_logged_job_it_is_expected_done_now() -> None:
    assert _ends(130 * MIN) == 130 * MIN
    assert _ends(61 * MIN, durations=[]) == 61 * MIN  # no log: the plan was the standard


def test_the_mean_of_the_longer_jobs_when_above_their_quantile() -> None:
    log = [70 * MIN] * 9 + [20 * 60 * MIN]
    assert _ends(65 * MIN, durations=log) == round((9 * 70 + 1_200) * MIN / 10)


sorted_durations = st.lists(st.integers(5 * MIN, 8 * 60 * MIN), max_size=40).map(sorted)


@given(
    durations=sorted_durations,
    planned=st.integers(5 * MIN, 4 * 60 * MIN),
    start=st.integers(-86_400, 86_400),
    a=st.integers(0, 10 * 60 * MIN),
    b=st.integers(0, 10 * 60 * MIN),
    pct=st.integers(50, 99),
)
def test_never_before_now_nor_the_plan_and_monotone_in_now(
    durations: list[int], planned: int, start: int, a: int, b: int, pct: int
) -> None:
    early, late = sorted((a, b))

    def ends(elapsed: int) -> int:
        return overrun_ends(
            started_at=start, planned_s=planned, now=start + elapsed,
            durations=[float(d) for d in durations], quantile_pct=pct,
        )  # fmt: skip

    for elapsed in (early, late):
        assert ends(elapsed) >= start + elapsed  # never earlier than now
        assert ends(elapsed) >= start + planned  # never before the planned end
        if elapsed <= planned:
            assert ends(elapsed) == start + planned  # not overrunning: the plan
    assert ends(early) <= ends(late)  # a job that ran longer ends no earlier


def test_when_a_cached_read_of_the_job_goes_stale() -> None:
    """`overrun_changes_at`: one second past the planned end, then each time the job has
    run as long as the shortest logged job still longer (the docstring's example)."""

    def at(now: int, durations: Sequence[float] = LOG) -> int | None:
        return overrun_changes_at(started_at=0, planned_s=60 * MIN, now=now, durations=durations)

    assert at(30 * MIN) == at(60 * MIN) == 60 * MIN + 1
    assert at(70 * MIN) == 80 * MIN
    assert at(80 * MIN) == 100 * MIN  # the 80-minute job dropped out at 80 min
    assert at(130 * MIN) is None  # longer than every logged job: it reads now itself


@given(
    durations=sorted_durations,
    planned=st.integers(5 * MIN, 4 * 60 * MIN),
    elapsed=st.integers(0, 10 * 60 * MIN),
    later=st.integers(0, 10 * 60 * MIN),
    pct=st.integers(50, 99),
)
def test_the_end_read_holds_until_it_changes(
    durations: list[int], planned: int, elapsed: int, later: int, pct: int
) -> None:
    """Between ``now`` and `overrun_changes_at` the end read is the one read at ``now``."""
    logged = [float(d) for d in durations]

    def ends(now: int) -> int:
        return overrun_ends(
            started_at=0, planned_s=planned, now=now, durations=logged, quantile_pct=pct
        )

    changes = overrun_changes_at(started_at=0, planned_s=planned, now=elapsed, durations=logged)
    if changes is None:
        assert ends(elapsed) == elapsed
        return
    assert changes > elapsed
    assert ends(elapsed + later % (changes - elapsed)) == ends(elapsed)
