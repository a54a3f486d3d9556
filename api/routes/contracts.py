"""Contracts: each names the promise policy that sets every deadline and price rule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import MASTER_DATA_READERS, PageDep, SessionDep, requires
from api.schemas.common import ContractDetailRead, ContractFilter, ContractRead, IdPath, PageRead
from dispatch import queries

router = APIRouter(prefix="/contracts", tags=["contracts"])


@router.get("", dependencies=[requires(*MASTER_DATA_READERS)])
def list_contracts(
    session: SessionDep, page: PageDep, filters: Annotated[ContractFilter, Query()]
) -> PageRead[ContractRead]:
    """List contracts, optionally under one promise policy (`policy` code or `policy_id`)."""
    found = queries.list_contracts(
        session=session, after=page.after, limit=page.limit, **filters.model_dump()
    )
    return PageRead[ContractRead].model_validate(found)


@router.get("/{contract_id}", dependencies=[requires(*MASTER_DATA_READERS)])
def get_contract(session: SessionDep, contract_id: IdPath) -> ContractDetailRead:
    """One contract with its promise policy and the policy's severities."""
    found = queries.get_contract(session=session, contract_id=contract_id)
    return ContractDetailRead.from_detail(found)
