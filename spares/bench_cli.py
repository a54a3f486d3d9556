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
    pyvrp: Annotated[
        bool, typer.Option("--pyvrp", help="PyVRP beside ours (the 'bench' extra), 2 seeds.")
    ] = False,
    seeds: Annotated[int, typer.Option(min=1, help="Seeds per solver with --pyvrp.")] = 2,
    generated: Annotated[
        int, typer.Option(help="With --pyvrp: add 6 generated instances of this many customers.")
    ] = 0,
    only_generated: Annotated[
        bool, typer.Option("--only-generated", help="With --pyvrp: no Solomon instances.")
    ] = False,
) -> None:
    """Solve the Solomon VRPTW instances and report the gap to the distance-only BKS."""
    if pyvrp:
        _versus(time_limit, seed, instance, directory, out, workers, route_removal, seeds,
                generated, only_generated)  # fmt: skip
        return
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


@bench_app.command("search")
def search(
    time_limit: Annotated[float, typer.Option(help="Seconds of wall clock per plan.")] = 10.0,
    seed: Annotated[
        list[int] | None, typer.Option("--seed", help="Planner seeds (repeatable; default 0, 1).")
    ] = None,
    size: Annotated[
        list[int] | None,
        typer.Option("--size", "-n", min=1, help="Ticket counts (repeatable; default 50-1,000)."),
    ] = None,
    config: Annotated[
        list[str] | None,
        typer.Option("--config", "-c", help="greedy, ortools, search (repeatable; default all)."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("reports/search"),
) -> None:
    """Real plans: the new search against OR-Tools and the greedy start at the same limit."""
    from optimizer import warm_up
    from spares import bench_scaling, bench_search

    configs = config or list(bench_search.CONFIGS)
    unknown = set(configs) - set(bench_search.CONFIGS)
    if unknown:
        console.print(f"[red]Unknown configuration {sorted(unknown)}[/red]")
        raise typer.Exit(2)
    warm_up(["spares.cli"])
    demo = bench_scaling.demo_world()
    rows = []
    for n in size or list(SIZES):
        for s in seed or [0, 1]:
            for c in configs:
                row = bench_search.run(demo, n, c, int(time_limit * 1_000), s)
                rows.append(row)
                console.print(bench_search.markdown_table([row]).splitlines()[-1])
    out.mkdir(parents=True, exist_ok=True)
    header = (
        f"`spares bench search --time-limit {time_limit:g}` on {platform.node()} "
        f"({platform.processor() or platform.machine()}, Python {platform.python_version()})"
    )
    path = out / "search.md"
    path.write_text(f"# Real plans: search vs OR-Tools vs greedy\n\n{header}\n\n"
                    f"{bench_search.markdown_table(rows)}\n")  # fmt: skip
    console.print(str(path))
    if not all(r.feasible for r in rows):
        raise typer.Exit(1)


def _versus(
    time_limit: float, seed: int, instance: list[str] | None, directory: Path | None, out: Path,
    workers: int, route_removal: float, seeds: int, generated: int, only_generated: bool,
) -> None:  # fmt: skip
    """`spares bench solomon --pyvrp`: both solvers, same instances and limit, worse seed."""
    from optimizer import PlanParams, warm_up
    from optimizer.solomon import SolomonInstance, parse_instance
    from spares import bench_pyvrp
    from spares.bench_solomon import instance_names, read_bks, solomon_dir

    folder = solomon_dir(directory)
    bks = read_bks(folder)
    insts: list[tuple[SolomonInstance, float | None]] = [] if only_generated else [
        (parse_instance((folder / "instances" / f"{n}.vrp").read_text()), bks[n][1])
        for n in (instance or instance_names(folder))
    ]  # fmt: skip
    if generated:
        insts += [(g, None) for g in bench_pyvrp.generated_set(generated)]
    params = PlanParams(
        time_limit_ms=int(time_limit * 1_000), seed=seed, workers=workers,
        ruin_route_removal=route_removal,
    )  # fmt: skip
    warm_up(["spares.cli"])
    rows = []
    for inst, best in insts:
        row = bench_pyvrp.compare(inst, params, time_limit, [seed + k for k in range(seeds)], best)
        rows.append(row)
        console.print(bench_pyvrp.side_by_side_table([row]).splitlines()[2])
    header = (
        f"`spares bench solomon --pyvrp --time-limit {time_limit:g} --seeds {seeds} --workers "
        f"{workers} --generated {generated}` on {platform.node()} "
        f"({platform.processor() or platform.machine()}, Python {platform.python_version()})"
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / "versus.md"
    table = bench_pyvrp.side_by_side_table(rows)
    path.write_text(f"# Ours and PyVRP, side by side\n\n{header}\n\n{table}\n")
    console.print(table.splitlines()[-1])
    console.print(str(path))


@bench_app.command("curve")
def curve(
    instance: Annotated[
        list[str] | None, typer.Option("--instance", "-i", help="Solomon instances (repeatable).")
    ] = None,
    generated: Annotated[
        int, typer.Option(help="Add the generated set of this many customers.")
    ] = 0,
    limits: Annotated[str, typer.Option(help="Seconds, comma-separated.")] = "1,2,5,10,30",
    seed: Annotated[int, typer.Option(help="The seed of both solvers.")] = 0,
    workers: Annotated[int, typer.Option(min=1, help="Our parallel searches.")] = 2,
    directory: Annotated[Path | None, typer.Option("--dir", help="The Solomon folder.")] = None,
    out: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("reports/solomon"),
) -> None:
    """Time to quality: both solvers' gap at each limit (one seed), and the mean per limit."""
    from optimizer import PlanParams, warm_up
    from optimizer.solomon import SolomonInstance, parse_instance
    from spares import bench_pyvrp
    from spares.bench_solomon import read_bks, solomon_dir

    folder = solomon_dir(directory)
    bks = read_bks(folder)
    insts: list[tuple[SolomonInstance, float | None]] = [
        (parse_instance((folder / "instances" / f"{n}.vrp").read_text()), bks[n][1])
        for n in (instance or ["C204", "R108", "RC103", "R211"])
    ]
    if generated:
        insts += [(g, None) for g in bench_pyvrp.generated_set(generated)]
    seconds = [float(s) for s in limits.split(",")]
    warm_up(["spares.cli"])
    found: dict[tuple[str, float], tuple[float, float]] = {}
    for inst, _ in insts:
        for s in seconds:
            params = PlanParams(time_limit_ms=int(s * 1_000), seed=seed, workers=workers,
                                ruin_route_removal=0.1)  # fmt: skip
            ours, _, _ = bench_pyvrp.solve_ours(inst, params)
            theirs = bench_pyvrp.solve_pyvrp(inst, s, seed).distance
            found[(inst.name, s)] = (ours, theirs)
            console.print(f"{inst.name} {s:g} s: ours {ours:.1f}, PyVRP {theirs:.1f}")
    lines = ["| instance | " + " | ".join(f"{s:g} s ours / PyVRP" for s in seconds) + " |",
             "|---|" + "---:|" * len(seconds)]  # fmt: skip
    means: dict[float, list[tuple[float, float]]] = {s: [] for s in seconds}
    for inst, best in insts:
        ref = best if best is not None else min(min(found[(inst.name, s)]) for s in seconds)
        cells = []
        for s in seconds:
            o, t = found[(inst.name, s)]
            gaps = (100 * (o / ref - 1), 100 * (t / ref - 1))
            means[s].append(gaps)
            cells.append(f"{gaps[0]:.2f} / {gaps[1]:.2f} %")
        lines.append(f"| {inst.name} | " + " | ".join(cells) + " |")
    lines.append(
        "| **mean** | "
        + " | ".join(
            f"**{sum(g[0] for g in means[s]) / len(means[s]):.2f} / "
            f"{sum(g[1] for g in means[s]) / len(means[s]):.2f} %**"
            for s in seconds
        )
        + " |"
    )
    out.mkdir(parents=True, exist_ok=True)
    path = out / "curve.md"
    path.write_text("# Time to quality: ours / PyVRP gap\n\n" + "\n".join(lines) + "\n")
    console.print("\n".join(lines))
    console.print(str(path))


@bench_app.command("province")
def province(
    time_limit: Annotated[float, typer.Option(help="Seconds of wall clock for the call.")] = 60.0,
    tickets: Annotated[int, typer.Option(min=1, help="Tickets of the day.")] = 10_000,
    engineers: Annotated[
        int | None, typer.Option(min=1, help="First engineers of the large world (default all).")
    ] = None,
    region_tickets: Annotated[int, typer.Option(min=1, help="Tickets per region.")] = 500,
    border_ratio: Annotated[
        float, typer.Option(min=1.0, help="Second-nearest centre within this ratio: shared.")
    ] = 1.5,
    workers: Annotated[int, typer.Option(min=1, help="Pool processes.")] = 2,
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (instead of the pool).")
    ] = None,
    compare: Annotated[
        bool, typer.Option(help="Also plan the tickets undivided, same limit (smaller sizes).")
    ] = False,
    out: Annotated[Path, typer.Option(help="Where the report goes.")] = Path("reports/province"),
) -> None:
    """A province's day in one call: regions in parallel, borrowed engineers, seam repair."""
    from optimizer.province import ProvinceParams
    from spares import bench_province

    view = bench_province.province_world(engineers)
    todo = bench_province.province_tickets(view, tickets)
    params = ProvinceParams(
        region_tickets=region_tickets, border_ratio=border_ratio, workers=workers
    )
    with bench_province.runner(workers, scheduler) as run:
        if compare:
            found = bench_province.compare(view, todo, time_limit, run, params)
            for key, value in found.items():
                console.print(f"{key}: {value:,.2f}")
            return
        row, _ = bench_province.run_province(view, todo, time_limit, run, params)
    table = bench_province.markdown_table([row])
    console.print(table)
    out.mkdir(parents=True, exist_ok=True)
    header = (
        f"`spares bench province --time-limit {time_limit:g} --tickets {tickets} --workers "
        f"{workers}` on {platform.node()} ({platform.processor() or platform.machine()}, "
        f"Python {platform.python_version()})"
    )
    path = out / "province.md"
    path.write_text(f"# A province's day\n\n{header}\n\n{table}\n")
    console.print(str(path))
    if not row.feasible:
        raise typer.Exit(1)
