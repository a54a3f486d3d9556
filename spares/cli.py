"""The `spares` command line: serve the API, migrate the database, build worlds, issue keys.

An entrypoint like the API app: it may import every package, and nothing imports it.
Configuration comes from `api.settings.Settings` (environment and `.env`), and the
global `--database-url` flag overrides it for one call.
"""

from __future__ import annotations

import atexit
import gc
import os
import signal
import time
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

import spares
from spares.advise_cli import advise_command
from spares.bench_cli import bench_app
from spares.dispatch_cli import dispatch_app
from spares.scenario_cli import scenario_app
from spares.stock_cli import stock_app
from spares.worker_cli import worker_command

# Pydantic looks for plugins in every installed package's entry points on its first model
# (~30 ms, more with many packages); the command line uses none. Set it to override.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

# At exit the interpreter's collector walks every object the imports made (SQLAlchemy's
# models, numpy, pydantic): ~0.2 s of a light command's ~1 s. Freezing them first (the last
# exit handler: registered first) skips that walk; exit handlers and flushes still run.
atexit.register(gc.freeze)

# Heavy parts (the database layer, the API app, the solver, the simulation) are imported
# inside the commands that use them: `spares --version` and `--help` answer at once, and a
# light command pays only for what it touches. BENCHMARKS.md has the figures.
if TYPE_CHECKING:
    import socket

    from sqlalchemy import Engine

    from api.settings import Settings
    from dispatch.world.bundle import BundleConflict, BundleInvalid

# The roles `spares user add --role` offers (db.Role's values; a test keeps them equal).
ROLES = ("dispatcher", "warehouse", "planner", "engineer", "admin")

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="spares",
    help="Spares: spare-parts logistics and field-service dispatch that keeps its promises.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
world_app = typer.Typer(help="Demo worlds on real Guangdong geography.", no_args_is_help=True)
user_app = typer.Typer(help="Users and their API keys.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(world_app, name="world")
app.add_typer(user_app, name="user")
app.add_typer(stock_app, name="stock")
app.add_typer(dispatch_app, name="dispatch")
app.add_typer(scenario_app, name="scenario")
app.command("worker")(worker_command)
app.add_typer(bench_app, name="bench")
app.command("advise")(advise_command)


@dataclass
class _State:
    settings: Settings
    tz: str | None = None  # --tz: the zone printed times are shown in
    zone: tzinfo | None = None  # resolved once per command by spares.localtime.cli_zone


def _version(value: bool) -> None:
    if value:
        console.print(f"spares {spares.__version__}")
        raise typer.Exit


@app.callback()
def main(
    ctx: typer.Context,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="SQLAlchemy URL (default: SPARES_DATABASE_URL, or sqlite:///spares.db).",
            show_default=False,
        ),
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            help="Show times in this IANA zone (default: SPARES_TIMEZONE, else the regions' zone).",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Read the settings once for every command."""
    from api.settings import Settings

    overrides = {"database_url": database_url} if database_url else {}
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValueError as exc:
        err_console.print(f"[red]Invalid settings:[/red] {exc}")
        raise typer.Exit(2) from exc
    if tz is not None:
        _check_zone(tz)
    ctx.obj = _State(settings=settings, tz=tz)


def _check_zone(name: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name.upper() == "UTC":
        return
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise typer.BadParameter(
            f"{name!r} is not an IANA time zone, e.g. Asia/Shanghai or UTC", param_hint="--tz"
        ) from exc


def _settings(ctx: typer.Context) -> Settings:
    state: _State = ctx.obj
    return state.settings


def _migrated_engine(settings: Settings) -> Engine:
    import db

    engine = db.make_engine(settings.database_url)
    db.upgrade(engine)
    return engine


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the schema (the only way the schema is ever created)."""
    import db

    settings = _settings(ctx)
    engine = db.make_engine(settings.database_url)
    before = db.current_revision(engine)
    db.upgrade(engine, revision)
    after = db.current_revision(engine)
    engine.dispose()
    console.print(f"database {_safe_url(settings)}: {before or 'empty'} -> [bold]{after}[/bold]")


@db_app.command("current")
def db_current(ctx: typer.Context) -> None:
    """Show the schema revision of the database and of the code."""
    import db

    settings = _settings(ctx)
    engine = db.make_engine(settings.database_url)
    current = db.current_revision(engine)
    engine.dispose()
    head = db.head_revision()
    state = "up to date" if current == head else "needs `spares db upgrade`"
    console.print(f"database {current or 'empty'}, code {head}: {state}")


@world_app.command("generate")
def world_generate(
    ctx: typer.Context,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same world.")] = 7,
    size: Annotated[str, typer.Option(help="small | medium | large.")] = "small",
) -> None:
    """Generate a deterministic demo world and load it into an empty database."""
    from dispatch.world import WorldNotEmptyError, WorldSize

    try:
        world_size = WorldSize(size)
    except ValueError as exc:
        choices = ", ".join(s.value for s in WorldSize)
        raise typer.BadParameter(f"{size!r} is not one of {choices}", param_hint="--size") from exc
    settings = _settings(ctx)
    engine = _migrated_engine(settings)
    try:
        counts, seconds = _load_demo_world(engine, seed=seed, size=world_size)
    except WorldNotEmptyError as exc:
        err_console.print(f"[red]{exc}[/red] Use an empty database (see --database-url).")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    table = Table(title=f"{world_size.value} world, seed {seed} ({seconds:.1f} s)")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    console.print(table)
    _print_demo_keys()


def _load_demo_world(
    engine: Engine, *, seed: int, size: object, as_of: datetime | None = None
) -> tuple[dict[str, int], float]:
    """Generate and load in one transaction: either the whole world lands or nothing."""
    import db
    from dispatch.world import generate_world, load_world

    started = time.perf_counter()
    world = generate_world(seed, size, as_of=as_of)  # type: ignore[arg-type]
    with db.make_sessionmaker(engine).begin() as session:
        load_world(session, world)
    counts = {name: len(rows) for name, rows in world.tables.items()}
    return counts, time.perf_counter() - started


def _print_demo_keys() -> None:
    from dispatch.world import DEMO_USERS

    table = Table(title="Demo users: one per role (demo keys, NOT secret)", title_justify="left")
    table.add_column("role")
    table.add_column("user")
    table.add_column("X-API-Key", no_wrap=True)
    for role, (name, key) in DEMO_USERS.items():
        table.add_row(str(role), name, key)
    console.print(table)


@world_app.command("export")
def world_export(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Argument(help="A new (or empty) folder for the bundle.")],
) -> None:
    """Write the database's world to a bundle folder (docs/world-format.md)."""
    import db
    from dispatch.world.bundle import export_world

    engine = _migrated_engine(_settings(ctx))
    started = time.perf_counter()
    try:
        with db.make_sessionmaker(engine)() as session:
            manifest = export_world(session, directory)
    except FileExistsError as exc:
        err_console.print(f"[red]{exc}[/red]: export into a new or empty folder.")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    rows = sum(f.rows for f in manifest.files or ())
    seconds = time.perf_counter() - started
    console.print(f"exported {rows:,} rows in {len(manifest.files or ())} files to {directory} "
                  f"({seconds:.1f} s)")  # fmt: skip


@world_app.command("import")
def world_import(
    ctx: typer.Context,
    source: Annotated[Path, typer.Argument(help="A bundle folder, or a .zip of one.")],
) -> None:
    """Validate a bundle as a whole and load it into an empty database (all or nothing)."""
    import db
    from dispatch.world import WorldNotEmptyError
    from dispatch.world.bundle import (
        BundleConflict,
        BundleError,
        BundleInvalid,
        import_world,
        import_world_zip,
    )

    engine = _migrated_engine(_settings(ctx))
    started = time.perf_counter()
    try:
        with db.make_sessionmaker(engine).begin() as session:
            if source.is_file():
                world = import_world_zip(session, source.read_bytes())
            else:
                world = import_world(session, source)
    except (BundleInvalid, BundleConflict) as exc:
        _print_problems(exc)
        raise typer.Exit(1) from exc
    except (BundleError, WorldNotEmptyError) as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    seconds = time.perf_counter() - started
    console.print(f"imported {sum(world.counts.values()):,} rows from {source} ({seconds:.1f} s)")


def _print_problems(exc: BundleInvalid | BundleConflict) -> None:
    table = Table(title=str(exc))
    for column in ("file", "row", "field", "reason"):
        table.add_column(column, overflow="fold")
    for p in exc.errors:
        table.add_row(p.file, "" if p.row is None else str(p.row), p.field or "", p.reason)
    err_console.print(table)


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user's name (unique).")],
    role: Annotated[str, typer.Option(help=f"The user's one role: {' | '.join(ROLES)}.")],
) -> None:
    """Create a user and print the new API key (shown once, stored hashed)."""
    from rich.panel import Panel
    from sqlalchemy.exc import IntegrityError

    import db
    from db.errors import DuplicateUserError

    if role not in ROLES:
        raise typer.BadParameter(f"{role!r} is not one of {', '.join(ROLES)}", param_hint="--role")
    settings = _settings(ctx)
    engine = _migrated_engine(settings)
    try:
        with db.make_sessionmaker(engine).begin() as session:
            user, key = db.create_user(session, name=name, role=db.Role(role))
    except (IntegrityError, DuplicateUserError) as exc:
        err_console.print(f"[red]A user named {name!r} already exists.[/red]")
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()
    console.print(f"user {user.name} ({user.role}) id {user.id}")
    console.print(Panel(key, title="API key: shown once, store it now"))


@user_app.command("scope")
def user_scope(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The user's name.")],
    depot: Annotated[
        list[str] | None, typer.Option(help="A depot code the user may write at (repeat).")
    ] = None,
    region: Annotated[
        list[str] | None, typer.Option(help="A region code the user may write in (repeat).")
    ] = None,
    clear_depots: Annotated[bool, typer.Option(help="Lift the depot restriction.")] = False,
    clear_regions: Annotated[bool, typer.Option(help="Lift the region restriction.")] = False,
) -> None:
    """Scope a user to depots (warehouse) and regions (dispatch); writes elsewhere are 403."""
    from sqlalchemy import select

    import db
    from db.identity import User, set_scope
    from inventory.models import Depot, Region

    settings = _settings(ctx)
    engine = _migrated_engine(settings)
    try:
        with db.make_sessionmaker(engine).begin() as session:
            user = session.scalars(select(User).where(User.name == name)).one_or_none()
            if user is None:
                err_console.print(f"[red]No user named {name!r}.[/red]")
                raise typer.Exit(1)
            ids: dict[str, list[int] | None] = {}
            for key, codes, model, clear in (
                ("depot_ids", depot, Depot, clear_depots),
                ("region_ids", region, Region, clear_regions),
            ):
                if clear:
                    ids[key] = []
                elif codes:
                    rows = session.execute(
                        select(model.code, model.id).where(model.code.in_(codes))
                    )
                    found = {code: row_id for code, row_id in rows}
                    unknown = sorted(set(codes) - set(found))
                    if unknown:
                        err_console.print(f"[red]Unknown code(s): {', '.join(unknown)}.[/red]")
                        raise typer.Exit(1)
                    ids[key] = [found[c] for c in codes]
            scope = set_scope(session, user_id=user.id, **ids)
    finally:
        engine.dispose()
    depots = "any" if scope.depot_ids is None else ", ".join(map(str, sorted(scope.depot_ids)))
    regions = "any" if scope.region_ids is None else ", ".join(map(str, sorted(scope.region_ids)))
    console.print(f"user {name}: depots {depots}; regions {regions}")


@app.command()
def serve(
    ctx: typer.Context,
    demo: Annotated[
        bool, typer.Option("--demo", help="Fill an empty database with the demo world first.")
    ] = False,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    seed: Annotated[int, typer.Option(help="Demo world seed (with --demo).")] = 7,
    worker: Annotated[
        bool,
        typer.Option(
            "--worker/--no-worker",
            help="Run `spares worker` beside the server (large plans and scenario runs are jobs).",
        ),
    ] = True,
) -> None:
    """Migrate the database, optionally load the demo world, and serve the API."""
    import uvicorn

    import db
    from api.app import create_app
    from dispatch.world import WorldSize, world_is_empty
    from spares.serving import PortUnavailable, bind, start_worker, stop_worker

    settings = _settings(ctx)
    try:  # bound first: nothing is announced (or loaded) for a port that is taken
        sock = bind(host, port)
    except PortUnavailable as exc:
        err_console.print(f"[red]{exc}[/red] (choose another with --port)")
        raise typer.Exit(1) from exc
    port = sock.getsockname()[1]  # the one bound (--port 0 asks the system for a free one)
    engine = _migrated_engine(settings)
    if demo:
        with db.make_sessionmaker(engine)() as session:
            empty = world_is_empty(session)
        if empty:
            console.print(f"Loading the demo world (seed {seed}) into {_safe_url(settings)} ...")
            # Live demo: open tickets were reported shortly before now, so clocks still run.
            now = datetime.now(UTC).replace(second=0, microsecond=0)
            _load_demo_world(engine, seed=seed, size=WorldSize.SMALL, as_of=now)
        _print_demo_keys()
    engine.dispose()
    base = f"http://{host}:{port}"
    console.print(f"Spares {spares.__version__} listens on [bold]{base}[/bold]", soft_wrap=True)
    console.print(f"database: {_safe_url(settings)}    API docs: {base}/docs", soft_wrap=True)
    console.print(
        "background jobs: a worker runs beside the server"
        if worker
        else "background jobs: none run until you start `spares worker` (same database)"
    )
    console.print("A first request (the dispatcher's at-risk worklist):")
    key = "spk_demo_dispatcher" if demo else "<your key from `spares user add`>"
    console.print(
        f"  curl -s -H 'X-API-Key: {key}' '{base}/v1/tickets?at_risk=true&limit=3'",
        soft_wrap=True,
        highlight=False,
        markup=False,
    )
    # The app writes its own access line (JSON, with request id and user): not uvicorn's too.
    # SIGTERM (a service manager's stop) unwinds like Ctrl-C, so the worker is stopped
    # below: uvicorn re-raises the signal after its shutdown, and the default action would
    # end this process there, leaving the worker running on its own.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    child = start_worker(settings.database_url) if worker else None
    try:
        if settings.web_workers > 1:  # processes sharing the socket, each its own app
            _serve_processes(settings, sock)
        else:
            app = create_app(settings)
            config = uvicorn.Config(app, log_level=settings.log_level, access_log=False)
            uvicorn.Server(config).run(sockets=[sock])
    finally:
        if child is not None:
            stop_worker(child)
        sock.close()


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # the shell's code for "ended by this signal"


def _serve_processes(settings: Settings, sock: socket.socket) -> None:
    """`settings.web_workers` uvicorn processes on one socket (uvicorn's supervisor).

    Each process builds its app from the environment, so the database URL chosen here
    (the `--database-url` flag included) goes there first. Caches and in-memory rate
    limits are per process (`SPARES_RATE_LIMIT_STORAGE` shares the limits).
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    os.environ["SPARES_DATABASE_URL"] = settings.database_url
    config = uvicorn.Config("api.app:create_app", factory=True, workers=settings.web_workers,
                            log_level=settings.log_level, access_log=False)  # fmt: skip
    Multiprocess(config, sockets=[sock]).run()


def _safe_url(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    return make_url(settings.database_url).render_as_string(hide_password=True)
