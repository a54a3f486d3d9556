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
from dataclasses import dataclass, field, replace
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dispatch.calendar import WeeklyShift
from scenarios.advise_screen import KPIS, CheckRow, Prediction, Screener, check_rows
from scenarios.base import build_sim_world, load_world_rows
from scenarios.demand import DAY_S, history_rates, ticket_stream
from scenarios.executors import Executor, run_on
from scenarios.kpis import Estimate
from scenarios.model import SimWorld
from scenarios.records import JobRecord, RunResult
from scenarios.run import build_variants, with_settings
from scenarios.spec import (
    Change,
    Engineers,
    OnCallRoster,
    Scenario,
    ScenarioError,
    ShiftPattern,
    StockLevel,
    Variant,
)
from scenarios.whatif import apply_changes

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
    # an engineer's hour on call (standby, not working time); each call-out is priced by
    # his labour rules' callout_cost, as the simulation counts them
    on_call_per_hour: Decimal = Field(Decimal("8"), ge=0)
    # the premium per worked hour in unsocial hours: from unsocial_start to unsocial_end
    # local every day, and all day on unsocial_weekdays (a late or night shift costs more)
    unsocial_per_hour: Decimal = Field(Decimal("15"), ge=0)
    unsocial_start: str = Field("20:00", pattern=r"^\d{2}:\d{2}$")
    unsocial_end: str = Field("06:00", pattern=r"^\d{2}:\d{2}$")
    unsocial_weekdays: tuple[int, ...] = (5, 6)  # 0 = Monday

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
    # moves simulated per round: the best by the analytic screen (0: simulate every move)
    screened: int = Field(4, ge=0, le=100)
    # each staff move also in these multiples of its step (the screen ranks them per yuan):
    # a step of one engineer in a small region buys less than the simulation can see
    sizes: tuple[int, ...] = Field((1,), min_length=1)
    # also move engineers to the shift the misses call for, and put engineers on call
    rosters: bool = True
    # a move the screen predicts to close less shortfall than this share of the failing
    # targets' 95 % half-width ranks after those that close more: the simulation cannot
    # tell it from noise (0: rank by shortfall per yuan alone)
    visible: float = Field(0.5, ge=0, le=5)
    # with a screen, also try moves combined: the screen's best per yuan (one per region
    # and kind) until their predicted gain is visible, and on-call rosters in every region
    # with misses nobody was at work for (at most this many moves in one; 0: no bundles)
    bundle: int = Field(6, ge=0, le=50)
    # scale the screen's gains per region by what the simulation saw of them (`Calibration`)
    calibrate: bool = True
    # the screen's engineer side averages over at most this many sites a region, the same
    # random ones for every move (0: every site): its cost grows with engineers x sites
    screen_sites: int = Field(200, ge=0, le=1_000_000)

    @model_validator(mode="after")
    def _sizes(self) -> AdviceMoves:
        if any(k < 1 for k in self.sizes) or len(set(self.sizes)) != len(self.sizes):
            raise ValueError("sizes: distinct multiples >= 1")
        return self


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
    on_call: Decimal = Decimal(0)  # standby hours x on_call_per_hour
    callouts: Decimal = Decimal(0)  # simulated call-outs at the labour rules' cost
    unsocial: Decimal = Decimal(0)  # shift hours in unsocial hours x the premium
    # region code -> its part of each figure but holding (stock pools across regions)
    regions: Mapping[str, Mapping[str, Decimal]] = field(default_factory=dict)

    @property
    def total(self) -> Decimal:
        return (
            self.staff + self.overtime + self.holding + self.courier
            + self.on_call + self.callouts + self.unsocial
        )  # fmt: skip


WEEK_HOURS = 168
MISS_REASONS = ("geography", "shift", "labour", "decision")


@dataclass(frozen=True)
class Misses:
    """One clock's misses in one region, per run: why, when and on which product line.

    ``reasons``: geography (nobody could reach the site in time from home), shift (nobody
    at work or on call), labour (only past the overtime rule), decision (keepable, lost to
    the plan or to busy engineers). ``hours`` (local weekly hour, Monday 00-01 first) and
    ``lines`` count the misses capacity can buy: all but geography. A copy of the region's
    first engineers cannot buy a night miss; these say which shift and line would.
    """

    reasons: Mapping[str, float]
    hours: tuple[float, ...] = (0.0,) * WEEK_HOURS
    lines: Mapping[str, float] = field(default_factory=dict)

    @property
    def buyable(self) -> float:
        return sum(v for k, v in self.reasons.items() if k != "geography")


@dataclass(frozen=True)
class Evaluation:
    """A configuration (changes on top of the base world) as the simulation measured it."""

    label: str
    changes: tuple[Change, ...]
    cost: CostBreakdown
    attainment: Mapping[tuple[str, str], Estimate]  # (kpi, scope) of each expanded target
    volume: Mapping[str, float] = field(default_factory=dict)  # region -> tickets per run
    misses: Mapping[tuple[str, str], Misses] = field(default_factory=dict)  # (kpi, region)

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
    also: tuple[Change, ...] = ()  # a combined move's other changes

    @property
    def changes(self) -> tuple[Change, ...]:
        return (self.change, *self.also)


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
    # The step ``uniform`` is (fresh streams): the search's holding step, else the first
    # step that holds on the fresh streams, else the last one tried.
    uniform_checked_step: int | None = None
    # the screen's prediction against the fresh streams' simulation (today, advised and the
    # uniform rule; overall and per region, each target clock it predicts): where it is
    # off by more than 3 points, `CheckRow.why` says why
    screen_accuracy: list[CheckRow] = field(default_factory=list)

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


def roster_cost(
    world: SimWorld, costs: AdviceCosts, horizon_days: float
) -> tuple[Decimal, Decimal]:
    """(on call, unsocial premium) over the horizon, from every engineer's weekly pattern.

    On call: his weekly on-call hours x ``on_call_per_hour``; unsocial: his weekly shift
    hours inside the unsocial hours x ``unsocial_per_hour``; both x horizon / 7 days.
    """
    unsocial = covered_hours(costs.unsocial_start, costs.unsocial_end, range(7))
    unsocial |= {d * 24 + h for d in costs.unsocial_weekdays for h in range(24)}
    standby = worked = 0
    for e in world.engineers:
        standby += len(_hours_of(e.on_call))
        worked += len(_hours_of(e.shifts) & unsocial)
    weeks = Decimal(str(horizon_days)) / Decimal(7)
    return (
        (standby * costs.on_call_per_hour * weeks).quantize(_CENT),
        (worked * costs.unsocial_per_hour * weeks).quantize(_CENT),
    )


def _hours_of(shifts: Sequence[WeeklyShift]) -> set[int]:
    """The local weekly hours a pattern of weekly shifts covers."""
    out: set[int] = set()
    for s in shifts:
        out |= covered_hours(s.starts_at.strftime("%H:%M"), s.ends_at.strftime("%H:%M"),
                             (s.weekday,))  # fmt: skip
    return out


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
    callouts = sum((j.callout_cost for r in results for j in r.jobs), Decimal(0))
    on_call, unsocial = roster_cost(world, costs, horizon_days)
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
        on_call=on_call,
        callouts=(callouts / max(1, len(results))).quantize(_CENT),
        unsocial=unsocial,
        regions=region_costs(world, results, costs, horizon_days),
    )


def region_costs(
    world: SimWorld, results: Sequence[RunResult], costs: AdviceCosts, horizon_days: float
) -> dict[str, dict[str, Decimal]]:
    """Per region: staff, on call, unsocial premium (its engineers), overtime (its
    engineers' hours, per run), call-outs and couriers (its tickets', per run), total, and
    its engineers. Holding is not split: the central warehouse and depots in reach pool
    stock for every region."""
    out: dict[str, dict[str, Decimal]] = {
        code: dict.fromkeys(("staff", "overtime", "on_call", "callouts", "unsocial",
                             "courier", "engineers"), Decimal(0))
        for code in world.regions.values()
    }  # fmt: skip
    for e in world.engineers:
        single = replace(world, engineers=(e,))
        row = out[world.regions[e.region_id]]
        row["staff"] += staff_cost(single, costs, horizon_days)
        on_call, unsocial = roster_cost(single, costs, horizon_days)
        row["on_call"] += on_call
        row["unsocial"] += unsocial
        row["engineers"] += 1
    runs = max(1, len(results))
    rate = {e.id: e.labour.overtime_cost_per_hour if costs.overtime_per_hour is None
            else costs.overtime_per_hour for e in world.engineers}  # fmt: skip
    for r in results:
        for eid, tally in r.engineers.items():
            if tally.region in out:
                hours = Decimal(tally.overtime_s) / Decimal(3600)
                out[tally.region]["overtime"] += hours * rate.get(eid, Decimal(0)) / runs
        for j in r.jobs:
            if j.region in out:
                out[j.region]["callouts"] += j.callout_cost / runs
                if j.source == "shipment":
                    out[j.region]["courier"] += costs.courier_per_shipment / runs
    for row in out.values():
        for key in row:
            if key != "engineers":
                row[key] = row[key].quantize(_CENT)
        row["total"] = sum((v for k, v in row.items() if k != "engineers"), Decimal(0))
    return out


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
    """A candidate: one change, or several tried as one (``also``: a combined move)."""

    label: str
    change: Change
    also: tuple[Change, ...] = ()

    @property
    def changes(self) -> tuple[Change, ...]:
        return (self.change, *self.also)


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
        out.extend(staff_moves(world, current, code, moves, [t.kpi for t in failing]))
    if any(t.kpi in _STOCK_KPIS for t in failing):
        tried = {world.region_id(code) for code in regions}
        for depot in world.depots:
            # The depots of the regions tried, and the central ones that pool for all.
            if depot.kind == "van" or (depot.kind != "central" and depot.region_id not in tried):
                continue
            out.append(Move(f"stock x{moves.stock_factor:g} at {depot.code}", StockLevel(
                kind="stock_level", depot=depot.code, factor=moves.stock_factor)))  # fmt: skip
    return out, tuple(f"{t.kpi}@{t.scope}" for t in failing)


def move_size(world: SimWorld, current: Evaluation, region: str, share: float) -> int:
    """Engineers in one staff move: ``share`` of the staff the region's demand calls for.

    The region's share of the tickets (``current.volume``; its share of the engineers when
    unknown) x all engineers x ``share``, at least 1: a region with 40 % of the tickets
    takes a step eight times one with 5 %, so both moves buy a like share of its misses.
    """
    heads = Counter(world.regions[e.region_id] for e in world.engineers)
    total = sum(current.volume.values())
    weight = current.volume.get(region, 0.0) / total if total else 0.0
    if not total:
        weight = heads[region] / max(1, sum(heads.values()))
    return max(1, round(share * len(world.engineers) * weight))


def shift_patterns(world: SimWorld) -> list[tuple[str, str, tuple[int, ...]]]:
    """The world's weekly patterns of one start and end (start, end, weekdays), by use."""
    seen: Counter[tuple[str, str, tuple[int, ...]]] = Counter()
    for e in world.engineers:
        times = {(s.starts_at, s.ends_at) for s in e.shifts}
        if len(times) == 1:
            ((a, b),) = times
            days = tuple(sorted(s.weekday for s in e.shifts))
            seen[(a.strftime("%H:%M"), b.strftime("%H:%M"), days)] += 1
    return [p for p, _ in seen.most_common()]


def covered_hours(start: str, end: str, weekdays: Sequence[int]) -> set[int]:
    """The local weekly hours (Monday 00-01 = 0) a pattern works, overnight included."""
    a, b = int(start[:2]) * 60 + int(start[3:]), int(end[:2]) * 60 + int(end[3:])
    span = (b - a) % (24 * 60)
    out: set[int] = set()
    for day in weekdays:
        first = day * 24 * 60 + a
        out.update(((first + m) // 60) % WEEK_HOURS for m in range(0, span, 60))
    return out


def staff_moves(
    world: SimWorld, current: Evaluation, region: str, moves: AdviceMoves, kpis: Sequence[str]
) -> list[Move]:
    """A region's staff moves: copies of its engineers, and a targeted one.

    The copies repeat the region's first engineers by id (their skills and shifts); the
    targeted move adds engineers of the product line that misses most, on the world's
    shift pattern that covers the most buyable misses (the hours nobody was at work), so
    a night or weekend miss is not answered with another weekday day shift.
    """
    if not any(world.regions[e.region_id] == region for e in world.engineers):
        return []  # nobody to copy there
    step = move_size(world, current, region, moves.engineer_share)
    out = [Move(f"+{k * step} engineer(s) in {region}", Engineers(
        kind="engineers", delta=k * step, region=region)) for k in moves.sizes]  # fmt: skip
    hours = [0.0] * WEEK_HOURS
    lines: Counter[str] = Counter()
    for kpi in kpis:
        miss = current.misses.get((kpi, region))
        if miss is None:
            continue
        hours = [h + m for h, m in zip(hours, miss.hours, strict=True)]
        lines.update(miss.lines)
    if sum(hours) <= 0:
        return out
    rid = world.region_id(region)
    staffed = {line for e in world.engineers if e.region_id == rid for line in e.skills}
    line = next((ln for ln, _ in lines.most_common() if ln in staffed), None)
    best = max(
        shift_patterns(world),
        key=lambda p: sum(hours[h] for h in covered_hours(*p)),
        default=None,
    )
    if best is None:
        return out
    start, end, days = best
    skill = f" ({line})" if line else ""
    for k in moves.sizes:
        label = f"+{k * step} engineer(s){skill} on {start}-{end} {_days(days)} in {region}"
        out.append(Move(label, Engineers(
            kind="engineers", delta=k * step, region=region, skill=line, start=start,
            end=end, weekdays=days)))  # fmt: skip
    if moves.rosters:
        out.extend(roster_moves(world, region, line, best, hours, step, moves.sizes))
    return out


def roster_moves(
    world: SimWorld,
    region: str,
    line: str | None,
    pattern: tuple[str, str, tuple[int, ...]],
    hours: Sequence[float],
    step: int,
    sizes: Sequence[int],
) -> list[Move]:
    """Moves that buy the hours nobody covers without hiring: engineers of the region
    (of ``line``) moved to ``pattern`` (a late or night shift; some stay on theirs), and
    engineers put on call in the on-call pattern that covers the most missed ``hours``
    (the world's own rosters, or every night 20:00-08:00). Their price is the unsocial
    hours' premium and the standby hours (`roster_cost`), plus the call-outs simulated.
    """
    out: list[Move] = []
    rid = world.region_id(region)
    heads = [e for e in world.engineers if e.region_id == rid]
    movable = [e for e in heads if line is None or line in e.skills]
    start, end, days = pattern
    on_it = tuple(WeeklyShift(d, time.fromisoformat(start), time.fromisoformat(end))
                  for d in sorted(days))  # fmt: skip
    elsewhere = sum(1 for e in movable if e.shifts != on_it)
    skill = f" ({line})" if line else ""
    for k in sizes:
        # enough engineers not on the pattern yet, and someone stays on today's shifts
        if k * step <= elsewhere and k * step < len(movable):
            out.append(Move(
                f"move {k * step} engineer(s){skill} to {start}-{end} {_days(days)} in {region}",
                ShiftPattern(kind="shift_pattern", start=start, end=end, weekdays=days,
                             region=region, skill=line, count=k * step),
            ))  # fmt: skip
    rosters = on_call_patterns(world) + [("20:00", "08:00", tuple(range(7)))]
    a, b, on = max(rosters, key=lambda p: sum(hours[h] for h in covered_hours(*p)))
    if not sum(hours[h] for h in covered_hours(a, b, on)):
        return out
    for k in sizes:
        share = min(1.0, k * step / max(1, len(heads)))
        n = len(heads[:: max(1, round(1 / share))])
        out.append(Move(
            f"{n} engineer(s) on call {a}-{b} {_days(on)} in {region}",
            OnCallRoster(kind="on_call", start=a, end=b, weekdays=on, share=share, region=region),
        ))  # fmt: skip
    return out


def on_call_patterns(world: SimWorld) -> list[tuple[str, str, tuple[int, ...]]]:
    """The world's on-call patterns of one start and end, by use."""
    seen: Counter[tuple[str, str, tuple[int, ...]]] = Counter()
    for e in world.engineers:
        times = {(s.starts_at, s.ends_at) for s in e.on_call}
        if len(times) == 1:
            ((a, b),) = times
            days = tuple(sorted(s.weekday for s in e.on_call))
            seen[(a.strftime("%H:%M"), b.strftime("%H:%M"), days)] += 1
    return [p for p, _ in seen.most_common()]


def miss_reasons(evaluation: Evaluation, target: Target) -> dict[str, float]:
    """A target's misses per run by reason (its region's, or every region's for "all")."""
    region = target.scope.removeprefix("region=") if target.scope != "all" else None
    out = dict.fromkeys(MISS_REASONS, 0.0)
    for (kpi, code), miss in evaluation.misses.items():
        if kpi == target.kpi and region in (None, code):
            for why, n in miss.reasons.items():
                out[why] = out.get(why, 0.0) + n
    return out


def _days(days: Sequence[int]) -> str:
    names = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
    return ",".join(names[d] for d in days)


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


# The analytic screen of a configuration (changes on the base world): `scenarios.advise_screen`
Screen = Callable[[tuple[Change, ...]], Prediction]


@dataclass
class Calibration:
    """What the simulation saw of the screen's predicted gains, per region.

    The screen errs by region and in a fixed direction (BENCHMARKS.md: optimistic by 10-20
    points in Meizhou, Yunfu and Huizhou, whose misses are dispatch decisions it does not
    model), so it kept ranking their moves first round after round, and the simulation kept
    finding them worth a fraction of the prediction. Each simulated move adds its predicted
    and simulated gain (shortfall closed) to its regions (a combined move's shared out);
    a region's factor is (simulated + prior) / (predicted + prior), within [0, 2], the
    prior being the targets' half-width (what one noisy simulation can be off by): one
    move's luck moves it little, a region that keeps delivering a fraction of what the
    screen promised sinks towards that fraction.
    """

    prior: float = 0.01
    predicted: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    simulated: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @staticmethod
    def _regions(move: Move) -> list[str]:
        out = [getattr(c, "region", None) or "*" for c in move.changes]
        return list(dict.fromkeys(out))

    def record(self, move: Move, predicted: float, simulated: float) -> None:
        if predicted <= 0:
            return
        regions = self._regions(move)
        for r in regions:
            self.predicted[r] += predicted / len(regions)
            self.simulated[r] += max(0.0, simulated) / len(regions)

    def factor(self, move: Move) -> float:
        """The mean of its regions' factors (1 where nothing was simulated yet)."""
        regions = self._regions(move)
        return sum(
            min(
                2.0,
                (self.simulated.get(r, 0.0) + self.prior)
                / (self.predicted.get(r, 0.0) + self.prior),
            )  # fmt: skip
            for r in regions
        ) / len(regions)


def screen_rank(
    moves: Sequence[Move],
    kept: tuple[Change, ...],
    current: Evaluation,
    targets: Sequence[Target],
    tol: float,
    screen: Screen,
    world: SimWorld,
    spec: AdviceSpec,
    trust: Calibration | None = None,
    raw: dict[str, float] | None = None,
) -> list[tuple[Move, float, Decimal]]:
    """Moves best first by the screen: (move, gain, cost); with ``moves.bundle``, combined
    moves too (`bundle_moves`).

    ``trust``: what the simulation saw of the screen's gains so far, per region
    (`Calibration`): each gain is scaled by it. ``raw``: filled with each move's gain as
    the screen predicted it (label -> gain), before the scaling.

    The screen's change, not its level, is trusted: a target's predicted mean after a move
    is the simulated mean now plus the screen's difference (the simulator corrects it).
    The cost is the staff (and roster premium) a move adds and the holding of the stock it
    adds, at cost. Moves whose gain the simulation can see (``moves.visible`` x the failing
    targets' half-width, `visible_gain`) come first, by shortfall closed per yuan (free
    gains first); then the rest by gain, largest first (with ``visible`` 0: all per yuan):
    ranked per yuan, free shift moves of +0.2 points filled every batch on the demo world.
    """
    before = screen(kept)
    base = apply_changes(world, kept)
    days = Decimal(str(spec.scenario.horizon_days))
    base_staff = _fixed_cost(base, spec)

    def shortfall(prediction: Prediction) -> float:
        # as `Evaluation.shortfall`, the simulated mean and low end moved by the screen's
        # difference: a target whose mean clears it but whose low end does not still counts
        total = 0.0
        for t in targets:
            sim = current.attainment.get((t.kpi, t.scope))
            now, new = before.get(t.kpi, t.scope), prediction.get(t.kpi, t.scope)
            if sim is None or now is None or new is None:
                continue
            want, moved = t.share - tol, new - now
            total += max(0.0, want - (sim.mean + moved)) + 0.5 * max(0.0, want - (sim.low + moved))
        return total

    start = shortfall(before)

    def judged(move: Move) -> tuple[Move, float, Decimal]:
        after = apply_changes(base, move.changes)
        gain = start - shortfall(screen((*kept, *move.changes)))
        if raw is not None:
            raw[move.label] = gain
        if trust is not None:
            gain *= trust.factor(move)
        cost = _fixed_cost(after, spec) - base_staff
        added = sum(
            (Decimal(q - base.stock.get(k, 0)) * world.parts[k[1]].cost_price
             for k, q in after.stock.items() if q > base.stock.get(k, 0) and k[1] in world.parts),
            Decimal(0),
        )  # fmt: skip
        cost += added * spec.costs.holding_rate_per_year * days / Decimal(365)
        return move, gain, cost

    judged_moves = [judged(m) for m in moves]
    seen = visible_gain(current, targets, tol, spec.moves.visible)
    if spec.moves.bundle:
        extra = bundle_moves(judged_moves, seen, spec.moves.bundle)
        extra += on_call_bundles(world, current, targets, tol, spec.moves, kept)
        judged_moves += [judged(m) for m in extra]

    def key(row: tuple[int, tuple[Move, float, Decimal]]) -> tuple[int, float, int]:
        i, (_, gain, cost) = row
        if gain <= 1e-9:
            return (2, 0.0, i)
        if gain < seen:  # below what the simulation sees: the nearest to it first
            return (1, -gain, i)
        return (0, -(gain / float(cost) if cost > 0 else gain * 1e9), i)

    return [r for _, r in sorted(enumerate(judged_moves), key=key)]


def visible_gain(current: Evaluation, targets: Sequence[Target], tol: float, share: float) -> float:
    """The shortfall a move must close for the simulation to see it: ``share`` x the
    failing targets' mean 95 % half-width (0 when ``share`` is 0 or nothing fails).

    On the demo world one engineer buys a ticket or less a day, a tenth of the interval's
    half-width: ranked per yuan alone, such moves fill every round and none can be told
    from noise.
    """
    widths = [
        (e.high - e.low) / 2
        for t in targets
        if not current.holds([t], tol) and (e := current.attainment.get((t.kpi, t.scope)))
    ]
    return share * sum(widths) / len(widths) if widths and share > 0 else 0.0


def _slot(change: Change) -> tuple[str, str | None]:
    """What a change acts on: one change per slot in a combined move (so a region's move
    at one and three steps are never combined)."""
    where = getattr(change, "region", None) or getattr(change, "depot", None)
    return (type(change).__name__, where)


def bundle_moves(
    judged: Sequence[tuple[Move, float, Decimal]], visible: float, limit: int
) -> list[Move]:
    """One combined move: the screen's best moves per yuan (one per slot, gain > 0) added
    until their predicted gains sum to ``visible`` (or ``limit`` moves); none if fewer
    than two. Moves too small to see alone may be seen together."""
    useful = sorted(
        ((g / float(c) if c > 0 else g * 1e9, i, m, g) for i, (m, g, c) in enumerate(judged)
         if g > 1e-9),
        key=lambda r: (-r[0], r[1]),
    )  # fmt: skip
    chosen: list[Move] = []
    slots: set[tuple[str, str | None]] = set()
    total = 0.0
    for _, _, move, gain in useful:
        if len(chosen) >= limit or (visible > 0 and total >= visible):
            break
        if any(_slot(c) in slots for c in move.changes):
            continue
        chosen.append(move)
        slots.update(_slot(c) for c in move.changes)
        total += gain
    if len(chosen) < 2:
        return []
    changes = tuple(c for m in chosen for c in m.changes)
    label = "together: " + "; ".join(m.label for m in chosen)
    return [Move(label, changes[0], changes[1:])]


def on_call_bundles(
    world: SimWorld,
    current: Evaluation,
    targets: Sequence[Target],
    tol: float,
    moves: AdviceMoves,
    kept: Sequence[Change] = (),
) -> list[Move]:
    """On-call rosters in every region with misses nobody was at work for, as one move
    (at each of ``moves.sizes``): the regions with the most such misses first, at most
    ``moves.bundle``, each in the on-call pattern covering most of its missed hours.

    One region's roster buys a severe ticket or two a week, below what the simulation
    sees; the nights and weekends of many regions together may not be. A region already
    on call (``kept``) is left out.
    """
    kpis = {t.kpi for t in targets if not current.holds([t], tol)}
    already = {c.region for c in kept if isinstance(c, OnCallRoster)}
    by_region: dict[str, list[float]] = {}
    shift: dict[str, float] = defaultdict(float)
    for (kpi, region), miss in current.misses.items():
        if kpi not in kpis or region in already or not miss.reasons.get("shift"):
            continue
        hours = by_region.setdefault(region, [0.0] * WEEK_HOURS)
        by_region[region] = [h + m for h, m in zip(hours, miss.hours, strict=True)]
        shift[region] += miss.reasons["shift"]
    most = sorted(shift, key=lambda c: (-shift[c], c))
    codes = [c for c in most if c in world.regions.values()][: moves.bundle]
    rosters = on_call_patterns(world) + [("20:00", "08:00", tuple(range(7)))]
    heads = Counter(world.regions[e.region_id] for e in world.engineers)
    out: list[Move] = []
    for k in moves.sizes:
        changes: list[Change] = []
        for code in codes:
            if not heads[code]:
                continue
            hours = by_region[code]
            a, b, on = max(rosters, key=lambda p: sum(hours[h] for h in covered_hours(*p)))
            share = min(1.0, k * move_size(world, current, code, moves.engineer_share)
                        / heads[code])  # fmt: skip
            changes.append(OnCallRoster(kind="on_call", start=a, end=b, weekdays=on,
                                        share=share, region=code))  # fmt: skip
        if len(changes) >= 2:
            label = f"on call x{k} in {len(changes)} regions: " + ", ".join(
                c.region or "" for c in changes if isinstance(c, OnCallRoster)
            )
            out.append(Move(label, changes[0], tuple(changes[1:])))
    return out


def _fixed_cost(world: SimWorld, spec: AdviceSpec) -> Decimal:
    """Staff, on-call standby and the unsocial hours' premium: what a roster costs before
    any ticket (the screen's price of a staff, shift or on-call move)."""
    days = spec.scenario.horizon_days
    return staff_cost(world, spec.costs, days) + sum(roster_cost(world, spec.costs, days))


def advise(
    spec: AdviceSpec,
    world: SimWorld,
    evaluate: Evaluator,
    *,
    on_round: Callable[[str], None] | None = None,
    screen: Screen | None = None,
) -> Advice:
    """Greedy marginal analysis over staff and stock moves, judged by ``evaluate``.

    With ``screen``, each round simulates only the ``moves.screened`` moves the analytic
    screen ranks best (`screen_rank`); the simulation still chooses among them.
    """
    say = on_round or (lambda _text: None)
    targets = expand_targets(spec.targets, list(world.regions.values()))
    tol = spec.tolerance

    def search(configs: Mapping[str, tuple[Change, ...]]) -> Mapping[str, Evaluation]:
        return evaluate(configs, 0)

    current = search({"today": ()})["today"]
    frontier = [current]
    kept: list[Move] = []
    steps: list[Step] = []
    trust = Calibration()
    raw: dict[str, float] = {}
    for round_no in range(1, spec.max_rounds + 1):
        if current.holds(targets, tol):
            break
        staffed = [c.region for m in kept for c in m.changes if isinstance(c, Engineers)]
        moves, binding = candidate_moves(
            world, current, targets, spec.moves, tol, _region_lookup(current),
            [r for r in staffed if r is not None],
        )  # fmt: skip
        if not moves:
            break
        say(f"round {round_no}: {len(moves)} moves for {', '.join(binding)}")
        kept_changes = tuple(c for m in kept for c in m.changes)
        batches = [moves]
        if screen is not None and 0 < spec.moves.screened < len(moves):
            trust.prior = max(0.005, visible_gain(current, targets, tol, 1.0))
            ranked = screen_rank(moves, kept_changes, current, targets, tol, screen, world,
                                 spec, trust if spec.moves.calibrate else None, raw)  # fmt: skip
            order = [m for m, _, _ in ranked]
            seen = visible_gain(current, targets, tol, spec.moves.visible)
            best4 = "; ".join(f"{m.label} ({100 * g:+.1f} pts, {c:,.0f})"
                              for m, g, c in ranked[:4])  # fmt: skip
            say(f"round {round_no}: screened {len(ranked)} moves, visible from "
                f"{100 * seen:.1f} points; best: {best4}")  # fmt: skip
            size = spec.moves.screened
            batches = [order[i : i + size] for i in range(0, len(order), size)]
        best = None
        for batch_no, batch in enumerate(batches):
            # the screen's best first; the next batch only when none of these closes shortfall
            if len(batches) > 1:
                which = "best" if batch_no == 0 else "next"
                say(f"round {round_no}: the screen's {which} {len(batch)} of {len(order)}: "
                    + "; ".join(m.label for m in batch))  # fmt: skip
            tried = search({f"m{i}": (*kept_changes, *m.changes) for i, m in enumerate(batch)})
            frontier.extend(tried[f"m{i}"] for i in range(len(batch)))
            for i, m in enumerate(batch):
                if m.label in raw:
                    done = tried[f"m{i}"]
                    gain = current.shortfall(targets, tol) - done.shortfall(targets, tol)
                    trust.record(m, raw[m.label], gain)
            seen = visible_gain(current, targets, tol, spec.moves.visible)
            best = _best_move(batch, tried, current, targets, tol, seen)
            if best is not None or batch_no >= 1:
                break  # two batches at most: past them the screen sees no buy either
        if best is None:
            say(f"round {round_no}: no move closes any shortfall")
            break
        move, after = best
        say(f"round {round_no}: keep {move.label}")
        steps.append(Step(
            round_no, move.label, move.change, after.cost.total - current.cost.total,
            current.shortfall(targets, tol), after.shortfall(targets, tol), binding, move.also,
        ))  # fmt: skip
        kept.append(move)
        current = after
    dropped = _prune(kept, current, targets, tol, search, say)
    kept = [m for m in kept if m.label not in dropped]
    configs: dict[str, tuple[Change, ...]] = {
        "today": (), "advised": tuple(c for m in kept for c in m.changes),
    }  # fmt: skip
    uniform_step = None
    candidates: list[int] = []  # the uniform rule's steps checked on the fresh streams
    if spec.uniform:
        uniform_step, points = _uniform(spec, world, targets, search, say)
        frontier.extend(points)
        # No step held on the search's streams: check them all on the fresh ones and
        # compare with the first that holds there, as the advice itself is judged, rather
        # than with the last (the dearest) step.
        candidates = [uniform_step] if uniform_step else list(range(1, max(1, spec.max_rounds) + 1))
        for k in candidates:
            configs[f"uniform_{k}"] = uniform_changes(world, spec.moves, k)
    say("check on fresh ticket streams")
    final = evaluate(configs, 1)
    checked = next(
        (k for k in candidates if final[f"uniform_{k}"].holds(targets, spec.tolerance)),
        candidates[-1] if candidates else None,
    )
    accuracy: list[CheckRow] = []
    if screen is not None:  # the check: within 3 points, or where and why not
        kpis = [k for k in KPIS if any(t.kpi == k for t in targets)]
        compared = ["today", "advised", *([] if checked is None else [f"uniform_{checked}"])]
        for label in compared:
            accuracy += check_rows(label, screen(configs[label]), final[label], kpis)
    return Advice(
        spec, targets, final["today"], final["advised"], steps, dropped,
        None if checked is None else final[f"uniform_{checked}"], uniform_step, frontier,
        checked, accuracy,
    )  # fmt: skip


def _region_lookup(current: Evaluation) -> Callable[[str, str], float | None]:
    """A region's deficit on a clock: the misses capacity can buy (all but those out of
    geographic reach) per run; without a miss profile, its missed share x its tickets.

    An overall target is a share of all tickets: a big region at 80 % loses it more
    tickets than a small one at 60 %, and staff there buys more of the target; a region
    whose misses are all out of reach of every home buys nothing with more of them.
    """

    def lookup(kpi: str, region: str) -> float | None:
        estimate = current.attainment.get((kpi, f"region={region}"))
        if estimate is None:
            return None
        if current.misses:  # what staff or stock can buy: misses out of reach are not
            miss = current.misses.get((kpi, region))
            return 0.0 if miss is None else miss.buyable
        return (1.0 - estimate.mean) * current.volume.get(region, 1.0)

    return lookup


def _best_move(
    moves: Sequence[Move],
    tried: Mapping[str, Evaluation],
    current: Evaluation,
    targets: Sequence[Target],
    tol: float,
    visible: float = 0.0,
) -> tuple[Move, Evaluation] | None:
    """The move that closes the most shortfall per unit of cost (free gains first).

    With ``visible`` > 0, a move that closed less shortfall than that ranks after every
    move that closed more: a free move's +0.3 points is as likely noise as a gain, and
    would otherwise always be kept first.
    """
    before = current.shortfall(targets, tol)
    best: tuple[tuple[int, int, float], Move, Evaluation] | None = None
    for i, move in enumerate(moves):
        after = tried[f"m{i}"]
        gain = before - after.shortfall(targets, tol)
        if gain <= 1e-9:
            continue
        extra = float(after.cost.total - current.cost.total)
        seen = 0 if gain >= visible else 1
        key = (seen, 0, -gain) if extra <= 0 else (seen, 1, -gain / extra)
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
        result = search({"without": tuple(c for m in trial for c in m.changes)})["without"]
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
        self._history = history_rates(rows.tables) if scenario.demand.from_history else {}
        self._screener: Screener | None = None

    @property
    def world(self) -> SimWorld:
        """Today's world of the question: the base with the scenario's `world_changes`
        (the moves are sized and the uniform rule scaled on it)."""
        return with_settings(self.spec.scenario, self._base)

    def screen(self, changes: tuple[Change, ...]) -> Prediction:
        """The analytic screen's prediction for changes on the base world (milliseconds to
        seconds, no simulation): the scenario's settings, then the changes."""
        if self._screener is None:
            horizon = round(self.spec.scenario.horizon_days * DAY_S)
            sites = self.spec.moves.screen_sites or None
            self._screener = Screener(self.spec.scenario.demand, horizon, sites)
        world = apply_changes(with_settings(self.spec.scenario, self._base), changes)
        return self._screener(world)

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
            misses = miss_profile(runs, self._lines(scenario), self._base.epoch.weekday())
            out[name] = Evaluation(name, configs[name], cost, by_variant[variant], per_run, misses)
        return out

    def _lines(self, scenario: Scenario) -> dict[int, dict[int, str]]:
        """Replication -> ticket id -> product line, from the runs' common streams."""
        horizon = round(scenario.horizon_days * DAY_S)
        return {
            rep: {
                t.id: t.line
                for t in ticket_stream(
                    self._base,
                    scenario.demand,
                    horizon_s=horizon,
                    seed=scenario.seed,
                    replication=rep,
                    history=self._history,
                )  # fmt: skip
            }
            for rep in range(scenario.replications)
        }


# kpi -> (the record's kept test, its clock in JobRecord.bounds)
_CLOCK_OF: dict[str, tuple[Callable[[JobRecord], bool | None], str]] = {
    "depart_attainment": (JobRecord.depart_kept, "depart"),
    "arrival_attainment": (JobRecord.arrival_kept, "arrival"),
    "fix_attainment": (JobRecord.fix_kept, "fix"),
    "swap_2h_attainment": (JobRecord.swapped_in_time, "swap"),
}


def miss_profile(
    runs: Sequence[RunResult], lines: Mapping[int, Mapping[int, str]], epoch_weekday: int
) -> dict[tuple[str, str], Misses]:
    """Per (kpi, region): the misses per run by reason, local weekly hour and line."""
    if not runs:
        return {}
    reasons: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    hours: dict[tuple[str, str], list[float]] = defaultdict(lambda: [0.0] * WEEK_HOURS)
    by_line: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for run in runs:
        line_of = lines.get(run.replication, {})
        for job in run.jobs:
            for kpi, (kept, clock) in _CLOCK_OF.items():
                if kept(job) is not False:
                    continue
                key = (kpi, job.region)
                why = job.bounds.get(clock) or "decision"
                reasons[key][why] += 1
                if why == "geography":
                    continue
                day = (epoch_weekday + job.reported_at // DAY_S) % 7
                hours[key][day * 24 + (job.reported_at % DAY_S) // 3_600] += 1
                if job.ticket_id in line_of:
                    by_line[key][line_of[job.ticket_id]] += 1
    n = len(runs)
    return {
        key: Misses(
            {r: c / n for r, c in counts.items()},
            tuple(h / n for h in hours[key]),
            {ln: c / n for ln, c in by_line[key].items()},
        )
        for key, counts in reasons.items()
    }


def scenario_runner(
    executor: Executor,
    *,
    exported: Path | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Callable[[Scenario], tuple[Sequence[RunResult], Sequence[Estimate]]]:
    """Run a scenario's units on ``executor`` (serial, process pool or Dask).

    ``exported``: the scratch bundle of a database base (`spares advise` exports it once).
    ``progress(done, total)``: after each finished unit (a replication of a variant), so a
    long advice run says where it is.
    """

    def run(scenario: Scenario) -> tuple[Sequence[RunResult], Sequence[Estimate]]:
        tick = None if progress is None else (lambda done, total, _a, _b: progress(done, total))
        done = run_on(executor, scenario, exported=exported, progress=tick)
        if done.partial:
            raise KeyboardInterrupt  # an interrupted run: no advice from half the units
        return done.results, done.estimates

    return run


__all__ = [
    "Advice",
    "AdviceCosts",
    "AdviceMoves",
    "AdviceSpec",
    "Calibration",
    "CostBreakdown",
    "Evaluation",
    "Evaluator",
    "Misses",
    "Move",
    "Screen",
    "SimulationEvaluator",
    "Step",
    "Target",
    "advise",
    "bundle_moves",
    "candidate_moves",
    "covered_hours",
    "engineer_rate",
    "expand_targets",
    "load_advice",
    "miss_profile",
    "miss_reasons",
    "move_size",
    "on_call_bundles",
    "on_call_patterns",
    "overtime_cost",
    "roster_cost",
    "roster_moves",
    "run_costs",
    "scenario_runner",
    "screen_rank",
    "shift_patterns",
    "staff_moves",
    "staff_cost",
    "uniform_changes",
    "visible_gain",
]
