"""Benchmarks of `POST /v1/dispatch/recommendations` over HTTP on the large demo world.

Guards: a recommendation through the whole stack (uvicorn on loopback in its own process,
authentication, the snapshot, the solver, the response) on the large world (seed 7: 2,000
engineers, 60 depots, 1,000 SKUs) in a SQLite file. Two cases:

- **cached**: the API's snapshot cache (`dispatch.snapshot_cache`) reuses the world while
  its version (six indexed maxima) is unchanged and the snapshot is under 30 s old;
- **uncached**: each request asks for a time 31 s after the previous one, past the TTL,
  so every request builds its snapshot from the database (what every request did before).

Median and p95 from our own loop over fixed open tickets (printed with ``-s``).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from serving import served_api
from sqlalchemy import select
from sqlalchemy.orm import Session

import db
from dispatch.models import Ticket, TicketStatus
from dispatch.world import generate_world, load_world

AS_OF = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # 09:00 in Guangdong, the demo's reference
KEY = {"X-API-Key": "spk_demo_dispatcher"}  # the demo world's public key
CACHED_ROUNDS = 300
UNCACHED_ROUNDS = 30


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[int]]:
    """The large world in a SQLite file, and its open tickets."""
    url = f"sqlite:///{tmp_path_factory.mktemp('http') / 'large.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    with db.make_sessionmaker(engine).begin() as session:
        load_world(session, generate_world(7, "large"))
    with Session(engine) as session:
        stmt = select(Ticket.id).where(
            Ticket.status.in_([TicketStatus.NEW, TicketStatus.RESPONDED])
        )
        tickets = list(session.scalars(stmt.order_by(Ticket.id)))
    engine.dispose()
    return url, tickets


@pytest.fixture(scope="module")
def served(large: tuple[str, list[int]]) -> Iterator[str]:
    """`uvicorn api.app:create_app` in its own process, on loopback."""
    with served_api(large[0], 19000) as base:
        yield base


def _loop(base: str, tickets: list[int], rounds: int, step: timedelta) -> list[float]:
    """Time `rounds` requests (after one warm-up), each for the next ticket and time."""
    times = []
    with httpx.Client(base_url=base, timeout=60) as client:
        for i in range(rounds + 1):
            body = {
                "ticket_id": tickets[i % len(tickets)],
                "as_of": (AS_OF + step * i).isoformat(),
            }
            started = time.perf_counter()
            got = client.post("/v1/dispatch/recommendations", json=body, headers=KEY)
            elapsed = time.perf_counter() - started
            assert got.status_code == 200, got.text
            if i:  # the first request builds the first snapshot
                times.append(elapsed)
    return times


def _report(name: str, times: list[float]) -> dict[str, float]:
    ordered = sorted(times)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    out = {"median_ms": statistics.median(times) * 1_000, "p95_ms": p95 * 1_000}
    print(f"\n{name}: {len(times)} requests, median {out['median_ms']:.1f} ms, "  # noqa: T201
          f"p95 {out['p95_ms']:.1f} ms")  # fmt: skip
    return out


@pytest.mark.benchmark(group="http-recommend")
def test_recommend_over_http_cached(
    benchmark: Any, served: str, large: tuple[str, list[int]]
) -> None:
    times: list[float] = []
    benchmark.pedantic(
        lambda: times.extend(_loop(served, large[1], CACHED_ROUNDS, timedelta(0))),
        rounds=1, iterations=1,
    )  # fmt: skip
    benchmark.extra_info.update(_report("cached", times))


@pytest.mark.benchmark(group="http-recommend")
def test_recommend_over_http_uncached(
    benchmark: Any, served: str, large: tuple[str, list[int]]
) -> None:
    times: list[float] = []
    benchmark.pedantic(
        lambda: times.extend(_loop(served, large[1], UNCACHED_ROUNDS, timedelta(seconds=31))),
        rounds=1, iterations=1,
    )  # fmt: skip
    benchmark.extra_info.update(_report("uncached (snapshot per request)", times))
