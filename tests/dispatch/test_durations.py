"""Planning durations: a quantile learnt per ticket type, a pooled fallback, the standard."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatch.durations import DurationLog, DurationPolicy, duration_policy

H = 3_600
P80 = DurationPolicy(quantile_pct=80, min_jobs=5)


def test_too_little_history_plans_the_standard_duration() -> None:
    log = DurationLog.of([(1, H, 2 * H)] * 4)
    assert log.planning_s(1, H, P80) == H


def test_enough_jobs_of_the_type_plan_their_quantile() -> None:
    minutes = [60, 70, 80, 90, 100, 110, 120, 130, 140, 150]
    log = DurationLog.of((1, H, m * 60) for m in minutes)
    assert log.planning_s(1, H, P80) == 130 * 60  # the 8th of 10


def test_a_type_with_few_jobs_takes_the_logs_ratio_to_its_standard() -> None:
    log = DurationLog.of([(1, H, 90 * 60)] * 10)  # type 1 runs 1.5 x its standard
    assert log.planning_s(2, 2 * H, P80) == 3 * H  # type 2: no jobs, 1.5 x 2 h


def test_the_quantile_is_never_below_the_mean() -> None:
    log = DurationLog.of((1, H, s) for s in [H] * 9 + [20 * H])
    assert log.planning_s(1, H, DurationPolicy(50, 5)) == round((9 + 20) * H / 10)


def test_the_policy_comes_from_the_contract_row_or_the_defaults() -> None:
    assert duration_policy({}) == DurationPolicy(50, 20)
    assert duration_policy({"plan_duration_pct": 90, "plan_min_jobs": 3}) == DurationPolicy(90, 3)
    with pytest.raises(ValueError, match="quantile_pct"):
        DurationPolicy(quantile_pct=40)
    assert duration_policy({"plan_log_jobs": 500}) == DurationPolicy(50, 20, log_jobs=500)
    assert DurationPolicy().log_jobs == 2_000  # the documented default
    with pytest.raises(ValueError, match="log_jobs"):
        DurationPolicy(log_jobs=0)


def test_only_the_newest_log_jobs_finished_jobs_teach_the_plan() -> None:
    """The window is the contract's policy data; production and simulator share it."""
    log = DurationLog.of([(1, H, 3 * H)] * 10)  # old jobs ran long
    for _ in range(5):
        log.add(1, H, H)  # the newest ran to standard
    assert log.planning_s(1, H, DurationPolicy(50, 5, log_jobs=5)) == H
    assert log.planning_s(1, H, DurationPolicy(50, 5, log_jobs=15)) == 3 * H  # 2/3 long
    log.add(1, H, H)  # the window slides: one old job drops out of the 5-job window
    assert log.planning_s(1, H, DurationPolicy(50, 5, log_jobs=5)) == H


durations = st.lists(st.integers(60, 10 * H), min_size=1, max_size=60)


@given(durations, st.integers(50, 99), st.integers(1, 60))
def test_planning_is_never_below_the_mean_it_learnt_from(
    seconds: list[int], pct: int, min_jobs: int
) -> None:
    log = DurationLog.of((1, H, s) for s in seconds)
    planned = log.planning_s(1, H, DurationPolicy(pct, min_jobs))
    if len(seconds) >= min_jobs:
        assert planned >= math.floor(sum(seconds) / len(seconds))
        assert planned <= max(seconds)
    else:
        assert planned == H


@given(durations, st.integers(50, 98))
def test_a_higher_quantile_never_plans_shorter(seconds: list[int], pct: int) -> None:
    log = DurationLog.of((1, H, s) for s in seconds)
    low = log.planning_s(1, H, DurationPolicy(pct, 1))
    assert log.planning_s(1, H, DurationPolicy(pct + 1, 1)) >= low


def test_a_job_on_site_past_its_plan_ends_as_its_types_longer_jobs_did() -> None:
    """Issue 16: the log and the quantile that planned the job read its end once it overruns
    (`optimizer.overrun_ends`); within the plan, the planned end."""
    minutes = [40, 60, 80, 100, 120]
    log = DurationLog.of((1, H, m * 60) for m in minutes)
    policy = DurationPolicy(50, 5)
    planned = log.planning_s(1, H, policy)
    assert planned == 80 * 60
    ends = log.ends_at(1, H, policy, started_at=0, planned_s=planned, now=70 * 60)
    assert ends == planned  # not overrunning yet
    ends = log.ends_at(1, H, policy, started_at=0, planned_s=planned, now=90 * 60)
    assert ends == 110 * 60  # 100 and 120 ran longer than 90 min: 100 (rank 1), mean 110


def test_a_type_with_few_jobs_reads_its_overrun_from_the_logs_ratios() -> None:
    log = DurationLog.of([(1, H, 90 * 60)] * 5 + [(1, H, 150 * 60)] * 5)  # 1.5 and 2.5 x
    policy = DurationPolicy(50, 5)
    planned = log.planning_s(2, 2 * H, policy)  # type 2: no jobs, 2 x 1.5..2.5 (mean 2)
    assert planned == 4 * H
    ends = log.ends_at(2, 2 * H, policy, started_at=0, planned_s=planned, now=4 * H + 60)
    assert ends == 5 * H  # only the 2.5 x jobs ran longer than 4 h 1 min: 2.5 x 2 h
    few = DurationLog.of([(1, H, 90 * 60)] * 2)  # too few jobs to learn from: no later end
    assert few.ends_at(2, 2 * H, policy, started_at=0, planned_s=2 * H, now=3 * H) == 3 * H
