"""When a job on site ends: its planned end, or later once it runs past it (issue 16).

A job is planned with the planning duration (`dispatch.durations`: a quantile of its type's
logged durations, never below their mean). An engineer still on site past that end is not
free "now": he will be busy a while longer. How long, the same log and the same quantile
say, read among the logged jobs that ran longer than this one has so far (a conditional
quantile). Production's snapshot (`dispatch.snapshot`) and the simulator's view
(`scenarios.live`) read an engineer's job on site through this one rule
(`dispatch.durations.DurationLog.ends_at` picks the log's durations for it). No knob of its
own: the contract's ``plan_duration_pct`` and ``plan_min_jobs`` (policy data) decide.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from optimizer.reassign import overrun_past


def quantile(ordered: Sequence[float], pct: int) -> float:
    """The nearest-rank ``pct`` % quantile of sorted values: e.g. 80 % of 10 is the 8th."""
    rank = max(1, math.ceil(pct * len(ordered) / 100))
    return ordered[min(rank, len(ordered)) - 1]


def overrun_ends(
    *, started_at: int, planned_s: int, now: int, durations: Sequence[float], quantile_pct: int
) -> int:
    """When a job begun at ``started_at`` and planned to take ``planned_s`` ends, seen at
    ``now``.

    Within its plan: the planned end. Past it: the planner's rule (the ``quantile_pct``
    quantile, never below the mean) over the ``durations`` (sorted seconds) longer than it
    has run so far, from ``started_at``; never before the planned end nor before ``now``.
    Longer than every logged job: ``now`` (the log knows no later end). Non-decreasing in
    ``now``: dropping the shortest durations only raises the quantile and the mean.

    E.g. begun 10:00, planned 60 min, logged 40, 60, 80, 100 and 120 min, 50 %: 11:00 until
    11:00; at 11:10 the jobs longer than 70 min are 80, 100 and 120, so 11:40.
    """
    planned_end = started_at + planned_s
    if not overrun_past(started_at=started_at, planned_s=planned_s, after_s=0, now=now):
        return planned_end
    longer = durations[bisect.bisect_right(durations, now - started_at) :]
    if not longer:
        return now
    expected = max(quantile(longer, quantile_pct), sum(longer) / len(longer))
    return max(planned_end, now, started_at + round(expected))


def overrun_changes_at(
    *, started_at: int, planned_s: int, now: int, durations: Sequence[float]
) -> int | None:
    """The first instant after ``now`` at which `overrun_ends` may read another end than it
    reads at ``now`` (None: never; it reads ``now`` itself once the job ran longer than every
    logged one, i.e. the engineer is as good as free). A snapshot read at ``now`` is exact
    for this job until then (`dispatch.snapshot_cache`).

    Within the plan: one second past the planned end (offsets are whole seconds). Past it:
    when the job has run as long as the shortest logged duration still longer than it, which
    then drops out of the jobs the quantile is read among. E.g. begun 10:00, planned 60 min,
    logged 40, 60, 80, 100 and 120 min: at 10:30, 11:00:01; at 11:10, 11:20.
    """
    if not overrun_past(started_at=started_at, planned_s=planned_s, after_s=0, now=now):
        return started_at + planned_s + 1
    longer = durations[bisect.bisect_right(durations, now - started_at) :]
    return None if not longer else started_at + math.ceil(longer[0])


__all__ = ["overrun_changes_at", "overrun_ends", "quantile"]
