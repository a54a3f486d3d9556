"""Promise policies: what a contract promises, with its severity levels."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import MASTER_DATA_READERS, PageDep, SessionDep, requires
from api.schemas.admin import PolicyCreate, PolicyUpdate
from api.schemas.common import IdPath, PageRead, PolicyRead
from db.identity import Role
from dispatch import masterdata, queries

router = APIRouter(prefix="/policies", tags=["contracts"])


@router.get("", dependencies=[requires(*MASTER_DATA_READERS)])
def list_policies(session: SessionDep, page: PageDep) -> PageRead[PolicyRead]:
    """List promise policies with their severities."""
    found = queries.list_policies(session=session, after=page.after, limit=page.limit)
    return PageRead[PolicyRead].model_validate(found)


@router.get("/{policy_id}", dependencies=[requires(*MASTER_DATA_READERS)])
def get_policy(session: SessionDep, policy_id: IdPath) -> PolicyRead:
    """One promise policy with its severities."""
    return PolicyRead.model_validate(queries.get_policy(session=session, policy_id=policy_id))


@router.post("", dependencies=[requires(Role.ADMIN)], status_code=status.HTTP_201_CREATED)
def create_policy(session: SessionDep, body: PolicyCreate) -> PolicyRead:
    """Create a policy; numbers left out take the seeds' defaults (domain.md)."""
    return PolicyRead.model_validate(masterdata.create_policy(session=session, **body.fields()))


@router.patch("/{policy_id}", dependencies=[requires(Role.ADMIN)])
def update_policy(session: SessionDep, policy_id: IdPath, body: PolicyUpdate) -> PolicyRead:
    """Change the fields sent; `severities` replace all levels (codes in use must stay)."""
    policy = masterdata.update_policy(session=session, policy_id=policy_id, changes=body.fields())
    return PolicyRead.model_validate(policy)
