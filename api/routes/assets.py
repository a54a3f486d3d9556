"""Assets: installed units at customer sites."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import FIELD_READERS, PageDep, SessionDep, requires
from api.schemas.common import AssetFilter, AssetRead, IdPath, PageRead
from inventory import queries

router = APIRouter(prefix="/assets", tags=["assets"])


@router.get("", dependencies=[requires(*FIELD_READERS)])
def list_assets(
    session: SessionDep, page: PageDep, filters: Annotated[AssetFilter, Query()]
) -> PageRead[AssetRead]:
    """List assets, optionally at one site, of one product model, or by serial."""
    found = queries.list_assets(
        session=session, after=page.after, limit=page.limit, **filters.model_dump()
    )
    return PageRead[AssetRead].model_validate(found)


@router.get("/{asset_id}", dependencies=[requires(*FIELD_READERS)])
def get_asset(session: SessionDep, asset_id: IdPath) -> AssetRead:
    """One asset."""
    return AssetRead.model_validate(queries.get_asset(session=session, asset_id=asset_id))
