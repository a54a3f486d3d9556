"""`spares bench ...`: routing quality on public benchmarks (Solomon VRPTW).

``spares bench solomon --time-limit 10`` solves every instance (or ``--instance`` ones) with
the dispatcher's own planner and a wall-clock limit per instance, checks every plan, and
writes ``solomon.md`` and ``solomon.csv`` into ``--out`` (default ``reports/solomon/``).

``spares bench scaling --time-limit 10`` plans generated field-service instances of 50 to
1,000 tickets (`spares.bench_scaling`) and writes ``scaling.md``, ``scaling.csv`` and
``scaling.png`` into ``--out`` (default ``reports/scaling/``).
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

# The planner, OR-Tools and the world generator load when a benchmark runs, not when the
# command line starts (`spares --help` must answer at once); these are the light constants.
ENV_DIR = "SPARES_SOLOMON_DIR"  # the Solomon folder, when --dir is not given
ENGINEERS = 50  # engineers of the scaling benchmark's demo world
SIZES = (50, 100, 200, 500, 1_000)  # its ticket counts

console = Console()
bench_app = typer.Typer(help="Benchmarks: routing quality on public data.", no_args_is_help=True)


@bench_app.command("solomon")
def solomon(
    time_limit: Annotated[float, typer.Option(help="Seconds of wall clock per instance.")] = 10.0,
    seed: Annotated[int, typer.Option(help="The planner's seed.")] = 0,
    instance: Annotated[
        list[str] | None, typer.Option("--instance", "-i", help="Only these (repeatable).")
    ] = None,
    directory: Annotated[
        Path | None,
        typer.Option(
            "--dir", help=f"The Solomon folder (default: ${ENV_DIR}, else ../shared/...)."
        ),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where the reports go.")] = Path("reports/solomon"),
    workers: Annotated[int, typer.Option(min=1, help="Parallel searches (cores).")] = 2,
    ortools_only: Annotated[
        bool, typer.Option("--ortools-only", help="No ruin and recreate: OR-Tools GLS only.")
    ] = False,
    route_removal: Annotated[
        float, typer.Option(min=0.0, max=1.0, help="Share of route-removal ruin steps.")
    ] = 0.1,
) -> None:
    """Solve the Solomon VRPTW instances and report the gap to the distance-only BKS."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from optimizer import PlanParams, warm_up
    from spares.bench_solomon import (
        Row,
        instance_names,
        read_bks,
        solomon_dir,
        solve_instance,
        summarise,
        write_reports,
    )

    folder = solomon_dir(directory)
    if not (folder / "instances").is_dir():
        console.print(f"[red]No Solomon instances in {folder}[/red] (set --dir or ${ENV_DIR})")
        raise typer.Exit(2)
    names = instance or instance_names(folder)
    bks = read_bks(folder)
    params = PlanParams(
        time_limit_ms=int(time_limit * 1_000), seed=seed, ruin_recreate=not ortools_only,
        workers=workers, ruin_route_removal=route_removal,
    )  # fmt: skip
    warm_up(["spares.cli"])  # children re-run the entry script: its imports, loaded once
    rows: list[Row] = []
    columns = (
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()
    )  # fmt: skip
    with Progress(*columns, console=console) as progress:
        task = progress.add_task("solomon", total=len(names))
        for name in names:
            progress.update(task, description=f"solomon {name}")
            row = solve_instance(folder, name, params, bks[name])
            rows.append(row)
            flag = "" if row.feasible else " [red]INFEASIBLE[/red]"
            progress.console.print(
                f"{name}: {row.vehicles} vehicles, {row.distance:.1f} "
                f"(BKS {row.bks_distance:.1f}), gap {row.gap_pct:.2f} %, {row.seconds:.1f} s{flag}"
            )
            progress.advance(task)
    header = (
        f"`spares bench solomon --time-limit {time_limit:g} --seed {seed} --workers {workers}"
        f"{' --ortools-only' if ortools_only else ''}"
        f" --route-removal {route_removal:g}` on "
        f"{platform.node()} ({platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()})"
    )
    csv_path, md_path = write_reports(out, rows, header)
    s = summarise(rows)
    console.print(
        f"[bold]{s.instances} instances: mean gap {s.mean_gap:.2f} %, median "
        f"{s.median_gap:.2f} %, max {s.max_gap:.2f} % ({s.max_instance}), infeasible "
        f"{s.infeasible}, mean {s.mean_seconds:.1f} s[/bold]\n{md_path}\n{csv_path}"
    )
    if s.infeasible:
        raise typer.Exit(1)


@bench_app.command("scaling")
def scaling(
    time_limit: Annotated[float, typer.Option(help="Seconds of wall clock per plan.")] = 10.0,
    seed: Annotated[int, typer.Option(help="The planner's seed.")] = 0,
    size: Annotated[
        list[int] | None,
        typer.Option("--size", "-n", min=1, help="Ticket counts (repeatable; default 50-1,000)."),
    ] = None,
    engineers: Annotated[int, typer.Option(min=1, help="Engineers of the demo world.")] = ENGINEERS,
    out: Annotated[Path, typer.Option(help="Where the reports go.")] = Path("reports/scaling"),
) -> None:
    """Plan generated field-service instances (skills, pickups, promises) of growing size."""
    from optimizer import warm_up
    from spares import bench_scaling

    sizes = size or list(SIZES)
    warm_up(["spares.cli"])
    demo = bench_scaling.demo_world(engineers)
    rows: list[bench_scaling.ScalingRow] = []
    for n in sizes:
        row = bench_scaling.run_size(demo, n, int(time_limit * 1_000), seed)
        rows.append(row)
        flag = "" if row.feasible else " [red]INFEASIBLE[/red]"
        console.print(
            f"{n} tickets: first feasible {row.first_feasible_s:.2f} s, plan {row.plan_s:.2f} s, "
            f"served {row.served}, promises kept {row.promises_kept}/{row.promises}, "
            f"travel {row.travel_h:.1f} h (greedy {row.greedy_travel_h:.1f} h){flag}"
        )
    header = (
        f"`spares bench scaling --time-limit {time_limit:g} --seed {seed} --engineers "
        f"{engineers}` on {platform.node()} ({platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()})"
    )
    paths = bench_scaling.write_reports(out, rows, header, time_limit)
    console.print("\n".join(str(p) for p in paths))
    if not all(r.feasible for r in rows):
        raise typer.Exit(1)
