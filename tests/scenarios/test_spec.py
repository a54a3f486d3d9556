"""The scenario file: validated with errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.world.model import SIZES, WorldSize
from scenarios.model import SimWorld
from scenarios.spec import ScenarioError, load_scenario, parse_scenario

EXAMPLES = Path(__file__).parents[2] / "scenarios" / "examples"


def _problems(data: object) -> dict[str, str]:
    with pytest.raises(ScenarioError) as info:
        parse_scenario(data)
    return dict(info.value.problems)


def test_minimal_file_takes_the_defaults() -> None:
    scenario = parse_scenario({"name": "x"})
    assert scenario.base.kind == "demo"
    assert scenario.replications == 3


def test_unknown_field_is_named() -> None:
    assert "horizon" in _problems({"name": "x", "horizon": 3})


def test_wrong_change_field_names_its_place() -> None:
    data = {"name": "x", "variants": [{"name": "v", "changes": [
        {"kind": "travel_speed", "factor": -1}]}]}  # fmt: skip
    assert any(k.startswith("variants.0.changes.0.travel_speed.factor") for k in _problems(data))


def test_unknown_change_kind() -> None:
    data = {"name": "x", "variants": [{"name": "v", "changes": [{"kind": "teleport"}]}]}
    assert any(k.startswith("variants.0.changes.0") for k in _problems(data))


def test_severity_mix_must_sum_to_one() -> None:
    problems = _problems({"name": "x", "demand": {"severity_mix": [0.5, 0.2]}})
    assert any("severity_mix" in v for v in problems.values())


def test_variant_named_base_is_refused() -> None:
    problems = _problems({"name": "x", "variants": [{"name": "base"}]})
    assert any("names must be unique" in v for v in problems.values())


def test_stock_level_needs_factor_or_quantity() -> None:
    data = {"name": "x", "variants": [{"name": "v", "changes": [{"kind": "stock_level"}]}]}
    assert any("factor" in v for v in _problems(data).values())


def test_bundle_needs_a_path() -> None:
    assert any("path" in v for v in _problems({"name": "x", "base": {"kind": "bundle"}}).values())


def test_bad_yaml_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: [unclosed\n", encoding="utf-8")
    with pytest.raises(ScenarioError, match="bad.yaml"):
        load_scenario(path)


def test_json_file_and_relative_bundle_path(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"name": "j", "base": {"kind": "bundle", "path": "w"}}', encoding="utf-8")
    assert load_scenario(path).base.path == str((tmp_path / "w").resolve())


@pytest.mark.parametrize(
    "path", sorted([*EXAMPLES.glob("*.yaml"), *EXAMPLES.glob("*.json")]), ids=lambda p: p.name
)
def test_examples_are_valid(path: Path) -> None:
    assert load_scenario(path).name


def test_returns_and_loaners_take_documented_defaults() -> None:
    scenario = parse_scenario({"name": "x"})
    assert (scenario.returns.repairable_share, scenario.returns.repair_days) == (0.6, 5.0)
    assert scenario.returns.warranty_only
    assert (str(scenario.loaners.per_loan), str(scenario.loaners.per_day)) == ("200", "50")


def test_returns_and_loaner_errors_name_their_field() -> None:
    problems = _problems(
        {"name": "x", "returns": {"repairable_share": 1.5}, "loaners": {"per_day": "1.234"}}
    )
    assert "returns.repairable_share" in problems
    assert "loaners.per_day" in problems
    data = {"name": "x", "variants": [{"name": "v", "changes": [
        {"kind": "returns", "repair_days": -1}]}]}  # fmt: skip
    assert any(k.startswith("variants.0.changes.0.returns.repair_days") for k in _problems(data))


def test_the_documented_file_is_valid(tmp_path: Path) -> None:
    """The YAML block of docs/scenarios.md, as a planner would copy it."""
    doc = (Path(__file__).parents[2] / "docs" / "scenarios.md").read_text(encoding="utf-8")
    block = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "doc.yaml"
    path.write_text(block, encoding="utf-8")
    scenario = load_scenario(path)
    assert scenario.returns.carry_h == 24
    assert str(scenario.loaners.per_loan) == "200"


def test_the_large_world_example_is_issue_16s_benchmark_world() -> None:
    """Parsed only (a full run takes an hour, see BENCHMARKS.md): 2,000 engineers, >= 1,000
    tickets a day with a daytime peak, 30 days, >= 3 replications, every policy."""
    scenario = load_scenario(EXAMPLES / "large_world.yaml")
    assert scenario.base.kind == "demo"
    assert SIZES[WorldSize(scenario.base.size)].engineers == 2_000
    assert scenario.demand.tickets_per_day >= 1_000
    hours = scenario.demand.profile.hours
    assert max(hours[9:17]) > 1.5 * sum(hours) / 24 > 3 * min(hours[0:6])
    assert (scenario.horizon_days, scenario.replications) == (30, 3)
    assert set(scenario.policies) == {"optimised", "naive", "naive_unlimited"}
    assert not scenario.variants


def test_the_retry_of_waiting_tickets_is_scenario_data() -> None:
    """How often waiting tickets are offered again is the file's, not a constant of code."""
    from scenarios.run import run_params

    default = parse_scenario({"name": "s"})
    assert default.retry_every_min == 15  # the documented default
    assert run_params(default, "base", "naive", 0).retry_s == 900
    five = parse_scenario({"name": "s", "retry_every_min": 5})
    assert run_params(five, "base", "naive", 0).retry_s == 300
    with pytest.raises(ScenarioError, match="retry_every_min"):
        parse_scenario({"name": "s", "retry_every_min": 0})


def test_how_many_engineers_make_room_is_the_policies_data(small: SimWorld) -> None:
    """The engineers asked to make room for a ticket's arrival (`optimizer.make_room`) are
    each promise policy's (documented default 3); the file's `make_room_engineers` sets
    every policy's, a `planning` change one policy's on top; never negative."""
    from scenarios.run import build_variants, run_params

    def asked(world: SimWorld) -> dict[str, int]:
        return {p.code: p.make_room_engineers for p in world.policies.values()}

    default = parse_scenario({"name": "s"})
    assert run_params(default, "base", "optimised", 0).make_room
    assert set(asked(build_variants(default, small)["base"]).values()) == {3}
    older = parse_scenario({"name": "s", "make_room_engineers": 0, "variants": [
        {"name": "p1", "changes": [
            {"kind": "planning", "policy": "p1-p4", "make_room_engineers": 6}]}]})  # fmt: skip
    worlds = build_variants(older, small)
    assert set(asked(worlds["base"]).values()) == {0}
    assert {code: n for code, n in asked(worlds["p1"]).items() if n} == {"p1-p4": 6}
    with pytest.raises(ScenarioError, match="make_room_engineers"):
        parse_scenario({"name": "s", "make_room_engineers": -1})
    bad = {"kind": "planning", "make_room_engineers": -1}
    assert any("make_room_engineers" in k for k in _problems(
        {"name": "s", "variants": [{"name": "v", "changes": [bad]}]}))  # fmt: skip


def test_how_many_drivers_may_be_diverted_is_the_policies_data(small: SimWorld) -> None:
    """The drivers asked to take a new ticket first (`optimizer.divert`) are each promise
    policy's (documented default 3); the file's `divert_engineers` sets every policy's, a
    `planning` change one policy's on top; never negative."""
    from scenarios.run import build_variants, run_params

    def asked(world: SimWorld) -> dict[str, int]:
        return {p.code: p.divert_engineers for p in world.policies.values()}

    default = parse_scenario({"name": "s"})
    assert run_params(default, "base", "optimised", 0).divert
    assert set(asked(build_variants(default, small)["base"]).values()) == {3}
    older = parse_scenario({"name": "s", "divert_engineers": 0, "variants": [
        {"name": "p1", "changes": [
            {"kind": "planning", "policy": "p1-p4", "divert_engineers": 6}]}]})  # fmt: skip
    worlds = build_variants(older, small)
    assert set(asked(worlds["base"]).values()) == {0}
    assert {code: n for code, n in asked(worlds["p1"]).items() if n} == {"p1-p4": 6}
    with pytest.raises(ScenarioError, match="divert_engineers"):
        parse_scenario({"name": "s", "divert_engineers": -1})
    bad = {"kind": "planning", "divert_engineers": -1}
    assert any("divert_engineers" in k for k in _problems(
        {"name": "s", "variants": [{"name": "v", "changes": [bad]}]}))  # fmt: skip
