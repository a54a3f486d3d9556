"""Wall and CPU time of one re-dispatch tick of the worker (issue 16), on the board's world.

    python benchmarks/redispatch_tick.py [--db /tmp/tick.db] [--runs 1]

The world is `test_board.py`'s: the small demo world (seed 7) with Shenzhen grown to 300
engineers and 1,000 open tickets, 300 of them assigned (so a tick asks the rule for 300
visits not departed yet). It is built once into ``--db`` (with ``--db``.json holding its
clock) and copied for each run, so every run reads the same rows. A run is
`spares.worker.Worker.redispatch` at the world's clock with every policy's tick due:
asking the rule for every visit, storing the answers. Prints wall and CPU (this process)
seconds, the visits asked and the snapshots built. Not collected by pytest: speed goals
live here and in BENCHMARKS.md, never in timed asserts.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

import db
import dispatch.snapshot
import optimizer as opt
from dispatch.models import MoveProposal
from dispatch.world import generate_world, load_world
from spares.worker import Worker

sys.path.insert(0, str(Path(__file__).parent))
from test_board import _grow_region  # noqa: E402  (the board benchmark's world)


def _build(path: Path) -> datetime:
    """The board's world in a SQLite file; its clock."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with db.make_sessionmaker(engine).begin() as session:
        load_world(session, generate_world(7, "small", as_of=now))
    with db.make_sessionmaker(engine).begin() as session:
        _grow_region(session, now)
    engine.dispose()
    path.with_suffix(".json").write_text(json.dumps({"now": now.isoformat()}))
    return now


def _counting() -> list[int]:
    """Count snapshot builds (`dispatch.snapshot.load_snapshot`, wherever it is imported)."""
    calls = [0]
    real = dispatch.snapshot.load_snapshot

    def counted(*args: object, **kwargs: object) -> dispatch.snapshot.Snapshot:
        calls[0] += 1
        return real(*args, **kwargs)  # type: ignore[arg-type]

    for name, module in list(sys.modules.items()):
        if name.startswith(("dispatch", "spares")) and getattr(module, "load_snapshot", None):
            module.load_snapshot = counted  # type: ignore[attr-defined]
    return calls


def main() -> None:
    """Build (once) and copy the world, run the tick, print the figures."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, default=Path("/tmp/redispatch_tick.db"))
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--answers", type=Path, help="write the stored answers here (JSON)")
    args = parser.parse_args()
    if not args.db.exists():
        _build(args.db)
    now = datetime.fromisoformat(json.loads(args.db.with_suffix(".json").read_text())["now"])
    calls = _counting()
    for run in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "tick.db"
            shutil.copy(args.db, copy)
            engine = db.make_engine(f"sqlite:///{copy}")
            worker = Worker(
                db.make_sessionmaker(engine), {}, clock=lambda: now,
                travel=opt.GeodesicTravelTimes(),
            )  # fmt: skip
            calls[0] = 0
            cpu, wall = time.process_time(), time.perf_counter()
            worker.redispatch()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            with db.make_sessionmaker(engine)() as session:
                asked = session.scalar(select(func.count()).select_from(MoveProposal))
                if args.answers:
                    rows = session.execute(
                        select(MoveProposal.assignment_id, MoveProposal.to_engineer_id,
                               MoveProposal.rule, MoveProposal.keep_cost, MoveProposal.move_cost,
                               MoveProposal.late_min).order_by(MoveProposal.assignment_id)
                    )  # fmt: skip
                    args.answers.write_text(json.dumps([list(r) for r in rows]))
            engine.dispose()
        sys.stdout.write(
            f"run {run}: wall {wall:.1f} s, cpu {cpu:.1f} s, {asked} visits asked, "
            f"{calls[0]} snapshots built\n"
        )


if __name__ == "__main__":
    main()
