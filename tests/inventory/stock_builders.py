"""Builders for stock tests: a depot with parts whose opening stock went through the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.identity import Role
from inventory import stock
from inventory.models import PartSubstitute, StockLevel
from inventory.verify import verify
from tests.builders import make_depot, make_part, make_product_line, make_region, make_user

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Shop:
    """Two depots, a part with a substitute and an odd part; ids by name, a warehouse user."""

    depot: int
    other: int
    part: int
    sub: int
    odd: int
    user: int

    def who(self, now: datetime = T0) -> stock.Who:
        return stock.Who(self.user, now)


def make_shop(session: Session, *, on_hand: int = 5, sub_on_hand: int = 2) -> Shop:
    """A depot holding `on_hand` of a part and `sub_on_hand` of its substitute."""
    region = make_region(session)
    line = make_product_line(session)
    part = make_part(session, line)
    sub = make_part(session, line)
    session.add(PartSubstitute(part_id=part.id, substitute_id=sub.id))
    odd = make_part(session, line)
    depot, other = make_depot(session, region), make_depot(session, region)
    user = make_user(session, Role.WAREHOUSE, key=f"spk_shop_{depot.id}")
    shop = Shop(depot.id, other.id, part.id, sub.id, odd.id, user.id)
    for part_id, n in ((part.id, on_hand), (sub.id, sub_on_hand)):
        if n:
            stock.receive(session=session, depot_id=depot.id, part_id=part_id, quantity=n,
                          who=shop.who())  # fmt: skip
    session.flush()
    return shop


def row(session: Session, depot_id: int, part_id: int) -> StockLevel:
    stmt = select(StockLevel).where(StockLevel.depot_id == depot_id, StockLevel.part_id == part_id)
    return session.scalars(stmt.execution_options(populate_existing=True)).one()


def assert_consistent(session: Session) -> None:
    """The ledger check the issue asks for after every operation."""
    session.flush()
    assert verify(session=session) == []
