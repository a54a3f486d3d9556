"""Issue 17: `spares scenario compare` tables fit an 80-column terminal."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from spares.cli import app

WITH_VARIANTS = """
name: {name}
horizon_days: 0.25
demand: {{tickets_per_day: 20}}
replications: 2
policies: [optimised, naive]
variants:
  - {{name: two-more-engineers, changes: [{{kind: engineers, delta: 2}}]}}
"""


def test_compare_fits_80_columns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    files = []
    for name in ("staffing-scenario-a", "staffing-scenario-b"):
        path = tmp_path / f"{name}.yaml"
        path.write_text(WITH_VARIANTS.format(name=name), encoding="utf-8")
        files.append(str(path))
    result = CliRunner().invoke(
        app, ["scenario", "compare", *files, "--workers", "1", "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 0, result.output
    wide = [line for line in result.output.splitlines() if len(line) > 80]
    assert not wide, "\n".join(wide)
    # every variant x policy of both scenarios still has its column somewhere
    assert "two-more-engineers" in result.output
    assert "promises kept (tickets)" in result.output


def test_verbose_adds_severity_and_region_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "80")
    path = tmp_path / "v.yaml"
    path.write_text(WITH_VARIANTS.format(name="verbose"), encoding="utf-8")
    args = ["scenario", "run", str(path), "--workers", "1", "--out", str(tmp_path / "o")]
    plain = CliRunner().invoke(app, args)
    verbose = CliRunner().invoke(app, [*args, "--verbose"])
    assert plain.exit_code == 0, plain.output
    assert verbose.exit_code == 0, verbose.output
    assert "kept, region" not in plain.output
    assert "kept, region" in verbose.output
    assert "kept, severity" in verbose.output
    assert max(len(line) for line in verbose.output.splitlines()) <= 80
