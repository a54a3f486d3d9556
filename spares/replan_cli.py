"""`spares dispatch diff|replan|disrupt|inspections`: re-planning from a shell (issue 8).

`diff` prints what a draft changes against the published plan it would replace (the same
`dispatch.publish.diff_against_published` as the API). `replan` re-plans a region's open
tickets keeping the published commitments (`dispatch.replanning`: locks, frozen horizon,
ETA tolerance), stores the draft, prints its diff, and publishes it on request.
`disrupt` reports an engineer's absence, a visit's overrun or a depot out of a part against
the published plan (`dispatch.disruptions`): the draft re-plan, the promises at risk and
why, and the diff. `inspections` opens the month's preventive inspection tickets
(`dispatch.inspections`). The
commands are registered on `spares.dispatch_cli.dispatch_app`; this module imports
nothing of it, so that either can be read alone.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dispatch.request_defaults import DEFAULT_ABSENCE_REASON, DEFAULT_TIME_LIMIT_S

# The database, the solver and the services load inside each command, so that the command
# line starts at once; only types are named here.
if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    import db
    from dispatch.disruptions import Disruption

console = Console()
err_console = Console(stderr=True)


def _factory(ctx: typer.Context) -> sessionmaker[Session]:
    import db

    settings = ctx.obj.settings
    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    return db.make_sessionmaker(engine)


def _names(session: Session, plan_id: int) -> tuple[dict[int, str], dict[int, str]]:
    """Engineer names and ticket codes from the draft's stored context."""
    from dispatch.planning import get_plan

    result = get_plan(session, plan_id).result or {}
    engineers = {int(e["id"]): str(e["name"]) for e in result.get("engineers", [])}
    codes = {int(t["id"]): str(t["code"]) for t in result.get("tickets", [])}
    return engineers, codes


def _named_sources(session: Session, changes: dict[str, Any]) -> dict[str, Any]:
    """Parts sources as a dispatcher reads them (issue 17): 'RD-SZ-1 FA-LPC-01 x1', not
    'depot:3 part 111 x1'; a van by its engineer's name."""
    import re

    from sqlalchemy import select

    from dispatch.names import engineer_names
    from inventory.models import Depot, Part

    lines = [s for r in changes["reservations"] for s in (*r["before"], *r["after"])]
    ids = {k: {int(m) for s in lines for m in re.findall(rf"{k}[: ](\d+)", s)}
           for k in ("depot", "part", "van")}  # fmt: skip
    if not lines:
        return changes
    depots = dict(
        session.execute(select(Depot.id, Depot.code).where(Depot.id.in_(ids["depot"]))).all()
    )
    skus = dict(session.execute(select(Part.id, Part.sku).where(Part.id.in_(ids["part"]))).all())
    vans = engineer_names(session, ids["van"])

    def named(s: str) -> str:
        s = re.sub(r"depot:(\d+)", lambda m: depots.get(int(m[1]), m[0]), s)
        s = re.sub(r"van:(\d+)", lambda m: f"van of {vans[int(m[1])]}" if int(m[1]) in vans
                   else m[0], s)  # fmt: skip
        return re.sub(r"part (\d+)", lambda m: skus.get(int(m[1]), m[0]), s)

    reservations = [
        r | {"before": [named(s) for s in r["before"]], "after": [named(s) for s in r["after"]]}
        for r in changes["reservations"]
    ]
    return changes | {"reservations": reservations}


def diff_cmd(
    ctx: typer.Context, plan_id: Annotated[int, typer.Argument(help="the draft plan's id")]
) -> None:
    """Show what a draft changes against the published plan: moves, ETAs, promises, parts."""
    from dispatch.errors import DispatchError
    from dispatch.publish import diff_against_published

    factory = _factory(ctx)
    try:
        with factory() as session:
            changes = _named_sources(session, diff_against_published(session, plan_id=plan_id))
            names, codes = _names(session, plan_id)
    except DispatchError as exc:
        err_console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        factory.kw["bind"].dispose()
    print_diff(changes, names, codes)


def _who(names: dict[int, str], engineer_id: int | None) -> str:
    return "-" if engineer_id is None else f"{names.get(engineer_id, '')} ({engineer_id})".strip()


def _flags(t: dict[str, Any]) -> str:
    found = [k.replace("_", " ") for k in ("moved", "newly_served", "newly_dropped") if t[k]]
    return ", ".join(found + (["[red]at risk[/red]"] if t["at_risk"] else []))


def print_diff(changes: dict[str, Any], names: dict[int, str], codes: dict[int, str]) -> None:
    """Print a plan diff (`optimizer.PlanDiff.to_dict` plus the plan ids) as rich tables."""
    against = changes["against_plan_id"]
    title = f"Plan {changes['plan_id']} against " + (
        f"published plan {against}" if against is not None else "nothing published"
    )
    if not changes["tickets"] and not changes["reservations"]:
        console.print(f"{title}: no changes")
        return
    tickets = Table(title=title)
    for col in ("ticket", "engineer before", "engineer after", "ETA change", "promise", "flags"):
        tickets.add_column(col, justify="right" if col == "ETA change" else "left")
    for t in changes["tickets"]:
        eta = t["eta_change_min"]
        tickets.add_row(
            f"{codes.get(t['ticket_id'], '')} ({t['ticket_id']})".strip(),
            _who(names, t["engineer_before"]), _who(names, t["engineer_after"]),
            "" if eta is None else f"{eta:+.0f} min",
            f"{t['promise_before'] or '-'} -> {t['promise_after'] or '-'}", _flags(t),
        )  # fmt: skip
    console.print(tickets)
    if changes["reservations"]:
        parts = Table(title="Parts sources that change")
        for col in ("ticket", "before", "after"):
            parts.add_column(col)
        for r in changes["reservations"]:
            parts.add_row(f"{codes.get(r['ticket_id'], '')} ({r['ticket_id']})".strip(),
                          "\n".join(r["before"]) or "-",
                          "\n".join(r["after"]) or "-")  # fmt: skip
        console.print(parts)
    count = {k: sum(t[k] for t in changes["tickets"]) for k in ("moved", "newly_served",
                                                                  "newly_dropped")}  # fmt: skip
    console.print(
        f"{len(changes['tickets'])} ticket(s) change: {count['moved']} move engineer, "
        f"{count['newly_served']} newly served, {count['newly_dropped']} newly dropped; "
        f"at risk: {changes['at_risk'] or 'none'}"
    )


def _user(session: Session, name: str) -> db.User:
    from sqlalchemy import select

    import db

    user = session.scalars(select(db.User).where(db.User.name == name)).one_or_none()
    if user is None:
        raise typer.BadParameter(f"no user named {name!r}", param_hint="--user")
    return user


def replan_cmd(
    ctx: typer.Context,
    region: Annotated[str, typer.Option("--region", help="the region (code, name or id)")],
    publish: Annotated[bool, typer.Option("--publish", help="publish the draft at once")] = False,
    user: Annotated[str | None, typer.Option("--user", help="who publishes (a name)")] = None,
    time_limit: Annotated[float, typer.Option("--time-limit", min=0)] = DEFAULT_TIME_LIMIT_S,
    failure_limit: Annotated[
        int | None, typer.Option(min=1, help="stop after N rejected moves (deterministic)")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="ISO 8601 with offset")] = None,
    allow_eta_moves: Annotated[
        bool, typer.Option("--allow-eta-moves", help="ETAs may move beyond the tolerance")
    ] = False,
) -> None:
    """Re-plan a region against the published plan's commitments; print the diff."""
    from api.travel import make_travel
    from db.transactions import run_in_transaction
    from dispatch.errors import DispatchError
    from dispatch.planning import PlanRequest
    from dispatch.publish import diff_against_published, publish_plan
    from dispatch.replanning import compute_replan, store_replan
    from spares.names import resolve

    if publish and user is None:
        raise typer.BadParameter("publishing needs --user (who publishes)", param_hint="--user")
    now = _at(as_of)
    factory = _factory(ctx)
    travel = make_travel(ctx.obj.settings)
    limits = PlanRequest(
        time_limit_s=None if failure_limit else time_limit, failure_limit=failure_limit
    )
    try:
        with factory() as session:  # the search outside any write transaction
            region_id = resolve(session, "region", region)
            done = compute_replan(
                session, region_id=region_id, now=now, travel=travel, request=limits,
                allow_eta_moves=allow_eta_moves,
            )  # fmt: skip

        def store(session: Session) -> tuple[int, dict[str, Any], bool]:
            row = store_replan(session, done, user_id=None)
            changes = diff_against_published(session, plan_id=row.id)
            if publish and user is not None:
                publish_plan(session, plan_id=row.id, user=_user(session, user), now=now)
            return row.id, changes, bool((row.result or {}).get("feasible"))

        plan_id, changes, feasible = run_in_transaction(factory, store)
        with factory() as session:
            names, codes = _names(session, plan_id)
            changes = _named_sources(session, changes)
    except DispatchError as exc:
        err_console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        factory.kw["bind"].dispose()
    state = "published" if publish else "stored as a draft"
    console.print(f"Re-plan of {region}: plan {plan_id} {state} (feasible: {feasible})")
    print_diff(changes, names, codes)


def _at(value: str | None, option: str = "--as-of") -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint=option) from exc
    if at.tzinfo is None:
        raise typer.BadParameter("give an offset, e.g. +00:00", param_hint=option)
    return at


def inspections_cmd(
    ctx: typer.Context,
    month: Annotated[str, typer.Option("--month", help="YYYY-MM: the period to open")],
    user: Annotated[str, typer.Option("--user", help="who opens them (a user's name)")],
    as_of: Annotated[str | None, typer.Option("--as-of", help="ISO 8601 with offset")] = None,
) -> None:
    """Open the month's preventive inspection tickets (once per site, line and period)."""
    from db.transactions import run_in_transaction
    from dispatch.errors import DispatchError
    from dispatch.inspections import generate_inspections

    try:
        first = date.fromisoformat(f"{month}-01")
    except ValueError as exc:
        raise typer.BadParameter(f"{month!r} is not YYYY-MM", param_hint="--month") from exc
    now = _at(as_of)
    factory = _factory(ctx)

    def work(session: Session) -> tuple[int, int]:
        done = generate_inspections(session, month=first, user=_user(session, user), now=now)
        return len(done.created), len(done.existing)

    try:
        created, existing = run_in_transaction(factory, work)
    except DispatchError as exc:
        err_console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        factory.kw["bind"].dispose()
    console.print(f"{month}: {created} inspection ticket(s) opened, {existing} existed already")


def _id(session: Session, kind: str, text: str | None, hint: str | None = None) -> int | None:
    from spares.names import resolve

    return None if text is None else resolve(session, kind, text, hint=hint)


def _check_one_disruption(
    absent: object, overrun: object, extra_min: int | None, depot: object, part: object
) -> None:
    """Exactly one disruption, with what it needs (a usage error otherwise)."""
    given = [absent is not None, overrun is not None, depot is not None or part is not None]
    if sum(given) != 1:
        raise typer.BadParameter("give exactly one of --absent, --overrun, or --depot with --part")
    if overrun is not None and extra_min is None:
        raise typer.BadParameter("an overrun needs --extra-min", param_hint="--extra-min")
    if given[2] and (depot is None or part is None):
        raise typer.BadParameter("a part out needs both --depot and --part", param_hint="--part")


def _disruption(
    absent: int | None, until: str | None, reason: str, overrun: int | None,
    extra_min: int | None, depot: int | None, part: int | None,
) -> Disruption:  # fmt: skip
    """The one disruption the options describe (a usage error otherwise)."""
    from dispatch.disruptions import EngineerAbsent, PartOut, VisitOverrun

    _check_one_disruption(absent, overrun, extra_min, depot, part)
    if absent is not None:
        return EngineerAbsent(absent, None if until is None else _at(until, "--until"), reason)
    if overrun is not None:
        if extra_min is None:
            raise typer.BadParameter("an overrun needs --extra-min", param_hint="--extra-min")
        return VisitOverrun(overrun, extra_min)
    if depot is None or part is None:
        raise typer.BadParameter("a part out needs both --depot and --part", param_hint="--part")
    return PartOut(depot, part)


def disrupt_cmd(
    ctx: typer.Context,
    plan_id: Annotated[int, typer.Argument(help="the published plan's id")],
    user: Annotated[str, typer.Option("--user", help="who reports it (a user's name)")],
    absent: Annotated[
        str | None, typer.Option("--absent", help="ENGINEER (id, code or name) is away from now")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="(--absent) back at, ISO 8601 with offset")
    ] = None,
    reason: Annotated[
        str, typer.Option("--reason", help="(--absent) why")
    ] = DEFAULT_ABSENCE_REASON,
    overrun: Annotated[
        str | None, typer.Option("--overrun", help="TICKET's (id or code) visit takes longer")
    ] = None,
    extra_min: Annotated[
        int | None, typer.Option("--extra-min", min=1, help="(--overrun) by this many minutes")
    ] = None,
    depot: Annotated[
        str | None, typer.Option("--depot", help="DEPOT (id, code or name) runs out of ...")
    ] = None,
    part: Annotated[str | None, typer.Option("--part", help="... PART (id, SKU or name)")] = None,
    allow_eta_moves: Annotated[
        bool, typer.Option("--allow-eta-moves", help="ETAs may move beyond the tolerance")
    ] = False,
    time_limit: Annotated[float, typer.Option("--time-limit", min=0)] = 2.0,
    failure_limit: Annotated[
        int | None, typer.Option(min=1, help="stop after N rejected moves (deterministic)")
    ] = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="ISO 8601 with offset")] = None,
) -> None:
    """Report a disruption of the published plan: a draft re-plan and the promises at risk."""
    from api.travel import make_travel
    from db.transactions import run_in_transaction
    from dispatch.disruptions import disruption_summary, report_disruption
    from dispatch.errors import DispatchError
    from dispatch.planning import PlanRequest
    from dispatch.publish import diff_against_published

    _check_one_disruption(absent, overrun, extra_min, depot, part)  # usage errors first
    now = _at(as_of)
    factory = _factory(ctx)
    with factory() as session:  # names and codes to ids
        what = _disruption(
            _id(session, "engineer", absent, "--absent"), until, reason,
            _id(session, "ticket", overrun, "--overrun"), extra_min,
            _id(session, "depot", depot), _id(session, "part", part),
        )  # fmt: skip
    travel = make_travel(ctx.obj.settings)
    limits = PlanRequest(
        time_limit_s=None if failure_limit else time_limit, failure_limit=failure_limit
    )

    def work(session: Session) -> tuple[dict[str, Any], dict[str, Any]]:
        done = report_disruption(
            session, plan_id=plan_id, disruption=what, now=now, travel=travel,
            user=_user(session, user), allow_eta_moves=allow_eta_moves, request=limits,
        )  # fmt: skip
        return disruption_summary(done), diff_against_published(session, plan_id=done.plan.id)

    try:
        summary, changes = run_in_transaction(factory, work)
        with factory() as session:  # names of the published plan too: who is absent, say
            before, before_codes = _names(session, summary["published_plan_id"])
            names, codes = _names(session, summary["plan_id"])
            changes = _named_sources(session, changes)
    except DispatchError as exc:
        err_console.print(f"[red]refused:[/red] {exc}")
        raise typer.Exit(1) from exc
    finally:
        factory.kw["bind"].dispose()
    names, codes = before | names, before_codes | codes
    print_disruption(summary, names, codes)
    print_diff(changes, names, codes)


def _tickets(ids: list[int], codes: dict[int, str]) -> str:
    """Tickets by code (id), as a person reads them."""
    return ", ".join(f"{codes[i]} ({i})" if i in codes else str(i) for i in ids)


def print_disruption(
    summary: dict[str, Any], names: dict[int, str], codes: dict[int, str] | None = None
) -> None:
    """Print what was recorded, the draft, and the promises at risk with why."""
    codes = codes or {}
    console.print(
        f"{summary['cause']}: plan {summary['plan_id']} stored as a draft against published"
        f" plan {summary['published_plan_id']} (feasible: {summary['feasible']})"
    )
    if summary["absence_id"] is not None:
        console.print(f"absence {summary['absence_id']} is in the engineer's calendar")
    if summary["unpinned"]:
        console.print(f"unpinned: tickets {_tickets(summary['unpinned'], codes)}")
    if summary["handed_back"]:
        back = _tickets(summary["handed_back"], codes)
        console.print(f"handed back (under way with him): tickets {back}")
    affected = _tickets(summary["affected"], codes) or "none"
    console.print(f"visits released by the disruption: {affected}")
    if not summary["at_risk"]:
        console.print("[green]no promise gets worse[/green]")
        return
    table = Table(title="Promises at risk")
    for col in ("ticket", "severity", "promise", "engineer before", "engineer after", "why"):
        table.add_column(col)
    for r in summary["at_risk"]:
        table.add_row(
            f"{r['code']} ({r['ticket_id']})", r["severity"],
            f"{r['promise_before'] or '-'} -> [red]{r['promise_after'] or '-'}[/red]",
            _who(names, r["engineer_before"]), _who(names, r["engineer_after"]), r["why"],
        )  # fmt: skip
    console.print(table)
