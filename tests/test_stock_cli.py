"""`spares stock ...` on a throwaway SQLite file: moves stock, sweeps, verifies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

import db
import spares.cli as cli
from inventory.models import Depot, Part, StockLevel
from tests.builders import make_depot, make_part, make_product_line, make_region

runner = CliRunner()


def invoke(url: str, *args: str) -> Any:
    return runner.invoke(cli.app, ["--database-url", url, "stock", *args], catch_exceptions=False)


def test_stock_commands_keep_the_ledger(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        region = make_region(s)
        part_row = make_part(s, make_product_line(s))
        depot_a, depot_b = make_depot(s, region), make_depot(s, region)
        part, a, b = part_row.id, depot_a.id, depot_b.id
        sent = f"1 of {part_row.sku} ({part_row.name}) from {depot_a.code} to {depot_b.code}"
    engine.dispose()
    p, da, dbb = str(part), str(a), str(b)
    assert invoke(url, "receive", "--depot", da, "--part", p, "-n", "5").exit_code == 0
    held = invoke(url, "reserve", "--depot", da, "--part", p, "-n", "2", "--minutes", "1")
    assert held.exit_code == 0, held.output
    rid = held.output.split()[1].rstrip(":")
    assert "picked" in invoke(url, "pick", rid).output
    moved = invoke(url, "transfer", "--depot", da, "--to", dbb, "--part", p, "-n", "1")
    assert moved.exit_code == 0, moved.output
    assert sent in " ".join(moved.output.split())  # issue 17: codes and names, not ids
    assert (
        invoke(
            url, "adjust", "--depot", da, "--part", p, "--counted", "1", "--reason", "count"
        ).exit_code
        == 0
    )
    assert invoke(url, "return", "--depot", dbb, "--part", p).exit_code == 0
    short = invoke(url, "reserve", "--depot", da, "--part", p, "-n", "9")
    assert short.exit_code == 1
    assert "sweep" not in short.output
    assert "released 0" in invoke(url, "sweep").output
    verified = invoke(url, "verify")
    assert verified.exit_code == 0
    assert "agree" in verified.output
    engine = db.make_engine(url)
    with Session(engine) as s, s.begin():  # a counter edited behind the ledger's back
        level = s.scalars(select(StockLevel).where(StockLevel.depot_id == a)).first()
        assert level is not None
        level.on_hand += 7
        depot, sku = s.get(Depot, a), s.get(Part, part)
        assert depot is not None
        assert sku is not None
        said = f"{depot.code} {sku.sku} ({sku.name}) on_hand"
    engine.dispose()
    broken = invoke(url, "verify")
    assert broken.exit_code == 1
    assert said in broken.output  # issue 17: not 'depot 1 part 1'


def test_order_from_a_supplier_is_on_order(tmp_path: Path) -> None:
    from inventory.models import Supplier, SupplierKind

    url = f"sqlite:///{tmp_path}/cli.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        part = make_part(s, make_product_line(s)).id
        depot = make_depot(s, make_region(s)).id
        supplier = Supplier(code="HW", name="Huawei", kind=SupplierKind.PARTNER, lead_time_hours=8)
        s.add(supplier)
        s.flush()
        supplier_id = supplier.id
    engine.dispose()
    placed = invoke(
        url,
        "order",
        "--depot",
        str(depot),
        "--part",
        str(part),
        "-n",
        "3",
        "--supplier",
        str(supplier_id),
    )
    assert placed.exit_code == 0, placed.output
    assert "expected at" in placed.output
    assert invoke(url, "verify").exit_code == 0


def test_times_print_in_the_regions_zone_or_tz(tmp_path: Path) -> None:
    """Storage is UTC; a person reads the region's clock (Asia/Shanghai) or the one --tz names."""
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        region = make_region(s)  # timezone: Asia/Shanghai by default
        part, depot = make_part(s, make_product_line(s)).id, make_depot(s, region).id
    engine.dispose()
    p, d = str(part), str(depot)
    assert invoke(url, "receive", "--depot", d, "--part", p, "-n", "5").exit_code == 0
    held = invoke(url, "reserve", "--depot", d, "--part", p, "--minutes", "60")
    assert held.exit_code == 0, held.output
    assert held.output.strip().endswith("Asia/Shanghai"), held.output
    utc = runner.invoke(cli.app, ["--database-url", url, "--tz", "UTC", "stock", "reserve",
                                  "--depot", d, "--part", p])  # fmt: skip
    assert utc.output.strip().endswith(" UTC"), utc.output
    bad = runner.invoke(cli.app, ["--database-url", url, "--tz", "Mars/Olympus", "stock", "sweep"])
    assert bad.exit_code == 2
    assert "IANA" in bad.output


def test_stock_find_searches_part_code_or_name(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/find.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        region = make_region(s)
        line = make_product_line(s)
        lens = make_part(s, line, sku="CAM-LENS-9", name="Camera lens")
        make_part(s, line, sku="PSU-1", name="Power supply")
        depot = make_depot(s, region, code="RD-LENS").id
        lens_id = lens.id
    engine.dispose()
    assert (
        invoke(url, "receive", "--depot", str(depot), "--part", str(lens_id), "-n", "3").exit_code
        == 0
    )
    by_code = invoke(url, "find", "cam-lens")
    assert by_code.exit_code == 0
    assert "CAM-LENS-9" in by_code.output
    assert "Camera lens" in by_code.output  # issue 17: rows with depot code, SKU, part name
    assert "RD-LENS" in by_code.output
    assert "PSU-1" not in by_code.output
    assert "CAM-LENS-9" in invoke(url, "find", "LENS", "--depot", str(depot)).output
    assert "CAM-LENS-9" in invoke(url, "find", "LENS", "--depot", "rd-lens").output
    assert "CAM-LENS-9" not in invoke(url, "find", "supply").output


def test_show_and_reservations_by_code_sku_and_name(tmp_path: Path) -> None:
    """Issue 17: stock by depot code or part SKU or name, and the live holds with names."""
    url = f"sqlite:///{tmp_path}/cli.db"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        region = make_region(s)
        part = make_part(s, make_product_line(s), sku="PSU-9", name="Power supply nine").id
        depot = make_depot(s, region, code="RD-NINE").id
    engine.dispose()
    assert (
        invoke(url, "receive", "--depot", str(depot), "--part", str(part), "-n", "5").exit_code == 0
    )
    assert (
        invoke(url, "reserve", "--depot", str(depot), "--part", str(part), "-n", "2").exit_code == 0
    )
    by_depot = invoke(url, "show", "--depot", "rd-nine")
    assert by_depot.exit_code == 0, by_depot.output
    assert "PSU-9" in by_depot.output
    assert "RD-NINE" in by_depot.output
    by_name = invoke(url, "show", "--part", "power supply nine")
    assert by_name.exit_code == 0, by_name.output
    assert "RD-NINE" in by_name.output
    holds = invoke(url, "reservations", "--part", "PSU-9")
    assert holds.exit_code == 0, holds.output
    assert "1 live hold(s)" in holds.output
    assert "RD-NINE" in holds.output
    assert "PSU-9" in holds.output
    assert "times in Asia/Shanghai" in holds.output
    by_codes = invoke(url, "reserve", "--depot", "RD-NINE", "--part", "psu-9")  # codes, any case
    assert by_codes.exit_code == 0, by_codes.output
    assert "2 live hold(s)" in invoke(url, "reservations", "--depot", "RD-NINE").output
    unknown = invoke(url, "show", "--depot", "NOWHERE")
    assert unknown.exit_code == 2
    assert "no depot has the id, code or name 'NOWHERE'" in unknown.output
