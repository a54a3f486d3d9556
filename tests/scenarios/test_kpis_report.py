"""Confidence-interval arithmetic, estimates, and the report folder with its charts."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest

from scenarios.kpis import confidence_interval, kpi_interval, run_kpis
from scenarios.records import DepotTally, RunResult
from scenarios.report import write_report
from scenarios.run import run_scenario
from tests.scenarios.conftest import tiny_scenario


def test_confidence_interval_by_students_t() -> None:
    mean, low, high = confidence_interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t(0.975, 2) * s / sqrt(n), s = 1
    assert mean == 2.0
    assert low == pytest.approx(2 - half)
    assert high == pytest.approx(2 + half)


def test_one_replication_has_no_width() -> None:
    assert confidence_interval([0.7]) == (0.7, 0.7, 0.7)
    with pytest.raises(ValueError, match="at least one"):
        confidence_interval([])


def test_report_folder(tmp_path: Path) -> None:
    run = run_scenario(tiny_scenario())
    files = write_report(run, tmp_path / "r")
    names = {f.name for f in files}
    assert names == {
        "kpis.csv", "kpis.json", "differences.csv", "policy_differences.csv",
        "promise_attainment.png",
        "eta_distribution.png", "utilisation_by_region.png", "stockout_days_by_depot.png",
        "promise_bounds.png", "frontier.png",
    }  # fmt: skip
    for f in files:
        assert f.stat().st_size > 0
    assert (tmp_path / "r" / "promise_attainment.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    body = json.loads((tmp_path / "r" / "kpis.json").read_text(encoding="utf-8"))
    assert body["partial"] is False
    rows = [k for k in body["kpis"] if k["kpi"] == "arrival_attainment" and k["scope"] == "all"]
    assert {(k["variant"], k["policy"]) for k in rows} == {("base", "optimised"), ("base", "naive")}
    assert all(k["n"] == 2 and k["low"] <= k["mean"] <= k["high"] for k in rows)
    # the policies' paired differences are kept per scope (severity too), against naive
    paired = {(d["policy"], d["base"], d["kpi"], d["scope"]): d for d in body["policy_differences"]}
    urgent = paired[("optimised", "naive", "depart_attainment", "severity=urgent")]
    assert urgent["n"] == 2
    assert urgent["low"] <= urgent["mean"] <= urgent["high"]
    with (tmp_path / "r" / "policy_differences.csv").open(encoding="utf-8") as handle:
        table = {(r["policy"], r["base"], r["kpi"], r["scope"]) for r in csv.DictReader(handle)}
    assert table == set(paired)
    # every report states its bounds per clock (issue 16), for each policy
    bounds = {
        (k["policy"], k["kpi"], k["scope"]) for k in body["kpis"] if k["scope"] == "clock=arrival"
    }
    for policy in ("optimised", "naive"):
        for kpi in ("bound_geography", "bound_shift", "bound_labour", "lost_decisions"):
            assert (policy, kpi, "clock=arrival") in bounds
    header = (tmp_path / "r" / "kpis.csv").read_text(encoding="utf-8").splitlines()[0]
    assert header == "variant,policy,kpi,scope,mean,low,high,n,unit,partial"


def test_kpi_intervals_stay_within_what_the_kpi_can_be() -> None:
    share = kpi_interval("arrival_attainment", [0.2, 1.0, 1.0])
    assert share[0] == pytest.approx(0.7333, abs=1e-4)
    assert (share[1], share[2]) == (0.0, 1.0)  # the t-interval is [-0.41, 1.88]
    km = kpi_interval("travel_km", [1.0, 50.0, 2.0])
    assert km[1] == 0.0
    assert km[2] == confidence_interval([1.0, 50.0, 2.0])[2]  # no upper bound for km


def test_fill_rate_per_depot_kind() -> None:
    # Issue 17: the regional fill rate (part requests whose nearest depot is regional) is
    # reported apart from the central warehouse's own customers.
    depots = {
        1: DepotTally("CW-GUANGZHOU", "guangzhou", "central", requests=10, filled=9),
        2: DepotTally("RD-SHENZHEN-1", "shenzhen", "regional", requests=30, filled=24),
        3: DepotTally("RD-JIEYANG-1", "jieyang", "regional", requests=10, filled=6),
    }
    out = run_kpis(RunResult("base", "optimised", 0, 86_400, [], depots, {}, []))
    assert out[("fill_rate", "kind=regional")] == pytest.approx(30 / 40)
    assert out[("fill_rate", "kind=central")] == pytest.approx(0.9)
    assert out[("fill_rate", "all")] == pytest.approx(39 / 50)
