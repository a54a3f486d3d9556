"""`spares scenario run|compare` end to end on a tiny file."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from spares.cli import app

TINY = """
name: tiny-cli
horizon_days: 0.5
demand: {tickets_per_day: 30}
replications: 1
policies: [optimised, naive]
"""


def test_run_writes_the_report(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(TINY, encoding="utf-8")
    result = CliRunner().invoke(app, ["scenario", "run", str(path), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "arrival kept" in result.output
    assert (tmp_path / "o" / "promise_attainment.png").exists()
    # issue 17: optimised vs naive is paired too, not only variants vs base
    assert "Difference between dispatch policies" in result.output
    assert "optimised - naive" in result.output


def test_run_only_the_policies_asked(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(TINY, encoding="utf-8")
    out = tmp_path / "o"
    args = ["scenario", "run", str(path), "--policy", "naive", "--out", str(out)]
    result = CliRunner().invoke(app, [*args, "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert "(naive)" in result.output
    assert "(optimised)" not in result.output
    assert "optimised" not in (out / "kpis.csv").read_text(encoding="utf-8")


def test_run_refuses_a_policy_the_scenario_does_not_have(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(TINY, encoding="utf-8")
    result = CliRunner().invoke(app, ["scenario", "run", str(path), "--policy", "naive_unlimited"])
    assert result.exit_code == 2
    assert "--policy" in result.output


def test_compare_two_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.json"
    a.write_text(TINY, encoding="utf-8")
    b.write_text('{"name": "b", "horizon_days": 0.5, "replications": 1}', encoding="utf-8")
    result = CliRunner().invoke(
        app, ["scenario", "compare", str(a), str(b), "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "b" / "kpis.csv").exists()
    # the trade-off over every scenario's variant x policy: a table and one chart
    assert "Trade-off" in result.output
    assert "b/base (optimised)" in result.output
    assert (tmp_path / "frontier.png").exists()
    assert "Bounds" in result.output


def test_invalid_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nhorizon_days: -1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["scenario", "run", str(path)])
    assert result.exit_code == 2
    assert "horizon_days" in result.output


def test_compare_prints_paired_differences(tmp_path: Path) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(
        "name: paired\nhorizon_days: 0.5\ndemand: {tickets_per_day: 30}\nreplications: 2\n"
        "variants: [{name: more, changes: [{kind: engineers, delta: 5}]}]\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(
        app, ["scenario", "compare", str(path), "--workers", "1", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    assert "paired by replication" in result.output
    assert "respond kept" in result.output
    header = (tmp_path / "o" / "differences.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "variant,base,policy,kpi,scope,mean,low,high,n,unit,significant,p_value"
    assert (tmp_path / "o" / "difference_vs_base.png").exists()


def test_run_with_precision_adds_replications_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        TINY + "precision: {half_width_points: 0.001, max_replications: 2}\n", encoding="utf-8"
    )
    result = CliRunner().invoke(
        app, ["scenario", "run", str(path), "--workers", "1", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "after 2 replications" in text
    assert "NOT reached" in text
