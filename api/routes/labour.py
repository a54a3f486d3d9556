"""Labour rules and clock penalties (admin only): policy data the dispatch prices with."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, status

from api.deps import PageDep, SessionDep, requires
from api.schemas.common import IdPath, PageRead
from api.schemas.labour import (
    ClockPenaltiesRead,
    LabourRuleCreate,
    LabourRuleRead,
    LabourRulesRead,
    LabourRuleUpdate,
    PenaltySharesPatch,
    SeverityPenaltiesPut,
)
from db.identity import Role
from dispatch.masterdata import labour

router = APIRouter(prefix="/labour-rules", tags=["labour"])
penalties = APIRouter(prefix="/policies/{policy_id}/clock-penalties", tags=["labour"])
ADMIN = [requires(Role.ADMIN)]
SeverityPath = Annotated[
    str, Path(min_length=1, max_length=16, pattern=r"^[\w-]+$", description="a severity code")
]


@router.get("", dependencies=ADMIN)
def list_labour_rules(session: SessionDep, page: PageDep) -> PageRead[LabourRuleRead]:
    """Labour rules of regions and engineer groups, in id order."""
    found = labour.list_labour_rules(session=session, after=page.after, limit=page.limit)
    return PageRead[LabourRuleRead].model_validate(found)


@router.get("/defaults", dependencies=ADMIN)
def get_default_labour_rules() -> LabourRulesRead:
    """The documented defaults: an engineer without a group or region rule works under them."""
    return LabourRulesRead.of(labour.default_labour_rules())


@router.get("/{rule_id}", dependencies=ADMIN)
def get_labour_rule(session: SessionDep, rule_id: IdPath) -> LabourRuleRead:
    """One labour rule."""
    return LabourRuleRead.model_validate(labour.get_labour_rule(session=session, rule_id=rule_id))


@router.post("", dependencies=ADMIN, status_code=status.HTTP_201_CREATED)
def create_labour_rule(session: SessionDep, body: LabourRuleCreate) -> LabourRuleRead:
    """Create a region's rule (one per region) or a group's (no region)."""
    return LabourRuleRead.model_validate(
        labour.create_labour_rule(session=session, **body.fields())
    )


@router.patch("/{rule_id}", dependencies=ADMIN)
def update_labour_rule(
    session: SessionDep, rule_id: IdPath, body: LabourRuleUpdate
) -> LabourRuleRead:
    """Change the fields sent."""
    found = labour.update_labour_rule(session=session, rule_id=rule_id, changes=body.fields())
    return LabourRuleRead.model_validate(found)


@router.delete("/{rule_id}", dependencies=ADMIN, status_code=status.HTTP_204_NO_CONTENT)
def delete_labour_rule(session: SessionDep, rule_id: IdPath) -> None:
    """Delete a rule no engineer points at; its region falls back to the defaults."""
    labour.delete_labour_rule(session=session, rule_id=rule_id)


@penalties.get("", dependencies=ADMIN)
def get_clock_penalties(session: SessionDep, policy_id: IdPath) -> ClockPenaltiesRead:
    """What breaking each clock of each severity costs under the policy."""
    return ClockPenaltiesRead.of(labour.get_clock_penalties(session=session, policy_id=policy_id))


@penalties.patch("", dependencies=ADMIN)
def update_penalty_shares(
    session: SessionDep, policy_id: IdPath, body: PenaltySharesPatch
) -> ClockPenaltiesRead:
    """Change the share per hour late and the share of a clock kept only just."""
    found = labour.update_penalty_shares(
        session=session, policy_id=policy_id, changes=body.fields()
    )
    return ClockPenaltiesRead.of(found)


@penalties.put("/{severity}", dependencies=ADMIN)
def set_severity_penalties(
    session: SessionDep, policy_id: IdPath, severity: SeverityPath, body: SeverityPenaltiesPut
) -> ClockPenaltiesRead:
    """Set a severity's penalty of every clock (left out or null: the rank's default)."""
    found = labour.set_severity_penalties(
        session=session, policy_id=policy_id, code=severity, amounts=body.amounts()
    )
    return ClockPenaltiesRead.of(found)


@penalties.delete("/{severity}", dependencies=ADMIN, status_code=status.HTTP_204_NO_CONTENT)
def reset_severity_penalties(
    session: SessionDep, policy_id: IdPath, severity: SeverityPath
) -> None:
    """Every clock of the severity back to the documented default of its rank."""
    labour.reset_severity_penalties(session=session, policy_id=policy_id, code=severity)
