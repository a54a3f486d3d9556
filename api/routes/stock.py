"""Stock reads: levels per depot x part, the ledger, and shipments (late ones too)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import MASTER_DATA_READERS, NowDep, PageDep, SessionDep, requires
from api.schemas.common import PageRead
from api.schemas.stock import (
    LedgerFilterIn,
    LedgerRead,
    ShipmentFilterIn,
    ShipmentRead,
    StockFilterIn,
    StockRead,
)
from db import Role
from dispatch import board
from inventory import stock
from inventory.shipments import ShipmentFilter

router = APIRouter(tags=["stock"])
LEDGER_READERS = requires(Role.WAREHOUSE, Role.PLANNER, Role.ADMIN)


@router.get("/stock", dependencies=[requires(*MASTER_DATA_READERS)])
def list_stock(
    session: SessionDep, page: PageDep, now: NowDep, filters: Annotated[StockFilterIn, Query()]
) -> PageRead[StockRead]:
    """Stock levels; `available` excludes live reservations only (expired holds are free)."""
    found = stock.list_stock(session=session, now=now, after=page.after, limit=page.limit,
                             filters=stock.StockFilter(**filters.model_dump()))  # fmt: skip
    return PageRead[StockRead].model_validate(found)


@router.get("/ledger", dependencies=[LEDGER_READERS])
def list_ledger(
    session: SessionDep, page: PageDep, filters: Annotated[LedgerFilterIn, Query()]
) -> PageRead[LedgerRead]:
    """Every stock movement, oldest first: who, when, why and the change to each balance."""
    found = stock.list_ledger(session=session, after=page.after, limit=page.limit,
                              filters=stock.LedgerFilter(**filters.model_dump()))  # fmt: skip
    return PageRead[LedgerRead].model_validate(found)


@router.get("/shipments", dependencies=[requires(*MASTER_DATA_READERS)])
def list_shipments(
    session: SessionDep, page: PageDep, now: NowDep, filters: Annotated[ShipmentFilterIn, Query()]
) -> PageRead[ShipmentRead]:
    """Shipments; `late=true` lists those that missed their ship-by time or will miss it."""
    values = filters.model_dump()
    margin = values.pop("margin_min")
    found = board.list_shipments(session, now=now, after=page.after, limit=page.limit,
                                 margin_min=margin, filters=ShipmentFilter(**values))  # fmt: skip
    return PageRead[ShipmentRead].model_validate(found)
