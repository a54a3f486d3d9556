"""Warranty checks, dead-on-arrival swaps and quotes: the seeds' money promises."""

from __future__ import annotations

from fastapi import APIRouter, Query, status

from api.deps import CurrentUser, NowDep, SessionDep, requires
from api.schemas.common import Day, IdPath
from api.schemas.warranty import (
    DoaSwapIn,
    InstalledPartBrief,
    QuoteCreate,
    QuoteRead,
    WarrantyRead,
)
from api.scoping import SCOPED
from db import Role
from dispatch import quotes, warranty_service

router = APIRouter(tags=["warranty and pricing"])
CHECKERS = (Role.DISPATCHER, Role.WAREHOUSE, Role.ADMIN)
QUOTERS = (Role.DISPATCHER, Role.ADMIN)


@router.get("/assets/{asset_id}/warranty", dependencies=[requires(*CHECKERS)])
def asset_warranty(
    session: SessionDep,
    now: NowDep,
    asset_id: IdPath,
    on: Day | None = Query(None, description="the date to judge (default: today, contract time)"),
) -> WarrantyRead:
    """The asset's coverage and each installed part's, with the rule that decided."""
    found = warranty_service.warranty_of_asset(session, asset_id=asset_id, on=on, now=now)
    return WarrantyRead.of(found)


@router.post(
    "/assets/{asset_id}/installed-parts/{installed_part_id}/doa-swap",
    status_code=status.HTTP_201_CREATED,
    dependencies=[requires(*CHECKERS), SCOPED],
)
def doa_swap(
    body: DoaSwapIn,
    session: SessionDep,
    user: CurrentUser,
    now: NowDep,
    asset_id: IdPath,
    installed_part_id: IdPath,
) -> InstalledPartBrief:
    """Replace a unit found faulty on unpacking; the replacement keeps the same coverage."""
    new = warranty_service.swap_dead_on_arrival(
        session,
        asset_id=asset_id,
        installed_part_id=installed_part_id,
        replacement_part_id=body.part_id,
        serial=body.serial,
        user=user,
        now=now,
    )
    return InstalledPartBrief.model_validate(new)


@router.post("/quotes", status_code=status.HTTP_201_CREATED, dependencies=[requires(*QUOTERS)])
def create_quote(
    body: QuoteCreate, session: SessionDep, user: CurrentUser, now: NowDep
) -> QuoteRead:
    """Price a repair line by line; every line names the rule that priced it."""
    parts = None if body.parts is None else [quotes.QuotePart(**p.model_dump()) for p in body.parts]
    quote = quotes.quote_repair(
        session,
        user=user,
        now=now,
        ticket_id=body.ticket_id,
        asset_id=body.asset_id,
        parts=parts,
        cause=body.cause,
        on=body.on,
        labour_hours=body.labour_hours,
        travel_km=body.travel_km,
    )
    return QuoteRead.of(quote)


@router.get("/tickets/{ticket_id}/quotes", dependencies=[requires(*QUOTERS)])
def ticket_quotes(session: SessionDep, ticket_id: IdPath) -> list[QuoteRead]:
    """A ticket's quotes and, once fixed, its final price from the parts used."""
    return [QuoteRead.of(q) for q in quotes.quotes_of_ticket(session, ticket_id)]
