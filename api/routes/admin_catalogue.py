"""Administration of depots and the parts catalogue."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import SessionDep, requires
from api.schemas.admin import DepotCreate, DepotUpdate, PartCreate, PartUpdate
from api.schemas.common import DepotRead, IdPath, PartRead
from db.identity import Role
from inventory import catalogue

router = APIRouter()
ADMIN = [requires(Role.ADMIN)]


@router.post("/depots", tags=["depots"], dependencies=ADMIN, status_code=status.HTTP_201_CREATED)
def create_depot(session: SessionDep, body: DepotCreate) -> DepotRead:
    """Create a depot; one that is not a van needs lat and lon."""
    return DepotRead.model_validate(catalogue.create_depot(session=session, **body.fields()))


@router.patch("/depots/{depot_id}", tags=["depots"], dependencies=ADMIN)
def update_depot(session: SessionDep, depot_id: IdPath, body: DepotUpdate) -> DepotRead:
    """Change the fields sent; opening hours both or neither (neither: around the clock)."""
    depot = catalogue.update_depot(session=session, depot_id=depot_id, changes=body.fields())
    return DepotRead.model_validate(depot)


@router.post("/parts", tags=["catalogue"], dependencies=ADMIN, status_code=status.HTTP_201_CREATED)
def create_part(session: SessionDep, body: PartCreate) -> PartRead:
    """Create a part with the product models it fits and its substitutes (same line)."""
    return PartRead.model_validate(catalogue.create_part(session=session, **body.fields()))


@router.patch("/parts/{part_id}", tags=["catalogue"], dependencies=ADMIN)
def update_part(session: SessionDep, part_id: IdPath, body: PartUpdate) -> PartRead:
    """Change the fields sent; `fits` and `substitutes` replace those lists."""
    part = catalogue.update_part(session=session, part_id=part_id, changes=body.fields())
    return PartRead.model_validate(part)
