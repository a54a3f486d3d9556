"""Capacity advice: the cheapest staff and stock changes that reach promise targets.

A planner asks the reverse of a what-if: *what is the cheapest way to keep 95 % of arrivals
and 90 % of 2-hour swaps?* Engineers and stock buy the same promises and substitute for each
other, so the advice searches both together, and the simulator (the production dispatch on
common random numbers) is the judge of every candidate:

1. Today's world and one candidate move per binding region (more engineers there, more stock
   at a depot) run as variants of one scenario, on the same ticket streams (paired).
2. The move that closes the most shortfall per yuan is kept (greedy marginal analysis); the
   next round starts from it, until every target holds or the rounds run out.
3. Kept moves whose removal keeps every target are dropped again, last first.

A target holds when the lower end of its 95 % interval is at least the target less a
tolerance (1 point by default). The uniform rule a planner would otherwise use (the same
share more engineers in every region and the same stock factor at every depot, stepped up
until the targets hold) runs on the same streams, so the saving is measured, not claimed.
Costs (staff prorated to the horizon, overtime, holding, couriers) are policy data of the
advice file (`AdviceCosts`), with documented defaults that are assumptions to replace.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scenarios.base import build_sim_world, load_world_rows
from scenarios.executors import Executor, run_on
from scenarios.kpis import Estimate
from scenarios.model import SimWorld
from scenarios.records import RunResult
from scenarios.run import build_variants
from scenarios.spec import Change, Engineers, Scenario, ScenarioError, StockLevel, Variant

AttainmentKpi = Literal[
    "respond_attainment",
    "depart_attainment",
    "arrival_attainment",
    "fix_attainment",
    "swap_2h_attainment",
    "ship_8h_attainment",
]
_STOCK_KPIS = {"swap_2h_attainment", "ship_8h_attainment", "fix_attainment"}
_CENT = Decimal("0.01")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Strict):
    """A share of tickets whose clock must be kept, over all tickets or per region."""

    kpi: AttainmentKpi
    share: float = Field(gt=0, le=1)
    scope: str = Field("all", pattern=r"^(all|every_region|region=[a-z0-9_-]+)$")


class AdviceCosts(_Strict):
    """What capacity costs, in the contract currency (defaults are assumptions, not data).

    ``engineer_per_month`` is looked up most specific first: ``<region>/L<level>``,
    ``<region>``, ``L<level>``, then ``default`` (an engineer's level is his best skill).
    """

    currency: str = "CNY"
    engineer_per_month: dict[str, Decimal] = Field(
        default_factory=lambda: {"default": Decimal("12000")}
    )
    # None: each engineer's own labour rules price his overtime (the simulator's rules);
    # a figure here overrides them for the advice.
    overtime_per_hour: Decimal | None = Field(None, ge=0)
    holding_rate_per_year: Decimal = Field(Decimal("0.25"), ge=0, le=5)  # of stock value
    courier_per_shipment: Decimal = Field(Decimal("60"), ge=0)

    @model_validator(mode="after")
    def _default_rate(self) -> AdviceCosts:
        if "default" not in self.engineer_per_month:
            raise ValueError("engineer_per_month: needs a 'default' rate")
        if any(v < 0 for v in self.engineer_per_month.values()):
            raise ValueError("engineer_per_month: rates must be >= 0")
        return self


class AdviceMoves(_Strict):
    """How big one step of each kind of move is."""

    engineer_share: float = Field(0.1, gt=0, le=1)  # of the region's engineers (at least 1)
    stock_factor: float = Field(1.5, gt=1, le=10)  # a depot's stock x this
    regions_per_round: int = Field(3, ge=1, le=50)  # worst regions tried per target and round


class AdviceSpec(_Strict):
    """An advice file: a scenario (its world, horizon and demand), targets and costs."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    scenario: Scenario
    policy: Literal["optimised", "naive"] = "optimised"
    targets: tuple[Target, ...] = Field(min_length=1)
    costs: AdviceCosts = AdviceCosts()
    moves: AdviceMoves = AdviceMoves()
    max_rounds: int = Field(6, ge=0, le=50)
    tolerance: float = Field(0.01, ge=0, le=0.2)  # a target holds at low >= share - this
    uniform: bool = True  # also cost the uniform rule on the same streams


def load_advice(path: Path | str) -> AdviceSpec:
    """Read an advice file; its ``scenario`` is inline or a path relative to the file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(str(path), [("(file)", str(exc))]) from None
    if isinstance(data, dict) and isinstance(data.get("scenario"), str):
        from scenarios.spec import load_scenario

        data = {**data, "scenario": load_scenario(path.parent / data["scenario"])}
    try:
        return AdviceSpec.model_validate(data)
    except ValidationError as exc:
        problems = [
            (".".join(str(p) for p in err["loc"]) or "(file)", err["msg"]) for err in exc.errors()
        ]
        raise ScenarioError(str(path), problems) from None


@dataclass(frozen=True)
class CostBreakdown:
    """What one configuration costs over the scenario's horizon (contract currency)."""

    staff: Decimal
    overtime: Decimal
    holding: Decimal
    courier: Decimal
    engineers: int

    @property
    def total(self) -> Decimal:
        return self.staff + self.overtime + self.holding + self.courier


@dataclass(frozen=True)
class Evaluation:
    """A configuration (changes on top of the base world) as the simulation measured it."""

    label: str
    changes: tuple[Change, ...]
    cost: CostBreakdown
    attainment: Mapping[tuple[str, str], Estimate]  # (kpi, scope) of each expanded target
    volume: Mapping[str, float] = field(default_factory=dict)  # region -> tickets per run

    def shortfall(self, targets: Sequence[Target], tolerance: float) -> float:
        """How far the targets are: per target, the mean's gap plus half the CI low's gap.

        The mean's gap is the signal; the low's gap (half weight) still rewards a move that
        narrows the doubt once the mean is there (a target holds on its low end).
        """
        total = 0.0
        for t in targets:
            want = t.share - tolerance
            estimate = self.attainment.get((t.kpi, t.scope))
            mean, low = (0.0, 0.0) if estimate is None else (estimate.mean, estimate.low)
            total += max(0.0, want - mean) + 0.5 * max(0.0, want - low)
        return total

    def holds(self, targets: Sequence[Target], tolerance: float) -> bool:
        return all(self._low(t) >= t.share - tolerance - 1e-12 for t in targets)

    def _low(self, target: Target) -> float:
        estimate = self.attainment.get((target.kpi, target.scope))
        return 0.0 if estimate is None else estimate.low


@dataclass(frozen=True)
class Step:
    """One kept move: what it changed, what it cost and which shortfall it closed."""

    round: int
    label: str
    change: Change
    cost_delta: Decimal
    shortfall_before: float
    shortfall_after: float
    binding: tuple[str, ...]  # the targets that failed when it was chosen ("kpi@scope")


@dataclass
class Advice:
    """The advised changes, today's and the uniform rule's figures, and every point tried.

    ``today``, ``advised`` and ``uniform`` are measured again on fresh ticket streams (another
    seed than the search's), so the targets are checked on tickets the search never saw.
    """

    spec: AdviceSpec
    targets: tuple[Target, ...]  # every_region expanded
    today: Evaluation
    advised: Evaluation
    steps: list[Step]
    dropped: list[str]
    uniform: Evaluation | None
    uniform_step: int | None  # the uniform rule's step that held in the search (None: none)
    frontier: list[Evaluation] = field(default_factory=list)  # search streams

    @property
    def reached(self) -> bool:
        return self.advised.holds(self.targets, self.spec.tolerance)

    @property
    def uniform_reached(self) -> bool:
        return self.uniform is not None and self.uniform.holds(self.targets, self.spec.tolerance)

    @property
    def saving(self) -> Decimal | None:
        """The advised cost below the uniform rule's, as a fraction of the uniform's.

        None unless both keep every target: a saving that buys less is no saving.
        """
        if not (self.reached and self.uniform_reached) or self.uniform is None:
            return None
        if self.uniform.cost.total == 0:
            return None
        return (self.uniform.cost.total - self.advised.cost.total) / self.uniform.cost.total


# An evaluator runs configurations (label -> changes) on common ticket streams and answers
# their evaluations; ``streams`` 0 are the search's, 1 fresh ones for the final check. The
# real one simulates (`SimulationEvaluator`); tests pass a fake.
Evaluator = Callable[[Mapping[str, tuple[Change, ...]], int], Mapping[str, Evaluation]]


def engineer_rate(costs: AdviceCosts, region: str, level: int) -> Decimal:
    """The monthly cost of one engineer of ``region`` and ``level`` (most specific key)."""
    rates = costs.engineer_per_month
    for key in (f"{region}/L{level}", region, f"L{level}"):
        if key in rates:
            return rates[key]
    return rates["default"]


def staff_cost(world: SimWorld, costs: AdviceCosts, horizon_days: float) -> Decimal:
    """Every engineer's monthly cost, prorated to the horizon (a month = 30 days)."""
    monthly = sum(
        (
            engineer_rate(costs, world.regions[e.region_id], max(e.skills.values(), default=1))
            for e in world.engineers
        ),
        Decimal(0),
    )
    return (monthly * Decimal(str(horizon_days)) / Decimal(30)).quantize(_CENT)


def overtime_cost(world: SimWorld, results: Sequence[RunResult], costs: AdviceCosts) -> Decimal:
    """Mean overtime cost per run: each engineer's hours at his labour rules' rate.

    ``costs.overtime_per_hour``, when set, prices every engineer's hour instead.
    """
    if not results:
        return Decimal(0)
    rate = {
        e.id: e.labour.overtime_cost_per_hour
        if costs.overtime_per_hour is None
        else costs.overtime_per_hour
        for e in world.engineers
    }
    fallback = costs.overtime_per_hour or Decimal(0)
    total = sum(
        (
            Decimal(tally.overtime_s) / Decimal(3600) * rate.get(eid, fallback)
            for r in results
            for eid, tally in r.engineers.items()
        ),
        Decimal(0),
    )
    return (total / len(results)).quantize(_CENT)


def run_costs(
    world: SimWorld,
    results: Sequence[RunResult],
    estimates: Mapping[tuple[str, str], Estimate],
    costs: AdviceCosts,
    horizon_days: float,
) -> CostBreakdown:
    """Staff from the world; overtime, holding and couriers as the runs measured them."""
    value = estimates.get(("inventory_value", "all"))
    shipments = [sum(1 for j in r.jobs if j.source == "shipment") for r in results]
    days = Decimal(str(horizon_days))
    mean_shipments = Decimal(sum(shipments)) / len(shipments) if shipments else Decimal(0)
    return CostBreakdown(
        staff=staff_cost(world, costs, horizon_days),
        overtime=overtime_cost(world, results, costs),
        holding=(
            Decimal(str(value.mean if value else 0.0))
            * costs.holding_rate_per_year
            * days
            / Decimal(365)
        ).quantize(_CENT),
        courier=(mean_shipments * costs.courier_per_shipment).quantize(_CENT),
        engineers=len(world.engineers),
    )


def expand_targets(targets: Sequence[Target], regions: Sequence[str]) -> tuple[Target, ...]:
    """``every_region`` becomes one target per region of the world."""
    out: list[Target] = []
    for t in targets:
        if t.scope == "every_region":
            out.extend(Target(kpi=t.kpi, share=t.share, scope=f"region={r}") for r in regions)
        else:
            out.append(t)
    return tuple(dict.fromkeys(out))


@dataclass(frozen=True)
class Move:
    label: str
    change: Change


def candidate_moves(
    world: SimWorld,
    current: Evaluation,
    targets: Sequence[Target],
    moves: AdviceMoves,
    tolerance: float,
    region_deficit: Callable[[str, str], float | None],
    paid_off: Sequence[str] = (),
) -> tuple[list[Move], tuple[str, ...]]:
    """Moves worth trying now, and the failing targets ("kpi@scope") they are tried for.

    A failing regional target tries its region; a failing overall target tries the regions
    that lose it the most tickets (``region_deficit``: missed share x tickets) and the
    regions where staff already paid off (``paid_off``: a region may still buy the most
    per engineer once it no longer loses the most). Each region tried gets more
    engineers; a failing stock clock (swap, ship, fix) also tries more stock at the
    depots of those regions and at the central warehouse, which pools for every region.
    """
    failing = [t for t in targets if not current.holds([t], tolerance)]
    regions: dict[str, None] = {}
    if any(not t.scope.startswith("region=") for t in failing):
        regions.update(dict.fromkeys(paid_off))
    for t in failing:
        if t.scope.startswith("region="):
            regions[t.scope.removeprefix("region=")] = None
            continue
        ranked = sorted(
            (
                (-deficit, code)
                for code in world.regions.values()
                if (deficit := region_deficit(t.kpi, code)) is not None
            ),
        )
        for _, code in ranked[: moves.regions_per_round]:
            regions[code] = None
    out: list[Move] = []
    for code in regions:
        n = sum(1 for e in world.engineers if world.regions[e.region_id] == code)
        if n == 0:
            continue  # nobody to copy there
        delta = max(1, round(moves.engineer_share * n))
        out.append(Move(f"+{delta} engineer(s) in {code}", Engineers(
            kind="engineers", delta=delta, region=code)))  # fmt: skip
    if any(t.kpi in _STOCK_KPIS for t in failing):
        tried = {world.region_id(code) for code in regions}
        for depot in world.depots:
            # The depots of the regions tried, and the central ones that pool for all.
            if depot.kind == "van" or (depot.kind != "central" and depot.region_id not in tried):
                continue
            out.append(Move(f"stock x{moves.stock_factor:g} at {depot.code}", StockLevel(
                kind="stock_level", depot=depot.code, factor=moves.stock_factor)))  # fmt: skip
    return out, tuple(f"{t.kpi}@{t.scope}" for t in failing)


def uniform_changes(world: SimWorld, moves: AdviceMoves, step: int) -> tuple[Change, ...]:
    """The uniform rule at ``step``: k x share more engineers everywhere, stock x factor^k.

    The same share of every region's engineers, as closely as whole people allow: the
    world's extra engineers (k x share of all, rounded) are shared out in proportion to the
    regions' sizes, largest remainders first (rounding each small region up instead would
    add a 1-engineer region's whole staff again at every step).
    """
    sizes: dict[str, int] = dict.fromkeys(world.regions.values(), 0)
    for e in world.engineers:
        sizes[world.regions[e.region_id]] += 1
    total = sum(sizes.values())
    extra = round(moves.engineer_share * step * total)
    quotas = {code: extra * n / total for code, n in sizes.items()} if total else {}
    shares = {code: math.floor(q) for code, q in quotas.items()}
    by_remainder = sorted(quotas, key=lambda code: (shares[code] - quotas[code], code))
    for code in by_remainder[: extra - sum(shares.values())]:
        shares[code] += 1
    changes: list[Change] = [
        Engineers(kind="engineers", delta=n, region=code) for code, n in shares.items() if n
    ]
    changes.append(StockLevel(kind="stock_level", factor=moves.stock_factor**step))
    return tuple(changes)


def advise(
    spec: AdviceSpec,
    world: SimWorld,
    evaluate: Evaluator,
    *,
    on_round: Callable[[str], None] | None = None,
) -> Advice:
    """Greedy marginal analysis over staff and stock moves, judged by ``evaluate``."""
    say = on_round or (lambda _text: None)
    targets = expand_targets(spec.targets, list(world.regions.values()))
    tol = spec.tolerance

    def search(configs: Mapping[str, tuple[Change, ...]]) -> Mapping[str, Evaluation]:
        return evaluate(configs, 0)

    current = search({"today": ()})["today"]
    frontier = [current]
    kept: list[Move] = []
    steps: list[Step] = []
    for round_no in range(1, spec.max_rounds + 1):
        if current.holds(targets, tol):
            break
        staffed = [m.change.region for m in kept if isinstance(m.change, Engineers)]
        moves, binding = candidate_moves(
            world, current, targets, spec.moves, tol, _region_lookup(current),
            [r for r in staffed if r is not None],
        )  # fmt: skip
        if not moves:
            break
        say(f"round {round_no}: {len(moves)} moves for {', '.join(binding)}")
        kept_changes = tuple(m.change for m in kept)
        tried = search({f"m{i}": (*kept_changes, m.change) for i, m in enumerate(moves)})
        frontier.extend(tried[f"m{i}"] for i in range(len(moves)))
        best = _best_move(moves, tried, current, targets, tol)
        if best is None:
            say(f"round {round_no}: no move closes any shortfall")
            break
        move, after = best
        say(f"round {round_no}: keep {move.label}")
        steps.append(Step(
            round_no, move.label, move.change, after.cost.total - current.cost.total,
            current.shortfall(targets, tol), after.shortfall(targets, tol), binding,
        ))  # fmt: skip
        kept.append(move)
        current = after
    dropped = _prune(kept, current, targets, tol, search, say)
    kept = [m for m in kept if m.label not in dropped]
    configs: dict[str, tuple[Change, ...]] = {
        "today": (), "advised": tuple(m.change for m in kept),
    }  # fmt: skip
    uniform_step = None
    if spec.uniform:
        uniform_step, points = _uniform(spec, world, targets, search, say)
        frontier.extend(points)
        last = uniform_step or max(1, spec.max_rounds)
        configs["uniform"] = uniform_changes(world, spec.moves, last)
    say("check on fresh ticket streams")
    final = evaluate(configs, 1)
    return Advice(
        spec, targets, final["today"], final["advised"], steps, dropped,
        final.get("uniform"), uniform_step, frontier,
    )  # fmt: skip


def _region_lookup(current: Evaluation) -> Callable[[str, str], float | None]:
    """A region's deficit on a clock: its missed share x its tickets (share alone if unknown).

    An overall target is a share of all tickets: a big region at 80 % loses it more
    tickets than a small one at 60 %, and staff there buys more of the target.
    """

    def lookup(kpi: str, region: str) -> float | None:
        estimate = current.attainment.get((kpi, f"region={region}"))
        if estimate is None:
            return None
        return (1.0 - estimate.mean) * current.volume.get(region, 1.0)

    return lookup


def _best_move(
    moves: Sequence[Move],
    tried: Mapping[str, Evaluation],
    current: Evaluation,
    targets: Sequence[Target],
    tol: float,
) -> tuple[Move, Evaluation] | None:
    """The move that closes the most shortfall per unit of cost (free gains first)."""
    before = current.shortfall(targets, tol)
    best: tuple[tuple[int, float], Move, Evaluation] | None = None
    for i, move in enumerate(moves):
        after = tried[f"m{i}"]
        gain = before - after.shortfall(targets, tol)
        if gain <= 1e-9:
            continue
        extra = float(after.cost.total - current.cost.total)
        key = (0, -gain) if extra <= 0 else (1, -gain / extra)
        if best is None or key < best[0]:
            best = (key, move, after)
    return None if best is None else (best[1], best[2])


def _prune(
    kept: Sequence[Move],
    current: Evaluation,
    targets: Sequence[Target],
    tol: float,
    search: Callable[[Mapping[str, tuple[Change, ...]]], Mapping[str, Evaluation]],
    say: Callable[[str], None],
) -> list[str]:
    """Labels of kept moves whose removal (last first) still keeps every target."""
    if not current.holds(targets, tol) or len(kept) < 2:
        return []
    dropped: list[str] = []
    remaining = list(kept)
    for move in reversed(kept):
        trial = [m for m in remaining if m is not move]
        result = search({"without": tuple(m.change for m in trial)})["without"]
        if result.holds(targets, tol):
            say(f"prune: {move.label} is not needed")
            dropped.append(move.label)
            remaining = trial
    return dropped


def _uniform(
    spec: AdviceSpec,
    world: SimWorld,
    targets: Sequence[Target],
    search: Callable[[Mapping[str, tuple[Change, ...]]], Mapping[str, Evaluation]],
    say: Callable[[str], None],
) -> tuple[int | None, list[Evaluation]]:
    """The first step of the uniform rule that keeps every target (all steps in one run)."""
    steps = max(1, spec.max_rounds)
    say(f"uniform rule: {steps} steps")
    tried = search({f"u{k}": uniform_changes(world, spec.moves, k) for k in range(1, steps + 1)})
    points = [tried[f"u{k}"] for k in range(1, steps + 1)]
    for k, point in enumerate(points, start=1):
        if point.holds(targets, spec.tolerance):
            return k, points
    return None, points


class SimulationEvaluator:
    """Runs configurations as variants of the advice's scenario (common random numbers).

    Every call is one scenario run: the configurations become its variants, so they see
    the same ticket streams as each other (paired); the base variant is today's world.
    """

    def __init__(
        self,
        spec: AdviceSpec,
        run: Callable[[Scenario], tuple[Sequence[RunResult], Sequence[Estimate]]],
        *,
        exported: Path | None = None,
    ) -> None:
        self.spec = spec
        self._run = run
        scenario = spec.scenario
        rows = load_world_rows(scenario.base, exported=exported)
        self._base = build_sim_world(rows, scenario.start)

    @property
    def world(self) -> SimWorld:
        return self._base

    def __call__(
        self, configs: Mapping[str, tuple[Change, ...]], streams: int = 0
    ) -> dict[str, Evaluation]:
        spec, names = self.spec, list(configs)
        variants = tuple(
            Variant(name=f"c{i}", changes=configs[n]) for i, n in enumerate(names) if configs[n]
        )
        # Fresh streams: another seed, far from the scenario's own (seeds are per replication).
        seed = spec.scenario.seed + streams * 1_000_003
        scenario = spec.scenario.model_copy(
            update={"variants": variants, "policies": (spec.policy,), "seed": seed}
        )
        results, estimates = self._run(scenario)
        worlds = build_variants(scenario, self._base)
        by_variant: dict[str, dict[tuple[str, str], Estimate]] = defaultdict(dict)
        for e in estimates:
            if e.policy == spec.policy:
                by_variant[e.variant][(e.kpi, e.scope)] = e
        out: dict[str, Evaluation] = {}
        variant_of = {n: f"c{i}" if configs[n] else "base" for i, n in enumerate(names)}
        for name in names:
            variant = variant_of[name]
            runs = [r for r in results if r.variant == variant and r.policy == spec.policy]
            cost = run_costs(
                worlds[variant], runs, by_variant[variant], spec.costs,
                spec.scenario.horizon_days,
            )  # fmt: skip
            volume: Counter[str] = Counter()
            for r in runs:
                volume.update(j.region for j in r.jobs)
            per_run = {code: n / max(1, len(runs)) for code, n in volume.items()}
            out[name] = Evaluation(name, configs[name], cost, by_variant[variant], per_run)
        return out


def scenario_runner(
    executor: Executor, *, exported: Path | None = None
) -> Callable[[Scenario], tuple[Sequence[RunResult], Sequence[Estimate]]]:
    """Run a scenario's units on ``executor`` (serial, process pool or Dask).

    ``exported``: the scratch bundle of a database base (`spares advise` exports it once).
    """

    def run(scenario: Scenario) -> tuple[Sequence[RunResult], Sequence[Estimate]]:
        done = run_on(executor, scenario, exported=exported)
        if done.partial:
            raise KeyboardInterrupt  # an interrupted run: no advice from half the units
        return done.results, done.estimates

    return run


__all__ = [
    "Advice",
    "AdviceCosts",
    "AdviceMoves",
    "AdviceSpec",
    "CostBreakdown",
    "Evaluation",
    "Evaluator",
    "Move",
    "SimulationEvaluator",
    "Step",
    "Target",
    "advise",
    "candidate_moves",
    "engineer_rate",
    "expand_targets",
    "load_advice",
    "overtime_cost",
    "run_costs",
    "scenario_runner",
    "staff_cost",
    "uniform_changes",
]
