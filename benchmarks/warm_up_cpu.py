"""CPU of `optimizer.warm_up()` as `spares serve` and `spares worker` call it at start.

    python benchmarks/warm_up_cpu.py

Prints the wall seconds of the call and the CPU seconds of this process and of the solver's
process server (the forkserver it starts, read from /proc before this process exits, since
nothing waits for it). Linux only. Not collected by pytest: speed goals live here and in
BENCHMARKS.md, never in timed asserts.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from multiprocessing import forkserver
from pathlib import Path


def _server_cpu_s() -> float:
    """User + system CPU seconds of the running forkserver (fields 14 and 15 of its stat)."""
    pid = forkserver._forkserver._forkserver_pid  # type: ignore[attr-defined]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    """Time one warm-up, as a server start does."""
    started = time.perf_counter()
    from optimizer import warm_up

    warm_up()
    wall = time.perf_counter() - started
    me = resource.getrusage(resource.RUSAGE_SELF)
    sys.stdout.write(
        f"wall {wall:.2f} s, this process {me.ru_utime + me.ru_stime:.2f} CPU-s, "
        f"server {_server_cpu_s():.2f} CPU-s\n"
    )


if __name__ == "__main__":
    main()
