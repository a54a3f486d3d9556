"""A whole scenario: replications x variants x policies, on common random numbers.

Per replication the ticket stream is drawn once from the base world; every variant (the
base first, then the file's variants) and every policy runs on that same stream (a surge
only adds its extra tickets). An interrupted run (Ctrl-C) ends the scenario there: what
ran is returned, the interrupted run is marked partial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from scenarios.base import build_sim_world, load_world_rows
from scenarios.demand import DAY_S, DemandTicket, history_rates, surge_tickets, ticket_stream
from scenarios.kpis import Estimate, summarise
from scenarios.model import LoanerRates, RestockPolicy, ReturnsPolicy, SimWorld
from scenarios.records import RunResult
from scenarios.simulate import STEP_S, RunParams, simulate
from scenarios.spec import Scenario
from scenarios.whatif import apply_changes

if TYPE_CHECKING:
    from scenarios.precision import PrecisionOutcome

# (runs done, runs in all, simulated seconds of the current run, its end)
Progress = Callable[[int, int, int, int], None]


@dataclass
class ScenarioRun:
    scenario: Scenario
    results: list[RunResult] = field(default_factory=list)
    estimates: list[Estimate] = field(default_factory=list)
    tickets: dict[int, int] = field(default_factory=dict)  # replication -> common tickets
    precision: PrecisionOutcome | None = None  # with `precision:`: how precise it ended

    @property
    def partial(self) -> bool:
        runs = (
            self.scenario.replications
            * len(variants_of(self.scenario))
            * len(self.scenario.policies)
        )
        return any(r.partial for r in self.results) or len(self.results) < runs


def variants_of(scenario: Scenario) -> list[str]:
    return ["base", *(v.name for v in scenario.variants)]


def with_settings(scenario: Scenario, world: SimWorld) -> SimWorld:
    """The scenario's returns flow, restocking, loaner rates and rush hours, its
    `make_room_engineers` and `divert_engineers` for every policy when it gives them, then
    its `world_changes` (docs/scenarios.md): the world every variant starts from."""
    r, loan, restock = scenario.returns, scenario.loaners, scenario.restock
    policies = world.policies
    if scenario.make_room_engineers is not None:
        asked = scenario.make_room_engineers
        policies = {pid: replace(p, make_room_engineers=asked) for pid, p in policies.items()}
    if scenario.divert_engineers is not None:
        drivers = scenario.divert_engineers
        policies = {pid: replace(p, divert_engineers=drivers) for pid, p in policies.items()}
    settled = replace(
        world,
        policies=policies,
        returns=ReturnsPolicy(
            r.enabled, r.warranty_only, r.carry_h, r.courier_h, r.inspect_h,
            r.repairable_share, r.repair_days, seed=scenario.seed,
        ),
        restock=RestockPolicy(
            round(restock.van_refill_h * 3_600), round(restock.unsourced_lead_days * DAY_S)
        ),
        loaners=LoanerRates(loan.per_loan, loan.per_day),
        speed_by_hour=scenario.rush_hours.profile(),
    )  # fmt: skip
    return apply_changes(settled, scenario.world_changes)


def run_params(scenario: Scenario, variant: str, policy: str, replication: int) -> RunParams:
    """One run's parameters from the scenario (minutes in the file, seconds in the run)."""

    def seconds(minutes: int | None) -> int | None:
        return None if minutes is None else minutes * 60

    return RunParams(
        variant, policy, replication, round(scenario.horizon_days * DAY_S),
        retry_s=scenario.retry_every_min * 60,
        replan_every_s=seconds(scenario.replan_every_min),
        redispatch_grace_s=seconds(scenario.redispatch_after_min),
        make_room=True,
        divert=True,
    )  # fmt: skip


def build_variants(scenario: Scenario, base: SimWorld) -> dict[str, SimWorld]:
    """The base and each variant's world (pure transforms of the base)."""
    base = with_settings(scenario, base)
    worlds = {"base": base}
    for variant in scenario.variants:
        worlds[variant.name] = apply_changes(base, variant.changes)
    return worlds


def run_scenario(
    scenario: Scenario,
    *,
    exported: Path | None = None,
    progress: Progress | None = None,
    first: int = 0,
) -> ScenarioRun:
    """Run every replication (from `first`), variant and policy; stop early (partial) on
    Ctrl-C. `scenarios.precision` calls it again with `first` to add replications."""
    rows = load_world_rows(scenario.base, exported=exported)
    base = build_sim_world(rows, scenario.start)
    history = history_rates(rows.tables) if scenario.demand.from_history else {}
    worlds = build_variants(scenario, base)
    horizon = round(scenario.horizon_days * DAY_S)
    out = ScenarioRun(scenario)
    total = (scenario.replications - first) * len(worlds) * len(scenario.policies)
    for rep in range(first, scenario.replications):
        common = ticket_stream(
            base, scenario.demand, horizon_s=horizon, seed=scenario.seed, replication=rep,
            history=history,
        )  # fmt: skip
        out.tickets[rep] = len(common)
        for name, world in worlds.items():
            stream = with_surges(world, common, scenario, horizon, rep, history)
            for policy in scenario.policies:
                params = run_params(scenario, name, policy, rep)
                done = len(out.results)

                def tick(now: int, done: int = done, end: int = horizon + params.drain_s) -> None:
                    if progress is not None:
                        progress(done, total, now, end)

                result = simulate(world, stream, params, progress=tick)
                out.results.append(result)
                if result.partial:
                    out.estimates = summarise(out.results, scenario.replications)
                    return out
    out.estimates = summarise(out.results, scenario.replications)
    return out


def with_surges(
    world: SimWorld,
    common: tuple[DemandTicket, ...],
    scenario: Scenario,
    horizon: int,
    rep: int,
    history: dict[int, float],
) -> tuple[DemandTicket, ...]:
    if not world.surges:
        return common
    extra = surge_tickets(
        world, scenario.demand, horizon_s=horizon, seed=scenario.seed, replication=rep,
        first_id=len(common) + 1, history=history,
    )  # fmt: skip
    return tuple(sorted((*common, *extra), key=lambda t: (t.at_s, t.id)))


__all__ = [
    "STEP_S",
    "Progress",
    "ScenarioRun",
    "build_variants",
    "run_params",
    "run_scenario",
    "variants_of",
    "with_settings",
    "with_surges",
]
