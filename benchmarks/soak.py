"""A soak run: mixed traffic from 32 clients on PostgreSQL, then the books are checked.

Why: the single-route benchmarks each time one path; a busy morning mixes them, and the
failures that matter (a 500, a ticket or reservation answered 201 but not stored, a ledger
that no longer adds up) show only when writers and readers overlap for minutes.

The world is the small demo world (seed 7) in a fresh PostgreSQL database, served by uvicorn
in its own process on 127.0.0.1 (benchmarks/serving.py). Clients, each its own thread and
connection, with the demo keys (`spk_demo_<role>`):

- dispatchers: take in a ticket, read the worklist, mark the ticket responded, ask for a
  recommendation and assign its best option (with an `Idempotency-Key`);
- warehouse staff: read a depot's stock and reserve one part (with an `Idempotency-Key`,
  sent twice: the replay must give the same reservation);
- engineers: move (`PUT /v1/me/position`) and read their tickets;
- the planner: the scenario examples and `/metrics`.

Bounded in time (``seconds``) and in count (``max_requests`` per client): it stops by itself.
Afterwards: no 5xx, `spares stock verify` exits 0, and every ticket, reservation and
assignment answered 201 is in the database (and the database holds no more tickets than the
world plus those answers). Latency p50/p99 per route is printed and written as JSON.

    python -m benchmarks.soak --minutes 30          # the long run
    SPARES_SOAK_SECONDS=120 pytest benchmarks/test_soak.py -s   # the CI-sized run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `python benchmarks/soak.py` as well as `-m benchmarks.soak`
    sys.path.insert(0, str(ROOT))

import db  # noqa: E402
from benchmarks.serving import served_api  # noqa: E402
from dispatch.models import (  # noqa: E402
    Assignment,
    Contract,
    PolicySeverity,
    Site,
    Ticket,
    TicketType,
)
from dispatch.world import generate_world, load_world  # noqa: E402
from inventory.models import Depot, DepotKind, Reservation, StockLevel  # noqa: E402

DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
KEYS = {role: {"X-API-Key": f"spk_demo_{role}"} for role in
        ("dispatcher", "warehouse", "engineer", "planner")}  # fmt: skip
MIX = {"dispatcher": 12, "warehouse": 10, "engineer": 8, "planner": 2}  # 32 clients
MAX_REQUESTS = 100_000  # per client: the count bound beside the time bound


@dataclass
class Tally:
    """What the clients saw: latencies per route, statuses, and the ids answered 201."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[int]] = field(default_factory=lambda: defaultdict(Counter))
    server_errors: list[str] = field(default_factory=list)
    tickets: set[int] = field(default_factory=set)
    reservations: set[int] = field(default_factory=set)
    assignments: set[int] = field(default_factory=set)
    replay_mismatches: int = 0
    empty_recommendations: int = 0  # answered, but no engineer to assign
    samples: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))  # 4xx

    def record(self, route: str, got: httpx.Response, elapsed: float) -> None:
        with self.lock:
            self.times[route].append(elapsed)
            self.statuses[route][got.status_code] += 1
            if got.status_code >= 500:
                self.server_errors.append(f"{route} {got.status_code} {got.text[:300]}")
            elif got.status_code >= 400 and len(self.samples[route]) < 3:
                self.samples[route].append(f"{got.status_code} {got.text[:300]}")


@dataclass(frozen=True)
class World:
    """Ids the clients draw from, read once before the run."""

    sites: list[tuple[int, str]]  # (site, one severity code of its contract's policy)
    ticket_types: list[int]
    stock: list[tuple[int, int]]  # (depot, part) with something on hand, central/regional
    depots: list[int]


class Client:
    """One simulated user: an httpx client, its tally, its deadline and request budget."""

    def __init__(self, base: str, tally: Tally, deadline: float, budget: int, seed: int):
        self.http = httpx.Client(base_url=base, timeout=60)
        self.tally, self.deadline, self.left = tally, deadline, budget
        self.rng = random.Random(seed)

    def alive(self) -> bool:
        return self.left > 0 and time.monotonic() < self.deadline

    def call(self, route: str, method: str, url: str, role: str, **kw: Any) -> httpx.Response:
        headers = KEYS[role] | kw.pop("headers", {})
        started = time.perf_counter()
        got = self.http.request(method, url, headers=headers, **kw)
        self.tally.record(route, got, time.perf_counter() - started)
        self.left -= 1
        return got


def dispatcher(c: Client, w: World) -> None:
    """Intake -> worklist -> responded -> recommendation -> assignment, ticket after ticket."""
    while c.alive():
        site, severity = c.rng.choice(w.sites)
        body = {"site_id": site, "ticket_type_id": c.rng.choice(w.ticket_types),
                "severity": severity, "channel": "phone", "description": "soak"}  # fmt: skip
        got = c.call("POST /v1/tickets", "POST", "/v1/tickets", "dispatcher", json=body)
        if got.status_code != 201:
            continue
        ticket = got.json()["id"]
        with c.tally.lock:
            c.tally.tickets.add(ticket)
        c.call("GET /v1/tickets?at_risk", "GET", "/v1/tickets", "dispatcher",
               params={"at_risk": "true", "limit": 50})  # fmt: skip
        c.call("POST /v1/tickets/{id}/transitions", "POST", f"/v1/tickets/{ticket}/transitions",
               "dispatcher", json={"to": "responded"})  # fmt: skip
        got = c.call("POST /v1/dispatch/recommendations", "POST", "/v1/dispatch/recommendations",
                     "dispatcher", json={"ticket_id": ticket})  # fmt: skip
        options = got.json().get("options") if got.status_code == 200 else None
        if not options:
            with c.tally.lock:
                c.tally.empty_recommendations += 1
            continue
        body = {"ticket_id": ticket, "engineer_id": options[0]["engineer_id"]}
        key = {"Idempotency-Key": str(uuid.UUID(int=c.rng.getrandbits(128)))}
        got = c.call("POST /v1/dispatch/assignments", "POST", "/v1/dispatch/assignments",
                     "dispatcher", json=body, headers=key)  # fmt: skip
        if got.status_code == 201:
            with c.tally.lock:
                c.tally.assignments.add(got.json()["id"])


def warehouse(c: Client, w: World) -> None:
    """Read a depot's stock, reserve one part; every few, replay the same key."""
    while c.alive():
        c.call("GET /v1/stock", "GET", "/v1/stock", "warehouse",
               params={"depot_id": c.rng.choice(w.depots), "limit": 100})  # fmt: skip
        depot, part = c.rng.choice(w.stock)
        body = {"depot_id": depot, "lines": [{"part_id": part, "quantity": 1}]}
        key = {"Idempotency-Key": str(uuid.UUID(int=c.rng.getrandbits(128)))}
        got = c.call("POST /v1/reservations", "POST", "/v1/reservations", "warehouse",
                     json=body, headers=key)  # fmt: skip
        if got.status_code != 201:
            continue
        ids = _reservation_ids(got.json())
        with c.tally.lock:
            c.tally.reservations.update(ids)
        if c.rng.random() < 0.2 and c.alive():
            again = c.call("POST /v1/reservations (replay)", "POST", "/v1/reservations",
                           "warehouse", json=body, headers=key)  # fmt: skip
            if again.status_code != 201 or _reservation_ids(again.json()) != ids:
                with c.tally.lock:
                    c.tally.replay_mismatches += 1


def _reservation_ids(answer: Any) -> set[int]:
    """The reservation ids of a `POST /v1/reservations` answer (one row, or a list of them)."""
    rows = answer if isinstance(answer, list) else answer.get("items", [answer])
    return {int(r["id"]) for r in rows}


def engineer(c: Client, w: World) -> None:
    """Report a position near Guangzhou and read my tickets."""
    while c.alive():
        pos = {"lat": 23.1 + c.rng.uniform(-0.2, 0.2), "lon": 113.3 + c.rng.uniform(-0.2, 0.2)}
        c.call("PUT /v1/me/position", "PUT", "/v1/me/position", "engineer", json=pos)
        c.call("GET /v1/me/tickets", "GET", "/v1/me/tickets", "engineer")


def planner(c: Client, w: World) -> None:
    """The scenario examples and the metrics, with a pause: a person reading, not a loop."""
    while c.alive():
        c.call("GET /v1/scenarios/examples", "GET", "/v1/scenarios/examples", "planner")
        c.call("GET /metrics", "GET", "/metrics", "planner")
        time.sleep(0.2)


ROLES = {"dispatcher": dispatcher, "warehouse": warehouse, "engineer": engineer,
         "planner": planner}  # fmt: skip


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of ``server_url``; dropped afterwards."""
    url = make_url(server_url)
    name = f"soak_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def load_demo(url: str) -> World:
    """The small demo world (seed 7, as of now) in ``url``; the ids the clients draw from."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    with db.make_sessionmaker(engine).begin() as session:
        load_world(session, generate_world(7, "small", as_of=now))
    with Session(engine) as session:
        sites = list(session.execute(
            select(Site.id, func.min(PolicySeverity.code))
            .join(Contract, Contract.id == Site.contract_id)
            .join(PolicySeverity, PolicySeverity.policy_id == Contract.policy_id)
            .group_by(Site.id).order_by(Site.id)
        ))  # fmt: skip
        fixed = [DepotKind.CENTRAL, DepotKind.REGIONAL]
        stock = list(session.execute(
            select(StockLevel.depot_id, StockLevel.part_id).join(Depot)
            .where(Depot.kind.in_(fixed), StockLevel.on_hand > 0)
            .order_by(StockLevel.depot_id, StockLevel.part_id)
        ))  # fmt: skip
        world = World(
            sites=[(s, str(code)) for s, code in sites],
            ticket_types=list(session.scalars(select(TicketType.id))),
            stock=[(d, p) for d, p in stock],
            depots=sorted({d for d, _ in stock}),
        )
    engine.dispose()
    return world


def _count(url: str, model: Any) -> int:
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        engine.dispose()


def _missing(url: str, model: Any, ids: set[int]) -> set[int]:
    """Those of ``ids`` with no row of ``model``."""
    engine = db.make_engine(url)
    try:
        with Session(engine) as session:
            found = (
                set(session.scalars(select(model.id).where(model.id.in_(ids)))) if ids else set()
            )
    finally:
        engine.dispose()
    return ids - found


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered))) - 1))]


@dataclass
class Report:
    """The outcome of one soak run, as printed and written to JSON."""

    seconds: float
    clients: int
    routes: dict[str, dict[str, Any]]
    server_errors: list[str]
    verify_exit: int
    verify_output: str
    tickets_answered: int
    tickets_missing: list[int]
    tickets_unexplained: int
    reservations_answered: int
    reservations_missing: list[int]
    assignments_answered: int
    assignments_missing: list[int]
    replay_mismatches: int
    empty_recommendations: int
    refusals: dict[str, list[str]]  # the first few 4xx bodies per route: why, not only how many

    def table(self) -> str:
        lines = [f"{'route':<38} {'n':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses"]
        for route, r in sorted(self.routes.items()):
            codes = " ".join(f"{k}:{v}" for k, v in sorted(r["statuses"].items()))
            lines.append(
                f"{route:<38} {r['n']:>7} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}  {codes}"
            )
        total = sum(r["n"] for r in self.routes.values())
        lines.append(f"{total} requests in {self.seconds:.0f} s ({total / self.seconds:.0f}/s), "
                     f"{self.clients} clients; 5xx: {len(self.server_errors)}; "
                     f"stock verify exit {self.verify_exit}; tickets {self.tickets_answered} "
                     f"(missing {len(self.tickets_missing)}, unexplained "
                     f"{self.tickets_unexplained}); reservations {self.reservations_answered} "
                     f"(missing {len(self.reservations_missing)}); assignments "
                     f"{self.assignments_answered} (missing {len(self.assignments_missing)}); "
                     f"replay mismatches {self.replay_mismatches}; recommendations without an "
                     f"option {self.empty_recommendations}")  # fmt: skip
        for route, bodies in sorted(self.refusals.items()):
            lines.extend(f"  {route}: {body}" for body in bodies)
        return "\n".join(lines)

    def clean(self) -> bool:
        return not (self.server_errors or self.verify_exit or self.tickets_missing
                    or self.tickets_unexplained or self.reservations_missing
                    or self.assignments_missing or self.replay_mismatches)  # fmt: skip


def soak(server_url: str, seconds: float, max_requests: int = MAX_REQUESTS) -> Report:
    """Run the soak on a fresh database of ``server_url`` and check the books afterwards."""
    with fresh_database(server_url) as url:
        world = load_demo(url)
        tickets_before = _count(url, Ticket)
        tally = Tally()
        with served_api(url, 23000) as base:
            deadline = time.monotonic() + seconds
            started = time.monotonic()
            threads = []
            n = 0
            for role, count in MIX.items():
                for _ in range(count):
                    c = Client(base, tally, deadline, max_requests, seed=n)
                    threads.append(threading.Thread(target=_guarded, args=(ROLES[role], c, world)))
                    n += 1
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            elapsed = time.monotonic() - started
        env = os.environ | {"SPARES_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
        verified = subprocess.run(
            [sys.executable, "-m", "spares", "stock", "verify"], cwd=ROOT, env=env,
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        tickets_after = _count(url, Ticket)
        routes = {
            route: {"n": len(ts), "p50_ms": percentile(ts, 0.5) * 1e3,
                    "p99_ms": percentile(ts, 0.99) * 1e3,
                    "statuses": {str(k): v for k, v in tally.statuses[route].items()}}
            for route, ts in tally.times.items()
        }  # fmt: skip
        return Report(
            seconds=elapsed, clients=n, routes=routes, server_errors=tally.server_errors,
            verify_exit=verified.returncode,
            verify_output=(verified.stdout + verified.stderr)[-2000:],
            tickets_answered=len(tally.tickets),
            tickets_missing=sorted(_missing(url, Ticket, tally.tickets)),
            tickets_unexplained=tickets_after - tickets_before - len(tally.tickets),
            reservations_answered=len(tally.reservations),
            reservations_missing=sorted(_missing(url, Reservation, tally.reservations)),
            assignments_answered=len(tally.assignments),
            assignments_missing=sorted(_missing(url, Assignment, tally.assignments)),
            replay_mismatches=tally.replay_mismatches,
            empty_recommendations=tally.empty_recommendations,
            refusals=dict(tally.samples),
        )  # fmt: skip


def _guarded(work: Any, c: Client, world: World) -> None:
    """Run one client; a transport error (server gone) is recorded, never silently lost."""
    try:
        work(c, world)
    except httpx.TransportError as exc:
        with c.tally.lock:
            c.tally.server_errors.append(f"transport: {exc!r}")
    finally:
        c.http.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.soak --minutes 30`: print the table, write JSON, exit 1 if unclean."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=None)
    parser.add_argument("--seconds", type=float,
                        default=float(os.environ.get("SPARES_SOAK_SECONDS", "120")))  # fmt: skip
    parser.add_argument(
        "--postgres",
        default=os.environ.get("SPARES_TEST_POSTGRES_URL", DEFAULT_PG),
        help="a PostgreSQL URL; the run makes (and drops) its own database",
    )
    parser.add_argument("--json", default="reports/soak.json", help="where to write the report")
    args = parser.parse_args(argv)
    seconds = args.minutes * 60 if args.minutes is not None else args.seconds
    report = soak(args.postgres, seconds)
    print(report.table())  # noqa: T201
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report.__dict__, indent=2) + "\n")
    return 0 if report.clean() else 1


if __name__ == "__main__":
    raise SystemExit(main())
