"""Greedy marginal allocation for the two-echelon METRIC model (Sherbrooke's method).

Start with nothing on any shelf; repeatedly add the one unit (at any depot x part, the
central warehouse included) that saves the most expected backorders per unit of money,
until the target is met. Expected backorders are convex in each level, so every point
of the resulting curve is the least backorders for its money (Fox's marginal analysis):
the points form the efficient curve of inventory value against the target metric. A
central unit saves backorders at every regional depot of its part (a shorter central
delay shortens their pipelines); those savings only shrink as levels grow, so a lazy
heap (re-rate a popped unit, put it back if its rate fell) stays exact. Ranked by the
target metric instead (the default), a unit's worth can also rise (a central unit moves a
regional pipeline's mode), so there the lazy heap is a heuristic, checked by brute force.

For the per-depot target (swap-2h), savings at depots that already meet the target count
for nothing, so the money goes to the depots still short of it.

Speed: each regional item keeps its Poisson terms (P(X <= k), P(X > k)) for its current
pipeline in a table (`_Terms`), built by one vectorised call and rebuilt only when a
central unit changes that pipeline; a step then costs list look-ups, not scipy calls.
The tables hold the very floats the scalar calls gave, so the choices are unchanged
(tests/inventory/test_metric_allocate_regression.py pins them).
"""

from __future__ import annotations

import enum
import heapq
from dataclasses import dataclass
from decimal import Decimal

import numpy as np

# scipy ships no type information; pdtr/pdtrc are the Poisson CDF and survival ufuncs.
from scipy.special import pdtr, pdtrc  # type: ignore[import-untyped]

from inventory.metric import (
    Evaluation,
    FloatArray,
    IntArray,
    Metric,
    MetricProblem,
    evaluate,
    expected_backorders,
    fill_rate,
    money,
    pipeline_mean,
    pooled_base_stock,
)

_NO_GAIN = 1e-12  # savings below this are rounding, not stock worth buying
_CENTRAL = -1  # the depot index a central unit carries in the heap


class Rank(enum.StrEnum):
    """What a unit's worth is measured in, per unit of money."""

    TARGET = "target"  # the target metric it gains (bundles of units across a hump)
    BACKORDERS = "backorders"  # expected backorders it saves (Sherbrooke's ranking)


@dataclass(frozen=True, slots=True)
class AllocationParams:
    """The target to reach, on which metric, how units are ranked, a bound on the work."""

    target: float
    metric: Metric = Metric.FILL_RATE
    rank: Rank = Rank.TARGET
    max_units: int = 2_000_000
    # The central warehouse's pooling floor: it keeps at least the base stock whose fill
    # rate for the pooled demand (every resupply and its own customers) reaches this.
    # None: no floor (pure METRIC, which may empty the central shelves).
    central_fill: float | None = None

    def __post_init__(self) -> None:
        if not 0 < self.target < 1:
            raise ValueError(f"target: must be strictly between 0 and 1, got {self.target}")
        for name, kind in (("metric", Metric), ("rank", Rank)):
            try:
                object.__setattr__(self, name, kind(getattr(self, name)))
            except ValueError:
                allowed = ", ".join(m.value for m in kind)
                raise ValueError(f"{name}: one of {allowed}, got {getattr(self, name)!r}") from None
        if self.max_units < 1:
            raise ValueError(f"max_units: must be >= 1, got {self.max_units}")
        if self.central_fill is not None and not 0 < self.central_fill < 1:
            reason = f"must be strictly between 0 and 1, got {self.central_fill}"
            raise ValueError(f"central_fill: {reason}")


@dataclass(frozen=True, slots=True)
class CurvePoint:
    """One point of the efficient curve: money on the shelves against what it buys."""

    units: int
    value: Decimal
    metric: float
    backorders: float


@dataclass(frozen=True)
class Recommendation:
    """Chosen levels, what they achieve, and the curve that led to them."""

    problem: MetricProblem
    params: AllocationParams
    central_levels: IntArray
    levels: IntArray
    reached: bool
    evaluation: Evaluation
    curve_cents: IntArray  # inventory value after each added unit, minor units
    curve_metric: FloatArray
    curve_backorders: FloatArray
    trimmed: Decimal  # taken back after the last step: units the target did not need
    central_floor: IntArray | None = None  # the pooling floor per part (None: no floor)

    @property
    def achieved(self) -> float:
        """The target metric at the chosen levels (the binding depot's, for swap-2h)."""
        if self.params.metric is Metric.SWAP_2H:
            return min(self.evaluation.attainment.values(), default=1.0)
        return self.evaluation.fill_rate

    def as_mapping(self) -> dict[tuple[str, str], int]:
        """{(depot code, sku): level} for every level above zero, central included."""
        p = self.problem
        out = {
            (p.central, sku): int(n)
            for sku, n in zip(p.parts, self.central_levels, strict=True)
            if n
        }
        for i, depot in enumerate(p.depots):
            for j in np.flatnonzero(self.levels[i]):
                out[(depot, p.parts[j])] = int(self.levels[i, j])
        return out

    def curve(self, points: int = 20) -> list[CurvePoint]:
        """At most `points` evenly spaced points of the curve, always with its last one."""
        n = len(self.curve_cents)
        if n == 0:
            return []
        picks = sorted({round(k) for k in np.linspace(0, n - 1, min(points, n))})
        return [
            CurvePoint(
                units=k + 1,
                value=money(int(self.curve_cents[k])),
                metric=float(self.curve_metric[k]),
                backorders=float(self.curve_backorders[k]),
            )
            for k in picks
        ]


class _Terms:
    """One regional item's Poisson terms for its current pipeline, k = 0 .. len - 1.

    Why: the greedy re-rates an item at every pop and moves its level one unit at a time;
    one vectorised scipy call per pipeline (a pipeline only changes when the central level
    of its part moves) replaces two scalar calls per look. The values are the same floats
    the scalar calls give (the same ufunc loop), so the greedy's choices are unchanged.
    """

    __slots__ = ("cdf", "cdf_list", "mu", "sf_list")

    def __init__(self, mu: float, cdf: FloatArray, cdf_list: list[float], sf: list[float]) -> None:
        self.mu = mu
        self.cdf = cdf  # P(X <= k)
        self.cdf_list = cdf_list
        self.sf_list = sf  # P(X > k)

    @classmethod
    def build(cls, mu: float, size: int) -> _Terms:
        """One item's table: one pdtr and one pdtrc call over k = 0 .. size - 1."""
        k = np.arange(size, dtype=np.float64)
        cdf: FloatArray = pdtr(k, mu)
        return cls(mu, cdf, cdf.tolist(), pdtrc(k, mu).tolist())

    def fill(self, s: int) -> float:
        """fill_rate(s, mu) = P(X < s) (0 for s <= 0), as `inventory.metric` computes it."""
        return self.cdf_list[s - 1] if s > 0 else 0.0

    def ebo(self, s: int) -> float:
        """expected_backorders(s, mu), in the same float operations as `inventory.metric`."""
        below = self.sf_list[s - 1] if s > 0 else 1.0
        return max(self.mu * below - float(s) * self.sf_list[s], 0.0)


def _terms_size(mu: float, top: int) -> int:
    """Table length: past the level asked for and a generous tail of the pipeline."""
    return max(top + 1, int(mu + 6.0 * mu**0.5) + 16, 2 * top)


class _State:
    """Levels, pipelines and the running totals the greedy needs, updated per unit."""

    def __init__(self, problem: MetricProblem, params: AllocationParams) -> None:
        p = problem
        self.p, self.params = p, params
        n, m = p.demand.shape
        self.lam0 = p.central_rate
        self.mu0 = pipeline_mean(self.lam0, p.central_lead_days)
        self.s0 = np.zeros(m, dtype=np.int64)
        self.ebo0 = self.mu0.copy()
        self.s = np.zeros((n, m), dtype=np.int64)
        self.mu = pipeline_mean(p.demand, p.transfer_days[:, None] + p.central_lead_days)
        self.ebo = self.mu.copy()
        self.fill = np.zeros((n, m))
        self.direct = np.divide(p.central_demand, self.lam0, out=np.zeros(m), where=self.lam0 > 0)
        self.rows = [np.flatnonzero(p.demand[:, j] > 0) for j in range(m)]
        # Sites: the regional depots, then the central warehouse's own customers.
        self.site_demand = np.append(p.demand.sum(axis=1), p.central_demand.sum())
        self.site_met = np.zeros(n + 1)
        self.cost = np.maximum(p.cost_cents, 1)  # a free part ranks as one minor unit
        self.backorders = float(self.ebo.sum() + (self.direct * self.ebo0).sum())
        self.terms: dict[tuple[int, int], _Terms] = {}
        self.demand_list: list[list[float]] = p.demand.tolist()
        self.cost_list: list[int] = self.cost.tolist()
        self.with_demand = np.flatnonzero(self.site_demand > 0)
        self.inverse_demand: list[float] = [1.0 / d if d > 0 else 0.0 for d in self.site_demand]
        self.short_of: list[float] = (params.target * self.site_demand).tolist()

    def item(self, i: int, j: int, top: int) -> _Terms:
        """Depot i's terms for part j at its current pipeline, valid up to level `top`."""
        mu = float(self.mu[i, j])
        terms = self.terms.get((i, j))
        if terms is None or terms.mu != mu or len(terms.sf_list) <= top:
            terms = self.terms[(i, j)] = _Terms.build(mu, _terms_size(mu, top))
        return terms

    def prefill(self) -> None:
        """Every demanded item's first table, one scipy call per table length (not per item).

        The first rating touches every item; elementwise, a 2-D call gives the same floats.
        """
        ii, jj = np.nonzero(self.p.demand > 0)
        mus = self.mu[ii, jj]
        top = np.minimum(np.floor(mus) + 1, _MAX_BUNDLE)  # the first bundle's last level
        tail = np.floor(mus + 6.0 * np.sqrt(mus)) + 16
        sizes = np.maximum(np.maximum(top + 1, tail), 2 * top).astype(np.int64)
        for size in np.unique(sizes).tolist():
            rows = np.flatnonzero(sizes == size)
            k = np.arange(size, dtype=np.float64)[None, :]
            mu = mus[rows][:, None]
            cdf: FloatArray = pdtr(k, mu)
            cdf_lists, sf_lists = cdf.tolist(), pdtrc(k, mu).tolist()
            for r, row in enumerate(rows.tolist()):
                i, j = int(ii[row]), int(jj[row])
                self.terms[(i, j)] = _Terms(float(mus[row]), cdf[r], cdf_lists[r], sf_lists[r])

    def weight(self, i: int) -> float:
        """`weights()[i]` alone, without building the whole vector."""
        if self.params.metric is Metric.FILL_RATE:
            return 1.0
        return self.inverse_demand[i] if float(self.site_met[i]) < self.short_of[i] else 0.0

    def weights(self) -> FloatArray:
        """What a unit of demand met at each site is worth now.

        Fill rate: every site alike. Swap-2h: a share of the site's own demand, and nothing
        at a site that already meets the target.
        """
        if self.params.metric is Metric.FILL_RATE:
            return np.ones_like(self.site_demand)
        short = self.site_met < self.params.target * self.site_demand
        weights: FloatArray = np.divide(
            short, self.site_demand, out=np.zeros(short.size), where=short
        )
        return weights

    def metric(self) -> float:
        """The metric now: system fill rate, or the worst site's attainment."""
        demand = self.site_demand
        if self.params.metric is Metric.FILL_RATE:
            total = demand.sum()
            return float(self.site_met.sum() / total) if total > 0 else 1.0
        with_demand = self.with_demand
        if not with_demand.size:
            return 1.0
        return float((self.site_met[with_demand] / demand[with_demand]).min())

    def central_effect(self, j: int) -> tuple[float, FloatArray]:
        """One more central unit of part j: the central EBO after, and regional pipelines."""
        ebo0 = max(self.ebo0[j] - float(pdtrc(self.s0[j], self.mu0[j])), 0.0)
        rows = self.rows[j]
        delay = ebo0 / self.lam0[j] if self.lam0[j] > 0 else 0.0
        mu = pipeline_mean(self.p.demand[rows, j], self.p.transfer_days[rows] + delay)
        return ebo0, mu

    def set_regional(self, i: int, j: int, level: int) -> None:
        """Move depot i's level of part j; totals follow."""
        terms = self.item(i, j, level)
        ebo, fill = terms.ebo(level), terms.fill(level)
        self.backorders += ebo - self.ebo[i, j]
        self.site_met[i] += self.p.demand[i, j] * (fill - self.fill[i, j])
        self.s[i, j], self.ebo[i, j], self.fill[i, j] = level, ebo, fill

    def set_central(self, j: int, level: int) -> None:
        """Move the central level of part j; its regional pipelines and totals follow."""
        ebo0 = float(expected_backorders(level, self.mu0[j]))
        rows = self.rows[j]
        delay = ebo0 / self.lam0[j] if self.lam0[j] > 0 else 0.0
        mu = pipeline_mean(self.p.demand[rows, j], self.p.transfer_days[rows] + delay)
        ebo = expected_backorders(self.s[rows, j], mu)
        fill = fill_rate(self.s[rows, j], mu)
        self.backorders += float((ebo - self.ebo[rows, j]).sum())
        self.backorders += float(self.direct[j] * (ebo0 - self.ebo0[j]))
        self.site_met[rows] += self.p.demand[rows, j] * (fill - self.fill[rows, j])
        self.mu[rows, j], self.ebo[rows, j], self.fill[rows, j] = mu, ebo, fill
        direct = fill_rate(level, self.mu0[j]) - fill_rate(self.s0[j], self.mu0[j])
        self.site_met[-1] += self.p.central_demand[j] * float(direct)
        self.s0[j], self.ebo0[j] = level, ebo0

    def step(self, i: int, j: int, units: int) -> None:
        """Add (or, negative, take away) units at (i, j); the central depot is -1."""
        if i == _CENTRAL:
            self.set_central(j, int(self.s0[j]) + units)
        else:
            self.set_regional(i, j, int(self.s[i, j]) + units)


_MAX_BUNDLE = 64  # units bought at once to climb a fill-rate hump (pipelines this deep are rare)


def _regional_worth(state: _State, i: int, j: int) -> tuple[float, int]:
    """(worth per unit, units) of the best next bundle at depot i.

    Backorders: one unit saves P(X > s) (convex, one at a time). Target: a unit fills
    P(X = s) of the demand, which rises up to the pipeline's mode, so a bundle up to the
    mode may be worth more per unit than its first unit (the concave cover of the curve).
    """
    s, mu = int(state.s[i, j]), float(state.mu[i, j])
    if state.params.rank is Rank.BACKORDERS:
        open_ = state.params.metric is Metric.FILL_RATE or state.weight(i) > 0
        return (state.item(i, j, s).sf_list[s] if open_ else 0.0), 1
    weight = state.weight(i) * state.demand_list[i][j]
    if weight == 0:
        return 0.0, 1
    bundle = min(max(1, int(mu) + 1 - s), _MAX_BUNDLE)
    terms = state.item(i, j, s + bundle)
    fill = float(state.fill[i, j])
    if bundle == 1:  # the common case, in scalars: x / 1 is x, so nothing changes
        return weight * (terms.cdf_list[s] - fill), 1
    k = np.arange(1, bundle + 1)
    per_unit = weight * (terms.cdf[s : s + bundle] - fill) / k
    best = int(np.argmax(per_unit))
    return float(per_unit[best]), best + 1


def _central_worth(state: _State, j: int) -> float:
    """Worth of one more central unit: over the regional depots it speeds up, and its own."""
    ebo0, mu = state.central_effect(j)
    rows = state.rows[j]
    w = state.weights()
    if state.params.rank is Rank.BACKORDERS:
        on = w > 0
        saved = (state.ebo[rows, j] - expected_backorders(state.s[rows, j], mu)) @ on[rows]
        return float(saved + on[-1] * state.direct[j] * (state.ebo0[j] - ebo0))
    s_rows = state.s[rows, j]
    met = state.p.demand[rows, j] * (fill_rate(s_rows, mu) - state.fill[rows, j])
    s0, mu0 = state.s0[j], state.mu0[j]
    direct = state.p.central_demand[j] * float(fill_rate(s0 + 1, mu0) - fill_rate(s0, mu0))
    return float(met @ w[rows] + w[-1] * direct)


def _rate(state: _State, i: int, j: int) -> tuple[float, int]:
    """(worth per minor unit of money, units to add) of the next step at (i, j)."""
    if i == _CENTRAL:
        return _central_worth(state, j) / state.cost_list[j], 1
    worth, k = _regional_worth(state, i, j)
    return worth / state.cost_list[j], k


def _initial_heap(state: _State) -> list[tuple[float, int, int]]:
    """Every first step, as (-worth per minor unit, depot, part); central depot is -1."""
    heap: list[tuple[float, int, int]] = []
    state.prefill()
    for i, j in zip(*np.nonzero(state.p.demand > 0), strict=True):
        heap.append((-_rate(state, int(i), int(j))[0], int(i), int(j)))
    for j in np.flatnonzero(state.lam0 > 0).tolist():
        heap.append((-_rate(state, _CENTRAL, j)[0], _CENTRAL, j))
    heapq.heapify(heap)
    return heap


def _floor(state: _State) -> IntArray:
    """The central pooling floor per part (zeros without `central_fill`)."""
    fill = state.params.central_fill
    if fill is None:
        return np.zeros_like(state.s0)
    return pooled_base_stock(state.mu0, fill)


def _trim(state: _State, floor: IntArray) -> int:
    """Take back units the target does not need, dearest first; the money saved (cents).

    The greedy's last steps may overshoot: a bundle bought early can be redundant once
    later units landed. Each removal is kept only if the target still holds.
    """
    saved = 0
    target = state.params.target
    ii, jj = np.nonzero(state.s)
    held = [(i, j) for i, j in zip(ii.tolist(), jj.tolist(), strict=True)]
    held += [(_CENTRAL, j) for j in np.flatnonzero(state.s0 > floor).tolist()]
    held.sort(key=lambda ij: (-int(state.cost[ij[1]]), ij))
    for i, j in held:
        keep = int(floor[j]) if i == _CENTRAL else 0
        while (state.s0[j] if i == _CENTRAL else state.s[i, j]) > keep:
            state.step(i, j, -1)
            if state.metric() < target:
                state.step(i, j, 1)
                break
            saved += int(state.p.cost_cents[j])
    return saved


def allocate(problem: MetricProblem, params: AllocationParams) -> Recommendation:
    """Add the step worth most per money (re-rated when popped) until the target is met."""
    state = _State(problem, params)
    cents: list[int] = []
    metrics: list[float] = []
    backorders: list[float] = []
    value = 0
    floor = _floor(state)
    for j in np.flatnonzero(floor).tolist():  # the pooled base stock first, on the curve too
        for _ in range(int(floor[j])):
            state.step(_CENTRAL, j, 1)
            value += int(problem.cost_cents[j])
            cents.append(value)
            metrics.append(state.metric())
            backorders.append(state.backorders)
    heap = _initial_heap(state)
    while state.metric() < params.target and heap and len(cents) < params.max_units:
        neg_rate, i, j = heapq.heappop(heap)
        rate, units = _rate(state, i, j)
        if rate * state.cost[j] <= _NO_GAIN:
            continue  # nothing left to gain here (its site met the target, or rounding)
        if rate < -neg_rate * (1 - 1e-9):
            heapq.heappush(heap, (-rate, i, j))  # stale: re-rated lower, back in line
            continue
        for _ in range(units):
            state.step(i, j, 1)
            value += int(problem.cost_cents[j])
            cents.append(value)
            metrics.append(state.metric())
            backorders.append(state.backorders)
        heapq.heappush(heap, (-_rate(state, i, j)[0], i, j))
    trimmed = _trim(state, floor) if state.metric() >= params.target else 0
    return Recommendation(
        problem=problem,
        params=params,
        central_levels=state.s0,
        levels=state.s,
        reached=state.metric() >= params.target,
        evaluation=evaluate(problem, state.s0, state.s),
        curve_cents=np.array(cents, dtype=np.int64),
        curve_metric=np.array(metrics, dtype=np.float64),
        curve_backorders=np.array(backorders, dtype=np.float64),
        trimmed=money(trimmed),
        central_floor=floor if params.central_fill is not None else None,
    )
