"""Customer sites: where the equipment is and which contract covers it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import FIELD_READERS, PageDep, SessionDep, requires
from api.schemas.common import IdPath, PageRead, SiteFilter, SiteRead
from dispatch import queries

router = APIRouter(prefix="/sites", tags=["sites"])


@router.get("", dependencies=[requires(*FIELD_READERS)])
def list_sites(
    session: SessionDep, page: PageDep, filters: Annotated[SiteFilter, Query()]
) -> PageRead[SiteRead]:
    """List sites, optionally by region, contract, `rural`, or dedicated engineer."""
    found = queries.list_sites(
        session=session, after=page.after, limit=page.limit, **filters.model_dump()
    )
    return PageRead[SiteRead].model_validate(found)


@router.get("/{site_id}", dependencies=[requires(*FIELD_READERS)])
def get_site(session: SessionDep, site_id: IdPath) -> SiteRead:
    """One site."""
    return SiteRead.model_validate(queries.get_site(session=session, site_id=site_id))
