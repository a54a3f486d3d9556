"""Concurrency fixtures: committed rows on a real database (a SQLite file or PostgreSQL).

The rolled-back `session` cannot serve here: other connections must see the rows.
Like the API tests, every row is deleted before and after each test. `served` runs
the real app under uvicorn on 127.0.0.1, so racing clients meet it as in production:
separate sockets, the server's own thread pool, a connection each from a real pool.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import pytest
import uvicorn
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from api.app import create_app
from api.settings import Settings
from db import make_engine
from tests.api.conftest import delete_all_rows
from tests.inventory.stock_builders import Shop, make_shop

WORKERS = 40  # >= 32 concurrent clients


def race(workers: int, attempt: Callable[[int], Any]) -> list[Any]:
    """Run `attempt(i)` in `workers` threads released together; their results in order."""
    barrier = threading.Barrier(workers)

    def go(i: int) -> Any:
        barrier.wait()
        return attempt(i)

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(go, range(workers)))


@pytest.fixture
def clean_engine(engine: Engine) -> Iterator[Engine]:
    delete_all_rows(engine)
    yield engine
    delete_all_rows(engine)


@pytest.fixture
def wide_engine(clean_engine: Engine) -> Iterator[Engine]:
    """An engine with a connection per worker, so the race is between open transactions."""
    url = clean_engine.url.render_as_string(hide_password=False)
    eng = make_engine(url, pool_size=WORKERS + 2, max_overflow=0)
    yield eng
    eng.dispose()


@pytest.fixture
def shop_factory(clean_engine: Engine):  # type: ignore[no-untyped-def]
    def build(on_hand: int, sub_on_hand: int = 0) -> Shop:
        with Session(clean_engine) as s, s.begin():
            return make_shop(s, on_hand=on_hand, sub_on_hand=sub_on_hand)

    return build


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # the test thread owns no signals
        pass


@pytest.fixture
def clock() -> Callable[[], datetime] | None:
    """The served app's clock (None: now); a test module overrides it with a fixed one."""
    return None


@pytest.fixture
def served(
    wide_engine: Engine, database_url: str, clock: Callable[[], datetime] | None
) -> Iterator[str]:
    """The real app over a socket, on the wide engine; yields its base URL."""
    settings = Settings(_env_file=None, database_url=database_url)
    app = create_app(settings, engine=wide_engine, clock=clock)
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        threading.Event().wait(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the PostgreSQL variants `postgres` (row-lock races need the server)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("database_url") == "postgresql":
            item.add_marker(pytest.mark.postgres)
