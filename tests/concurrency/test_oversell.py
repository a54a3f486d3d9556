"""Never oversell: many concurrent clients race for the last units (PostgreSQL and a SQLite file).

No timed asserts: threads start together at a barrier and the outcome is counted.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from db import Role, make_sessionmaker
from db.transactions import run_in_transaction
from inventory import reservations as rs
from inventory.models import Reservation, StockLevel
from inventory.stock_errors import InsufficientStock
from inventory.verify import verify
from tests.builders import make_user
from tests.concurrency.conftest import WORKERS, race
from tests.inventory.stock_builders import Shop

UNITS = 7


def _counts(engine: Engine, shop: Shop) -> tuple[int, int, int]:
    with Session(engine) as s:
        stmt = select(StockLevel).where(StockLevel.depot_id == shop.depot)
        level = s.scalars(stmt.where(StockLevel.part_id == shop.part)).one()
        held = s.execute(select(func.count()).select_from(Reservation)).scalar_one()
        assert verify(session=s) == []
        return level.on_hand, level.reserved, held


def test_exactly_the_units_in_stock_are_reserved(wide_engine: Engine, shop_factory: Any) -> None:
    shop: Shop = shop_factory(UNITS, 3)
    factory = make_sessionmaker(wide_engine)

    def attempt(i: int) -> Any:
        def work(s: Session) -> int:
            line = rs.ReserveLine(shop.part, 1)
            [held] = rs.reserve(session=s, depot_id=shop.depot, user_id=shop.user,
                                now=shop.who().now, lines=[line])  # fmt: skip
            return held.id

        try:
            return run_in_transaction(factory, work)
        except InsufficientStock as exc:
            return exc  # what the refused learn: nothing left here, 3 substitutes

    results = race(WORKERS, attempt)
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert len(refused) == WORKERS - UNITS
    assert {(r.lines[0].available, r.substitutes[0].available) for r in refused} == {(0, 3)}
    assert _counts(wide_engine, shop) == (UNITS, UNITS, UNITS)


def test_multi_line_requests_in_any_order_never_deadlock(
    wide_engine: Engine, shop_factory: Any
) -> None:
    shop: Shop = shop_factory(UNITS, UNITS)
    factory = make_sessionmaker(wide_engine)
    orders = ([shop.part, shop.sub], [shop.sub, shop.part])

    def attempt(i: int) -> bool:
        lines = [rs.ReserveLine(p, 1) for p in orders[i % 2]]
        try:
            run_in_transaction(factory, lambda s: rs.reserve(
                session=s, depot_id=shop.depot, user_id=shop.user, now=shop.who().now,
                lines=lines))  # fmt: skip
        except InsufficientStock:
            return False
        return True

    assert sum(race(WORKERS, attempt)) == UNITS
    with Session(wide_engine) as s:
        assert verify(session=s) == []


def test_over_http_the_rest_get_409_with_what_is_available(
    served: str, wide_engine: Engine, shop_factory: Any
) -> None:
    shop: Shop = shop_factory(UNITS)
    with Session(wide_engine) as s, s.begin():
        make_user(s, Role.WAREHOUSE, key="spk_race")
    body = {"depot_id": shop.depot, "lines": [{"part_id": shop.part, "quantity": 1}]}

    def attempt(i: int) -> tuple[int, Any]:
        headers = {"X-API-Key": "spk_race", "Idempotency-Key": f"race-{i}"}
        with httpx.Client(base_url=served, timeout=120) as client:
            got = client.post("/v1/reservations", json=body, headers=headers)
        return got.status_code, got.json()

    results = race(WORKERS, attempt)
    assert sorted({code for code, _ in results}) == [201, 409]
    assert sum(code == 201 for code, _ in results) == UNITS
    for code, problem in results:
        if code == 409:
            assert problem["lines"][0]["available"] == 0
    assert _counts(wide_engine, shop) == (UNITS, UNITS, UNITS)
