"""KPIs of runs, and their means with 95 % confidence intervals over replications.

Every run gives one value per (kpi, scope); a variant x policy then has one value per
replication, and its interval is mean +- t(0.975, n-1) * s / sqrt(n) (Student's t: few
replications). With one replication the interval is the mean itself (n says so).
Attainment KPIs are shares in [0, 1] of the tickets whose policy has that promise;
`promises_kept` counts tickets (every clock that applies kept), not clocks.
Differences between variants are paired by replication (`scenarios.paired`).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats  # type: ignore[import-untyped]  # no stubs for scipy

from scenarios.bounds import REASONS
from scenarios.paired import paired_difference
from scenarios.records import JobRecord, RunResult

# (kpi, scope): scope "all", "severity=urgent", "region=x", "depot=y", "kind=regional" (depots)
Key = tuple[str, str]

UNITS = {
    "promises_kept": "share",
    "promise_attainment": "share",
    "respond_attainment": "share",
    "depart_attainment": "share",
    "arrival_attainment": "share",
    "fix_attainment": "share",
    "ship_8h_attainment": "share",
    "swap_2h_attainment": "share",
    "eta_p50_min": "min",
    "eta_p90_min": "min",
    "eta_p95_min": "min",
    "utilisation": "share",
    "overtime_h": "h",
    "travel_km": "km",
    "fill_rate": "share",
    "stockout_days": "days",
    "inventory_value": "CNY",
    "travel_cost": "CNY",
    "parts_cost": "CNY",
    "warranty_cost": "CNY",
    "charged": "CNY",
    "loaners": "count",
    "loaner_cost": "CNY",
    "callouts": "count",
    "callout_cost": "CNY",
    "total_cost": "CNY",
    "returns_received": "count",
    "returns_repaired": "count",
    "returns_scrapped": "count",
    "returns_backlog": "count",
    "tickets": "count",
    "unassigned": "count",
    "redispatched": "count",
    "diverted": "count",
    "bound_geography": "share",
    "bound_shift": "share",
    "bound_labour": "share",
    "lost_decisions": "share",
    "ran_late": "share",
}
# the time clocks every ticket's contract sets, and their kept-tests (pooled in one share)
TIME_CLOCKS: tuple[tuple[str, Callable[[JobRecord], bool | None]], ...] = (
    ("respond", JobRecord.respond_kept),
    ("depart", JobRecord.depart_kept),
    ("arrival", JobRecord.arrival_kept),
    ("fix", JobRecord.fix_kept),
)
# scenarios.bounds: each clock's kept-test, to split its misses into bounds and decisions
BOUND_CLOCKS = (*TIME_CLOCKS, ("swap", JobRecord.swapped_in_time))


@dataclass(frozen=True, slots=True)
class Estimate:
    """A KPI of one variant and policy over replications."""

    variant: str
    policy: str
    kpi: str
    scope: str
    mean: float
    low: float
    high: float
    n: int
    unit: str
    partial: bool = False


@dataclass(frozen=True, slots=True)
class Difference:
    """A variant's KPI minus the base variant's, paired by replication (same tickets)."""

    variant: str
    base: str
    policy: str
    kpi: str
    scope: str
    mean: float
    low: float
    high: float
    n: int
    unit: str
    significant: bool
    p_value: float | None


def _share(records: Iterable[JobRecord], test: Callable[[JobRecord], bool | None]) -> float | None:
    values = [v for v in (test(r) for r in records) if v is not None]
    return sum(values) / len(values) if values else None


# every promise a ticket can carry: its per-clock attainment KPI and its kept-test
PROMISES: tuple[tuple[str, Callable[[JobRecord], bool | None]], ...] = (
    ("respond_attainment", JobRecord.respond_kept),
    ("depart_attainment", JobRecord.depart_kept),
    ("arrival_attainment", JobRecord.arrival_kept),
    ("fix_attainment", JobRecord.fix_kept),
    ("ship_8h_attainment", JobRecord.shipped_in_time),
    ("swap_2h_attainment", JobRecord.swapped_in_time),
)


def ticket_kept(job: JobRecord) -> bool | None:
    """Every promise that applies to the ticket was kept (None: no promise applies).

    A customer counts a ticket, not its clocks: respond kept but arrival late is a broken
    promise, while the pooled `promise_attainment` would still count half of it as kept.
    """
    judged = [k for _, test in PROMISES if (k := test(job)) is not None]
    return all(judged) if judged else None


def _promise_kpis(jobs: Sequence[JobRecord], scope: str, out: dict[Key, float]) -> None:
    for kpi, test in (*PROMISES, ("promises_kept", ticket_kept)):
        value = _share(jobs, test)
        if value is not None:
            out[(kpi, scope)] = value


def _pooled(jobs: Sequence[JobRecord], out: dict[Key, float]) -> None:
    """Every clock of every ticket in one share (the frontier's "promises kept")."""
    kept = [k for job in jobs for _, test in TIME_CLOCKS if (k := test(job)) is not None]
    if kept:
        out[("promise_attainment", "all")] = sum(kept) / len(kept)


def _bound_kpis(jobs: Sequence[JobRecord], out: dict[Key, float]) -> None:
    """Per clock: the shares no dispatch could keep (by reason) and the misses it could.

    Shares of the tickets with that clock; e.g. 100 arrival clocks, 2 out of geographic
    reach, 5 kept only past the overtime rule, 20 missed of the other 93: bound_geography
    0.02, bound_labour 0.05, lost_decisions 0.20.
    """
    for clock, kept in BOUND_CLOCKS:
        judged = [(job, k) for job in jobs if (k := kept(job)) is not None and job.bounds]
        if not judged:
            continue
        scope, n = f"clock={clock}", len(judged)
        reasons = Counter(job.bounds.get(clock, "") for job, _ in judged)
        for reason in REASONS:
            out[(f"bound_{reason}", scope)] = reasons[reason] / n
        lost = sum(1 for job, k in judged if not k and not job.bounds.get(clock))
        out[("lost_decisions", scope)] = lost / n


# per clock: its deadline and the latest plan's time of its event (`_ran_late`)
PLANNED: tuple[tuple[str, Callable[[JobRecord], tuple[int | None, int | None]]], ...] = (
    ("depart", lambda j: (j.depart_by, j.planned_depart)),
    ("arrival", lambda j: (j.arrive_by, j.planned_arrival)),
    ("fix", lambda j: (j.fix_by, j.planned_fix)),
)


def _ran_late(jobs: Sequence[JobRecord], out: dict[Key, float]) -> None:
    """Per clock: of its misses, the share planned in time that ran late (an overrun, a
    slow drive), e.g. 40 arrival misses, 10 of them planned by the deadline: 0.25."""
    tests = dict(BOUND_CLOCKS)
    for clock, planned in PLANNED:
        missed = [planned(job) for job in jobs if tests[clock](job) is False]
        if missed:
            in_time = sum(1 for by, at in missed if by is not None and at is not None and at <= by)
            out[("ran_late", f"clock={clock}")] = in_time / len(missed)


def run_kpis(result: RunResult) -> dict[Key, float]:
    """Every KPI of one run."""
    jobs = result.jobs
    out: dict[Key, float] = {("tickets", "all"): float(len(jobs))}
    _promise_kpis(jobs, "all", out)
    _pooled(jobs, out)
    _bound_kpis(jobs, out)
    _ran_late(jobs, out)
    for field, scope_of in (("severity", "severity="), ("region", "region=")):
        groups: dict[str, list[JobRecord]] = defaultdict(list)
        for job in jobs:
            groups[getattr(job, field)].append(job)
        for name, group in groups.items():
            _promise_kpis(group, scope_of + name, out)
    etas = [job.eta_s / 60 for job in jobs if job.eta_s is not None]
    if etas:
        for q in (50, 90, 95):
            out[(f"eta_p{q}_min", "all")] = float(np.percentile(etas, q))
    out[("unassigned", "all")] = float(sum(job.engineer_id is None for job in jobs))
    out[("redispatched", "all")] = float(result.redispatched)
    out[("diverted", "all")] = float(result.diverted)
    out[("loaners", "all")] = float(sum(job.loaner for job in jobs))
    out[("callouts", "all")] = float(sum(job.callout for job in jobs))
    for kpi in ("travel_cost", "parts_cost", "warranty_cost", "charged", "loaner_cost",
                "callout_cost"):  # fmt: skip
        out[(kpi, "all")] = float(sum(getattr(job, kpi) for job in jobs))
    # what the service costs the company: travel, the parts fitted (at cost), loans, call-outs
    out[("total_cost", "all")] = sum(out[(k, "all")] for k in _COSTS)
    _people(result, out)
    _stock(result, out)
    _returns(result, out)
    return out


_COSTS = ("travel_cost", "parts_cost", "loaner_cost", "callout_cost")


def _returns(result: RunResult, out: dict[Key, float]) -> None:
    tally = result.returns
    codes = {d: t.code for d, t in result.depots.items()}
    for depot, units in tally.received.items():
        out[("returns_received", f"depot={codes.get(depot, depot)}")] = float(units)
    out[("returns_received", "all")] = float(sum(tally.received.values()))
    out[("returns_repaired", "all")] = float(tally.repaired)
    out[("returns_scrapped", "all")] = float(tally.scrapped)
    out[("returns_backlog", "all")] = float(tally.backlog)


def _people(result: RunResult, out: dict[Key, float]) -> None:
    by_region: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for tally in result.engineers.values():
        by_region[tally.region][0] += tally.busy_s
        by_region[tally.region][1] += tally.shift_s
    for region, (busy, shift) in by_region.items():
        if shift:
            out[("utilisation", f"region={region}")] = busy / shift
    busy = sum(t.busy_s for t in result.engineers.values())
    shift = sum(t.shift_s for t in result.engineers.values())
    out[("utilisation", "all")] = busy / shift if shift else 0.0
    out[("overtime_h", "all")] = sum(t.overtime_s for t in result.engineers.values()) / 3_600
    out[("travel_km", "all")] = sum(t.travel_m for t in result.engineers.values()) / 1_000


def _stock(result: RunResult, out: dict[Key, float]) -> None:
    requests = filled = 0
    by_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for depot in result.depots.values():
        out[("stockout_days", f"depot={depot.code}")] = float(len(depot.stockout_days))
        if depot.requests:
            out[("fill_rate", f"depot={depot.code}")] = depot.filled / depot.requests
        requests += depot.requests
        filled += depot.filled
        by_kind[depot.kind][0] += depot.requests
        by_kind[depot.kind][1] += depot.filled
    for kind, (asked, had) in by_kind.items():
        if asked:  # e.g. kind=regional: the part requests the regional depots filled
            out[("fill_rate", f"kind={kind}")] = had / asked
    if requests:
        out[("fill_rate", "all")] = filled / requests
    out[("stockout_days", "all")] = float(sum(len(d.stockout_days) for d in result.depots.values()))
    if result.inventory_value:
        out[("inventory_value", "all")] = float(sum(result.inventory_value)) / len(
            result.inventory_value
        )


def confidence_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) by Student's t; e.g. [1, 2, 3]: 2 +- 4.303 * 1 / sqrt(3)."""
    n = len(values)
    if n == 0:
        raise ValueError("values: need at least one")
    mean = float(np.mean(values))
    if n == 1:
        return mean, mean, mean
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * float(np.std(values, ddof=1)) / math.sqrt(n)
    return mean, mean - half, mean + half


def kpi_interval(kpi: str, values: Sequence[float]) -> tuple[float, float, float]:
    """`confidence_interval` clipped to what the KPI can be: every KPI here is >= 0 and a
    share is <= 1 (with 3 replications a t-interval of a share easily passes 100 %)."""
    mean, low, high = confidence_interval(values)
    low = max(low, 0.0)
    if UNITS[kpi] == "share":
        high = min(high, 1.0)
    return mean, low, high


def summarise(results: Sequence[RunResult], replications: int | None = None) -> list[Estimate]:
    """Estimates per (variant, policy, kpi, scope) over the replications run.

    An estimate is ``partial`` when one of its runs was cut off, or when fewer than
    ``replications`` of them ran (an interrupted run: `n` says how many did).
    """
    values: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    partial: dict[tuple[str, str], bool] = defaultdict(bool)
    ran: dict[tuple[str, str], set[int]] = defaultdict(set)
    for result in results:
        ran[(result.variant, result.policy)].add(result.replication)
    for result in results:
        key = (result.variant, result.policy)
        partial[key] |= result.partial or (
            replications is not None and len(ran[key]) < replications
        )
        for (kpi, scope), value in run_kpis(result).items():
            values[(result.variant, result.policy, kpi, scope)].append(value)
    out = []
    for (variant, policy, kpi, scope), series in values.items():
        mean, low, high = kpi_interval(kpi, series)
        out.append(
            Estimate(
                variant,
                policy,
                kpi,
                scope,
                mean,
                low,
                high,
                len(series),
                UNITS[kpi],
                partial[(variant, policy)],
            )  # fmt: skip
        )
    return out


def differences(results: Sequence[RunResult], base: str = "base") -> list[Difference]:
    """Every variant against `base` under the same policy, KPI by KPI, paired per replication.

    Only replications where both have the KPI pair up (e.g. a scope without tickets of that
    promise in one replication drops that pair); `n` says how many did.
    """
    by_run = _by_run(results)
    out = []
    for (variant, policy), reps in by_run.items():
        ref = by_run.get((base, policy))
        if variant == base or ref is None:
            continue
        out.extend(_paired(reps, ref, variant, base, policy))
    return out


def reference_policy(results: Sequence[RunResult]) -> str | None:
    """The policy others are compared with: naive when it ran (the baseline), else the first.

    None when fewer than two policies ran: there is nothing to pair.
    """
    policies = list(dict.fromkeys(r.policy for r in results))
    if len(policies) < 2:
        return None
    return "naive" if "naive" in policies else policies[0]


def policy_differences(results: Sequence[RunResult], base_policy: str) -> list[Difference]:
    """Each other policy against `base_policy` on the same variant (same tickets), paired.

    `Difference.base` names the reference policy; `policy` the one compared with it.
    """
    by_run = _by_run(results)
    out = []
    for (variant, policy), reps in by_run.items():
        ref = by_run.get((variant, base_policy))
        if policy == base_policy or ref is None:
            continue
        out.extend(_paired(reps, ref, variant, base_policy, policy))
    return out


def _by_run(results: Sequence[RunResult]) -> dict[tuple[str, str], dict[int, dict[Key, float]]]:
    by_run: dict[tuple[str, str], dict[int, dict[Key, float]]] = defaultdict(dict)
    for result in results:
        by_run[(result.variant, result.policy)][result.replication] = run_kpis(result)
    return by_run


def _paired(
    reps: dict[int, dict[Key, float]],
    ref: dict[int, dict[Key, float]],
    variant: str,
    base: str,
    policy: str,
) -> list[Difference]:
    out = []
    keys = sorted({k for kpis in reps.values() for k in kpis})
    for kpi, scope in keys:
        pairs = [
            (kpis[(kpi, scope)], ref[rep][(kpi, scope)])
            for rep, kpis in sorted(reps.items())
            if rep in ref and (kpi, scope) in kpis and (kpi, scope) in ref[rep]
        ]
        if not pairs:
            continue
        d = paired_difference([v for v, _ in pairs], [b for _, b in pairs])
        out.append(
            Difference(
                variant,
                base,
                policy,
                kpi,
                scope,
                d.mean,
                d.low,
                d.high,
                d.n,
                UNITS[kpi],
                d.significant,
                d.p_value,
            )  # fmt: skip
        )
    return out
