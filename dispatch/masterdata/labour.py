"""Labour rules and clock penalties as master data: what an admin may list, set and reset.

Labour rules (`dispatch.labour`) are rows per region or per engineer group (the engineers
whose ``labour_rule_id`` points at one); an engineer with neither works under the
documented defaults (`DEFAULT_LABOUR_RULES`, readable but not a row). Clock penalties are
columns of a policy's severities (an empty one: the default of the severity's rank,
`optimizer.penalties`) and the policy's two shares. Every change is checked first (a
refused change writes nothing), then flushed; both tables are audited.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypedDict, Unpack

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatch.errors import InUseError, NotFoundError
from dispatch.labour import DEFAULT_LABOUR_RULES, LabourRules
from dispatch.masterdata.common import (
    check_money,
    check_unique,
    field_errors,
    flush_or_conflict,
    reference,
)
from dispatch.masterdata.policies import load_policy
from dispatch.models import Engineer, LabourRule, PolicySeverity, PromisePolicy
from dispatch.penalties import CLOCKS
from inventory.checks import FieldErrors
from inventory.models import Region
from inventory.pagination import Page, fetch_page

# Upper bounds of the minutes (a week holds 10,080) and of the call-out rank (severities
# of a policy run 1..20): beyond them a number is a typo, not a rule.
_MINUTES_MAX = {
    "overtime_max_min": 1_440,
    "overtime_day_max_min": 1_440,
    "overtime_week_max_min": 10_080,
    "callout_lead_min": 1_440,
}
RANK_MAX = 20
PCT_MAX = 1_000


class LabourRuleTerms(TypedDict, total=False):
    """The numbers of a labour rule; absent ones keep their documented default."""

    region_id: int | None
    overtime_max_min: int
    start_into_overtime: bool
    overtime_day_max_min: int
    overtime_week_max_min: int
    overtime_cost_per_hour: Decimal
    callout_cost: Decimal
    callout_max_rank: int
    callout_lead_min: int


class LabourRuleChanges(LabourRuleTerms, total=False):
    """What an update may change."""

    code: str
    name: str


def default_labour_rules() -> LabourRules:
    """The documented defaults: the rules of an engineer without a group or region rule."""
    return DEFAULT_LABOUR_RULES


def _check(session: Session, terms: LabourRuleTerms, errors: FieldErrors) -> None:
    values: dict[str, Any] = dict(terms)
    for name, top in _MINUTES_MAX.items():
        if name in values and not 0 <= values[name] <= top:
            errors.add(name, f"must be within 0..{top} minutes")
    if "callout_max_rank" in values and not 0 <= values["callout_max_rank"] <= RANK_MAX:
        errors.add("callout_max_rank", f"must be within 0 (never) .. {RANK_MAX}")
    for name in ("overtime_cost_per_hour", "callout_cost"):
        check_money(errors, name, values.get(name))
    reference(session, errors, Region, values.get("region_id"), "region_id")


def _row(session: Session, rule_id: int) -> LabourRule:
    rule = session.get(LabourRule, rule_id)
    if rule is None:
        raise NotFoundError("LabourRule", rule_id)
    return rule


def _region_free(session: Session, region_id: int | None, exclude_id: int | None) -> None:
    """A region has at most one rule (409 when another holds it)."""
    if region_id is not None:
        check_unique(
            session, LabourRule.region_id, region_id, entity="labour rule", exclude_id=exclude_id
        )


def list_labour_rules(*, session: Session, after: int | None, limit: int) -> Page[LabourRule]:
    """Labour rules in id order."""
    return fetch_page(select(LabourRule), LabourRule.id, session=session, after=after, limit=limit)


def get_labour_rule(*, session: Session, rule_id: int) -> LabourRule:
    """One labour rule, or `NotFoundError`."""
    return _row(session, rule_id)


def create_labour_rule(
    *, session: Session, code: str, name: str, **terms: Unpack[LabourRuleTerms]
) -> LabourRule:
    """Create a rule (of a region, or of the engineers who will point at it)."""
    errors = field_errors()
    _check(session, terms, errors)
    errors.raise_if_any()
    check_unique(session, LabourRule.code, code, entity="labour rule")
    _region_free(session, terms.get("region_id"), None)
    rule = LabourRule(code=code, name=name, **terms)
    session.add(rule)
    flush_or_conflict(session, "labour rule")
    return rule


def update_labour_rule(*, session: Session, rule_id: int, changes: LabourRuleChanges) -> LabourRule:
    """Change the fields given; a region already ruled by another rule is a conflict."""
    rule = _row(session, rule_id)
    errors = field_errors()
    _check(session, changes, errors)
    errors.raise_if_any()
    if "code" in changes:
        check_unique(
            session, LabourRule.code, changes["code"], entity="labour rule", exclude_id=rule.id
        )
    if "region_id" in changes:
        _region_free(session, changes["region_id"], rule.id)
    for name, value in changes.items():
        setattr(rule, name, value)
    flush_or_conflict(session, "labour rule")
    return rule


def delete_labour_rule(*, session: Session, rule_id: int) -> None:
    """Delete a rule nobody points at (its region falls back to the defaults)."""
    rule = _row(session, rule_id)
    users = session.scalar(
        select(func.count()).select_from(Engineer).where(Engineer.labour_rule_id == rule.id)
    )
    if users:
        detail = f"{users} engineer(s) work under it; point them elsewhere first"
        raise InUseError("LabourRule", rule.id, detail)
    session.delete(rule)
    flush_or_conflict(session, "labour rule")


# Clock penalties


class PenaltyShares(TypedDict, total=False):
    """A policy's shares: of a penalty per hour late, and for a clock kept only just."""

    late_penalty_pct_per_hour: int
    at_risk_penalty_pct: int


def _severity(policy: PromisePolicy, code: str) -> PolicySeverity:
    found = next((s for s in policy.severities if s.code == code), None)
    if found is None:
        raise NotFoundError("PolicySeverity", code)
    return found


def get_clock_penalties(*, session: Session, policy_id: int) -> PromisePolicy:
    """The policy with its severities (their penalty columns; empty: the rank's default)."""
    return load_policy(session, policy_id)


def set_severity_penalties(
    *, session: Session, policy_id: int, code: str, amounts: dict[str, Decimal | None]
) -> PromisePolicy:
    """Set a severity's penalty per clock (``None``: the default of its rank)."""
    policy = load_policy(session, policy_id)
    severity = _severity(policy, code)
    errors = field_errors()
    for clock in amounts:
        if clock not in CLOCKS:
            errors.add(clock, f"not a clock: one of {', '.join(CLOCKS)}")
    for clock, amount in amounts.items():
        check_money(errors, clock, amount)
    errors.raise_if_any()
    for clock, amount in amounts.items():
        setattr(severity, f"{clock}_penalty", amount)
    flush_or_conflict(session, "policy")
    return load_policy(session, policy_id)


def reset_severity_penalties(*, session: Session, policy_id: int, code: str) -> None:
    """Every clock of a severity back to the default of its rank."""
    set_severity_penalties(
        session=session, policy_id=policy_id, code=code, amounts=dict.fromkeys(CLOCKS)
    )


def update_penalty_shares(
    *, session: Session, policy_id: int, changes: PenaltyShares
) -> PromisePolicy:
    """Change the policy's shares (per hour late; kept only just)."""
    policy = load_policy(session, policy_id)
    errors = field_errors()
    values: dict[str, Any] = dict(changes)
    for name, value in values.items():
        if not 0 <= value <= PCT_MAX:
            errors.add(name, f"must be within 0..{PCT_MAX} %")
    errors.raise_if_any()
    for name, value in values.items():
        setattr(policy, name, value)
    flush_or_conflict(session, "policy")
    return load_policy(session, policy_id)
