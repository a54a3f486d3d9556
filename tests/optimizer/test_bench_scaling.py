"""`spares bench scaling` (issue 11): tiny sizes, the reports are written; no timed asserts."""

from __future__ import annotations

import csv
from pathlib import Path

from typer.testing import CliRunner

from spares.bench_cli import bench_app


def test_bench_scaling_writes_table_csv_and_chart(tmp_path: Path) -> None:
    args = ["scaling", "--time-limit", "0", "-n", "5", "-n", "12", "--engineers", "4"]
    result = CliRunner().invoke(bench_app, [*args, "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    with (tmp_path / "scaling.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["tickets"]) for r in rows] == [5, 12]
    for r in rows:
        assert r["feasible"] == "True"
        assert int(r["engineers"]) == 4
        assert int(r["served"]) + int(r["dropped"]) == int(r["tickets"])
        assert 0 <= int(r["promises_kept"]) <= int(r["promises"]) == 2 * int(r["tickets"])
    md = (tmp_path / "scaling.md").read_text()
    assert "| tickets |" in md
    assert "| 12 | 4 |" in md
    assert (tmp_path / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_bench_province_writes_its_table(tmp_path: Path) -> None:
    # issue 20: a tiny province of the large world, regions on a one-process pool
    args = ["province", "--time-limit", "3", "--tickets", "60", "--engineers", "60"]
    args += ["--region-tickets", "20", "--workers", "1", "--out", str(tmp_path)]
    result = CliRunner().invoke(bench_app, args)
    assert result.exit_code == 0, result.output
    md = (tmp_path / "province.md").read_text()
    assert "| 60 | 60 (" in md
    assert "3/3 regions, merged yes" in md
