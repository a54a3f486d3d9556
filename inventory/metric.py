"""Two-echelon METRIC (Sherbrooke): base-stock levels for repairable-style spare parts.

Pure: numpy and scipy only, no database, clock or global random state. Demand for a part
at a depot is Poisson (a rate per day); every depot follows a one-for-one (base-stock)
policy, so by Palm's theorem the number of units in its resupply pipeline is Poisson with
mean rate x lead time, whatever the lead-time distribution. Regional depots are resupplied
by the central warehouse; the central warehouse by the part's supplier. A regional
pipeline is its transport time plus the expected delay at the central warehouse,
EBO_central(s0) / demand_central (Little's law); METRIC then treats that pipeline as
Poisson again (the approximation; Graves's negative binomial refines it).

`inventory.metric_allocate` chooses the levels; this module describes the problem and
evaluates any set of levels. Money is exact: unit costs are Decimal, sums are integer
minor units; the probability math is float.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

# scipy ships no type information; pdtr/pdtrc are the Poisson CDF and survival ufuncs.
from scipy.special import pdtr, pdtrc  # type: ignore[import-untyped]

from inventory.metric_kind import Metric as Metric  # defined apart: the CLI offers it cheaply

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
MINOR_UNITS = 100  # costs are money with at most two decimals (Numeric(12, 2) in the ORM)


def pipeline_mean(rate: npt.ArrayLike, lead_days: npt.ArrayLike) -> FloatArray:
    """Palm's theorem: units in resupply are Poisson with mean rate x lead time."""
    return np.asarray(np.multiply(rate, lead_days), dtype=np.float64)


def _sf(k: npt.ArrayLike, mu: npt.ArrayLike) -> FloatArray:
    """P(X > k) for X ~ Poisson(mu); 1 for k < 0 (scipy answers nan there)."""
    k_arr = np.asarray(k, dtype=np.float64)
    out = pdtrc(np.maximum(k_arr, 0.0), mu)
    return np.asarray(np.where(k_arr < 0, 1.0, out), dtype=np.float64)


def expected_backorders(s: npt.ArrayLike, mu: npt.ArrayLike) -> FloatArray:
    """EBO(s) = E[(X - s)+] = mu P(X >= s) - s P(X > s), X ~ Poisson(mu)."""
    s_arr = np.asarray(s, dtype=np.float64)
    ebo = np.asarray(mu, dtype=np.float64) * _sf(s_arr - 1, mu) - s_arr * _sf(s_arr, mu)
    return np.asarray(np.maximum(ebo, 0.0), dtype=np.float64)  # cancellation far in the tail


def fill_rate(s: npt.ArrayLike, mu: npt.ArrayLike) -> FloatArray:
    """P(X < s): by PASTA, the share of demands that find a unit on the shelf."""
    s_arr = np.asarray(s, dtype=np.float64)
    cdf = pdtr(np.maximum(s_arr - 1, 0.0), mu)
    return np.asarray(np.where(s_arr <= 0, 0.0, cdf), dtype=np.float64)


def pooled_base_stock(mu: npt.ArrayLike, fill: float) -> IntArray:
    """The least level whose fill rate P(X < s) reaches `fill`, per pipeline mean.

    Why: the central warehouse pools every region's demand (it resupplies the regional
    depots and ships what their shelves lack), so it keeps the base stock of that pooled
    demand over its own supplier lead time, whatever the regional shelves hold.
    """
    if not 0 < fill < 1:
        raise ValueError(f"fill: must be strictly between 0 and 1, got {fill}")
    mus = np.atleast_1d(np.asarray(mu, dtype=np.float64))
    out = np.zeros(mus.shape, dtype=np.int64)
    for n, m in enumerate(mus.tolist()):
        if m > 0:
            k = np.arange(int(m + 10.0 * m**0.5) + 20, dtype=np.float64)
            out[n] = int(np.argmax(pdtr(k, m) >= fill)) + 1  # P(X <= s - 1) >= fill
    return out


def regional_pipeline(
    rate: npt.ArrayLike,
    transfer_days: npt.ArrayLike,
    central_ebo: npt.ArrayLike,
    central_rate: npt.ArrayLike,
) -> FloatArray:
    """METRIC: a regional pipeline is rate x (transport + EBO_central / demand_central)."""
    lam0 = np.asarray(central_rate, dtype=np.float64)
    delay = np.divide(central_ebo, lam0, out=np.zeros_like(lam0), where=lam0 > 0)
    return pipeline_mean(rate, np.add(transfer_days, delay))


def optimal_base_stock(mu: float, holding: float, backorder: float) -> int:
    """The single-site base stock of least holding + backorder cost, by marginal analysis.

    One more unit costs `holding` on the P(X <= s) of the time it sits on the shelf and
    saves `backorder` on the P(X > s) it fills; stop at the first unit that does not pay.
    """
    if not mu > 0:
        raise ValueError(f"mu: must be > 0, got {mu}")
    if not holding > 0 or not backorder > 0:
        raise ValueError("holding, backorder: costs must be > 0")
    s = 0
    while True:
        saves = float(_sf(s, mu))
        if backorder * saves <= holding * (1 - saves):
            return s
        s += 1


def money(cents: int) -> Decimal:
    """Minor units back to money with two decimals (Decimal, exact)."""
    return Decimal(int(cents)).scaleb(-2)


def _cents(value: Decimal, where: str) -> int:
    if not isinstance(value, Decimal) or not value.is_finite() or value < 0:
        raise ValueError(f"{where}: must be a non-negative finite Decimal, got {value!r}")
    scaled = value * MINOR_UNITS
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{where}: at most two decimal places, got {value}")
    return int(scaled)


def _array(values: npt.ArrayLike, shape: tuple[int, ...], name: str) -> FloatArray:
    arr = np.array(values, dtype=np.float64)
    if arr.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name}: every value must be finite and >= 0")
    arr.flags.writeable = False
    return arr


@dataclass(frozen=True)
class MetricProblem:
    """One central warehouse feeding regional depots, for a set of parts.

    Rates are demands per day; lead times days. `demand[i, j]` is part j at regional depot
    i; `central_demand[j]` is demand the central warehouse serves itself (customers with
    no regional depot). `transfer_days` is per regional depot (central -> depot transport).
    """

    central: str
    depots: tuple[str, ...]
    parts: tuple[str, ...]
    unit_costs: tuple[Decimal, ...]
    demand: FloatArray
    central_demand: FloatArray
    central_lead_days: FloatArray
    transfer_days: FloatArray
    cost_cents: IntArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n, m = len(self.depots), len(self.parts)
        for name, codes in (("depots", self.depots), ("parts", self.parts)):
            if len(set(codes)) != len(codes):
                raise ValueError(f"{name}: codes must be unique")
        if self.central in self.depots:
            raise ValueError("central: must not also be a regional depot")
        if len(self.unit_costs) != m:
            raise ValueError(f"unit_costs: expected {m} values, got {len(self.unit_costs)}")
        cents = [_cents(c, f"unit_costs.{k}") for k, c in enumerate(self.unit_costs)]
        set_ = object.__setattr__  # frozen: normalise once, here
        set_(self, "cost_cents", np.array(cents, dtype=np.int64).reshape(m))
        set_(self, "demand", _array(self.demand, (n, m), "demand"))
        set_(self, "central_demand", _array(self.central_demand, (m,), "central_demand"))
        set_(self, "central_lead_days", _array(self.central_lead_days, (m,), "central_lead_days"))
        set_(self, "transfer_days", _array(self.transfer_days, (n,), "transfer_days"))

    @property
    def central_rate(self) -> FloatArray:
        """Demand on the central warehouse: its own plus every regional resupply."""
        return np.asarray(self.demand.sum(axis=0) + self.central_demand, dtype=np.float64)

    def value(self, central_levels: IntArray, levels: IntArray) -> Decimal:
        """Inventory value of the levels at unit cost, exact."""
        units = np.asarray(levels, dtype=np.int64).sum(axis=0) + np.asarray(central_levels)
        return money(int(units @ self.cost_cents))


@dataclass(frozen=True)
class Evaluation:
    """What a set of levels achieves (Sherbrooke's measures) and what it costs."""

    value: Decimal
    backorders: float  # expected customer backorders at any moment (the METRIC objective)
    fill_rate: float  # all demand met at once from a shelf, demand-weighted
    attainment: dict[str, float]  # per depot (and the central one's own customers)
    central_ebo: FloatArray
    regional_fill: FloatArray
    # Ship-8h at the central warehouse: the share of what it is asked for (resupplies, the
    # regional shelves' misses, its own customers) it can ship at once, demand-weighted.
    central_fill: float = 1.0


def evaluate(
    problem: MetricProblem, central_levels: npt.ArrayLike, levels: npt.ArrayLike
) -> Evaluation:
    """Evaluate base-stock levels (central per part, regional per depot x part)."""
    s0 = _levels(central_levels, (len(problem.parts),), "central_levels")
    s = _levels(levels, problem.demand.shape, "levels")
    lam0 = problem.central_rate
    mu0 = pipeline_mean(lam0, problem.central_lead_days)
    ebo0 = expected_backorders(s0, mu0)
    mu = regional_pipeline(problem.demand, problem.transfer_days[:, None], ebo0, lam0)
    regional_fill = fill_rate(s, mu)
    direct_share = np.divide(problem.central_demand, lam0, out=np.zeros_like(lam0), where=lam0 > 0)
    backorders = float(expected_backorders(s, mu).sum() + (direct_share * ebo0).sum())
    central_fill = fill_rate(s0, mu0)
    met = (problem.demand * regional_fill).sum() + (problem.central_demand * central_fill).sum()
    total = problem.demand.sum() + problem.central_demand.sum()
    attainment = {
        code: _ratio(problem.demand[i] @ regional_fill[i], problem.demand[i].sum())
        for i, code in enumerate(problem.depots)
    }
    if problem.central_demand.sum() > 0:
        attainment[problem.central] = _ratio(
            problem.central_demand @ central_fill, problem.central_demand.sum()
        )
    return Evaluation(
        value=problem.value(s0, s),
        backorders=backorders,
        fill_rate=_ratio(met, total),
        attainment=attainment,
        central_ebo=ebo0,
        regional_fill=regional_fill,
        central_fill=_ratio(lam0 @ central_fill, lam0.sum()),
    )


def _ratio(num: Any, den: Any) -> float:
    """A demand-weighted share; no demand at all is a met target (nothing can be missed)."""
    return float(num / den) if den > 0 else 1.0


def _levels(values: npt.ArrayLike, shape: tuple[int, ...], name: str) -> IntArray:
    arr = np.asarray(values)
    if arr.shape != shape:
        raise ValueError(f"{name}: expected shape {shape}, got {arr.shape}")
    if arr.size and (np.any(arr < 0) or not np.all(np.equal(np.mod(arr, 1), 0))):
        raise ValueError(f"{name}: levels must be whole numbers >= 0")
    return arr.astype(np.int64)


def problem_from_rows(
    *,
    central: str,
    depots: Sequence[tuple[str, float]],
    parts: Sequence[tuple[str, Decimal, float]],
    demand: dict[tuple[str, str], float],
) -> MetricProblem:
    """Build a problem from plain rows: (depot, transfer days), (sku, cost, supplier days).

    `demand` maps (depot code, sku) to demands per day; the central code is allowed there.
    """
    d_index = {code: i for i, (code, _) in enumerate(depots)}
    p_index = {sku: j for j, (sku, _, _) in enumerate(parts)}
    rates = np.zeros((len(depots), len(parts)))
    central_rates = np.zeros(len(parts))
    for (depot, sku), rate in demand.items():
        if sku not in p_index:
            raise ValueError(f"demand: unknown part {sku!r}")
        if depot == central:
            central_rates[p_index[sku]] += rate
        elif depot in d_index:
            rates[d_index[depot], p_index[sku]] += rate
        else:
            raise ValueError(f"demand: unknown depot {depot!r}")
    return MetricProblem(
        central=central,
        depots=tuple(code for code, _ in depots),
        parts=tuple(sku for sku, _, _ in parts),
        unit_costs=tuple(cost for _, cost, _ in parts),
        demand=rates,
        central_demand=central_rates,
        central_lead_days=np.array([days for _, _, days in parts], dtype=np.float64),
        transfer_days=np.array([days for _, days in depots], dtype=np.float64),
    )
