"""Quotes as pure functions over exact money: every line says which rule priced it.

Rules (domain.md; seed 003 §1, §3, §4):
- a warranty job (covered, cause not excluded) is free: parts, labour, travel, service;
- after warranty: original parts at purchase cost, **no labour or service fee**; travel at
  the contract's rate (zero under the default policy);
- customer damage, force majeure or a nonconforming site: at cost even inside warranty:
  parts at purchase cost, labour, travel and service at the contract's rates (zero by
  default);
- a substitute of similar function is priced as the part it replaces (a free upgrade);
- rates other than zero come only from the contract's policy. Amounts are Decimal with a
  currency, rounded half-up to cents per line; the total is the exact sum of the lines.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from inventory.warranty import EXCLUDED_CAUSES, Cause, Coverage

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class Money:
    """An exact amount in one currency (ISO 4217 code); never a float."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if not isinstance(self.amount, Decimal):
            raise TypeError(f"amount must be a Decimal, got {type(self.amount).__name__}")
        if not self.amount.is_finite():
            raise ValueError(f"amount must be finite, got {self.amount}")
        if len(self.currency) != 3 or not self.currency.isupper():
            raise ValueError(f"currency must be an ISO 4217 code, got {self.currency!r}")

    def __add__(self, other: Money) -> Money:
        if other.currency != self.currency:
            raise ValueError(f"cannot add {other.currency} to {self.currency}")
        return Money(self.amount + other.amount, self.currency)

    def times(self, quantity: Decimal | int) -> Money:
        """This amount times `quantity`, rounded half-up to cents."""
        return Money(_cents(self.amount * Decimal(quantity)), self.currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(ZERO.quantize(CENT), currency)


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


class LineKind(enum.StrEnum):
    PARTS = "parts"
    LABOUR = "labour"
    TRAVEL = "travel"
    SERVICE = "service"


class PriceRule(enum.StrEnum):
    """The rule that priced a line."""

    WARRANTY_FREE = "warranty_free"
    POST_WARRANTY_PARTS_AT_COST = "post_warranty_parts_at_cost"
    POST_WARRANTY_NO_LABOUR_OR_SERVICE_FEE = "post_warranty_no_labour_or_service_fee"
    CONTRACT_RATE = "contract_rate"
    EXCLUDED_CAUSE_AT_COST = "excluded_cause_at_cost"
    SUBSTITUTE_AS_REPLACED = "substitute_priced_as_replaced_part"


@dataclass(frozen=True, slots=True)
class Rates:
    """The contract policy's rates; the seeds' default policy has all three at zero."""

    currency: str
    labour_per_hour: Decimal = ZERO
    travel_per_km: Decimal = ZERO
    service_fee: Decimal = ZERO

    def __post_init__(self) -> None:
        for name in ("labour_per_hour", "travel_per_km", "service_fee"):
            value = getattr(self, name)
            if not isinstance(value, Decimal) or value < 0:
                raise ValueError(f"{name} must be a Decimal >= 0, got {value!r}")


@dataclass(frozen=True, slots=True)
class PartToPrice:
    """A part used in the repair, with its own coverage.

    `cost_price` is the purchase cost of the part fitted. When it is a substitute for
    another part, `replaces_cost_price` is the cost of the part it replaces, and the line
    is priced at that (the customer pays no difference).
    """

    sku: str
    quantity: int
    cost_price: Decimal
    coverage: Coverage
    replaces_sku: str | None = None
    replaces_cost_price: Decimal | None = None

    def __post_init__(self) -> None:
        if self.quantity < 1:
            raise ValueError(f"quantity must be >= 1, got {self.quantity}")
        if self.cost_price < 0 or (self.replaces_cost_price or ZERO) < 0:
            raise ValueError("cost prices must be >= 0")
        if (self.replaces_sku is None) != (self.replaces_cost_price is None):
            raise ValueError("a substitute names both the replaced SKU and its cost price")


@dataclass(frozen=True, slots=True)
class QuoteLine:
    kind: LineKind
    description: str
    quantity: Decimal
    unit_amount: Money
    amount: Money
    rule: PriceRule
    reason: str


@dataclass(frozen=True, slots=True)
class Quote:
    cause: Cause
    warranty_job: bool
    lines: tuple[QuoteLine, ...]
    total: Money


def _line(
    kind: LineKind,
    description: str,
    quantity: Decimal | int,
    unit: Money,
    rule: PriceRule,
    reason: str,
) -> QuoteLine:
    return QuoteLine(kind, description, Decimal(quantity), unit, unit.times(quantity), rule, reason)


def _part_line(part: PartToPrice, cause: Cause, currency: str) -> QuoteLine:
    substitute = part.replaces_sku is not None
    cost = part.replaces_cost_price if substitute else part.cost_price
    assert cost is not None  # checked in PartToPrice
    what = f"{part.sku} (substitute for {part.replaces_sku})" if substitute else part.sku
    if part.coverage.covered and cause not in EXCLUDED_CAUSES:
        rule, unit, reason = PriceRule.WARRANTY_FREE, ZERO, part.coverage.reason
    elif cause in EXCLUDED_CAUSES:
        rule, unit = PriceRule.EXCLUDED_CAUSE_AT_COST, cost
        reason = f"{cause.value.replace('_', ' ')}: parts at purchase cost even inside warranty"
    else:
        rule, unit = PriceRule.POST_WARRANTY_PARTS_AT_COST, cost
        reason = f"{part.coverage.reason}: original parts at purchase cost"
    if substitute and unit > 0:
        rule = PriceRule.SUBSTITUTE_AS_REPLACED
        reason += f"; priced as the replaced part {part.replaces_sku} (free upgrade)"
    return _line(LineKind.PARTS, what, part.quantity, Money(unit, currency), rule, reason)


def is_warranty_job(asset: Coverage, parts: Sequence[PartToPrice], cause: Cause) -> bool:
    """A repair is a warranty job when the cause is not excluded and the asset, or every
    part fitted (each by its own coverage), is covered."""
    if cause in EXCLUDED_CAUSES:
        return False
    return asset.covered or (bool(parts) and all(p.coverage.covered for p in parts))


def price_repair(
    *,
    asset: Coverage,
    parts: Sequence[PartToPrice],
    cause: Cause,
    rates: Rates,
    labour_hours: Decimal = ZERO,
    travel_km: Decimal = ZERO,
) -> Quote:
    """Price a repair line by line; the total is the exact sum of the lines."""
    if labour_hours < 0 or travel_km < 0:
        raise ValueError("labour hours and travel km must be >= 0")
    currency = rates.currency
    warranty = is_warranty_job(asset, parts, cause)
    lines = [_part_line(p, cause, currency) for p in parts]
    lines += _service_lines(warranty, cause, rates, labour_hours, travel_km)
    total = Money.zero(currency)
    for line in lines:
        total = total + line.amount
    return Quote(cause=cause, warranty_job=warranty, lines=tuple(lines), total=total)


def _service_lines(
    warranty: bool, cause: Cause, rates: Rates, labour_hours: Decimal, travel_km: Decimal
) -> list[QuoteLine]:
    cur = rates.currency
    items = (
        (LineKind.LABOUR, "labour (hours)", labour_hours, rates.labour_per_hour),
        (LineKind.TRAVEL, "travel (km)", travel_km, rates.travel_per_km),
        (LineKind.SERVICE, "service fee", Decimal(1), rates.service_fee),
    )
    lines = []
    for kind, description, quantity, rate in items:
        if warranty:
            rule, unit, reason = PriceRule.WARRANTY_FREE, ZERO, "warranty job: free"
        elif cause in EXCLUDED_CAUSES:
            rule, unit = PriceRule.EXCLUDED_CAUSE_AT_COST, rate
            reason = f"{cause.value.replace('_', ' ')}: at the contract's rate"
        elif kind in (LineKind.LABOUR, LineKind.SERVICE):
            rule, unit = PriceRule.POST_WARRANTY_NO_LABOUR_OR_SERVICE_FEE, ZERO
            reason = "after warranty: no labour or service fee"
        else:
            rule, unit, reason = PriceRule.CONTRACT_RATE, rate, "after warranty: contract's rate"
        lines.append(_line(kind, description, quantity, Money(unit, cur), rule, reason))
    return lines
