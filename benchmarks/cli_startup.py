"""Wall and CPU time of `spares` commands, the median of N runs (issue 17: a prompt CLI).

    python benchmarks/cli_startup.py [--runs 5] [--database-url URL] [--ticket ID]

Runs each command as a fresh process (what a person at a shell waits for) and prints one
markdown row per command: median, min and max seconds. Not collected by pytest: speed
goals live here and in BENCHMARKS.md, never in timed asserts.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time


def _time(cmd: list[str], runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU (user + system) seconds of each run; CPU varies less with machine load."""
    wall, cpu = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(cmd, check=False, capture_output=True)
        wall.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    """Time --version, --help and the light commands on a demo database."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--database-url", default="sqlite:///spares.db")
    parser.add_argument("--ticket", default="1", help="an open ticket for dispatch recommend")
    parser.add_argument("--depot", default="1")
    parser.add_argument("--part", default="1")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--no-site", action="store_true", help="python -S (no .pth hooks)")
    args = parser.parse_args()
    # What the `spares` script runs (`python -m spares` is the same since spares/__main__.py).
    entry = "from spares.cli import app; app(prog_name='spares')"
    base = [args.python, *(["-S"] if args.no_site else []), "-c", entry]
    db = ["--database-url", args.database_url]
    commands = {
        "spares --version": ["--version"],
        "spares --help": ["--help"],
        "spares stock reserve": [
            *db,
            "stock",
            "reserve",
            "--depot",
            args.depot,
            "--part",
            args.part,
            "--minutes",
            "1",
        ],  # fmt: skip
        "spares dispatch recommend": [*db, "dispatch", "recommend", args.ticket],
    }
    rows = ["| command | wall median s | min | max | CPU median s |", "|---|---:|---:|---:|---:|"]
    for name, tail in commands.items():
        t, c = _time([*base, *tail], args.runs)
        rows.append(
            f"| `{name}` | {statistics.median(t):.2f} | {min(t):.2f} | {max(t):.2f} "
            f"| {statistics.median(c):.2f} |"
        )
    sys.stdout.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
