"""CPU per cached recommendation in process, and the answers themselves, on the large world.

    PYTHONPATH=TREE python benchmarks/recommend_cpu.py DB [ROUNDS] [--dump FILE]

Builds the large demo world (seed 7) into the SQLite file DB when it does not exist, then
serves `api.app:create_app` through Starlette's TestClient (the whole stack but the socket:
authentication, the snapshot cache, the solver, the answer's JSON) and posts ROUNDS
(default 300) explained recommendations over the open tickets after one warm-up round,
printing the process's CPU per request (median, p95): the figure other processes on the
machine move least. ``--dump FILE`` writes every open ticket's answer bytes (explained,
unexplained, and pricing the first excluded and the first unreached engineer) to FILE, so
two trees (PYTHONPATH) can be shown to answer byte-identically. Figures: BENCHMARKS.md.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

AS_OF = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Guangdong, the demo's reference
KEY = {"X-API-Key": "spk_demo_dispatcher"}  # the demo world's public key
PATH = "/v1/dispatch/recommendations"


def _build(path: Path) -> None:
    import db
    from dispatch.world import generate_world, load_world

    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    with db.make_sessionmaker(engine).begin() as session:
        load_world(session, generate_world(7, "large"))
    engine.dispose()


def _open_tickets(path: Path) -> list[int]:
    import sqlite3

    with sqlite3.connect(path) as con:
        rows = con.execute(
            "SELECT id FROM tickets WHERE status IN ('new', 'responded') ORDER BY id"
        ).fetchall()
    return [r[0] for r in rows]


def main(path: Path, rounds: int, dump: Path | None) -> None:
    if not path.exists():
        _build(path)
    tickets = _open_tickets(path)
    os.environ |= {"SPARES_DATABASE_URL": f"sqlite:///{path}", "SPARES_LOG_LEVEL": "warning"}
    os.environ |= {"SPARES_RATE_LIMIT_PER_KEY": "off", "SPARES_RATE_LIMIT_PER_ADDRESS": "off"}
    from fastapi.testclient import TestClient

    from api.app import create_app

    as_of = AS_OF.isoformat()
    with TestClient(create_app()) as client:

        def post(body: dict[str, object]) -> bytes:
            got = client.post(PATH, json={"as_of": as_of, **body}, headers=KEY)
            assert got.status_code == 200, got.text
            return got.content

        for t in tickets:  # warm-up: the snapshot, the kernels, every ticket once
            post({"ticket_id": t})
        cpu = []
        for i in range(rounds):
            began = time.process_time()
            post({"ticket_id": tickets[i % len(tickets)]})
            cpu.append(time.process_time() - began)
        ordered = sorted(cpu)
        p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
        sys.stdout.write(
            f"{len(cpu)} cached recommendations over {len(tickets)} tickets: CPU per request "
            f"median {statistics.median(cpu) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms\n"
        )
        if dump is not None:
            with dump.open("wb") as out:
                for t in tickets:
                    full = post({"ticket_id": t})
                    out.write(full + b"\n" + post({"ticket_id": t, "explain": False}) + b"\n")
                    answer = json.loads(full)
                    asks = [x["engineer_id"] for x in answer["excluded"][:1]]
                    if answer["unreached"]:
                        asks.append(answer["unreached"]["engineers"][0]["engineer_id"])
                    for e in asks:
                        out.write(post({"ticket_id": t, "engineer_id": e}) + b"\n")


if __name__ == "__main__":
    args = sys.argv[1:]
    dump = None
    if "--dump" in args:
        at = args.index("--dump")
        dump = Path(args[at + 1])
        del args[at : at + 2]
    main(Path(args[0]), int(args[1]) if len(args) > 1 else 300, dump)
