"""`spares scenario run|compare` with --workers, and a stock recommendation as a variant."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dispatch.world import generate_world
from inventory.stock_recommend import scenario_changes
from scenarios.spec import ScenarioError, load_recommendation, load_scenario
from spares.cli import app

TWO_REPS = """
name: two-reps
horizon_days: 0.5
demand: {tickets_per_day: 30}
replications: 2
"""


def _recommendation(path: Path) -> Path:
    """A recommendation file like `spares stock recommend --out`: levels of real depot x SKU."""
    tables = generate_world(7, "small").tables
    parts = {p["id"]: p["sku"] for p in tables["parts"]}
    depots = {d["id"]: d["code"] for d in tables["depots"]}
    rows = [r for r in tables["stock_levels"] if r["depot_id"] in depots][:3]
    levels = {(depots[r["depot_id"]], parts[r["part_id"]]): 1 for r in rows}
    path.write_text(json.dumps({"target": 0.95, "scenario_changes": scenario_changes(levels)}))
    return path


@pytest.mark.parametrize("workers", ["1", "2"])
def test_run_with_workers(tmp_path: Path, workers: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(TWO_REPS, encoding="utf-8")
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app, ["scenario", "run", str(path), "--out", str(out), "--workers", workers]
    )
    assert result.exit_code == 0, result.output
    assert (out / "kpis.json").exists()


def test_workers_must_be_positive(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(TWO_REPS, encoding="utf-8")
    result = CliRunner().invoke(app, ["scenario", "run", str(path), "--workers", "0"])
    assert result.exit_code == 2


def test_recommendation_runs_next_to_todays_stock(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(TWO_REPS.replace("replications: 2", "replications: 1"), encoding="utf-8")
    rec = _recommendation(tmp_path / "metric-95.json")
    out = tmp_path / "o"
    result = CliRunner().invoke(
        app,
        ["scenario", "run", str(path), "--out", str(out), "--workers", "1",
         "--stock-recommendation", str(rec)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "kpis.json").read_text())
    text = json.dumps(rows)
    assert '"metric-95"' in text
    assert '"base"' in text


def test_recommendation_becomes_a_stock_level_variant(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(TWO_REPS, encoding="utf-8")
    scenario = load_recommendation(_recommendation(tmp_path / "rec.json"), load_scenario(path))
    (variant,) = scenario.variants
    assert variant.name == "rec"
    assert {c.kind for c in variant.changes} == {"stock_level"}
    assert all(getattr(c, "quantity", None) == 1 for c in variant.changes)


def test_a_bad_recommendation_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(TWO_REPS, encoding="utf-8")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"scenario_changes": [{"kind": "stock_level", "quantity": -1}]}))
    with pytest.raises(ScenarioError, match=r"variants\.0\.changes\.0"):
        load_recommendation(bad, load_scenario(path))
    bad.write_text("{}")
    with pytest.raises(ScenarioError, match="scenario_changes"):
        load_recommendation(bad, load_scenario(path))
