"""`spares stock recommend`: METRIC base-stock levels against today's stock, as a table or file.

Reads only: one session, rolled back at the end. `--out` writes the whole recommendation
(every level, the curve, and the scenario `stock_level` changes) as JSON or YAML.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import yaml
from rich import box
from rich.console import Console
from rich.table import Table

import db
import dispatch.models  # noqa: F401 (every table on the metadata: the service reads tickets)
from inventory.errors import InventoryError
from inventory.metric import Metric
from inventory.stock_recommend import StockRecommendation, recommend_stock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

console = Console()
err_console = Console(stderr=True)


def recommend_cmd(
    ctx: typer.Context,
    target: Annotated[float, typer.Option(min=0, max=1, help="strictly between 0 and 1")] = 0.95,
    metric: Annotated[Metric, typer.Option(help="fill-rate, or per-depot swap-2h")] = (
        Metric.FILL_RATE
    ),
    region: Annotated[
        str | None, typer.Option(help="only this region's depots (code, name or id)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="write everything to FILE.json or .yaml")] = None,
    rows: Annotated[int, typer.Option(min=0, help="table rows (largest value changes)")] = 25,
    central_fill: float | None = None,
) -> None:
    """Recommend stock levels per depot x part that reach the target at least value."""
    check_out(out)
    engine = db.make_engine(ctx.obj.settings.database_url)
    try:
        with db.make_sessionmaker(engine)() as session:
            if region is not None:  # a code, a name or an id, as every command takes it
                region = _region_code(session, region)
            found = recommend_stock(
                session=session, now=datetime.now(UTC), target=target, metric=metric,
                region=region, central_fill=central_fill,
            )  # fmt: skip
    except (InventoryError, ValueError) as exc:
        err_console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    print_recommendation(found, rows)
    if out is not None:
        write_recommendation(found, out)


def _region_code(session: Session, text: str) -> str:
    from inventory.models import Region
    from spares.names import resolve

    found = session.get(Region, resolve(session, "region", text, hint="--region"))
    assert found is not None  # resolve answered its id
    return found.code


def check_out(out: Path | None) -> None:
    """``--out`` must name a JSON or YAML file (refused before any work is done)."""
    if out is not None and out.suffix.lower() not in (".json", ".yaml", ".yml"):
        raise typer.BadParameter("must end in .json, .yaml or .yml", param_hint="--out")


def write_recommendation(found: StockRecommendation, out: Path) -> None:
    """Everything, as JSON or YAML: its `scenario_changes` run as a scenario variant."""
    data = found.to_dict()
    text = json.dumps(data, indent=2) if out.suffix.lower() == ".json" else yaml.safe_dump(data)
    out.write_text(text, encoding="utf-8")
    console.print(f"written to {out}")


# Each measure printed under its own name (a swap-2h figure is never called a fill rate).
METRIC_LABELS = {
    "fill-rate": "fill rate (all demand met at once from a shelf)",
    "swap-2h": "swap-2h attainment (each depot's demand met from its own shelf, worst depot)",
}


def print_recommendation(found: StockRecommendation, rows: int) -> None:
    """The summary and the ``rows`` largest value changes, as both recommend commands show."""
    money = f" ({found.currency})" if found.currency else ""
    if found.history_short:
        err_console.print(
            f"[yellow]short history: {found.history_days:.0f} day(s) of stock records, fewer "
            f"than the {found.min_history_days:.0f} a recommendation needs; the rates lean on "
            "the installed base. Do not cut stock on this advice yet.[/yellow]"
        )
    if found.uses_recorded == 0 and not found.history_short:
        err_console.print(
            f"[yellow]no part use recorded in {found.history_days:.0f} day(s) of stock records: "
            "every rate is the installed base's prior (asset failures a year), not observed "
            "demand. Check it before cutting stock on this advice.[/yellow]"
        )
    table = Table(title="Recommended levels (largest value changes first)")
    for name in ("depot", "part", "current", "recommended", "delta", f"value{money}"):
        table.add_column(name, justify="left" if name in ("depot", "part") else "right")
    for line in sorted(found.lines, key=lambda x: -abs(x.delta * x.unit_cost))[:rows]:
        table.add_row(line.depot, line.sku, str(line.current), str(line.recommended),
                      f"{line.delta:+d}", str(line.value))  # fmt: skip
    console.print(table)
    metric = found.result.params.metric.value
    curve = Table(title="Efficient curve: inventory value against the target metric")
    for name in ("units", f"value{money}", metric, "backorders"):
        curve.add_column(name, justify="right")
    for p in found.result.curve(10):
        curve.add_row(str(p.units), str(p.value), f"{p.metric:.4f}", f"{p.backorders:.4f}")
    console.print(curve)
    r = found.result
    print_cuts(found, rows, money)
    console.print(
        f"target: {METRIC_LABELS.get(metric, metric)} {r.params.target}; achieved "
        f"{r.achieved:.4f} ({'reached' if r.reached else 'NOT reached'})\n"
        f"inventory value{money}: today {found.today.value}, recommended {r.evaluation.value}\n"
        f"fill rate (all demand): today {found.today.fill_rate:.4f}, "
        f"recommended {r.evaluation.fill_rate:.4f}\n"
        f"expected backorders (at any moment): today {found.today.backorders:.4f}, "
        f"recommended {r.evaluation.backorders:.4f}\n"
        f"ship-8h at the central warehouse (asked for, shipped at once): today "
        f"{found.today.central_fill:.4f}, recommended {r.evaluation.central_fill:.4f}"
    )
    floor = found.central_floor
    if floor is not None:
        console.print(
            f"the central warehouse pools every region's demand: it keeps that demand's base "
            f"stock at fill rate {r.params.central_fill} ({sum(floor.values())} units over "
            f"{len(floor)} parts; --central-fill changes it)"
        )


def print_cuts(found: StockRecommendation, rows: int, money: str) -> None:
    """Each cut below today, dearest first: the money it frees and what it costs."""
    cuts = sorted((x for x in found.lines if x.cut is not None), key=lambda x: -x.freed)
    if not cuts:
        return
    table = Table(
        title="Cuts below today: what each costs (every other row as today)",
        caption="+EBO: expected backorders added; promise: the depot's swap-2h attainment, "
        "or the central warehouse's ship-8h for the part, today->after",
        box=box.SIMPLE_HEAD,
    )
    for name in ("depot", "part", "cut", f"frees{money}", "+EBO", "promise"):
        table.add_column(name, justify="left" if name in ("depot", "part") else "right")
    for x in cuts[:rows]:
        assert x.cut is not None
        table.add_row(x.depot, x.sku, f"{x.delta:+d}", str(x.freed),
                      f"{x.cut.backorders_added:.4f}",
                      f"{x.cut.measure} {x.cut.today:.3f}->{x.cut.after:.3f}")  # fmt: skip
    console.print(table)
    if len(cuts) > rows:
        console.print(f"... and {len(cuts) - rows} more cuts (--rows, or --out for all)")
