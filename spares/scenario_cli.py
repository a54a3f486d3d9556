"""`spares scenario run|compare`: what-if simulations with a progress bar and a report folder.

Ctrl-C stops the simulation between two simulated hours; what ran is reported and marked
PARTIAL (tables, JSON and chart titles). A database base is exported to a scratch bundle
first, so the simulation itself never touches the database.
"""

from __future__ import annotations

import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

# The simulation (numpy, scipy, simpy, matplotlib) loads when a scenario runs, not when the
# command line starts; only the types are named here.
if TYPE_CHECKING:
    from scenarios.frontier import TradeOff
    from scenarios.kpis import Difference, Estimate
    from scenarios.run import ScenarioRun
    from scenarios.spec import Scenario

console = Console()
err_console = Console(stderr=True)
scenario_app = typer.Typer(
    help="What-if scenarios: simulate, compare, report.", no_args_is_help=True
)

HEADLINE = (
    ("promises_kept", "all", "promises kept (tickets)"),
    ("respond_attainment", "all", "respond kept"),
    ("depart_attainment", "all", "depart kept"),
    ("arrival_attainment", "all", "arrival kept"),
    ("arrival_attainment", "severity=urgent", "urgent arrival"),
    ("fix_attainment", "all", "fix kept"),
    ("ship_8h_attainment", "all", "shipped <= 8 h"),
    # Counts the part tickets whose part was in stock within 2 h's reach at intake.
    ("swap_2h_attainment", "all", "swap <= 2 h (in reach)"),
    ("eta_p90_min", "all", "ETA p90 (min)"),
    ("utilisation", "all", "utilisation"),
    ("overtime_h", "all", "overtime (h)"),
    ("callouts", "all", "call-outs"),
    ("callout_cost", "all", "call-outs (CNY)"),
    ("travel_km", "all", "travel (km)"),
    ("fill_rate", "all", "fill rate (nearest depot)"),
    ("fill_rate", "kind=regional", "regional fill rate"),
    ("charged", "all", "charged (CNY)"),
    ("warranty_cost", "all", "warranty (CNY)"),
    ("loaner_cost", "all", "loaners (CNY)"),
    ("total_cost", "all", "total cost (CNY)"),
    ("returns_received", "all", "returns received"),
    ("returns_backlog", "all", "returns backlog"),
    ("redispatched", "all", "re-dispatched"),
    ("ran_late", "clock=arrival", "arrival misses planned in time"),
    ("ran_late", "clock=fix", "fix misses planned in time"),
)


def export_database_base(scenario: Scenario, stack: ExitStack) -> Path | None:
    """A database base exported to a bundle folder (removed with ``stack``); else ``None``."""
    if scenario.base.kind != "database":
        return None
    import db
    from dispatch.world.bundle import export_world

    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="spares-scn-"))) / "w"
    engine = db.make_engine(scenario.base.database_url or "")
    try:
        with db.make_sessionmaker(engine)() as session:
            export_world(session, folder)
    finally:
        engine.dispose()
    return folder


def _warn_short_history(scenario: Scenario, exported: Path | None) -> None:
    """`from_history` on a base with too few tickets falls back to tickets_per_day: say so."""
    from scenarios.base import load_world_rows
    from scenarios.demand import HISTORY_MIN_TICKETS

    if not scenario.demand.from_history:
        return
    tickets = len(load_world_rows(scenario.base, exported=exported).tables.get("tickets", []))
    if tickets < HISTORY_MIN_TICKETS:
        err_console.print(
            f"[yellow]demand.from_history: the base has {tickets} ticket(s), fewer than "
            f"{HISTORY_MIN_TICKETS}; rates come from tickets_per_day and per_region[/yellow]"
        )


def _run_one(
    scenario: Scenario, workers: int | None = None, scheduler: str | None = None
) -> ScenarioRun:
    """One scenario: in-process, on a pool or on Dask; Ctrl-C gives partial results on each."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from scenarios.executors import SerialExecutor, make_executor, run_on, units_of
    from scenarios.precision import run_until_precise
    from scenarios.run import run_scenario

    executor = make_executor(workers, scheduler)
    if not scheduler and len(units_of(scenario)) == 1:
        executor = SerialExecutor()  # one unit: a pool would only add its start-up
    with ExitStack() as stack:
        exported = export_database_base(scenario, stack)
        _warn_short_history(scenario, exported)
        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(), console=err_console,
        ) as bar:  # fmt: skip
            task = bar.add_task(scenario.name, total=1.0)

            def progress(done: int, total: int, now: int, end: int) -> None:
                current = min(done + 1, total)  # the run under way; the last one when all are done
                bar.update(task, completed=(done + min(now / end, 1.0)) / total,
                           description=f"{scenario.name}: run {current}/{total}")  # fmt: skip

            if isinstance(executor, SerialExecutor):
                return run_until_precise(
                    scenario,
                    lambda sc, first: run_scenario(
                        sc, exported=exported, progress=progress, first=first
                    ),
                )
            if scheduler and exported is not None:
                err_console.print(
                    "[red]--scheduler: a database base is exported to this machine only; "
                    "use a bundle the workers can read[/red]"
                )
                raise typer.Exit(2)
            try:
                return run_until_precise(
                    scenario,
                    lambda sc, first: run_on(
                        executor, sc, exported=exported, progress=progress, first=first
                    ),
                )
            except KeyboardInterrupt:
                err_console.print(
                    "[yellow]interrupted before any run finished: nothing to report[/yellow]"
                )
                raise typer.Exit(130) from None


Column = tuple[str, list[str]]  # header (lines joined by "\n") and one cell per row


def _header(name: str, variant: str, policy: str, many: bool) -> str:
    """A column's header, one short part a line: scenario, variant, (policy)."""
    return "\n".join([*([name] if many else []), variant, f"({policy})"])


def _fitted(title: str, corner: str, labels: list[str], columns: list[Column]) -> list[Table]:
    """The table split into as many as fit the terminal's width, the label column repeated.

    Rich would otherwise squeeze every column into a few letters ("staff…") on 80 columns.
    """

    def width(texts: list[str]) -> int:  # content + padding 2 + one border
        return max(Text.from_markup(t).cell_len for t in texts) + 3

    first = width([corner, *labels]) + 1
    groups: list[list[Column]] = [[]]
    used = first
    for column in columns:
        need = width([*column[0].split("\n"), *column[1]])
        if groups[-1] and used + need > console.width:
            groups.append([])
            used = first
        groups[-1].append(column)
        used += need
    tables = []
    for k, group in enumerate(groups):
        part = f" ({k + 1}/{len(groups)})" if len(groups) > 1 else ""
        table = Table(title=title + part)
        table.add_column(corner)
        for header, _ in group:
            table.add_column(header, justify="right")
        for i, label in enumerate(labels):
            table.add_row(label, *(cells[i] for _, cells in group))
        tables.append(table)
    return tables


def _cell(e: Estimate | None) -> str:
    if e is None:
        return "-"
    if e.unit == "share":
        text = f"{100 * e.mean:.1f} %"
        return text if e.n < 2 else f"{text} ±{100 * (e.high - e.mean):.1f}"
    return f"{e.mean:,.0f}" if abs(e.mean) >= 100 else f"{e.mean:.1f}"


# --verbose: these KPIs per severity and per region too
DETAILED = (("promises_kept", "kept"), ("arrival_attainment", "arrival"), ("fix_attainment", "fix"))


def _rows(runs: list[ScenarioRun], verbose: bool) -> list[tuple[str, str, str]]:
    """The headline rows; with `verbose` also the detailed KPIs per severity and region."""
    if not verbose:
        return list(HEADLINE)
    kpis = {kpi for kpi, _ in DETAILED}
    scopes = sorted(
        {
            e.scope
            for run in runs
            for e in run.estimates
            if e.kpi in kpis and e.scope.split("=")[0] in ("severity", "region")
        }  # fmt: skip
    )
    detail = [
        (kpi, scope, f"{short}, {scope.replace('=', ' ')}")
        for scope in scopes
        for kpi, short in DETAILED
    ]
    return [*HEADLINE, *detail]


def _table(runs: list[ScenarioRun], verbose: bool = False) -> list[Table]:
    """KPIs down, variants across, as many tables as the terminal's width needs."""
    partial = any(r.partial for r in runs)
    title = "What-if KPIs (mean ± 95 % CI half-width)" + (" — PARTIAL" if partial else "")
    rows = _rows(runs, verbose)
    columns: list[Column] = []
    for run in runs:
        index = {(e.variant, e.policy, e.kpi, e.scope): e for e in run.estimates}
        for variant, policy in dict.fromkeys((r.variant, r.policy) for r in run.results):
            cells = [_cell(index.get((variant, policy, kpi, scope))) for kpi, scope, _ in rows]
            columns.append((_header(run.scenario.name, variant, policy, len(runs) > 1), cells))
    return _fitted(title, "KPI", [label for *_, label in rows], columns)


def _bounds_cell(index: dict[tuple[str, str], Estimate], clock: str) -> str:
    parts = []
    for kpi, short in (("bound_geography", "g"), ("bound_shift", "s"),
                       ("bound_labour", "l"), ("lost_decisions", "d")):  # fmt: skip
        e = index.get((kpi, f"clock={clock}"))
        if e is None:
            return "-"
        parts.append(f"{short} {100 * e.mean:.0f}")
    return " ".join(parts)


def _bounds_table(runs: list[ScenarioRun]) -> list[Table]:
    """Per clock: % of its tickets no dispatch could keep (why), and % lost to decisions."""
    from scenarios.bounds import CLOCKS

    columns: list[Column] = []
    for run in runs:
        for variant, policy in dict.fromkeys((r.variant, r.policy) for r in run.results):
            index = {
                (e.kpi, e.scope): e
                for e in run.estimates
                if (e.variant, e.policy) == (variant, policy)
            }
            cells = [_bounds_cell(index, clock) for clock in CLOCKS]
            columns.append((_header(run.scenario.name, variant, policy, len(runs) > 1), cells))
    return _fitted(
        "Bounds, % of a clock's tickets: no dispatch could keep them for geography (g), "
        "shift (s) or labour rules (l); missed though keepable (d, decisions)",
        "clock",
        list(CLOCKS),
        columns,
    )


def _diff_cell(d: Difference | None) -> str:
    if d is None:
        return "-"
    scale, fmt = (100, "{:+.1f}") if d.unit == "share" else (1, "{:+,.1f}")
    text = (
        f"{fmt.format(scale * d.mean)} [{fmt.format(scale * d.low)}, {fmt.format(scale * d.high)}]"
    )
    return f"[bold]{text} *[/bold]" if d.significant else text


def _diff_table(runs: list[ScenarioRun]) -> list[Table]:
    """Each variant minus its scenario's base, paired by replication; * the CI excludes 0."""
    from scenarios.kpis import differences

    columns: list[Column] = []
    for run in runs:
        index = {(d.variant, d.policy, d.kpi, d.scope): d for d in differences(run.results)}
        for variant, policy in dict.fromkeys((r.variant, r.policy) for r in run.results):
            if variant != "base":
                cells = [_diff_cell(index.get((variant, policy, k, s))) for k, s, _ in HEADLINE]
                header = _header(run.scenario.name, f"{variant} - base", policy, len(runs) > 1)
                columns.append((header, cells))
    if not columns:
        return []
    return _fitted(
        "Difference vs base, paired by replication: mean [95 % CI] "
        "(shares in percentage points; * significant)",
        "KPI",
        [label for *_, label in HEADLINE],
        columns,
    )


def _policy_diff_table(runs: list[ScenarioRun]) -> list[Table]:
    """Each policy minus the first (naive when run), same variant and tickets, paired."""
    from scenarios.kpis import policy_differences, reference_policy

    columns: list[Column] = []
    for run in runs:
        ref = reference_policy(run.results)
        if ref is None:
            continue
        diffs = policy_differences(run.results, ref)
        index = {(d.variant, d.policy, d.kpi, d.scope): d for d in diffs}
        for variant, policy in dict.fromkeys((r.variant, r.policy) for r in run.results):
            if policy != ref:
                cells = [_diff_cell(index.get((variant, policy, k, s))) for k, s, _ in HEADLINE]
                parts = [*([run.scenario.name] if len(runs) > 1 else []), variant]
                columns.append(("\n".join([*parts, f"{policy} - {ref}"]), cells))
    if not columns:
        return []
    return _fitted(
        "Difference between dispatch policies, paired by replication: mean [95 % CI] "
        "(shares in percentage points; * significant)",
        "KPI",
        [label for *_, label in HEADLINE],
        columns,
    )


def _points(runs: list[ScenarioRun]) -> list[TradeOff]:
    from scenarios.frontier import mark_frontier, trade_offs

    points = []
    for run in runs:
        prefix = f"{run.scenario.name}/" if len(runs) > 1 else ""
        points += trade_offs(run.estimates, prefix)
    return mark_frontier(points)


def _tradeoff_table(points: list[TradeOff]) -> Table:
    """Tickets kept against overtime and travel; * on the frontier (nothing dominates it)."""
    table = Table(
        title="Trade-off: tickets with every promise kept (`promises_kept`) against "
        "overtime and travel; * on the frontier"
    )
    for name in ("variant (policy)", "tickets kept", "overtime (h)", "travel (km)", "front"):
        left = name.startswith("variant")  # the label folds whole, never cut to "two-…"
        table.add_column(name, justify="left" if left else "right", overflow="fold")
    for p in points:
        table.add_row(
            p.label, f"{100 * p.kept[0]:.1f} %", f"{p.overtime_h[0]:,.0f}",
            f"{p.travel_km[0]:,.0f}", "*" if p.frontier else "",
        )  # fmt: skip
    return table


def _load(path: Path) -> Scenario:
    from scenarios.spec import ScenarioError, load_scenario

    try:
        return load_scenario(path)
    except ScenarioError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc


def _report(runs: list[ScenarioRun], out: Path | None, verbose: bool = False) -> None:
    from scenarios.frontier import save_frontier
    from scenarios.report import write_report

    for table in (*_table(runs, verbose), *_bounds_table(runs), *_diff_table(runs),
                  *_policy_diff_table(runs)):  # fmt: skip
        console.print(table)
    points = _points(runs)
    if len(points) > 1:
        console.print(_tradeoff_table(points))
    if len(runs) > 1 and len(points) > 1:  # one frontier across the scenarios compared
        root = out or Path("reports")
        root.mkdir(parents=True, exist_ok=True)
        title = "Trade-off across scenarios: mean and 95 % CI"
        console.print(f"frontier: {save_frontier(points, title, root / 'frontier.png')}")
    for run in runs:
        if run.precision is not None:
            console.print(f"{run.scenario.name}: {run.precision.describe()}")
        folder = out / run.scenario.name if out and len(runs) > 1 else out
        folder = folder or Path("reports") / run.scenario.name
        files = write_report(run, folder)
        console.print(f"report: {folder}/ ({', '.join(f.name for f in files)})")
    if any(r.partial for r in runs):
        err_console.print("[yellow]interrupted: the results above are PARTIAL[/yellow]")
        raise typer.Exit(130)


OutOpt = Annotated[
    Path | None, typer.Option("--out", help="report folder (default: reports/<name>/)")
]
WorkersOpt = Annotated[
    int | None,
    typer.Option("--workers", min=1, help="local processes (default: CPU count; 1: serial)"),
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "--verbose", "-v", help="also promises kept, arrival and fix per severity and region"
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option("--scheduler", help="a Dask scheduler ADDRESS (pip install '.[dask]')"),
]


@scenario_app.command("run")
def scenario_run(
    file: Annotated[Path, typer.Argument(help="a scenario file (.yaml or .json)")],
    out: OutOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    verbose: VerboseOpt = False,
    recommendation: Annotated[
        Path | None,
        typer.Option(
            "--stock-recommendation",
            help="a `spares stock recommend --out` file: its levels as one more variant",
        ),
    ] = None,
    policy: Annotated[
        list[str] | None,
        typer.Option(
            "--policy",
            help="run only this of the scenario's policies (repeat for several; default: all)",
        ),
    ] = None,
) -> None:
    """Simulate one scenario (its base and variants) and write the report."""
    from scenarios.spec import ScenarioError, load_recommendation

    scenario = _load(file)
    if policy:
        unknown = [p for p in policy if p not in scenario.policies]
        if unknown or len(set(policy)) != len(policy):
            err_console.print(
                f"[red]--policy: each of the scenario's policies ({', '.join(scenario.policies)})"
                f" at most once, got {', '.join(policy)}[/red]"
            )
            raise typer.Exit(2)
        scenario = scenario.model_copy(
            update={"policies": tuple(p for p in scenario.policies if p in policy)}
        )
    if recommendation is not None:
        try:
            scenario = load_recommendation(recommendation, scenario)
        except ScenarioError as exc:
            err_console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from exc
    _report([_run_one(scenario, workers, scheduler)], out, verbose)


@scenario_app.command("compare")
def scenario_compare(
    files: Annotated[list[Path], typer.Argument(help="scenario files to compare")],
    out: OutOpt = None,
    workers: WorkersOpt = None,
    scheduler: SchedulerOpt = None,
    verbose: VerboseOpt = False,
) -> None:
    """Simulate several scenarios and print their KPIs side by side."""
    scenarios = [_load(f) for f in files]
    runs: list[ScenarioRun] = []
    for scenario in scenarios:
        runs.append(_run_one(scenario, workers, scheduler))
        if runs[-1].partial:
            break
    _report(runs, out, verbose)
