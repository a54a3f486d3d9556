"""Regions: the named service areas every site, engineer and depot belongs to."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import FIELD_READERS, PageDep, SessionDep, requires
from api.schemas.common import IdPath, PageRead, RegionRead
from inventory import queries

router = APIRouter(prefix="/regions", tags=["regions"])


@router.get("", dependencies=[requires(*FIELD_READERS)])
def list_regions(session: SessionDep, page: PageDep) -> PageRead[RegionRead]:
    """List regions in id order."""
    found = queries.list_regions(session=session, after=page.after, limit=page.limit)
    return PageRead[RegionRead].model_validate(found)


@router.get("/{region_id}", dependencies=[requires(*FIELD_READERS)])
def get_region(session: SessionDep, region_id: IdPath) -> RegionRead:
    """One region."""
    return RegionRead.model_validate(queries.get_region(session=session, region_id=region_id))
