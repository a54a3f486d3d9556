"""How long to plan a job: a duration most jobs of its type finish within, learnt from the log.

Service durations vary; a plan built on the ticket type's standard duration runs late
whenever a job overruns it, and the engineer's next promised visit with it. So production
(`dispatch.snapshot.job_for` for a recommendation and the batch planner, `_busy` for the job
on site) and the simulator (`scenarios.context.RunContext.planning_s`) plan every job with
`DurationLog.planning_s`, the one rule:

- a ticket type with at least ``min_jobs`` finished jobs in the log: the ``quantile_pct``
  quantile of their durations (nearest rank), never below their mean (a route of jobs each
  planned shorter than its mean runs late on average);
- else, when the whole log holds ``min_jobs`` jobs: the standard duration times the same
  quantile (again at least the mean) of the log's duration / standard ratios, i.e. how much
  longer than standard jobs run across types;
- else the standard duration.

The rule learns from the log's newest ``plan_log_jobs`` finished jobs (per contract) (default 2,000:
recent enough to follow a change of kit or staff, many enough for a type's quantile).
The quantile and the minimum are policy data of the contract (`promise_policies`
``plan_duration_pct``, ``plan_min_jobs``; documented defaults 50 % and 20 jobs: with the
rule's "at least the mean", the default plans a type's mean duration; on the demo world
80 % cut overtime by a fifth and the fix misses that ran late by half but kept 1 to 3
points fewer depart, arrival and fix clocks, see BENCHMARKS.md). A job's duration is its
arrival on site to its fix. A job on site past its planned end ends, by `DurationLog.ends_at`,
when the same quantile of the durations the plan read says among those longer than it has
run so far (`optimizer.overrun_ends`; production's snapshot and the simulator's view).
Pure: no database here.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from optimizer.overrun import overrun_changes_at, overrun_ends, quantile
from optimizer.reassign import overrun_past

DEFAULT_QUANTILE_PCT = 50
DEFAULT_MIN_JOBS = 20
DEFAULT_LOG_JOBS = 2_000


@dataclass(frozen=True, slots=True)
class DurationPolicy:
    """How safely a contract plans its jobs (see the module docstring)."""

    quantile_pct: int = DEFAULT_QUANTILE_PCT
    min_jobs: int = DEFAULT_MIN_JOBS
    log_jobs: int = DEFAULT_LOG_JOBS

    def __post_init__(self) -> None:
        if not 50 <= self.quantile_pct <= 99:
            raise ValueError(f"quantile_pct: must be 50..99, got {self.quantile_pct}")
        if self.min_jobs < 1:
            raise ValueError(f"min_jobs: must be >= 1, got {self.min_jobs}")
        if self.log_jobs < 1:  # below min_jobs: every job is planned with its standard
            raise ValueError(f"log_jobs: must be >= 1, got {self.log_jobs}")


def duration_policy(policy: Mapping[str, Any] | Any) -> DurationPolicy:
    """The duration policy of a promise-policy row (ORM or dict); missing: the defaults."""

    def get(name: str) -> Any:
        return policy.get(name) if isinstance(policy, Mapping) else getattr(policy, name, None)

    pct, jobs, window = get("plan_duration_pct"), get("plan_min_jobs"), get("plan_log_jobs")
    return DurationPolicy(
        DEFAULT_QUANTILE_PCT if pct is None else int(pct),
        DEFAULT_MIN_JOBS if jobs is None else int(jobs),
        DEFAULT_LOG_JOBS if window is None else int(window),
    )


@dataclass
class _Stats:
    """The durations of a window of finished jobs: per type, and as ratios to the standard."""

    by_type: dict[int, list[float]] = field(default_factory=dict)  # sorted seconds
    type_sums: dict[int, float] = field(default_factory=dict)
    ratios: list[float] = field(default_factory=list)  # sorted duration / standard
    ratio_sum: float = 0.0

    def add(self, type_id: int, standard_s: int, actual_s: int) -> None:
        bisect.insort(self.by_type.setdefault(type_id, []), float(actual_s))
        self.type_sums[type_id] = self.type_sums.get(type_id, 0.0) + actual_s
        if standard_s > 0:
            bisect.insort(self.ratios, actual_s / standard_s)
            self.ratio_sum += actual_s / standard_s

    def remove(self, type_id: int, standard_s: int, actual_s: int) -> None:
        own = self.by_type[type_id]
        del own[bisect.bisect_left(own, float(actual_s))]
        self.type_sums[type_id] -= actual_s
        if standard_s > 0:
            del self.ratios[bisect.bisect_left(self.ratios, actual_s / standard_s)]
            self.ratio_sum -= actual_s / standard_s

    def planning_s(self, type_id: int, standard_s: int, policy: DurationPolicy) -> int:
        own = self.by_type.get(type_id, [])
        if len(own) >= policy.min_jobs:
            mean = self.type_sums[type_id] / len(own)
            return round(max(quantile(own, policy.quantile_pct), mean))
        if len(self.ratios) >= policy.min_jobs:
            mean = self.ratio_sum / len(self.ratios)
            return round(standard_s * max(quantile(self.ratios, policy.quantile_pct), mean))
        return standard_s

    def sample(self, type_id: int, standard_s: int, policy: DurationPolicy) -> Sequence[float]:
        """The sorted durations `planning_s` takes its quantile of: the type's own, else
        the standard times the log's ratios, else none (the standard is planned)."""
        own = self.by_type.get(type_id, [])
        if len(own) >= policy.min_jobs:
            return own
        if len(self.ratios) >= policy.min_jobs:
            return [standard_s * r for r in self.ratios]
        return ()


@dataclass
class DurationLog:
    """Finished jobs' service durations, oldest first; a policy learns from its newest
    ``log_jobs`` of them (kept up to date per window as jobs finish, for the simulator)."""

    jobs: list[tuple[int, int, int]] = field(default_factory=list)
    _windows: dict[int, _Stats] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, jobs: Iterable[tuple[int, int, int]]) -> DurationLog:
        """A log of ``(ticket type id, standard s, actual s)`` jobs, oldest first."""
        log = cls()
        for type_id, standard_s, actual_s in jobs:
            log.add(type_id, standard_s, actual_s)
        return log

    def __len__(self) -> int:
        return len(self.jobs)

    def add(self, type_id: int, standard_s: int, actual_s: int) -> None:
        """One finished job (a job without a positive standard counts for its type only)."""
        if actual_s <= 0:
            return
        self.jobs.append((type_id, standard_s, actual_s))
        for window, stats in self._windows.items():
            stats.add(type_id, standard_s, actual_s)
            if len(self.jobs) > window:
                stats.remove(*self.jobs[-1 - window])

    def _stats(self, window: int) -> _Stats:
        stats = self._windows.get(window)
        if stats is None:
            stats = self._windows[window] = _Stats()
            for job in self.jobs[-window:]:
                stats.add(*job)
        return stats

    def planning_s(self, type_id: int, standard_s: int, policy: DurationPolicy) -> int:
        """The duration to plan a job of this type with (the module docstring's rule)."""
        return self._stats(policy.log_jobs).planning_s(type_id, standard_s, policy)

    def ends_at(
        self, type_id: int, standard_s: int, policy: DurationPolicy, *, started_at: int,
        planned_s: int, now: int,
    ) -> int:  # fmt: skip
        """When a job of this type on site since ``started_at``, planned ``planned_s``,
        ends, seen at ``now``: its planned end, or past it the same quantile among the
        logged jobs that ran longer (`optimizer.overrun_ends`; production's snapshot and
        the simulator's view read a job on site with it)."""
        if not overrun_past(started_at=started_at, planned_s=planned_s, after_s=0, now=now):
            return started_at + planned_s  # the common case: no sample to read
        durations = self._stats(policy.log_jobs).sample(type_id, standard_s, policy)
        return overrun_ends(
            started_at=started_at, planned_s=planned_s, now=now, durations=durations,
            quantile_pct=policy.quantile_pct,
        )  # fmt: skip

    def changes_at(
        self, type_id: int, standard_s: int, policy: DurationPolicy, *, started_at: int,
        planned_s: int, now: int,
    ) -> int | None:  # fmt: skip
        """The first instant after ``now`` at which `ends_at` may read another end for
        this job (`optimizer.overrun_changes_at`; None: never)."""
        if not overrun_past(started_at=started_at, planned_s=planned_s, after_s=0, now=now):
            return started_at + planned_s + 1
        durations = self._stats(policy.log_jobs).sample(type_id, standard_s, policy)
        return overrun_changes_at(
            started_at=started_at, planned_s=planned_s, now=now, durations=durations
        )


__all__ = [
    "DEFAULT_LOG_JOBS",
    "DEFAULT_MIN_JOBS",
    "DEFAULT_QUANTILE_PCT",
    "DurationLog",
    "DurationPolicy",
    "duration_policy",
    "quantile",
]
