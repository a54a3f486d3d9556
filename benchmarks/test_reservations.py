"""Reservations per second with 32 concurrent clients, against a raw-SQL ceiling.

Guards the reservation path (idempotency key + expiry check + guarded UPDATE +
reservation row + ledger entry, one transaction each) on PostgreSQL (one hot stock
row; 10,000 rows spread) and on a SQLite file, in process and through HTTP. The
ceiling sends the same statements straight through psycopg from the same 32
clients. Each run ends with the ledger check (`inventory.verify`). Rates are in
each benchmark's `extra_info` (ops/s); benchmarks/README.md keeps the figures.

PostgreSQL benchmarks need SPARES_TEST_POSTGRES_URL (they make their own database).
Run: `pytest benchmarks/test_reservations.py --benchmark-only`.
"""

from __future__ import annotations

import itertools
import os
import random
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest
from serving import served_api
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import dispatch.models  # noqa: F401 (every table on the metadata: stock rows point at tickets)
from db import Role, make_engine, make_sessionmaker, upgrade
from db.identity import User, hash_api_key
from db.transactions import run_in_transaction
from inventory import idempotency, reservations
from inventory.models import Depot, DepotKind, Part, ProductLine, Region
from inventory.verify import verify

CLIENTS = 32
OPS = 1_600  # per round, shared by the clients
SPREAD_DEPOTS, SPREAD_PARTS = 100, 100  # 10,000 stock rows
PLENTY = 10**9
_keys = itertools.count()


def _pg_server() -> str:
    url = os.environ.get("SPARES_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("set SPARES_TEST_POSTGRES_URL to benchmark PostgreSQL")
    return url


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    server = make_url(_pg_server())
    name = f"spares_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="module")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('bench') / 'reservations.db'}"


class Stock:
    """Committed stock rows (depot, part, stock row id) for the clients to reserve from."""

    def __init__(self, engine: Engine, depots: int, parts: int) -> None:
        self.engine = engine
        tag = uuid.uuid4().hex[:8]
        with Session(engine) as s, s.begin():
            region = Region(code=f"R{tag}", name="Bench", lat=23.1, lon=113.3)
            line = ProductLine(code=f"L{tag}", name="Bench")
            s.add_all([region, line])
            s.flush()
            depot_rows = [Depot(code=f"D{tag}-{i}", name=f"Depot {i}", kind=DepotKind.REGIONAL,
                                region_id=region.id, lat=23.1, lon=113.3)
                          for i in range(depots)]  # fmt: skip
            part_rows = [Part(sku=f"P{tag}-{i}", name=f"Part {i}", product_line_id=line.id,
                              cost_price=1, list_price=2) for i in range(parts)]  # fmt: skip
            s.add_all(depot_rows + part_rows)
            s.flush()
            depot_ids = [d.id for d in depot_rows]
            part_ids = [p.id for p in part_rows]
            self.user = _user(s, f"spk_bench_{tag}")
            rows = [{"depot_id": d, "part_id": p, "on_hand": PLENTY}
                    for d in depot_ids for p in part_ids]  # fmt: skip
            s.execute(insert(_table("stock_levels")), rows)
        with engine.connect() as conn:
            found = conn.execute(text("SELECT depot_id, part_id, id FROM stock_levels"))
            self.rows = [tuple(r) for r in found if r[0] in depot_ids]
        with Session(engine) as s, s.begin():
            from inventory.ledger import open_balances

            open_balances(s, at=datetime.now(UTC))

    def pick(self, rng: random.Random) -> tuple[int, int, int]:
        return self.rows[rng.randrange(len(self.rows))]


def _user(session: Session, key: str) -> int:
    """A warehouse user holding `key`."""
    user = User(name=key, role=Role.WAREHOUSE, api_key_hash=hash_api_key(key), active=True)
    session.add(user)
    session.flush()
    return user.id


def _table(name: str) -> Any:
    from db import Base

    return Base.metadata.tables[name]


One = Callable[[int, random.Random], None]  # one operation by client i


def _clients(ops: int, one: One) -> None:
    """`ops` operations shared by CLIENTS threads, each with its own random stream."""
    per = ops // CLIENTS

    def client(i: int) -> None:
        rng = random.Random(i)
        for _ in range(per):
            one(i, rng)

    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))


def _in_process(engine: Engine, stock: Stock) -> One:
    factory = make_sessionmaker(engine)

    def work(session: Session, depot: int, part: int, key: str) -> None:
        now = datetime.now(UTC)
        printed = idempotency.fingerprint("POST", "/v1/reservations", key.encode())
        claim = idempotency.claim(session=session, user_id=stock.user, key=key,
                                  fingerprint=printed, now=now)  # fmt: skip
        assert isinstance(claim, idempotency.Claim)
        line = reservations.ReserveLine(part, 1)
        [held] = reservations.reserve(session=session, depot_id=depot, user_id=stock.user,
                                      now=now, lines=[line])  # fmt: skip
        idempotency.complete(session=session, claim=claim, status=201, body={"id": held.id})

    def one(_i: int, rng: random.Random) -> None:
        depot, part, _ = stock.pick(rng)
        key = f"ip-{next(_keys)}"
        run_in_transaction(factory, lambda s: work(s, depot, part, key))

    return one


# The statements the service's reservation path wrote until issue 18's fourth round, in
# their order: the holds first, the guarded UPDATE last, then the key. The ceiling stays
# these four; the service now sends three (the key's lock and lookup, one statement for
# the guarded UPDATE with its hold and ledger entry, the key), `inventory.reservations`.
RAW = (
    "INSERT INTO reservations (depot_id, part_id, quantity, status, expires_at, created_at,"
    " created_by_id) VALUES (%(depot)s, %(part)s, 1, 'reserved', %(exp)s, %(now)s, %(user)s)"
    " RETURNING id",
    "INSERT INTO ledger_entries (kind, depot_id, part_id, d_on_hand, d_reserved, d_in_transit,"
    " d_on_order, d_returns, user_id, at, reason, reservation_id) VALUES ('reservation',"
    " %(depot)s, %(part)s, 0, 1, 0, 0, 0, %(user)s, %(now)s, 'reserved', %(res)s)",
    "UPDATE stock_levels SET reserved = reserved + 1"
    " WHERE id = %(row)s AND on_hand - reserved >= 1",
    "INSERT INTO idempotency_keys (user_id, key, fingerprint, status, response_status,"
    " response_body, created_at, expires_at) VALUES (%(user)s, %(key)s, %(fp)s, 'done', 201,"
    " %(body)s, %(now)s, %(exp)s)",
)


@pytest.fixture
def raw_conns(pg_url: str) -> Iterator[list[psycopg.Connection[Any]]]:
    """One psycopg connection per client, like the service's pool."""
    dsn = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    conns = [psycopg.connect(dsn) for _ in range(CLIENTS)]
    yield conns
    for conn in conns:
        conn.close()


def _raw(conns: list[psycopg.Connection[Any]], stock: Stock) -> One:
    """The same statements straight through psycopg, one connection per client thread."""

    def one(i: int, rng: random.Random) -> None:
        conn = conns[i]
        depot, part, row = stock.pick(rng)
        now = datetime.now(UTC)
        p: dict[str, Any] = dict(user=stock.user, key=f"raw-{next(_keys)}", fp="x" * 64,
                                 now=now, exp=now + timedelta(hours=4), row=row, depot=depot,
                                 part=part)  # fmt: skip
        with conn.transaction(), conn.cursor() as cur:
            p["res"] = cur.execute(RAW[0], p).fetchone()[0]  # type: ignore[index]
            cur.execute(RAW[1], p)
            cur.execute(RAW[2], p)
            assert cur.rowcount == 1
            p["body"] = f'{{"id": {p["res"]}}}'
            cur.execute(RAW[3], p)

    return one


def _measure(benchmark: Any, engine: Engine, one: One) -> None:
    """Run OPS operations per round (3 rounds) and record the median rate.

    With ``--benchmark-disable`` it runs once and records nothing (no statistics).
    """
    benchmark.pedantic(_clients, args=(OPS, one), rounds=3, iterations=1, warmup_rounds=0)
    if benchmark.stats is not None:
        benchmark.extra_info["ops_per_s"] = round(OPS / benchmark.stats.stats.median, 1)
    with Session(engine) as s:
        assert verify(session=s) == []  # every run ends with the ledger check


@pytest.fixture(scope="module")
def pg_engine(pg_url: str) -> Iterator[Engine]:
    engine = make_engine(pg_url, pool_size=CLIENTS + 4, max_overflow=0)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def hot(pg_engine: Engine) -> Stock:
    return Stock(pg_engine, 1, 1)


@pytest.fixture(scope="module")
def spread(pg_engine: Engine) -> Stock:
    return Stock(pg_engine, SPREAD_DEPOTS, SPREAD_PARTS)


@pytest.mark.benchmark(group="postgresql-hot")
def test_pg_hot_in_process(benchmark: Any, pg_engine: Engine, hot: Stock) -> None:
    _measure(benchmark, pg_engine, _in_process(pg_engine, hot))


@pytest.mark.benchmark(group="postgresql-hot")
def test_pg_hot_raw_ceiling(
    benchmark: Any, pg_engine: Engine, raw_conns: list[Any], hot: Stock
) -> None:
    _measure(benchmark, pg_engine, _raw(raw_conns, hot))


@pytest.mark.benchmark(group="postgresql-spread")
def test_pg_spread_in_process(benchmark: Any, pg_engine: Engine, spread: Stock) -> None:
    _measure(benchmark, pg_engine, _in_process(pg_engine, spread))


@pytest.mark.benchmark(group="postgresql-spread")
def test_pg_spread_raw_ceiling(
    benchmark: Any, pg_engine: Engine, raw_conns: list[Any], spread: Stock
) -> None:
    _measure(benchmark, pg_engine, _raw(raw_conns, spread))


@pytest.fixture(scope="module")
def served(pg_url: str, pg_engine: Engine) -> Iterator[str]:
    """`uvicorn api.app:create_app` in its own process (the clients' GIL is not the server's)."""
    with served_api(pg_url, 18000) as base:
        yield base


@pytest.mark.benchmark(group="postgresql-spread")
def test_pg_spread_http(benchmark: Any, pg_engine: Engine, spread: Stock, served: str) -> None:
    key = f"spk_http_{uuid.uuid4().hex}"
    with Session(pg_engine) as s, s.begin():
        _user(s, key)
    clients = [httpx.Client(base_url=served, timeout=60) for _ in range(CLIENTS)]

    def one(i: int, rng: random.Random) -> None:
        depot, part, _ = spread.pick(rng)
        body = {"depot_id": depot, "lines": [{"part_id": part, "quantity": 1}]}
        headers = {"X-API-Key": key, "Idempotency-Key": f"http-{next(_keys)}"}
        got = clients[i].post("/v1/reservations", json=body, headers=headers)
        assert got.status_code == 201, got.text

    try:
        _measure(benchmark, pg_engine, one)
    finally:
        for client in clients:
            client.close()


@pytest.mark.benchmark(group="sqlite")
def test_sqlite_in_process(benchmark: Any, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url, pool_size=CLIENTS + 4, max_overflow=0)
    upgrade(engine)
    stock = Stock(engine, SPREAD_DEPOTS, SPREAD_PARTS)
    try:
        _measure(benchmark, engine, _in_process(engine, stock))
    finally:
        engine.dispose()
