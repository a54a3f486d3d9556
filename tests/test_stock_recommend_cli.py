"""`spares stock recommend` on a throwaway SQLite file: a table, and the file for scenarios."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import yaml
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import db
import spares.cli as cli
from inventory.models import DepotKind, LedgerEntry, LedgerKind
from tests.builders import make_depot, make_part, make_product_line, make_region

runner = CliRunner()


def _world(url: str) -> None:
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        region = make_region(s, code="GZ")
        make_depot(s, region, code="CW", kind=DepotKind.CENTRAL)
        depot = make_depot(s, region, code="RD-1")
        part = make_part(s, make_product_line(s), sku="PSU-1")
        now = datetime.now(UTC)
        for day in range(1, 46):  # used every other day for three months
            s.add(LedgerEntry(kind=LedgerKind.USE, depot_id=depot.id, part_id=part.id,
                              d_on_hand=-1, at=now - timedelta(days=2 * day)))  # fmt: skip
    engine.dispose()


def test_recommend_prints_and_writes_scenario_changes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    _world(url)
    out = tmp_path / "rec.json"
    args = ["--database-url", url, "stock", "recommend", "--target", "0.9", "--out", str(out)]
    result = runner.invoke(cli.app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "RD-1" in result.output
    assert "reached" in result.output
    data = json.loads(out.read_text())
    assert data["reached"] is True
    change = next(c for c in data["scenario_changes"] if c["depot"] == "RD-1")
    assert change == {"kind": "stock_level", "depot": "RD-1", "part": "PSU-1",
                      "quantity": change["quantity"]}  # fmt: skip
    assert change["quantity"] >= 1
    as_yaml = tmp_path / "rec.yaml"
    args[-1] = str(as_yaml)
    assert runner.invoke(cli.app, args, catch_exceptions=False).exit_code == 0
    assert yaml.safe_load(as_yaml.read_text())["scenario_changes"] == data["scenario_changes"]


def test_recommend_refuses_an_unknown_region(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    _world(url)
    args = ["--database-url", url, "stock", "recommend", "--region", "XX"]
    result = runner.invoke(cli.app, args, catch_exceptions=False)
    assert result.exit_code == 1
    assert "no region with code 'XX'" in result.output


def test_a_short_history_is_said_and_not_spread_over_the_whole_window(tmp_path: Path) -> None:
    """Issue 17, defect 9: three days of records were divided by a 90-day window."""
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        region = make_region(s, code="GZ")
        make_depot(s, region, code="CW", kind=DepotKind.CENTRAL)
        depot = make_depot(s, region, code="RD-1")
        part = make_part(s, make_product_line(s), sku="PSU-1")
        now = datetime.now(UTC)
        for hours in (12, 36, 60):  # three uses in the system's first three days
            s.add(LedgerEntry(kind=LedgerKind.USE, depot_id=depot.id, part_id=part.id,
                              d_on_hand=-1, at=now - timedelta(hours=hours)))  # fmt: skip
    engine.dispose()
    out = tmp_path / "rec.json"
    args = ["--database-url", url, "stock", "recommend", "--target", "0.9", "--out", str(out)]
    result = runner.invoke(cli.app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "short history: 3 day(s)" in result.output
    assert "value (CNY)" in result.output
    assert "fill rate (all demand)" in result.output
    data = json.loads(out.read_text())
    assert data["history_short"] is True
    assert data["currency"] == "CNY"
    # ~1 use a day over 3 days: 0.9 of demand over a 1-day transfer needs 2 units, not 0
    level = next(c["quantity"] for c in data["scenario_changes"] if c["depot"] == "RD-1")
    assert level >= 2


def test_a_full_history_is_not_called_short(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    _world(url)
    out = tmp_path / "rec.json"
    args = ["--database-url", url, "stock", "recommend", "--metric", "swap-2h", "--out", str(out)]
    result = runner.invoke(cli.app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "short history" not in result.output
    assert "target: swap-2h attainment" in result.output
    assert json.loads(out.read_text())["history_short"] is False
