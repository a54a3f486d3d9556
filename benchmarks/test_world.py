"""Benchmarks of the demo world: generating it must take seconds, and so must loading it.

Guards: `generate_world` stays vectorised (large world, 20,000 sites), and `load_world`
stays a Core bulk insert (small and large world into a SQLite file). Fixed seed and fixed
work; run with `pytest benchmarks --benchmark-only`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from db import make_engine, upgrade
from dispatch.world import World, WorldSize, generate_world, load_world

SEED = 20261102


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, migrated SQLite file; each round loads into a fresh copy of it."""
    path = tmp_path_factory.mktemp("world") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


def _loader(template: Path, tmp_path: Path, world: World) -> tuple[Callable[..., None], Any]:
    """A timed target (load and commit) and an untimed setup (copy the empty database)."""
    rounds = iter(range(1_000))

    def setup() -> tuple[tuple[str], dict[str, Any]]:
        target = tmp_path / f"round-{next(rounds)}.db"
        shutil.copyfile(template, target)
        return (f"sqlite:///{target}",), {}

    def load(url: str) -> None:
        engine = make_engine(url)
        with Session(engine) as session, session.begin():
            load_world(session, world)
        engine.dispose()

    return load, setup


def test_generate_large_world(benchmark: Any) -> None:
    world = benchmark.pedantic(generate_world, args=(SEED, WorldSize.LARGE), rounds=3)
    assert world.counts["sites"] == 20_000


def test_load_small_world_into_sqlite(
    benchmark: Any, migrated_template: Path, tmp_path: Path
) -> None:
    load, setup = _loader(migrated_template, tmp_path, generate_world(SEED, WorldSize.SMALL))
    benchmark.pedantic(load, setup=setup, rounds=3, iterations=1)


def test_load_large_world_into_sqlite(
    benchmark: Any, migrated_template: Path, tmp_path: Path
) -> None:
    load, setup = _loader(migrated_template, tmp_path, generate_world(SEED, WorldSize.LARGE))
    benchmark.pedantic(load, setup=setup, rounds=1, iterations=1)
