"""Depots: central and regional warehouses and engineers' vans."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import MASTER_DATA_READERS, PageDep, SessionDep, requires
from api.schemas.common import DepotFilter, DepotRead, IdPath, PageRead
from inventory import queries

router = APIRouter(prefix="/depots", tags=["depots"])


@router.get("", dependencies=[requires(*MASTER_DATA_READERS)])
def list_depots(
    session: SessionDep, page: PageDep, filters: Annotated[DepotFilter, Query()]
) -> PageRead[DepotRead]:
    """List depots, optionally of one region (`region` code or `region_id`) and `kind`."""
    found = queries.list_depots(
        session=session, after=page.after, limit=page.limit, **filters.model_dump()
    )
    return PageRead[DepotRead].model_validate(found)


@router.get("/{depot_id}", dependencies=[requires(*MASTER_DATA_READERS)])
def get_depot(session: SessionDep, depot_id: IdPath) -> DepotRead:
    """One depot."""
    return DepotRead.model_validate(queries.get_depot(session=session, depot_id=depot_id))
