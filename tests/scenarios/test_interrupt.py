"""Ctrl-C on every executor: the finished units are kept, the rest cancelled, the run partial.

Without real signals where possible: the `done` hook (called in this process as each unit
finishes) raises KeyboardInterrupt after k units, exactly where a Ctrl-C would land while
the executor waits. One test sends a real SIGINT to `spares scenario run --workers 2`.
"""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from scenarios.executors import (
    Interrupted,
    PoolExecutor,
    SerialExecutor,
    run_on,
    run_unit,
    units_of,
)
from scenarios.run import ScenarioRun
from tests.scenarios.conftest import tiny_scenario

SLOW_S = 600  # a unit that would hold the test for minutes if it were not stopped


def _square_or_wait(item: int) -> int:
    """Items 0 and 1 answer at once; the others would run for ten minutes."""
    if item >= 2:
        time.sleep(SLOW_S)
    return item * item


def _interrupt_after(k: int) -> tuple[list[int], object]:
    seen: list[int] = []

    def done(i: int) -> None:
        seen.append(i)
        if len(seen) == k:
            raise KeyboardInterrupt

    return seen, done


class TestExecutorsKeepTheFinished:
    def test_serial(self) -> None:
        _, done = _interrupt_after(2)
        with pytest.raises(Interrupted) as stop:
            SerialExecutor().map(lambda x: x * x, [1, 2, 3, 4], done)  # type: ignore[arg-type]
        assert stop.value.finished == {0: 1, 1: 4}
        assert stop.value.total == 4

    def test_pool_cancels_the_rest_and_stops_its_processes(self) -> None:
        # Were the running units not terminated, this would wait SLOW_S for them.
        seen, done = _interrupt_after(2)
        with pytest.raises(Interrupted) as stop:
            PoolExecutor(2).map(_square_or_wait, list(range(6)), done)  # type: ignore[arg-type]
        assert stop.value.finished == {0: 0, 1: 1}
        assert sorted(seen) == [0, 1]

    @pytest.mark.filterwarnings("ignore:Port 8787 is already in use:UserWarning")
    def test_dask(self) -> None:
        distributed = pytest.importorskip("distributed")
        from scenarios.executors import DaskExecutor

        with distributed.LocalCluster(
            n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            _, done = _interrupt_after(1)
            with pytest.raises(Interrupted) as stop:
                DaskExecutor(cluster).map(abs, [-3, -2, -1], done)  # type: ignore[arg-type]
            assert stop.value.total == 3
            assert 1 <= len(stop.value.finished) <= 3
            assert all(stop.value.finished[i] == 3 - i for i in stop.value.finished)


def test_run_on_a_pool_answers_a_partial_run_of_the_finished_units() -> None:
    # Six units on two processes: when the second one reports, the other process may have
    # finished a third (a loaded machine did), never all six.
    scenario = tiny_scenario(horizon_days=0.25, replications=6, policies=["naive"])
    units = units_of(scenario)
    ran: list[int] = []

    def progress(done: int, total: int, now: int, end: int) -> None:
        ran.append(done)
        if len(ran) == 2:
            raise KeyboardInterrupt

    run = run_on(PoolExecutor(2), scenario, progress=progress)
    assert isinstance(run, ScenarioRun)
    assert run.partial
    assert 2 <= len(run.results) < 6
    keys = [(r.variant, r.replication) for r in run.results]
    order = [(u.variant, u.replication) for u in units]
    assert keys == sorted(keys, key=order.index)  # in the units' order, not finishing order
    for result in run.results:  # each finished unit is exactly what it would have been
        unit = units[order.index((result.variant, result.replication))]
        again = run_unit(unit).results[0]
        assert len(again.jobs) == len(result.jobs)
        assert again.inventory_value == result.inventory_value
    assert max(e.n for e in run.estimates) < 6
    assert all(e.partial for e in run.estimates)  # 6 replications asked, fewer ran


BUSY_SCENARIO = """
name: sigint-test
horizon_days: 1
demand: {tickets_per_day: 200}
replications: 20
policies: [optimised]
"""
RUN_N = re.compile(rb"run (\d+)/20")  # the progress bar's "run <done + 1>/<runs>"


def test_sigint_to_a_parallel_cli_run_leaves_a_partial_report(tmp_path: Path) -> None:
    # Twenty units of a second or two each on two processes: SIGINT lands as soon as the
    # progress bar shows a finished unit, while many are still to run (with six units, a
    # loaded machine once finished them all before the signal arrived).
    path = tmp_path / "s.yaml"
    path.write_text(BUSY_SCENARIO, encoding="utf-8")
    out = tmp_path / "o"
    env = {**os.environ, "TTY_INTERACTIVE": "1", "TTY_COMPATIBLE": "1", "COLUMNS": "200"}
    spares = Path(sys.executable).parent / "spares"
    proc = subprocess.Popen(
        [str(spares), "scenario", "run", str(path), "--workers", "2", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        # A shell that starts a job in the background (nohup, `&` without job control)
        # ignores SIGINT for it, and the child inherits that: Python then installs no
        # KeyboardInterrupt handler and the signal is lost. Ctrl-C at a terminal is the
        # default disposition: give the child that.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        start_new_session=True,  # its pool's processes can be killed with it (finally)
    )  # fmt: skip
    stderr: list[bytes] = []
    one_done = threading.Event()

    def read() -> None:
        stream = proc.stderr
        assert isinstance(stream, io.BufferedReader)
        for chunk in iter(lambda: stream.read1(4096), b""):
            stderr.append(chunk)
            if any(int(n) >= 2 for n in RUN_N.findall(b"".join(stderr[-3:]))):
                one_done.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        # A liveness wait, not a speed check: at load 25-30 on 2 cores one unit took over
        # 180 s (on main before and after the scenario work units changed).
        assert one_done.wait(timeout=900), b"".join(stderr).decode(errors="replace")[-2000:]
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)  # the command and its pool's processes
    reader.join(timeout=10)
    text = stdout.decode() + b"".join(stderr).decode(errors="replace")
    assert proc.returncode == 130, text[-2000:]
    assert "PARTIAL" in text
    report = json.loads((out / "kpis.json").read_text())
    assert report["partial"] is True
    ran = {(r["variant"], r["replication"]) for r in report["runs"]}
    assert ran
    assert len(ran) < 20
