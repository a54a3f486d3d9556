"""A freshly loaded demo world's stock is in the ledger: `verify` holds from the start."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.world import WorldSize, generate_world, load_world
from inventory.models import LedgerEntry, LedgerKind
from inventory.verify import verify


def test_opening_balances_make_the_ledger_agree(session: Session) -> None:
    world = generate_world(7, WorldSize.SMALL)
    load_world(session, world)
    stmt = select(func.count()).where(LedgerEntry.kind == LedgerKind.OPENING)
    assert session.execute(stmt).scalar_one() == len(world.tables["stock_levels"])
    assert verify(session=session) == []
