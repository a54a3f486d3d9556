"""`spares stock recommend --scenario`: demand from the scenario, no database, a variant file."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from spares.cli import app

runner = CliRunner()

SCENARIO = """
name: rec-from-scenario
horizon_days: 0.5
demand: {tickets_per_day: 30, part_share: 1.0}
replications: 1
policies: [optimised]
"""


def _scenario(tmp_path: Path) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(SCENARIO, encoding="utf-8")
    return path


def _no_database(tmp_path: Path) -> list[str]:
    """A database URL that cannot be opened: the scenario path must not need one."""
    return ["--database-url", f"sqlite:///{tmp_path}/missing/dir/x.db"]


def test_recommend_from_a_scenario_then_run_it_as_a_variant(tmp_path: Path) -> None:
    scenario, rec = _scenario(tmp_path), tmp_path / "metric-90.json"
    result = runner.invoke(
        app,
        [*_no_database(tmp_path), "stock", "recommend", "--scenario", str(scenario),
         "--target", "0.9", "--metric", "swap-2h", "--streams", "10", "--out", str(rec)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "rec-from-scenario" in result.output  # where the demand came from
    assert "reached" in result.output
    data = json.loads(rec.read_text())
    assert data["reached"] is True
    assert data["metric"] == "swap-2h"
    assert float(data["value_recommended"]) > 0
    assert data["scenario_changes"]
    assert {c["kind"] for c in data["scenario_changes"]} == {"stock_level"}
    out = tmp_path / "o"
    result = runner.invoke(
        app,
        ["scenario", "run", str(scenario), "--out", str(out), "--workers", "1",
         "--stock-recommendation", str(rec)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    variants = {r["variant"] for r in json.loads((out / "kpis.json").read_text())["runs"]}
    assert variants == {"base", "metric-90"}


def test_yaml_out_has_the_same_shape(tmp_path: Path) -> None:
    scenario, rec = _scenario(tmp_path), tmp_path / "rec.yaml"
    args = ["stock", "recommend", "--scenario", str(scenario), "--target", "0.8",
            "--streams", "5", "--region", "shenzhen", "--rows", "3", "--out", str(rec)]  # fmt: skip
    result = runner.invoke(app, [*_no_database(tmp_path), *args])
    assert result.exit_code == 0, result.output
    data = yaml.safe_load(rec.read_text())
    assert set(data) >= {"levels", "curve", "scenario_changes", "value_today", "attainment_today"}
    assert {c["depot"] for c in data["scenario_changes"]} <= {"CW-GUANGZHOU", "RD-SHENZHEN-1"}


def test_refusals_are_clear(tmp_path: Path) -> None:
    scenario = _scenario(tmp_path)
    base = [*_no_database(tmp_path), "stock", "recommend"]
    only_with_scenario = runner.invoke(app, [*base, "--streams", "5"])
    assert only_with_scenario.exit_code == 2
    assert "--scenario" in only_with_scenario.output
    unknown = runner.invoke(app, [*base, "--scenario", str(scenario), "--region", "atlantis"])
    assert unknown.exit_code == 1
    assert "atlantis" in unknown.output
    own_seed = runner.invoke(app, [*base, "--scenario", str(scenario), "--seed", "1"])
    assert own_seed.exit_code == 2
    assert "own seed" in own_seed.output
    missing = runner.invoke(app, [*base, "--scenario", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2
    bad_out = runner.invoke(app, [*base, "--scenario", str(scenario), "--out", "x.txt"])
    assert bad_out.exit_code == 2
