"""`spares stock recommend` on a throwaway SQLite file: a table, and the file for scenarios."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import yaml
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import db
import spares.cli as cli
from inventory.models import (
    DepotKind,
    LedgerEntry,
    LedgerKind,
    StockLevel,
    Supplier,
    SupplierKind,
)
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
    assert result.exit_code == 2  # a usage error, as for any name typed that names nothing
    assert "no region has the id, code or name 'XX'" in result.output
    args[-1] = "gz"  # issue 17: a region by its code in any case (or its name, or id)
    by_code = runner.invoke(cli.app, args, catch_exceptions=False)
    assert by_code.exit_code == 0, by_code.output
    assert "RD-1" in by_code.output


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
    # 3 uses over 3 days, weighed with 30 prior days: 3 / 33 a day, pooled at the central
    # warehouse over its 7-day lead: Poisson(0.64) at fill 0.9 wants 3 units (2 if the uses
    # were spread over the 90-day window: Poisson(0.175))
    assert data["central_floor"] == {"PSU-1": 3}
    level = next(c["quantity"] for c in data["scenario_changes"] if c["depot"] == "RD-1")
    assert level >= 1


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


def test_the_central_warehouse_keeps_the_pooled_base_stock(tmp_path: Path) -> None:
    """Issue 17, defect 9: pure METRIC advised emptying the central warehouse (-87 % on
    the demo); it pools every region's demand, so it keeps that demand's base stock, and
    each cut below today says what it costs."""
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        region = make_region(s, code="GZ")
        central = make_depot(s, region, code="CW", kind=DepotKind.CENTRAL)
        supplier = Supplier(code="SUP", name="Far away", kind=SupplierKind.SUPPLIER,
                            lead_time_hours=30 * 24)  # fmt: skip
        s.add(supplier)
        s.flush()
        line = make_product_line(s)
        parts = [make_part(s, line, sku=f"PSU-{k}", supplier_id=supplier.id,
                           cost_price=Decimal("800.00"), list_price=Decimal("900.00"))
                 for k in (1, 2)]  # fmt: skip
        depots = [make_depot(s, region, code=f"RD-{k}") for k in (1, 2, 3, 4)]
        for part in parts:
            s.add(StockLevel(depot_id=central.id, part_id=part.id, on_hand=25))
        now = datetime.now(UTC)
        for k, day in enumerate(range(1, 91)):  # 0.1 a day per depot and part, 90 days
            for depot in depots:
                for part in parts:
                    if (k + depot.id + part.id) % 10 == 0:
                        s.add(LedgerEntry(kind=LedgerKind.USE, depot_id=depot.id,
                                          part_id=part.id, d_on_hand=-1,
                                          at=now - timedelta(days=day)))  # fmt: skip
    engine.dispose()
    out = tmp_path / "rec.json"
    args = ["--database-url", url, "stock", "recommend", "--target", "0.95", "--out", str(out)]
    result = runner.invoke(cli.app, args, catch_exceptions=False, env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    central_now = sum(x["current"] for x in data["levels"] if x["depot"] == "CW")
    central_rec = sum(x["recommended"] for x in data["levels"] if x["depot"] == "CW")
    assert central_now == 50
    assert central_rec >= 0.5 * central_now  # was 0: -100 %
    # 9 uses in 90 days per depot, no installed base: (9 + 0) / (90 + 30) = 0.075 a day,
    # 0.3 pooled; over the 30-day lead time Poisson(9) at fill 0.95 wants 15 units a part
    assert data["central_floor"] == {"PSU-1": 15, "PSU-2": 15}
    assert data["ship_8h_recommended"] >= 0.95
    cuts = [x for x in data["levels"] if x["cut"] is not None]
    assert cuts
    assert all(x["cut"]["measure"] == "ship-8h" for x in cuts)
    assert "Cuts below today" in result.output
    assert "frees (CNY)" in result.output
    assert "keeps that demand's base" in result.output
    assert max(len(row) for row in result.output.splitlines()) <= 80


def test_no_use_recorded_is_said(tmp_path: Path) -> None:
    """Issue 17, defect 9: the demo's month of records holds no part use at all, so every
    rate was the installed base's prior; the answer says so before anyone cuts on it."""
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        region = make_region(s, code="GZ")
        central = make_depot(s, region, code="CW", kind=DepotKind.CENTRAL)
        make_depot(s, region, code="RD-1")
        part = make_part(s, make_product_line(s), sku="PSU-1")
        s.add(StockLevel(depot_id=central.id, part_id=part.id, on_hand=20))
        s.add(LedgerEntry(kind=LedgerKind.OPENING, depot_id=central.id, part_id=part.id,
                          d_on_hand=20, at=datetime.now(UTC) - timedelta(days=40)))  # fmt: skip
    engine.dispose()
    out = tmp_path / "rec.json"
    args = ["--database-url", url, "stock", "recommend", "--target", "0.9", "--out", str(out)]
    result = runner.invoke(cli.app, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "no part use recorded in 40 day(s)" in " ".join(result.output.split())
    data = json.loads(out.read_text())
    assert (data["uses_recorded"], data["history_short"]) == (0, False)
    full = tmp_path / "full.db"
    _world(f"sqlite:///{full}")
    used = runner.invoke(cli.app, ["--database-url", f"sqlite:///{full}", "stock", "recommend"])
    assert used.exit_code == 0, used.output
    assert "no part use recorded" not in used.output
