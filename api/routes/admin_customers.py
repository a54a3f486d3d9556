"""Administration of customer sites and their contracts."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import SessionDep, requires
from api.schemas.admin import ContractCreate, ContractUpdate, SiteCreate, SiteUpdate
from api.schemas.common import ContractRead, IdPath, SiteRead
from db.identity import Role
from dispatch import masterdata

router = APIRouter()
ADMIN = [requires(Role.ADMIN)]


@router.post("/sites", tags=["sites"], dependencies=ADMIN, status_code=status.HTTP_201_CREATED)
def create_site(session: SessionDep, body: SiteCreate) -> SiteRead:
    """Create a site; its dedicated engineer, if any, must be active."""
    return SiteRead.model_validate(masterdata.create_site(session=session, **body.fields()))


@router.patch("/sites/{site_id}", tags=["sites"], dependencies=ADMIN)
def update_site(session: SessionDep, site_id: IdPath, body: SiteUpdate) -> SiteRead:
    """Change the fields sent (null clears place, address or the dedicated engineer)."""
    site = masterdata.update_site(session=session, site_id=site_id, changes=body.fields())
    return SiteRead.model_validate(site)


@router.post(
    "/contracts", tags=["contracts"], dependencies=ADMIN, status_code=status.HTTP_201_CREATED
)
def create_contract(session: SessionDep, body: ContractCreate) -> ContractRead:
    """Create a contract under a promise policy."""
    contract = masterdata.create_contract(session=session, **body.fields())
    return ContractRead.model_validate(contract)


@router.patch("/contracts/{contract_id}", tags=["contracts"], dependencies=ADMIN)
def update_contract(session: SessionDep, contract_id: IdPath, body: ContractUpdate) -> ContractRead:
    """Change the fields sent; a new policy must know the severities its tickets use."""
    contract = masterdata.update_contract(
        session=session, contract_id=contract_id, changes=body.fields()
    )
    return ContractRead.model_validate(contract)
