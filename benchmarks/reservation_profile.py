"""Where a reservation's time goes: statements, round trips and CPU, in process and through ASGI.

Profile first (issue 18): one client, sequentially, so the figures are per request and do
not depend on the machine's load the way a 32-client rate does. For each path (the service
called in process as `test_reservations.py` does, and `POST /v1/reservations` through the
app's ASGI stack with its real middlewares, no socket) it reports the SQL statements sent
per reservation (SQLAlchemy's cursor events, plus the pool's pings), and the CPU per
reservation (the process's CPU time over `--n` requests, median of `--rounds`);
`--profile` prints cProfile's top functions by own time.

Run (PostgreSQL):
    SPARES_TEST_POSTGRES_URL=postgresql+psycopg://postgres@127.0.0.1:5432/test \
      python benchmarks/reservation_profile.py --n 200 --rounds 5 [--profile]
"""

# ruff: noqa: T201  (a measuring script: it prints its figures)

from __future__ import annotations

import argparse
import asyncio
import cProfile
import pstats
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_reservations import CLIENTS, Stock, _in_process, _user  # noqa: E402

from api.app import create_app  # noqa: E402
from api.settings import Settings  # noqa: E402
from db import make_engine, upgrade  # noqa: E402


class Statements:
    """Counts the statements an engine sends (first word of each), and the pool's pings."""

    def __init__(self, engine: Engine) -> None:
        self.seen: Counter[str] = Counter()
        self.engine = engine
        self.counting = False
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "commit", self._commit)
        event.listen(engine.pool, "checkout", self._checkout)

    @property
    def on(self) -> bool:
        return self.counting

    @on.setter
    def on(self, value: bool) -> None:
        # Listened to only while counting: with a cursor listener, the hot statements run
        # through SQLAlchemy's execution instead of db.direct, and would cost more.
        if value and not self.counting:
            event.listen(self.engine, "before_cursor_execute", self._statement)
        elif self.counting and not value:
            event.remove(self.engine, "before_cursor_execute", self._statement)
        self.counting = value

    def _statement(self, _c: Any, _cur: Any, sql: str, *_a: Any) -> None:
        if self.on:
            self.seen[" ".join(sql.split()[:3])[:60]] += 1

    def _begin(self, _c: Any) -> None:
        if self.on:
            self.seen["BEGIN"] += 1

    def _commit(self, _c: Any) -> None:
        if self.on:
            self.seen["COMMIT"] += 1

    def _checkout(self, *_a: Any) -> None:
        if self.on and getattr(self, "pinging", False):
            self.seen["(pool pre-ping SELECT 1)"] += 1


def _cpu_per_op(run: Callable[[int], None], n: int, rounds: int) -> list[float]:
    per = []
    for _ in range(rounds):
        start = time.process_time()
        run(n)
        per.append((time.process_time() - start) / n * 1000)
    return per


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--url", default=None)
    args = parser.parse_args()
    import os

    server = make_url(args.url or os.environ["SPARES_TEST_POSTGRES_URL"])
    name = f"spares_prof_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url, pool_size=CLIENTS + 4, max_overflow=0)
        upgrade(engine)
        _run(engine, url, args)
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _run(engine: Engine, url: str, args: argparse.Namespace) -> None:
    import random

    stock = Stock(engine, 100, 100)
    counter = Statements(engine)
    counter.pinging = bool(engine.pool._pre_ping)  # type: ignore[attr-defined]
    rng = random.Random(1)
    one = _in_process(engine, stock)

    def in_process(n: int = 1) -> None:
        for _ in range(n):
            one(0, rng)

    key = f"spk_prof_{uuid.uuid4().hex}"
    with Session(engine) as s, s.begin():
        _user(s, key)
    settings = Settings(_env_file=None, database_url=url, rate_limit_per_key=None,
                        rate_limit_per_address=None, log_level="warning")  # fmt: skip
    app = create_app(settings, engine=engine)
    loop = asyncio.new_event_loop()
    lifespan = app.router.lifespan_context(app)
    loop.run_until_complete(lifespan.__aenter__())
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    keys = iter(range(10**9))

    async def post() -> None:
        depot, part, _ = stock.pick(rng)
        body = {"depot_id": depot, "lines": [{"part_id": part, "quantity": 1}]}
        headers = {"X-API-Key": key, "Idempotency-Key": f"prof-{uuid.uuid4().hex}-{next(keys)}"}
        got = await client.post("/v1/reservations", json=body, headers=headers)
        assert got.status_code == 201, got.text

    async def posts(n: int) -> None:
        for _ in range(n):
            await post()

    def http(n: int = 1) -> None:
        # n requests in one task, as a served app's loop runs them: anyio stops its worker
        # threads when the task that started them ends, so a task per request would pay for
        # starting a thread every time (which a server never does).
        loop.run_until_complete(posts(n))

    for label, run in (("in process", in_process), ("ASGI", http)):
        run(20)  # warm: compiled statements, key cache
        counter.seen.clear()
        counter.on = True
        run()
        counter.on = False
        print(f"== {label}: statements per reservation ({sum(counter.seen.values())})")
        for sql, n in counter.seen.most_common():
            print(f"  {n} x {sql}")
        cpu = _cpu_per_op(run, args.n, args.rounds)
        print(f"  CPU per reservation (ms, {args.rounds} x {args.n}): min {min(cpu):.2f}"
              f" median {statistics.median(cpu):.2f}")  # fmt: skip
        if args.profile:
            prof = cProfile.Profile(time.thread_time)
            prof.enable()
            run(args.n)
            prof.disable()
            stats = pstats.Stats(prof)
            calls = sum(v[1] for v in stats.stats.values())  # type: ignore[attr-defined]
            print(f"  Python calls per reservation: {calls / args.n:.0f}")
            stats.sort_stats("tottime").print_stats(25)
            stats.sort_stats("cumulative").print_stats(45)
    loop.run_until_complete(client.aclose())
    loop.run_until_complete(lifespan.__aexit__(None, None, None))
    with Session(engine) as s:
        from inventory.verify import verify

        assert verify(session=s) == []


if __name__ == "__main__":
    main()
