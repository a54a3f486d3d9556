"""Wall and CPU time of one re-dispatch tick of the worker (issue 16), on the board's world.

    python benchmarks/redispatch_tick.py [--db /tmp/tick.db] [--runs 1] [--world large]

The world is `test_board.py`'s: the small demo world (seed 7) with Shenzhen grown to 300
engineers and 1,000 open tickets, 300 of them assigned (so a tick asks the rule for 300
visits not departed yet); or, with ``--world large``, the large demo world (seed 7: 2,000
engineers) with up to 300 of its open tickets assigned, each to an engineer of its region.
It is built once into ``--db`` (with ``--db``.json holding its clock) and copied for each
run, so every run reads the same rows. A run is `spares.worker.Worker.redispatch` at the
world's clock with every policy's tick due: asking the rule for every visit, storing the
answers. Prints wall and CPU (this process) seconds, the visits asked and the snapshots
built. Not collected by pytest: speed goals live here and in BENCHMARKS.md, never in timed
asserts.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import db
import dispatch.snapshot
import optimizer as opt
from db.identity import find_active_user
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    Engineer,
    MoveProposal,
    Site,
    Ticket,
    TicketStatus,
)
from dispatch.world import generate_world, load_world
from spares.worker import Worker

VISITS = 300  # assigned visits of the large world (`--world large`)

sys.path.insert(0, str(Path(__file__).parent))
from test_board import KEY, _grow_region  # noqa: E402  (the board benchmark's world)


def _build(path: Path, size: str) -> datetime:
    """The board's world (or the large one, `_assign`ed) in a SQLite file; its clock."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with db.make_sessionmaker(engine).begin() as session:
        load_world(session, generate_world(7, size, as_of=now))
    with db.make_sessionmaker(engine).begin() as session:
        (_grow_region if size == "small" else _assign)(session, now)
    engine.dispose()
    path.with_suffix(".json").write_text(json.dumps({"now": now.isoformat()}))
    return now


def _assign(session: Session, now: datetime) -> None:
    """Up to `VISITS` of the large world's open tickets assigned, each to another engineer of
    its site's region, departing within 5 h (as the board's world is)."""
    rng = random.Random(19)
    user = find_active_user(session=session, api_key=KEY["X-API-Key"])
    assert user is not None
    by_region: dict[int, list[int]] = {}
    for eid, rid in session.execute(select(Engineer.id, Engineer.region_id).order_by(Engineer.id)):
        by_region.setdefault(rid, []).append(eid)
    rows = session.execute(
        select(Ticket, Site.region_id).join(Site, Site.id == Ticket.site_id)
        .where(Ticket.status == TicketStatus.NEW).order_by(Ticket.id).limit(VISITS)
    )  # fmt: skip
    for ticket, rid in rows:
        free = by_region.get(rid)
        if not free:
            continue
        engineer_id = free.pop(rng.randrange(len(free)))
        departs = now + timedelta(minutes=rng.randrange(0, 300))
        session.add(Assignment(
            ticket_id=ticket.id, engineer_id=engineer_id, status=AssignmentStatus.ACTIVE,
            departs_at=departs, arrives_at=departs + timedelta(minutes=35),
            fixes_at=departs + timedelta(minutes=95), parts_source="none", created_at=now,
            created_by_id=user.id,
        ))  # fmt: skip
        ticket.status, ticket.engineer_id = TicketStatus.ASSIGNED, engineer_id


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
    parser.add_argument("--world", choices=["board", "large"], default="board")
    parser.add_argument("--answers", type=Path, help="write the stored answers here (JSON)")
    args = parser.parse_args()
    if not args.db.exists():
        _build(args.db, "small" if args.world == "board" else "large")
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
