"""`spares stock ...`: the warehouse's work from a shell, through the same services as the API.

Each write runs in one transaction via `db.transactions.run_in_transaction` (BEGIN
IMMEDIATE on SQLite, bounded retries on PostgreSQL) and is recorded in the ledger as
the user named by `--user` (default: the system). `sweep` is the expiry sweeper as a
plain function call; the worker (`spares worker`, a later issue) will call the same.
`recommend` reads only: from the database (`spares.stock_recommend_cli`), or with
`--scenario FILE` from the scenario's demand model (`scenarios.stock`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console

from inventory.metric_kind import Metric
from inventory.stock_rules import DEFAULT_LIFETIME_MIN
from scenarios.stock_defaults import RATE_STREAMS
from spares.localtime import cli_zone, when
from spares.stock_views import find_id, reservations_cmd, show_cmd

# The database layer and the services load inside each command (the command line starts
# at once); only light constants and types are imported above.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from inventory.stock import Who

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)

stock_app = typer.Typer(
    help="Stock: verify, sweep, reserve, move, recommend.", no_args_is_help=True
)

UserOpt = Annotated[str | None, typer.Option("--user", help="who does it (a user's name)")]
# A depot or part by id, code (SKU) or name; resolved in the command's transaction.
Depot = Annotated[str, typer.Option("--depot", help="depot id, code or name")]
PartOpt = Annotated[str, typer.Option("--part", help="part id, SKU or name")]
ToDepot = Annotated[str, typer.Option("--to", help="depot id, code or name")]
Qty = Annotated[int, typer.Option("--quantity", "-n", min=1, help="units")]


def _run(ctx: typer.Context, user: str | None, work: Callable[[Session, Who], T]) -> T:
    """Run `work` in one write transaction; a refused request prints why and exits 1."""
    from sqlalchemy import select

    import db
    import dispatch.models  # noqa: F401 (every table on the metadata: stock rows point at tickets)
    from db.transactions import run_in_transaction
    from inventory import stock
    from inventory.errors import InventoryError

    engine = db.make_engine(ctx.obj.settings.database_url)
    db.upgrade(engine)
    try:

        def fn(session: Session) -> T:
            user_id = None
            if user is not None:
                user_id = session.scalar(select(db.User.id).where(db.User.name == user))
                if user_id is None:
                    raise typer.BadParameter(f"no user named {user!r}", param_hint="--user")
            cli_zone(ctx.obj, session)  # the zone printed times are shown in, read once
            return work(session, stock.Who(user_id, datetime.now(UTC)))

        return run_in_transaction(db.make_sessionmaker(engine), fn)
    except InventoryError as exc:
        err_console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


@stock_app.command("verify")
def verify_cmd(ctx: typer.Context) -> None:
    """Prove balances equal the ledger (and holds, transfers, orders); exit 1 on any mismatch."""
    from inventory.verify import verify

    def work(s: Session, _who: Who) -> tuple[Any, dict[int, str], dict[int, tuple[str, str]]]:
        from dispatch.names import parts
        from inventory.models import Depot as DepotRow

        found = verify(session=s)
        ids = {m.depot_id for m in found}
        codes = {d.id: d.code for d in s.query(DepotRow).filter(DepotRow.id.in_(ids))}
        return found, codes, parts(s, (m.part_id for m in found))

    found, codes, named = _run(ctx, None, work)
    for m in found:  # issue 17: the depot's code, the part's SKU and name
        depot = codes.get(m.depot_id, f"depot {m.depot_id}")
        sku, name = named.get(m.part_id, (f"part {m.part_id}", ""))
        console.print(f"{depot} {sku} ({name}) {m.counter}: stored {m.stored}, "
                      f"{m.source} say {m.expected}", markup=False)  # fmt: skip
    if found:
        raise typer.Exit(1)
    console.print("ledger and balances agree")


@stock_app.command("sweep")
def sweep_cmd(ctx: typer.Context) -> None:
    """Release expired reservations into the ledger and forget idempotency keys past 24 h.

    A plain function call: the worker (`spares worker`, a later issue) will run the same.
    """
    from inventory import idempotency, reservations

    n = _run(ctx, None, lambda s, who: reservations.sweep_expired(session=s, now=who.now))
    keys = _run(ctx, None, lambda s, who: idempotency.purge_expired(session=s, now=who.now))
    console.print(f"released {n} expired reservation(s); forgot {keys} idempotency key(s)")


@stock_app.command("reserve")
def reserve_cmd(
    ctx: typer.Context, depot: Depot, part: PartOpt, quantity: Qty = 1,
    ticket: Annotated[str | None, typer.Option("--ticket", help="id or code")] = None,
    minutes: Annotated[int, typer.Option("--minutes", min=1)] = DEFAULT_LIFETIME_MIN,
    user: UserOpt = None,
) -> None:  # fmt: skip
    """Hold units at a depot (for a ticket) for `--minutes`."""
    from inventory import reservations

    said: dict[str, str] = {}

    def work(s: Session, who: Who) -> Any:
        depot_id, part_id = _where(s, depot, part, said)
        return reservations.reserve(
            session=s, depot_id=depot_id, lines=[reservations.ReserveLine(part_id, quantity)],
            user_id=who.user_id, now=who.now, lifetime_min=minutes,
            ticket_id=None if ticket is None else find_id(s, "ticket", ticket))  # fmt: skip

    held = _run(ctx, user, work)
    until = when(held[0].expires_at, ctx.obj.zone)
    console.print(
        f"reservation {held[0].id}: {quantity} of {said['part']} held at depot {said['depot']}"
        f" until {until}"
    )


def _reservation_cmd(name: str, service: str, help_text: str) -> None:
    """A command that calls `inventory.reservations.<service>` on one reservation."""

    def command(
        ctx: typer.Context, reservation_id: Annotated[int, typer.Argument()], user: UserOpt = None
    ) -> None:
        from inventory import reservations

        fn: Callable[..., Any] = getattr(reservations, service)
        done = _run(ctx, user, lambda s, who: fn(session=s, reservation_id=reservation_id,
                                                 user_id=who.user_id, now=who.now))  # fmt: skip
        console.print(f"reservation {done.id}: {done.status.value}")

    command.__doc__ = help_text
    stock_app.command(name)(command)


_reservation_cmd("release", "release", "Give a live reservation's units back.")
_reservation_cmd("pick", "consume", "Take a live reservation's units off the shelf.")


stock_app.command("show")(show_cmd)  # read-only views by code and name: spares/stock_views.py
stock_app.command("reservations")(reservations_cmd)


@stock_app.command("find")
def find_cmd(
    ctx: typer.Context,
    text: Annotated[str, typer.Argument(help="part code (SKU) or name contains this, any case")],
    depot: Annotated[
        str | None, typer.Option("--depot", help="only this depot or van (id, code or name)")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 100,
) -> None:
    """Stock rows of the parts whose code or name contains TEXT (the warehouse page's search)."""
    from rich.table import Table

    from dispatch.names import depot_codes
    from inventory import stock

    def search(s: Session, who: Who) -> tuple[Any, dict[int, str]]:
        depot_id = None if depot is None else find_id(s, "depot", depot)
        page = stock.list_stock(
            session=s, now=who.now, filters=stock.StockFilter(depot_id=depot_id, q=text),
            after=None, limit=limit,
        )  # fmt: skip
        return page, depot_codes(s, (row.depot_id for row in page.items))

    found, codes = _run(ctx, None, search)
    table = Table(title=f"stock matching {text!r}", title_justify="left")
    for name in ("depot", "SKU", "part", "on hand", "reserved", "available"):
        table.add_column(name, justify="right" if name in ("on hand", "reserved", "available")
                         else "left")  # fmt: skip
    for row in found.items:
        table.add_row(codes.get(row.depot_id, str(row.depot_id)), row.part_sku, row.part_name,
                      str(row.on_hand), str(row.reserved), str(row.available))  # fmt: skip
    console.print(table)
    if found.next_after is not None:
        console.print(f"(more: raise --limit above {limit})")


def _where(session: Session, depot: str, part: str, said: dict[str, str]) -> tuple[int, int]:
    """The depot's and the part's ids; `said` gets how a person reads them (issue 17):
    the depot's code, the part's SKU and name, whatever was typed (an id, a name)."""
    from inventory.models import Depot as DepotRow
    from inventory.models import Part

    depot_id, part_id = find_id(session, "depot", depot), find_id(session, "part", part)
    d, p = session.get(DepotRow, depot_id), session.get(Part, part_id)
    said["depot"] = depot if d is None else d.code
    said["part"] = part if p is None else f"{p.sku} ({p.name})"
    return depot_id, part_id


@stock_app.command("receive")
def receive_cmd(
    ctx: typer.Context, depot: Depot, part: PartOpt, quantity: Qty, user: UserOpt = None
) -> None:
    """Put delivered units on the shelf."""
    from inventory import stock

    said: dict[str, str] = {}

    def work(s: Session, who: Who) -> None:
        depot_id, part_id = _where(s, depot, part, said)
        stock.receive(session=s, depot_id=depot_id, part_id=part_id, quantity=quantity, who=who)

    _run(ctx, user, work)
    console.print(f"received {quantity} of {said['part']} at depot {said['depot']}")


@stock_app.command("transfer")
def transfer_cmd(
    ctx: typer.Context, depot: Depot, to: ToDepot, part: PartOpt,
    quantity: Qty, transit: Annotated[int, typer.Option("--transit-min", min=0)] = 0,
    user: UserOpt = None,
) -> None:  # fmt: skip
    """Send units to another depot now (in transit there until received)."""
    from inventory import shipments

    said: dict[str, str] = {}
    there: dict[str, str] = {}

    def work(s: Session, who: Who) -> Any:
        from_id, part_id = _where(s, depot, part, said)
        to_id = find_id(s, "depot", to, "--to")
        _where(s, str(to_id), str(part_id), there)
        return shipments.transfer(session=s, from_depot_id=from_id, to_depot_id=to_id,
                                  part_id=part_id, quantity=quantity, transit_min=transit,
                                  who=who)  # fmt: skip

    moved = _run(ctx, user, work)
    expected = "" if moved.expected_at is None else when(moved.expected_at, ctx.obj.zone)
    console.print(
        f"shipment {moved.id}: {quantity} of {said['part']} from {said['depot']}"
        f" to {there['depot']}, expected at {expected}"
    )


@stock_app.command("adjust")
def adjust_cmd(
    ctx: typer.Context, depot: Depot, part: PartOpt,
    reason: Annotated[str, typer.Option("--reason")],
    counted: Annotated[int | None, typer.Option("--counted", min=0)] = None,
    delta: Annotated[int | None, typer.Option("--delta")] = None,
    user: UserOpt = None,
) -> None:  # fmt: skip
    """Correct on hand after a cycle count (`--counted`) or by `--delta`, with a reason."""
    from inventory import stock

    said: dict[str, str] = {}

    def work(s: Session, who: Who) -> int:
        depot_id, part_id = _where(s, depot, part, said)
        return stock.adjust(session=s, depot_id=depot_id, part_id=part_id, reason=reason,
                            who=who, delta=delta, counted=counted)  # fmt: skip

    change = _run(ctx, user, work)
    console.print(f"adjusted {said['part']} at depot {said['depot']} by {change:+d}")


@stock_app.command("return")
def return_cmd(
    ctx: typer.Context, depot: Depot, part: PartOpt, quantity: Qty = 1, user: UserOpt = None
) -> None:
    """Take faulty parts into the depot's returns bin."""
    from inventory import stock

    said: dict[str, str] = {}

    def work(s: Session, who: Who) -> None:
        depot_id, part_id = _where(s, depot, part, said)
        stock.return_faulty(session=s, depot_id=depot_id, part_id=part_id, quantity=quantity,
                            who=who)  # fmt: skip

    _run(ctx, user, work)
    console.print(f"{quantity} of {said['part']} into the returns bin of depot {said['depot']}")


@stock_app.command("order")
def order_cmd(
    ctx: typer.Context,
    depot: Depot,
    part: PartOpt,
    quantity: Qty,
    supplier: Annotated[
        str, typer.Option("--supplier", help="supplier or partner: id, code or name")
    ],
    user: UserOpt = None,
) -> None:
    """Order units from a supplier or partner: on order until received after its lead time."""
    from inventory import shipments

    said: dict[str, str] = {}

    def work(s: Session, who: Who) -> Any:
        supplier_id = find_id(s, "supplier", supplier)
        depot_id, part_id = _where(s, depot, part, said)
        return shipments.order(session=s, supplier_id=supplier_id, depot_id=depot_id,
                               part_id=part_id, quantity=quantity, who=who)  # fmt: skip

    placed = _run(ctx, user, work)
    expected = when(placed.expected_at, ctx.obj.zone)
    console.print(
        f"order {placed.id}: {quantity} of {said['part']} for depot {said['depot']},"
        f" expected at {expected}"
    )


@stock_app.command("recommend")
def recommend_any_cmd(
    ctx: typer.Context,
    scenario: Annotated[
        Path | None,
        typer.Option(help="demand from this scenario file's demand model, not the database"),
    ] = None,
    target: Annotated[float, typer.Option(min=0, max=1, help="strictly between 0 and 1")] = 0.95,
    metric: Annotated[Metric, typer.Option(help="fill-rate, or per-depot swap-2h")] = (
        Metric.FILL_RATE
    ),
    region: Annotated[
        str | None,
        typer.Option(help="only this region's depots (code; name or id with the database)"),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="write everything to FILE.json or .yaml")] = None,
    rows: Annotated[int, typer.Option(min=0, help="table rows (largest value changes)")] = 25,
    central_fill: Annotated[
        float | None,
        typer.Option(
            min=0,
            max=1,
            help="the central warehouse's pooled base stock reaches this fill "
            "rate (its resupplies and the regional misses it ships) [the target]",
        ),
    ] = None,
    streams: Annotated[
        int | None,
        typer.Option(min=1, help=f"(--scenario) ticket streams counted [{RATE_STREAMS}]"),
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="(--scenario) their seed; never the scenario's own")
    ] = None,
) -> None:
    """Recommend stock levels per depot x part that reach the target at least value.

    Demand comes from the database (use history, open tickets, installed base), or with
    `--scenario FILE` from that scenario's demand model: then no database is read (unless
    the scenario's base is one), and `--out` can go straight to `spares scenario run FILE
    --stock-recommendation`.
    """
    from scenarios.spec import ScenarioError, load_scenario
    from scenarios.stock import rate_seed, recommend_for_scenario
    from spares.scenario_cli import export_database_base
    from spares.stock_recommend_cli import (
        check_out,
        print_recommendation,
        recommend_cmd,
        write_recommendation,
    )

    if scenario is None:
        if streams is not None or seed is not None:
            raise typer.BadParameter("only with --scenario", param_hint="--streams/--seed")
        console.print("demand: the database (use history, open tickets, installed base)")
        recommend_cmd(ctx, target=target, metric=metric, region=region, out=out, rows=rows,
                      central_fill=central_fill)  # fmt: skip
        return
    check_out(out)
    try:
        spec = load_scenario(scenario)
        used_seed = rate_seed(spec, seed)
    except (ScenarioError, ValueError) as exc:
        err_console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(2) from exc
    n = streams or RATE_STREAMS
    console.print(
        f"demand: scenario {spec.name!r} ({scenario}): its demand model, {n} ticket streams of "
        f"{spec.horizon_days:g} days drawn with seed {used_seed} (not the measured seed "
        f"{spec.seed}); no variant's changes"
    )
    try:
        with ExitStack() as stack:
            found = recommend_for_scenario(
                spec, target=target, metric=metric, region=region, streams=n, seed=used_seed,
                exported=export_database_base(spec, stack), central_fill=central_fill,
            )  # fmt: skip
    except ValueError as exc:
        err_console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    print_recommendation(found, rows)
    if out is not None:
        write_recommendation(found, out)
