"""Concurrency fixtures: committed rows on a real database (a SQLite file or PostgreSQL).

The rolled-back `session` cannot serve here: other connections must see the rows.
Like the API tests, every row is deleted before and after each test.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from tests.api.conftest import delete_all_rows
from tests.inventory.stock_builders import Shop, make_shop


@pytest.fixture
def clean_engine(engine: Engine) -> Iterator[Engine]:
    delete_all_rows(engine)
    yield engine
    delete_all_rows(engine)


@pytest.fixture
def shop_factory(clean_engine: Engine):  # type: ignore[no-untyped-def]
    def build(on_hand: int, sub_on_hand: int = 0) -> Shop:
        with Session(clean_engine) as s, s.begin():
            return make_shop(s, on_hand=on_hand, sub_on_hand=sub_on_hand)

    return build


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the PostgreSQL variants `postgres` (row-lock races need the server)."""
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is not None and callspec.params.get("database_url") == "postgresql":
            item.add_marker(pytest.mark.postgres)
