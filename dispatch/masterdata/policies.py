"""Promise policies and their severity levels: every promised number is data here."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypedDict, Unpack
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from dispatch.errors import InUseError, NotFoundError
from dispatch.masterdata.common import (
    check_currency,
    check_money,
    check_unique,
    field_errors,
    flush_or_conflict,
    severity_codes_in_use,
    sorted_codes,
)
from dispatch.models import Contract, InspectionFrequency, PolicySeverity, PromisePolicy
from inventory.checks import FieldErrors

_OFFSETS = ("respond_min", "depart_min", "arrive_min", "fix_min")


@dataclass(frozen=True, slots=True)
class SeverityLevel:
    """One severity of a policy: clock offsets in minutes from the report (None: no deadline)."""

    code: str
    label: str
    rank: int
    respond_min: int | None = None
    depart_min: int | None = None
    arrive_min: int | None = None
    fix_min: int | None = None
    arrive_hard: bool = False


class PolicyTerms(TypedDict, total=False):
    """The numbers of a policy besides its severities; absent ones keep their default."""

    timezone: str
    currency: str
    warranty_years: int
    at_risk_margin_min: int
    swap_within_min: int
    ship_within_min: int
    reservation_lifetime_min: int
    frozen_horizon_min: int
    eta_tolerance_min: int
    inspection_window_days: int
    inspection_frequency: InspectionFrequency
    plan_duration_pct: int
    plan_min_jobs: int
    plan_log_jobs: int
    slack_min: int
    redispatch_apply: bool
    redispatch_every_min: int
    redispatch_after_min: int
    make_room_engineers: int
    divert_engineers: int
    labour_rate_per_hour: Decimal
    travel_rate_per_km: Decimal
    service_fee: Decimal


class PolicyChanges(PolicyTerms, total=False):
    """What a policy update may change; given `severities` replace the whole list."""

    code: str
    name: str
    severities: list[SeverityLevel]


# (field, smallest allowed value) of the integer terms.
_MINIMUM = {
    "warranty_years": 0,
    "at_risk_margin_min": 0,
    "swap_within_min": 1,
    "ship_within_min": 1,
    "reservation_lifetime_min": 1,
    "frozen_horizon_min": 0,
    "eta_tolerance_min": 0,
    "inspection_window_days": 1,
    "plan_duration_pct": 50,
    "plan_min_jobs": 1,
    "plan_log_jobs": 1,
    "slack_min": 0,
    "redispatch_every_min": 1,
    "redispatch_after_min": 0,
    "make_room_engineers": 0,
    "divert_engineers": 0,
}


def _check_terms(terms: PolicyTerms | PolicyChanges, errors: FieldErrors) -> None:
    if "timezone" in terms:
        try:
            ZoneInfo(terms["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            errors.add("timezone", "must be an IANA time zone, e.g. Asia/Shanghai")
    check_currency(errors, "currency", terms.get("currency"))
    values: dict[str, Any] = dict(terms)
    for field, minimum in _MINIMUM.items():
        if field in values and values[field] < minimum:
            errors.add(field, f"must be at least {minimum}")
    if values.get("warranty_years", 0) > 20:
        errors.add("warranty_years", "must be at most 20")
    if values.get("plan_duration_pct", 50) > 99:
        errors.add("plan_duration_pct", "must be at most 99")
    if values.get("inspection_window_days", 1) > 366:
        errors.add("inspection_window_days", "must be at most 366 (a year)")
    for field in ("labour_rate_per_hour", "travel_rate_per_km", "service_fee"):
        check_money(errors, field, values.get(field))


def _check_severities(levels: Sequence[SeverityLevel], errors: FieldErrors) -> None:
    """Codes unique, ranks exactly 1..n (1 most urgent), offsets never negative."""
    if not levels:
        errors.add("severities", "a policy needs at least one severity level")
    n = len(levels)
    for i, level in enumerate(levels):
        field = f"severities.{i}"
        if not level.code.strip():
            errors.add(f"{field}.code", "must not be blank")
        if any(other.code == level.code for other in levels[:i]):
            errors.add(f"{field}.code", f"code {level.code!r} is used twice in this policy")
        if not 1 <= level.rank <= n:
            errors.add(f"{field}.rank", f"ranks run from 1 (most urgent) to {n}")
        elif any(other.rank == level.rank for other in levels[:i]):
            errors.add(f"{field}.rank", f"rank {level.rank} is used twice in this policy")
        for name in _OFFSETS:
            offset = getattr(level, name)
            if offset is not None and offset < 0:
                errors.add(f"{field}.{name}", "must not be negative (null: no deadline)")


def load_policy(session: Session, policy_id: int) -> PromisePolicy:
    """The policy with its severities, loaded afresh (they may just have been replaced)."""
    stmt = (
        select(PromisePolicy)
        .where(PromisePolicy.id == policy_id)
        .options(selectinload(PromisePolicy.severities))
        .execution_options(populate_existing=True)
    )
    policy = session.scalars(stmt).one_or_none()
    if policy is None:
        raise NotFoundError("PromisePolicy", policy_id)
    return policy


def _add_levels(session: Session, policy_id: int, levels: Sequence[SeverityLevel]) -> None:
    for level in levels:
        session.add(
            PolicySeverity(
                policy_id=policy_id,
                code=level.code,
                label=level.label,
                rank=level.rank,
                respond_min=level.respond_min,
                depart_min=level.depart_min,
                arrive_min=level.arrive_min,
                fix_min=level.fix_min,
                arrive_hard=level.arrive_hard,
            )
        )


def create_policy(
    *,
    session: Session,
    code: str,
    name: str,
    severities: Sequence[SeverityLevel],
    **terms: Unpack[PolicyTerms],
) -> PromisePolicy:
    """Create a policy with its severity levels; terms left out take the seeds' defaults."""
    errors = field_errors()
    _check_terms(terms, errors)
    _check_severities(severities, errors)
    errors.raise_if_any()
    check_unique(session, PromisePolicy.code, code, entity="policy")
    policy = PromisePolicy(code=code, name=name, **terms)
    session.add(policy)
    flush_or_conflict(session, "policy")
    _add_levels(session, policy.id, severities)
    flush_or_conflict(session, "policy")
    return load_policy(session, policy.id)


def update_policy(*, session: Session, policy_id: int, changes: PolicyChanges) -> PromisePolicy:
    """Change a policy; given `severities` replace all levels.

    A severity code that tickets under this policy use cannot be dropped: their
    deadlines are computed from it. Running tickets keep the deadlines they have.
    """
    policy = load_policy(session, policy_id)
    errors = field_errors()
    _check_terms(changes, errors)
    levels = changes.get("severities")
    if levels is not None:
        _check_severities(levels, errors)
    errors.raise_if_any()
    if "code" in changes:
        check_unique(
            session, PromisePolicy.code, changes["code"], entity="policy", exclude_id=policy.id
        )
    if levels is not None:
        dropped = {s.code for s in policy.severities} - {level.code for level in levels}
        used = severity_codes_in_use(session, column=Contract.policy_id, key=policy.id) & dropped
        if used:
            detail = f"tickets use severities {sorted_codes(used)}; keep them in the policy"
            raise InUseError("PromisePolicy", policy.id, detail)
    for name, value in changes.items():
        if name != "severities":
            setattr(policy, name, value)
    if levels is not None:
        # Delete first and flush: the new levels may reuse codes and ranks (unique per policy).
        for old in policy.severities:
            session.delete(old)
        flush_or_conflict(session, "policy")
        _add_levels(session, policy.id, levels)
    flush_or_conflict(session, "policy")
    return load_policy(session, policy.id)
