"""Reservations/s of two trees side by side, under the same load, with the raw SQL ceiling.

`test_reservations.py`'s spread case (10,000 stock rows, 32 client threads, an
`Idempotency-Key` on each request), for each tree given: the service path in process (a
subprocess with that tree on its path) and `POST /v1/reservations` served by `uvicorn
--factory api.app:create_app` from that tree (its own process; 32 httpx clients; the
server's CPU read from /proc). The raw SQL ceiling (the same statements through psycopg)
runs in this process. Trees alternate within each run, so a shared machine's load falls
on both alike, and take turns going first from run to run. Every measurement ends with the
ledger check (`inventory.verify`).

Run (PostgreSQL; BEFORE is e.g. a worktree of main):
    SPARES_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
      python benchmarks/reservations_side_by_side.py --runs 2 BEFORE AFTER
"""

# ruff: noqa: T201  (a measuring script: it prints its figures)

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
OPS = 1_600
EXTRA_PATH: dict[Path, list[str]] = {}  # --path TREE=DIR: more on that tree's server's path
CLIENTS = 32


def _database(server: str) -> tuple[str, Any]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(server)
    name = f"spares_sbs_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return url.set(database=name).render_as_string(hide_password=False), admin


def _drop(admin: Any, url: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    admin.dispose()


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process and its reaped children... and live children."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(k) for k in kids]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _pg_cpu_s(url: str) -> float:
    """CPU seconds of the PostgreSQL backends connected to the benchmark's database."""
    import psycopg
    from sqlalchemy.engine import make_url

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid()")]  # fmt: skip
    return sum(_cpu_s(pid) for pid in pids)


def _timed(url: str, run: Any, server_pid: int | None = None) -> dict[str, float]:
    """One round of OPS: rate, and CPU per reservation of clients, server and PostgreSQL."""
    pg0, me0 = _pg_cpu_s(url), time.process_time()
    server0 = _cpu_s(server_pid) if server_pid else 0.0
    t0 = time.perf_counter()
    run()
    wall = time.perf_counter() - t0
    me, pg = time.process_time() - me0, _pg_cpu_s(url) - pg0
    server = _cpu_s(server_pid) - server0 if server_pid else 0.0
    return {"rate": OPS / wall, "cpu_ms": (server or me) / OPS * 1000,
            "client_ms": me / OPS * 1000 if server_pid else 0.0,
            "pg_ms": pg / OPS * 1000}  # fmt: skip


@contextmanager
def _served(tree: Path, url: str, workers: int) -> Iterator[tuple[str, int]]:
    import httpx

    port = 18000 + random.Random().randrange(2000)
    path = os.pathsep.join([str(tree), *EXTRA_PATH.get(tree, [])])
    env = os.environ | {"SPARES_DATABASE_URL": url, "PYTHONPATH": path,
                        "SPARES_RATE_LIMIT_PER_KEY": "off", "SPARES_RATE_LIMIT_PER_ADDRESS": "off",
                        "SPARES_LOG_LEVEL": "warning"}  # fmt: skip
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--port",
           str(port), "--log-level", "warning", "--no-access-log"]  # fmt: skip
    if workers > 1:
        cmd += ["--workers", str(workers)]
    server = subprocess.Popen(cmd, cwd=tree, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900  # a cold numba cache compiles at start
        with httpx.Client(base_url=base) as probe:
            while time.monotonic() < deadline:
                try:
                    if probe.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        yield base, server.pid
    finally:
        server.terminate()
        server.wait()


def _http(tree: Path, url: str, stock: Any, key: str, rounds: int, workers: int) -> list[dict]:
    import httpx
    from test_reservations import _clients

    out = []
    counter = iter(range(10**9))
    with _served(tree, url, workers) as (base, pid):
        clients = [httpx.Client(base_url=base, timeout=120) for _ in range(CLIENTS)]

        def one(i: int, rng: random.Random) -> None:
            depot, part, _ = stock.pick(rng)
            body = {"depot_id": depot, "lines": [{"part_id": part, "quantity": 1}]}
            headers = {"X-API-Key": key, "Idempotency-Key": f"sbs-{uuid.uuid4().hex[:12]}"
                       f"-{next(counter)}"}  # fmt: skip
            got = clients[i].post("/v1/reservations", json=body, headers=headers)
            assert got.status_code == 201, got.text

        _clients(2 * CLIENTS, one)  # warm up: key cache, compiled statements, connections
        for _ in range(rounds):
            out.append(_timed(url, lambda: _clients(OPS, one), pid))
        for client in clients:
            client.close()
    return out


def _in_process_child(url: str, rounds: int) -> None:
    """In a subprocess whose path starts with the tree under test: print rates as JSON."""
    import itertools

    import test_reservations
    from sqlalchemy import select
    from test_reservations import Stock, _clients, _in_process

    test_reservations._keys = itertools.count(time.time_ns())  # another child's keys differ

    from db import make_engine
    from db.identity import User

    engine = make_engine(url, pool_size=CLIENTS + 4, max_overflow=0)
    stock = Stock.__new__(Stock)
    stock.engine = engine
    stock.rows = [tuple(r) for r in json.loads(Path(os.environ["SBS_ROWS"]).read_text())]
    with engine.connect() as conn:
        stock.user = conn.execute(
            select(User.id).where(User.name == os.environ["SBS_USER"])
        ).scalar_one()
    one = _in_process(engine, stock)
    _clients(2 * CLIENTS, one)
    out = []
    for _ in range(rounds):
        out.append(_timed(url, lambda: _clients(OPS, one)))
    engine.dispose()
    print(json.dumps(out))


def _in_process(tree: Path, url: str, stock: Any, user_name: str, rounds: int) -> list[dict]:
    rows = Path(f"/tmp/spares_sbs_rows_{os.getpid()}.json")
    rows.write_text(json.dumps(stock.rows))
    env = os.environ | {"PYTHONPATH": f"{tree}{os.pathsep}{HERE}", "SBS_ROWS": str(rows),
                        "SBS_USER": user_name}  # fmt: skip
    got = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--child", url,
                          "--rounds", str(rounds)], env=env, cwd=tree, check=False,
                         capture_output=True, text=True)  # fmt: skip
    if got.returncode:
        raise RuntimeError(got.stderr[-3000:])
    return json.loads(got.stdout.strip().splitlines()[-1])


def _raw(url: str, stock: Any, rounds: int) -> list[dict]:
    import psycopg
    from sqlalchemy.engine import make_url
    from test_reservations import _clients, _raw

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    conns = [psycopg.connect(dsn) for _ in range(CLIENTS)]
    one = _raw(conns, stock)
    _clients(2 * CLIENTS, one)
    out = []
    for _ in range(rounds):
        out.append(_timed(url, lambda: _clients(OPS, one)))
    for conn in conns:
        conn.close()
    return out


def _load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("trees", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--child", default=None)
    parser.add_argument("--http-only", action="store_true", help="no ceiling, no in-process")
    parser.add_argument("--path", action="append", default=[], help="TREE=DIR (e.g. uvloop)")
    args = parser.parse_args()
    if args.child:
        _in_process_child(args.child, args.rounds)
        return
    for given in args.path:
        tree, _, extra = given.partition("=")
        EXTRA_PATH.setdefault(Path(tree), []).append(extra)
    sys.path[:0] = [str(HERE), str(args.trees[-1].resolve())]
    from sqlalchemy.orm import Session
    from test_reservations import Stock

    from db import make_engine, upgrade
    from db.identity import Role, User, hash_api_key
    from inventory.verify import verify

    url, admin = _database(os.environ["SPARES_TEST_POSTGRES_URL"])
    results: dict[str, list[dict]] = {}
    try:
        engine = make_engine(url)
        upgrade(engine)
        stock = Stock(engine, 100, 100)
        key = f"spk_sbs_{uuid.uuid4().hex}"
        with Session(engine) as s, s.begin():
            s.add(User(name=key, role=Role.WAREHOUSE, api_key_hash=hash_api_key(key), active=True))
        user_name = key
        for run in range(args.runs):
            ceiling = [] if args.http_only else [("raw", lambda: _raw(url, stock, args.rounds))]
            # The trees take turns going first: measured in a fixed order, the second tree
            # read 10-29 % lower on identical code as the load rose (BENCHMARKS.md, round 9).
            turn = run % len(args.trees)
            for label, measure in ceiling + [
                (f"{kind} {tree.name}", fn)
                for tree in args.trees[turn:] + args.trees[:turn]
                for kind, fn in (
                    (
                        "in-process",
                        lambda t=tree: _in_process(t, url, stock, user_name, args.rounds),
                    ),
                    ("http", lambda t=tree: _http(t, url, stock, key, args.rounds, args.workers)),
                )
                if kind == "http" or not args.http_only
            ]:
                start = time.strftime("%H:%M:%S", time.gmtime())
                load0 = _load()
                got = measure()
                with Session(engine) as s:
                    assert verify(session=s) == [], label
                for r in got:
                    r |= {"run": run + 1, "at": start, "load": f"{load0}-{_load()}"}
                results.setdefault(label, []).extend(got)
                print(label, json.dumps(got), flush=True)
        engine.dispose()
    finally:
        _drop(admin, url)
    print("\n| path | reservations/s per round | median | of the ceiling | CPU ms per"
          " reservation: service (client for raw) / HTTP clients / PostgreSQL / total |"
          " of the ceiling's CPU |")  # fmt: skip
    print("|---|---|---:|---:|---|---:|")
    raw = results.get("raw", [{"rate": 1.0, "cpu_ms": 1.0, "client_ms": 0.0, "pg_ms": 0.0}])
    ceiling = statistics.median(r["rate"] for r in raw)

    def med(rows: list[dict], name: str) -> float:
        return statistics.median(r[name] for r in rows)

    ceiling_cpu = med(raw, "cpu_ms") + med(raw, "pg_ms")
    for label, rows in results.items():
        rate = med(rows, "rate")
        parts = [med(rows, n) for n in ("cpu_ms", "client_ms", "pg_ms")]
        each = ", ".join(f"{r['rate']:.0f}" for r in rows)
        cpu = " / ".join(f"{x:.2f}" for x in [*parts, sum(parts)])
        print(f"| {label} | {each} | {rate:.0f} | {rate / ceiling:.1%} | {cpu} |"
              f" {ceiling_cpu / sum(parts):.1%} |")  # fmt: skip


if __name__ == "__main__":
    main()
