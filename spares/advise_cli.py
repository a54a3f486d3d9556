"""`spares advise FILE`: the cheapest staff and stock changes that reach promise targets.

Heavy modules (the simulation, matplotlib) are imported inside the command, so the CLI
starts at once for every other command.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from scenarios.advise import Advice, AdviceSpec, Evaluation, SimulationEvaluator

console = Console()
err_console = Console(stderr=True)


def _share(e: Evaluation, kpi: str, scope: str) -> str:
    estimate = e.attainment.get((kpi, scope))
    if estimate is None:
        return "-"
    return f"{100 * estimate.mean:.1f} [{100 * estimate.low:.0f}-{100 * estimate.high:.0f}]"


def _short(kpi: str) -> str:
    """arrival_attainment@region=x -> arrival@x: fits 80 columns."""
    return kpi.replace("_attainment", "").replace("region=", "")


def _tables(advice: Advice) -> list[Table]:
    columns = [("today", advice.today), ("advised", advice.advised)]
    if advice.uniform is not None:
        step = advice.uniform_checked_step
        columns.append(
            ("uniform rule" if step is None else f"uniform, step {step}", advice.uniform)
        )
    cur = advice.spec.costs.currency
    targets = Table(title="Targets on fresh ticket streams: % kept, mean [95 % CI]")
    targets.add_column("target")
    for name, _ in columns:
        targets.add_column(name, justify="right")
    for t in advice.targets:
        targets.add_row(
            f"{_short(t.kpi)} {t.scope.removeprefix('region=')} >= {100 * t.share:g}",
            *(_share(e, t.kpi, t.scope) for _, e in columns),
        )
    costs = Table(title=f"Cost over {advice.spec.scenario.horizon_days:g} days ({cur})")
    costs.add_column("cost")
    for name, _ in columns:
        costs.add_column(name, justify="right")
    for label, attr in (
        ("staff", "staff"), ("overtime", "overtime"), ("holding", "holding"),
        ("couriers", "courier"), ("on call", "on_call"), ("call-outs", "callouts"),
        ("unsocial hours", "unsocial"), ("total", "total"),
    ):  # fmt: skip
        costs.add_row(label, *(f"{getattr(e.cost, attr):,.0f}" for _, e in columns))
    costs.add_row("engineers", *(str(e.cost.engineers) for _, e in columns))
    steps = Table(title="Moves kept (search streams), and the targets that bound")
    for col in ("round", "move", f"cost ({cur})", "shortfall", "binding"):
        steps.add_column(col)
    for s in advice.steps:
        steps.add_row(
            str(s.round), s.label, f"{s.cost_delta:+,.0f}",
            f"{100 * s.shortfall_before:.1f} -> {100 * s.shortfall_after:.1f}",
            ", ".join(_short(b) for b in s.binding),
        )  # fmt: skip
    return [targets, costs, steps]


def _screen_check(spec: AdviceSpec, evaluator: SimulationEvaluator, folder: Path) -> None:
    """Print and write the screen's accuracy at three staffing points."""
    import json

    from scenarios.advise_screen import screen_check

    rows = screen_check(evaluator)
    table = Table(title="Screen vs simulation (search streams): % kept, predicted / simulated")
    for col in ("staff", "scope", "kpi", "predicted", "simulated [95 % CI]", "error"):
        table.add_column(col, justify="right" if col in ("predicted", "error") else "left")
    for r in rows:
        table.add_row(
            r.point, r.scope, _short(r.kpi), f"{100 * r.predicted:.1f}",
            f"{100 * r.mean:.1f} [{100 * r.low:.0f}-{100 * r.high:.0f}]",
            f"{100 * (r.predicted - r.mean):+.1f}" + ("" if r.within else " *"),
        )  # fmt: skip
    console.print(table)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "screen_check.json"
    path.write_text(json.dumps([r.as_json() for r in rows], indent=2) + "\n", encoding="utf-8")
    bad = [r for r in rows if not r.within]
    inside = sum(1 for r in bad if r.in_interval)
    console.print(
        f"{len(rows) - len(bad)} of {len(rows)} within 3 points (*: not); of the others "
        f"{inside} inside the simulation's 95 % interval (too few tickets to tell); {path}"
    )
    for r in sorted(bad, key=lambda r: -abs(r.predicted - r.mean)):
        if not r.in_interval:
            console.print(f"  {r.point} {r.scope} {_short(r.kpi)}: {r.why}", highlight=False)


def _screen_accuracy(advice: Advice) -> None:
    """Where the screen's prediction is more than 3 points off the fresh streams'
    simulation, and why (the issue's check, made on every advice run)."""
    rows = advice.screen_accuracy
    if not rows:
        return
    off = [r for r in rows if not r.within]
    console.print(
        f"screen vs simulation (fresh streams): {len(rows) - len(off)} of {len(rows)} "
        f"within 3 points" + (":" if not off else "; off by more:"),
        highlight=False,
    )
    shown = sorted(off, key=lambda r: (r.in_interval, -abs(r.predicted - r.mean)))
    for r in shown[:_SHOWN]:
        console.print(
            f"  {r.point} {r.scope} {_short(r.kpi)}: predicted {100 * r.predicted:.1f}, "
            f"simulated {100 * r.mean:.1f} [{100 * r.low:.1f}, {100 * r.high:.1f}]: {r.why}",
            highlight=False,
        )
    if len(shown) > _SHOWN:
        console.print(f"  ... {len(shown) - _SHOWN} more in advice.json (screen_accuracy)")


_SHOWN = 12  # rows of the screen's misses printed; advice.json holds them all


def advise_command(
    file: Annotated[Path, typer.Argument(help="an advice file (.yaml or .json)")],
    out: Annotated[
        Path | None, typer.Option("--out", help="report folder (default: reports/<name>/)")
    ] = None,
    workers: Annotated[
        int | None,
        typer.Option("--workers", min=1, help="local processes (default: CPU count; 1: serial)"),
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option("--scheduler", help="a Dask scheduler ADDRESS (pip install '.[dask]')"),
    ] = None,
    screen_check: Annotated[
        bool,
        typer.Option(
            "--screen-check",
            help="no advice: the screen's predicted attainment against the simulated one at "
            "today's staff, -20 % and +20 % in every region (screen_check.json)",
        ),
    ] = False,
) -> None:
    """Advise the cheapest engineers and stock that keep the file's promise targets."""
    # --screen-check: only compare the analytic screen with the simulation (no search)
    from scenarios.advise import SimulationEvaluator, advise, load_advice, scenario_runner
    from scenarios.advise_report import write_advice
    from scenarios.executors import make_executor
    from scenarios.spec import ScenarioError
    from spares.scenario_cli import export_database_base

    try:
        spec = load_advice(file)
    except ScenarioError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from exc
    if scheduler and spec.scenario.base.kind == "database":
        err_console.print("[red]--scheduler: a database base is exported here only[/red]")
        raise typer.Exit(2)
    executor = make_executor(workers, scheduler)
    started = time.monotonic()

    def say(text: str) -> None:
        """Progress on stderr, each line with the time since the start (runs are long)."""
        elapsed = int(time.monotonic() - started)
        err_console.print(f"[dim]{spec.name} {elapsed // 60:d}:{elapsed % 60:02d} {text}[/dim]",
                          highlight=False)  # fmt: skip

    def runs_done(done: int, total: int) -> None:
        if done == total or done % max(1, total // 4) == 0:
            say(f"simulated {done} of {total} runs")

    with ExitStack() as stack:
        exported = export_database_base(spec.scenario, stack)  # its service history too
        evaluator = SimulationEvaluator(
            spec,
            scenario_runner(executor, exported=exported, progress=runs_done),
            exported=exported,
        )
        try:
            if screen_check:
                _screen_check(spec, evaluator, out or Path("reports") / spec.name)
                return
            advice = advise(
                spec, evaluator.world, evaluator,
                on_round=say,
                screen=evaluator.screen,
            )  # fmt: skip
        except KeyboardInterrupt:
            err_console.print("[yellow]interrupted: no advice[/yellow]")
            raise typer.Exit(130) from None
    for table in _tables(advice):
        console.print(table)
    saving = advice.saving
    verdict = "every target holds" if advice.reached else "NOT every target holds"
    console.print(f"advised: {verdict} on fresh streams", highlight=False)
    if saving is not None:
        console.print(f"advised cost {100 * saving:.1f} % below the uniform rule's")
    elif advice.uniform is not None and not advice.uniform_reached:
        console.print("the uniform rule did not reach every target within its steps")
    elif advice.uniform is not None:
        console.print("the uniform rule reached every target; the advice did not")
    _screen_accuracy(advice)
    folder = out or Path("reports") / spec.name
    files = write_advice(advice, folder)
    console.print(f"report: {folder}/ ({', '.join(f.name for f in files)})")
    if not advice.reached:
        raise typer.Exit(1)
