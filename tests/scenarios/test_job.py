"""The scenario job's body: a document in, KPIs and a report out; a cancel stops it."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.job import run_document

DOC = {
    "name": "tiny-job", "horizon_days": 0.25, "replications": 1, "policies": ["naive"],
    "demand": {"tickets_per_day": 20},
}  # fmt: skip


class Stop(Exception):
    """What a cancelled job's check raises (db.jobs.JobCancelledError in the worker)."""


def test_runs_and_reports_kpis(tmp_path: Path) -> None:
    seen: list[float] = []
    out = run_document(DOC, tmp_path, progress=seen.append, check=lambda: None)
    assert out["partial"] is False
    assert "kpis.json" in out["files"]
    assert seen == sorted(seen)
    assert 0 < seen[-1] <= 1
    assert all(k["mean"] is None or k["mean"] == k["mean"] for k in out["kpis"])  # no NaN


def test_a_cancel_stops_the_run(tmp_path: Path) -> None:
    calls: list[int] = []

    def check() -> None:
        calls.append(1)
        if len(calls) > 2:
            raise Stop

    with pytest.raises(Stop):
        run_document(DOC, tmp_path, progress=lambda _: None, check=check)
    assert not (tmp_path / "kpis.json").exists()
