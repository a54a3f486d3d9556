"""Warranty coverage on a date, and which rule decided it (pure rules over stored facts).

Rules (domain.md, "precise defaults"; seed 003 §1 and §3):
- the asset's warranty starts the day after acceptance and runs N years (policy data):
  a date d is covered when start <= d < start + N years; 29 February + N years = 1 March;
- without a warranty record (or without an acceptance date) it starts on the
  installation date instead;
- a replaced **key part** starts its own N-year warranty on the date its ticket was fixed;
  a replaced part that is not a key part follows the asset's coverage;
- damage by the customer, force majeure or a site that does not meet the requirements is
  never covered, even inside the warranty period.
Dates are calendar dates in the contract's time zone; callers convert timestamps first.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta


class Cause(enum.StrEnum):
    """Why the equipment failed; only a normal fault is a warranty matter."""

    NORMAL_FAULT = "normal_fault"
    CUSTOMER_DAMAGE = "customer_damage"
    FORCE_MAJEURE = "force_majeure"
    NONCONFORMING_SITE = "nonconforming_site"


EXCLUDED_CAUSES = frozenset({Cause.CUSTOMER_DAMAGE, Cause.FORCE_MAJEURE, Cause.NONCONFORMING_SITE})


class CoverageRule(enum.StrEnum):
    """The rule that decided a coverage question."""

    ASSET_WARRANTY = "asset_warranty"  # from the day after acceptance
    FROM_INSTALLATION = "from_installation"  # no warranty record: from the installation date
    RESTARTED_PART_WARRANTY = "restarted_part_warranty"  # a replaced key part's own warranty
    EXCLUDED_CAUSE = "excluded_cause"  # customer damage, force majeure, nonconforming site


@dataclass(frozen=True, slots=True)
class AssetFacts:
    """What the registry knows about an installed unit."""

    installed_on: date
    accepted_on: date | None
    has_warranty_record: bool = True


@dataclass(frozen=True, slots=True)
class PartFacts:
    """An installed part; `warranty_starts_on` is set when a key part was swapped in."""

    installed_on: date
    key_part: bool
    warranty_starts_on: date | None = None


@dataclass(frozen=True, slots=True)
class Coverage:
    """Covered or not on `on`, the period (end exclusive), the deciding rule and why."""

    on: date
    covered: bool
    starts_on: date
    ends_on: date  # the first day no longer covered
    rule: CoverageRule
    reason: str

    @property
    def last_covered_day(self) -> date:
        """The last day of the period ("covered until")."""
        return self.ends_on - timedelta(days=1)


def add_years(start: date, years: int) -> date:
    """`start` plus whole years; 29 February lands on 1 March in a common year."""
    if years < 0:
        raise ValueError(f"years must be >= 0, got {years}")
    try:
        return start.replace(year=start.year + years)
    except ValueError:  # 29 February into a common year
        return date(start.year + years, 3, 1)


def _period(start: date, years: int, on: date, rule: CoverageRule, basis: str) -> Coverage:
    end = add_years(start, years)
    covered = start <= on < end
    state = "covered" if covered else ("not yet covered" if on < start else "expired")
    reason = (
        f"{state}: {basis}; {years}-year warranty from {start.isoformat()}"
        f" to {(end - timedelta(days=1)).isoformat()}"
    )
    return Coverage(on, covered, start, end, rule, reason)


def asset_coverage(asset: AssetFacts, *, on: date, years: int) -> Coverage:
    """The asset's own warranty on `on`."""
    if asset.has_warranty_record and asset.accepted_on is not None:
        start = asset.accepted_on + timedelta(days=1)
        basis = f"accepted on {asset.accepted_on.isoformat()}, warranty from the next day"
        return _period(start, years, on, CoverageRule.ASSET_WARRANTY, basis)
    why = "no warranty record" if not asset.has_warranty_record else "no acceptance date"
    basis = f"{why}: warranty from the installation date {asset.installed_on.isoformat()}"
    return _period(asset.installed_on, years, on, CoverageRule.FROM_INSTALLATION, basis)


def part_coverage(asset: AssetFacts, part: PartFacts, *, on: date, years: int) -> Coverage:
    """An installed part's warranty: a swapped key part's own, else the asset's."""
    if part.key_part and part.warranty_starts_on is not None:
        basis = f"key part swapped in; its own warranty restarted on {part.warranty_starts_on}"
        return _period(
            part.warranty_starts_on, years, on, CoverageRule.RESTARTED_PART_WARRANTY, basis
        )
    return asset_coverage(asset, on=on, years=years)


def apply_cause(coverage: Coverage, cause: Cause) -> Coverage:
    """Coverage once the cause is known: an excluded cause is never covered."""
    if cause not in EXCLUDED_CAUSES:
        return coverage
    reason = f"not covered: {cause.value.replace('_', ' ')} is excluded from the warranty"
    if coverage.covered:
        reason += f" (the period itself runs until {coverage.last_covered_day.isoformat()})"
    return Coverage(
        coverage.on,
        False,
        coverage.starts_on,
        coverage.ends_on,
        CoverageRule.EXCLUDED_CAUSE,
        reason,
    )


def swapped_part_warranty_start(*, key_part: bool, fixed_on: date) -> date | None:
    """The warranty start a newly fitted part records: the fix date for a key part.

    A part that is not a key part records none and follows the asset's coverage.
    """
    return fixed_on if key_part else None


def doa_replacement_warranty_start(replaced: PartFacts) -> date | None:
    """A dead-on-arrival unit's replacement keeps the coverage of the unit it replaces."""
    return replaced.warranty_starts_on
