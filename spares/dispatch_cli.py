"""`spares dispatch ...`: plan a region's routes and ask who goes to a ticket, from a shell.

The same services as the API (`dispatch.planning`, `dispatch.recommend`): the solve runs
outside any write transaction, and the plan is stored as a draft in one write transaction.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dispatch.request_defaults import DEFAULT_TIME_LIMIT_S
from spares.localtime import caption, cli_zone, clock, when
from spares.replan_cli import diff_cmd, disrupt_cmd, inspections_cmd, replan_cmd

# The database, the solver and the API's travel provider load inside each command, so that
# the command line starts at once; only types are named here.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    import optimizer as opt
    from dispatch.planning import Computed, Prepared

console = Console()
err_console = Console(stderr=True)

dispatch_app = typer.Typer(help="Dispatch: plan routes, recommend engineers.", no_args_is_help=True)
dispatch_app.command("diff")(diff_cmd)  # re-planning: spares/replan_cli.py
dispatch_app.command("replan")(replan_cmd)
dispatch_app.command("disrupt")(disrupt_cmd)
dispatch_app.command("inspections")(inspections_cmd)


def _as_of(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{value!r} is not an ISO 8601 time", param_hint="--as-of"
        ) from exc
    if at.tzinfo is None:
        raise typer.BadParameter(
            "give an offset, e.g. 2026-11-02T08:00:00+00:00", param_hint="--as-of"
        )
    return at


def _factory(ctx: typer.Context) -> sessionmaker[Session]:
    import db

    settings = ctx.obj.settings
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    return db.make_sessionmaker(engine)


AsOf = Annotated[
    str | None, typer.Option("--as-of", help="ISO 8601 time with offset (default: now)")
]


RegionOpt = Annotated[
    str | None,
    typer.Option("--region", help="plan this region's open tickets (its code, name or id)"),
]
TicketOpt = Annotated[
    list[str] | None, typer.Option("--ticket", help="or these tickets: id or code (repeat)")
]
LimitOpt = Annotated[float, typer.Option("--time-limit", min=0, help="seconds of search")]
FailOpt = Annotated[
    int | None, typer.Option(min=1, help="stop after N rejected moves (deterministic, no clock)")
]
GeoOpt = Annotated[Path | None, typer.Option("--geojson", help="also write the plan as GeoJSON")]


@dispatch_app.command("plan")
def plan_cmd(
    ctx: typer.Context,
    region: RegionOpt = None,
    ticket: TicketOpt = None,
    time_limit: LimitOpt = DEFAULT_TIME_LIMIT_S,
    failure_limit: FailOpt = None,
    seed: Annotated[int, typer.Option(help="tie-break seed")] = 0,
    as_of: AsOf = None,
    geojson: GeoOpt = None,
) -> None:
    """Plan routes for a region (or tickets) and store them as a draft; print a summary."""
    import optimizer as opt
    from api.travel import make_travel
    from db.transactions import run_in_transaction
    from dispatch.errors import DispatchError
    from dispatch.geojson import plan_geojson
    from dispatch.planning import PlanRequest, prepare_plan, store_plan
    from spares.names import resolve

    if (region is None) == (not ticket):
        raise typer.BadParameter("give --region or --ticket (not both)")
    factory = _factory(ctx)
    now = datetime.now(UTC)
    try:
        with factory() as session:
            region_id = None if region is None else resolve(session, "region", region)
            tickets = [resolve(session, "ticket", t) for t in ticket or ()]
            request = PlanRequest(
                region_id=region_id, ticket_ids=None if not tickets else tuple(tickets),
                as_of=_as_of(as_of), time_limit_s=None if failure_limit else time_limit,
                failure_limit=failure_limit, seed=seed,
            )  # fmt: skip
            prepared = prepare_plan(session, request)
        if request.time_limit_s:
            opt.warm_up()  # the solver's process server, so the limit is all search
        travel = make_travel(ctx.obj.settings)
        computed = _solve_with_progress(factory, prepared, now, travel)

        def store(session: Session) -> tuple[int, dict[str, Any]]:
            row = store_plan(session, computed, user_id=None, job_id=None, now=now)
            return row.id, dict(row.result or {})

        plan_id, result = run_in_transaction(factory, store)
        with factory() as session:
            zone = cli_zone(ctx.obj, session)
    except DispatchError as exc:
        err_console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        factory.kw["bind"].dispose()
    _print_plan(plan_id, result, zone)
    if geojson is not None:
        geojson.write_text(json.dumps(plan_geojson(result, plan_id=plan_id), indent=1))
        console.print(f"GeoJSON written to {geojson}")


def _solve_with_progress(
    factory: sessionmaker[Session], prepared: Prepared, now: datetime, travel: opt.TravelTimes
) -> Computed:
    """Solve in a thread while a progress bar shows the time spent against the limit."""
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from dispatch.planning import compute_plan

    limit = prepared.request.time_limit_s
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            with factory() as session:
                box["done"] = compute_plan(session, prepared, now=now, travel=travel)
        except BaseException as exc:  # handed to the main thread
            box["error"] = exc

    thread = threading.Thread(target=work, name="plan")
    columns = (SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        n = len(prepared.ticket_ids)
        task = progress.add_task(f"planning {n} tickets", total=limit or None)
        started = time.monotonic()
        thread.start()
        while thread.is_alive():
            thread.join(0.1)
            progress.update(task, completed=min(time.monotonic() - started, limit or 0))
    if "error" in box:
        raise box["error"]
    done: Computed = box["done"]
    return done


def _print_plan(plan_id: int, r: dict[str, Any], zone: tzinfo) -> None:
    names = {e["id"]: e["name"] for e in r.get("engineers", [])}
    codes = {t["id"]: t["code"] for t in r.get("tickets", [])}
    k = r["kpis"]
    routes = Table(
        title=f"Plan {plan_id}: {len(r['routes'])} routes, quality {r['quality']}",
        caption=caption(zone),
    )
    for col in (
        "engineer",
        "visits",
        "pickups",
        "departs",
        "returns",
        "travel h",
        "km",
        "overtime min",
    ):
        routes.add_column(
            col, justify="left" if col in ("engineer", "departs", "returns") else "right"
        )
    for route in r["routes"]:
        kinds = [s["kind"] for s in route["stops"]]
        routes.add_row(
            f"{names.get(route['engineer_id'], '')} ({route['engineer_id']})",
            str(kinds.count("visit")), str(kinds.count("pickup")),
            clock(route["departs_at"], zone), clock(route["returns_at"], zone),
            f"{route['travel_min'] / 60:.1f}", f"{route['distance_km']:.1f}",
            f"{route['overtime_min']:.0f}",
        )  # fmt: skip
    console.print(routes)
    kpis = Table(title="Promises kept", caption="severity 1 is the most severe")
    for col in ("severity", "kept", "of"):
        kpis.add_column(col, justify="right")
    for t in k["promises"]:
        kpis.add_row(str(t["severity_rank"] + 1), str(t["kept"]), str(t["total"]))
    console.print(kpis)
    console.print(
        f"served {k['served']}, dropped {k['dropped']}; travel {k['travel_min'] / 60:.1f} h, "
        f"{k['distance_km']:.1f} km; overtime {k['overtime_min']:.0f} min; "
        f"lateness {k['lateness_min']:.0f} min"
    )
    if r["dropped"]:
        dropped = Table(title="Dropped tickets")
        for col in ("ticket", "reason", "detail"):
            dropped.add_column(col)
        for d in r["dropped"]:
            code = codes.get(d["ticket_id"], "")
            dropped.add_row(f"{code} ({d['ticket_id']})", d["reason"], d["detail"])
        console.print(dropped)
    for c in r.get("callouts", []):  # an on-call engineer woken for one ticket
        code = codes.get(c["ticket_id"], "")
        console.print(
            f"call-out: {code} ({c['ticket_id']}) -> {names.get(c['engineer_id'], '')}"
            f" ({c['engineer_id']}), leaves {clock(c['departs_at'], zone)},"
            f" CNY {c['callout_cost_minor'] / 100:,.0f}",
            markup=False,
        )
    if r["violations"]:
        console.print(f"[red]validator: {len(r['violations'])} violation(s)[/red]")
        for v in r["violations"]:
            console.print(f"  {v}", markup=False)
    else:
        console.print("validator: no violations")


@dispatch_app.command("recommend")
def recommend_cmd(
    ctx: typer.Context,
    ticket: Annotated[str, typer.Argument(help="the ticket's id or code")],
    as_of: AsOf = None,
    limit: Annotated[int, typer.Option(min=1, max=20, help="ranked options")] = 5,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="each clock, cost and reason in full")
    ] = False,
    engineer: Annotated[
        str | None,
        typer.Option(
            "--engineer", help="also price this engineer (id or code) in full, ranked or not"
        ),
    ] = None,
) -> None:
    """Rank the engineers who could take a ticket; say who is left out and why.

    Engineers the search stopped before are counted, not priced; --engineer prices one.
    """
    from api.travel import make_travel
    from dispatch.errors import DispatchError
    from dispatch.recommend import price_engineer, recommend_ticket

    factory = _factory(ctx)
    at = _as_of(as_of) or datetime.now(UTC)
    try:
        with factory() as session:
            zone = cli_zone(ctx.obj, session) if ctx.obj.tz or ctx.obj.settings.timezone else None
            ticket_id = _ticket_id(session, ticket)
            found = recommend_ticket(
                session, ticket_id=ticket_id, now=at,
                travel=make_travel(ctx.obj.settings), limit=limit, zone=zone,
            )  # fmt: skip
            heading = _heading(session, ticket_id, at, found.zone)
            asked = None
            if engineer is not None:
                asked = price_engineer(found, _engineer_id(session, engineer))
            loaner = found.recommendation.loaner
            part = _part_label(session, loaner.part_id) if loaner is not None else ""
    except DispatchError as exc:
        err_console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        factory.kw["bind"].dispose()
    _print_recommendation(found, found.zone, heading=heading, part=part, verbose=verbose)
    if asked is not None:
        _print_asked(found, asked)


def _engineer_id(session: Session, text: str) -> int:
    """An engineer by id or by his code (any case); an unknown one is a usage error."""
    from spares.names import resolve

    return resolve(session, "engineer", text)


def _print_asked(found: Any, asked: opt.Option | opt.Exclusion) -> None:
    """The engineer asked for with --engineer, priced in full: his plan, or why he has none."""
    from optimizer import Exclusion

    snap = found.snapshot
    who = f"{snap.engineer_names.get(asked.engineer_id, '')} ({asked.engineer_id})"
    if isinstance(asked, Exclusion):
        console.print(f"asked: {who}: {asked.reason} ({asked.detail})", markup=False)
        return
    arrives = clock(snap.at(asked.arrives_at), found.zone)
    console.print(
        f"asked: {who}: arrives {arrives}, parts {asked.parts.source}; {_clocks(asked)}",
        markup=False,
    )
    console.print(f"    why: {asked.reason}", markup=False)


def _part_label(session: Session, part_id: int) -> str:
    """A part as a person knows it: SKU and name."""
    from inventory.models import Part

    part = session.get(Part, part_id)
    return f"part {part_id}" if part is None else f"{part.sku} ({part.name})"


def _heading(session: Session, ticket_id: int, at: datetime, zone: tzinfo) -> str:
    """The ticket as a dispatcher knows it: code, site, customer and the local time asked."""
    from dispatch.models import Contract, Site, Ticket

    ticket = session.get(Ticket, ticket_id)
    assert ticket is not None  # recommend_ticket found it
    site = session.get(Site, ticket.site_id)
    assert site is not None  # a foreign key
    contract = session.get(Contract, site.contract_id)
    customer = f", {contract.customer_name}" if contract is not None else ""
    return f"Ticket {ticket.code} at {site.name}{customer}, {when(at, zone)}"


def _clocks(o: opt.Option) -> str:
    """Each clock kept or broken (by how much, at what cost), and the option's cost."""
    parts = [
        f"{c.promise.value} kept" if c.kept
        else f"{c.promise.value} late {-c.slack_min} min (CNY {c.cost / 100:,.0f})"
        for c in o.promises
    ]  # fmt: skip
    parts.append(f"cost CNY {o.cost / 100:,.0f}")
    return "; ".join(parts)


def _ticket_id(session: Session, text: str) -> int:
    """A ticket by id or by its code (any case); an unknown one is a usage error."""
    from spares.names import resolve

    return resolve(session, "ticket", text, hint="TICKET")


def _promises(o: opt.Option) -> str:
    """Kept, or the clocks broken and the worst lateness: one short cell."""
    late = [c for c in o.promises if not c.kept]
    if not late:
        return "kept"
    worst = max(-c.slack_min for c in late)
    return f"{len(late)} late, {worst} min"


def _who(names: dict[int, str], o: opt.Option) -> str:
    """The engineer's cell; a call-out says so, with its cost."""
    who = f"{names.get(o.engineer_id, '')} ({o.engineer_id})"
    return f"{who} call-out CNY {o.callout_cost / 100:,.0f}" if o.callout else who


def _print_recommendation(
    found: Any, zone: tzinfo, *, heading: str, part: str = "", verbose: bool = False
) -> None:
    """Options in 80 columns (details, reasons and exclusions' detail with --verbose)."""
    from dispatch.recommend import named_text

    snap, rec = found.snapshot, found.recommendation
    names = snap.engineer_names

    def hhmm(offset: int | None) -> str:
        return "" if offset is None else clock(snap.at(offset), zone)

    state = "can be kept" if rec.keepable else "[red]cannot all be kept[/red]"
    options = Table(title=f"{heading}: options (promises {state})", caption=caption(zone))
    for col in ("#", "engineer", "arrives", "fixes", "parts", "promises", "drive"):
        options.add_column(col, no_wrap=col in ("arrives", "fixes"))
    for o in rec.options:
        p = o.parts
        where = snap.depot_names.get(p.depot_id, "") if p.depot_id else ""
        options.add_row(
            str(o.rank), _who(names, o),
            hhmm(o.arrives_at), hhmm(o.fixes_at), f"{p.source} {where}".strip(),
            _promises(o), f"{o.travel_s / 60:.0f} min",
        )  # fmt: skip
    console.print(options)
    for o in rec.options:
        if verbose:
            console.print(f"#{o.rank}: {_clocks(o)}; {o.travel_m / 1000:.1f} km", markup=False)
            console.print(f"    why: {o.reason}", markup=False)
    if rec.excluded:
        excluded = Table(title="Left out", caption=None if verbose else "details: --verbose")
        for col in ("engineer", "reason", *(("detail",) if verbose else ())):
            excluded.add_column(col)
        for x in rec.excluded:
            excluded.add_row(
                f"{names.get(x.engineer_id, '')} ({x.engineer_id})", str(x.reason),
                *((x.detail,) if verbose else ()),
            )  # fmt: skip
        console.print(excluded)
    gone = rec.unreached
    if gone is not None:
        console.print(
            f"Not priced: {len(gone.engineer_ids)} engineers the search stopped before"
            f" ({gone.detail}); --engineer prices one", markup=False,
        )  # fmt: skip
        if verbose:
            console.print(
                "    " + ", ".join(f"{names.get(e, '')} ({e})" for e in gone.engineer_ids),
                markup=False,
            )
    for s in rec.suggestions:
        console.print(f"suggestion ({s.kind}): {named_text(snap, s)}", markup=False)
    if rec.loaner is not None:
        ln = rec.loaner
        depot = snap.depot_names.get(ln.depot_id, str(ln.depot_id))
        on_site = when(snap.at(ln.arrives_at), zone)
        what = part or f"part {ln.part_id}"
        console.print(f"loaner: {what} from {depot}, on site at {on_site}", markup=False)
