"""A scenario's `world_changes` make today's world of the question: every variant, the
advice's moves, its costs and its screen start from the changed world."""

from __future__ import annotations

from scenarios.advise import AdviceSpec, SimulationEvaluator
from scenarios.model import SimWorld
from scenarios.run import build_variants
from scenarios.spec import Engineers, Scenario

CUT = {"kind": "engineers", "delta": -3, "region": "guangzhou"}


def _scenario(**more: object) -> Scenario:
    return Scenario.model_validate(
        {"name": "cut", "horizon_days": 0.25, "replications": 1, "world_changes": [CUT], **more}
    )


def test_every_variant_starts_from_the_changed_world(small: SimWorld) -> None:
    more = {"kind": "engineers", "delta": 1, "region": "guangzhou"}
    worlds = build_variants(_scenario(variants=[{"name": "one-more", "changes": [more]}]), small)
    assert len(worlds["base"].engineers) == len(small.engineers) - 3
    assert len(worlds["one-more"].engineers) == len(small.engineers) - 2
    # the newest of the region left, the others are today's
    gz = small.region_id("guangzhou")
    kept = {e.id for e in worlds["base"].engineers if e.region_id == gz}
    ours = sorted(e.id for e in small.engineers if e.region_id == gz)
    assert kept == set(ours[:-3])


def test_the_advice_sizes_costs_and_screens_on_the_changed_world(small: SimWorld) -> None:
    spec = AdviceSpec.model_validate(
        {"name": "a", "scenario": _scenario(), "targets": [{"kpi": "arrival_attainment",
                                                           "share": 0.9}]}
    )  # fmt: skip
    seen: list[Scenario] = []

    def run(scenario: Scenario) -> tuple[list[object], list[object]]:
        seen.append(scenario)
        return [], []

    evaluator = SimulationEvaluator(spec, run)  # type: ignore[arg-type]
    assert len(evaluator.world.engineers) == len(small.engineers) - 3
    today = evaluator({"today": ()})["today"]
    assert today.cost.engineers == len(small.engineers) - 3
    assert seen[0].world_changes == spec.scenario.world_changes  # the runs get them too
    # the screen predicts today's world as the same change on an uncut world does
    plain = spec.scenario.model_copy(update={"world_changes": ()})
    uncut = SimulationEvaluator(spec.model_copy(update={"scenario": plain}), run)  # type: ignore[arg-type]
    cut = Engineers.model_validate(CUT)
    assert evaluator.screen(()).arrival == uncut.screen((cut,)).arrival
    assert evaluator.screen(()).arrival["guangzhou"] <= uncut.screen(()).arrival["guangzhou"]
