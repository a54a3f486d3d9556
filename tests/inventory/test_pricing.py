"""Quotes: one test per pricing rule, and properties of the money (hypothesis)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.pricing import (
    LineKind,
    Money,
    PartToPrice,
    PriceRule,
    Quote,
    QuoteLine,
    Rates,
    price_repair,
)
from inventory.warranty import AssetFacts, Cause, Coverage, asset_coverage

ASSET = AssetFacts(installed_on=date(2023, 4, 20), accepted_on=date(2023, 5, 2))
INSIDE = asset_coverage(ASSET, on=date(2025, 1, 1), years=3)
AFTER = asset_coverage(ASSET, on=date(2027, 1, 1), years=3)
DEFAULT = Rates(currency="CNY")  # the seeds' default policy: no labour, travel, service fee
PRICED = Rates("CNY", Decimal("120"), Decimal("2.50"), Decimal("300"))


def part(
    cost: str,
    coverage: Coverage = INSIDE,
    qty: int = 1,
    replaces_sku: str | None = None,
    replaces_cost_price: Decimal | None = None,
) -> PartToPrice:
    return PartToPrice(
        sku="PSU-01",
        quantity=qty,
        cost_price=Decimal(cost),
        coverage=coverage,
        replaces_sku=replaces_sku,
        replaces_cost_price=replaces_cost_price,
    )


def by_kind(quote: Quote) -> dict[LineKind, QuoteLine]:
    return {line.kind: line for line in quote.lines}


class TestRules:
    def test_warranty_job_is_free(self) -> None:
        q = price_repair(
            asset=INSIDE,
            parts=[part("850.00")],
            cause=Cause.NORMAL_FAULT,
            rates=PRICED,
            labour_hours=Decimal(2),
            travel_km=Decimal(40),
        )
        assert q.warranty_job
        assert q.total == Money(Decimal("0.00"), "CNY")
        assert {line.rule for line in q.lines} == {PriceRule.WARRANTY_FREE}

    def test_after_warranty_parts_at_cost_no_labour_or_service_fee(self) -> None:
        q = price_repair(
            asset=AFTER,
            parts=[part("850.00", AFTER, qty=2)],
            cause=Cause.NORMAL_FAULT,
            rates=PRICED,
            labour_hours=Decimal(2),
            travel_km=Decimal(40),
        )
        lines = by_kind(q)
        assert lines[LineKind.PARTS].amount.amount == Decimal("1700.00")
        assert lines[LineKind.PARTS].rule is PriceRule.POST_WARRANTY_PARTS_AT_COST
        assert lines[LineKind.LABOUR].amount.amount == 0
        assert lines[LineKind.SERVICE].rule is PriceRule.POST_WARRANTY_NO_LABOUR_OR_SERVICE_FEE
        # travel: 40 km x 2.50 = 100.00, only because this contract has a travel rate
        assert lines[LineKind.TRAVEL].amount.amount == Decimal("100.00")
        assert q.total.amount == Decimal("1800.00")

    def test_after_warranty_default_policy_charges_parts_only(self) -> None:
        q = price_repair(
            asset=AFTER,
            parts=[part("850.00", AFTER)],
            cause=Cause.NORMAL_FAULT,
            rates=DEFAULT,
            labour_hours=Decimal(3),
            travel_km=Decimal(80),
        )
        assert q.total.amount == Decimal("850.00")

    @pytest.mark.parametrize(
        "cause", [Cause.CUSTOMER_DAMAGE, Cause.FORCE_MAJEURE, Cause.NONCONFORMING_SITE]
    )
    def test_excluded_cause_at_cost_inside_warranty(self, cause: Cause) -> None:
        q = price_repair(
            asset=INSIDE,
            parts=[part("850.00")],
            cause=cause,
            rates=PRICED,
            labour_hours=Decimal("1.5"),
            travel_km=Decimal(10),
        )
        assert not q.warranty_job
        # 850 + 1.5 h x 120 + 10 km x 2.50 + 300 = 850 + 180 + 25 + 300
        assert q.total.amount == Decimal("1355.00")
        assert {line.rule for line in q.lines} == {PriceRule.EXCLUDED_CAUSE_AT_COST}

    def test_substitute_priced_as_the_part_it_replaces(self) -> None:
        sub = part("1200.00", AFTER, replaces_sku="PSU-00", replaces_cost_price=Decimal("850"))
        q = price_repair(asset=AFTER, parts=[sub], cause=Cause.NORMAL_FAULT, rates=DEFAULT)
        line = by_kind(q)[LineKind.PARTS]
        assert line.amount.amount == Decimal("850.00")
        assert line.rule is PriceRule.SUBSTITUTE_AS_REPLACED

    def test_restarted_key_part_makes_a_warranty_job_after_the_asset_expired(self) -> None:
        restarted = Coverage(
            date(2027, 1, 1),
            True,
            date(2026, 1, 10),
            date(2029, 1, 10),
            INSIDE.rule,
            "covered: key part",
        )
        q = price_repair(
            asset=AFTER,
            parts=[part("850.00", restarted)],
            cause=Cause.NORMAL_FAULT,
            rates=PRICED,
            labour_hours=Decimal(1),
        )
        assert q.warranty_job
        assert q.total.amount == 0

    def test_mixed_parts_price_each_by_its_own_coverage(self) -> None:
        q = price_repair(
            asset=AFTER,
            parts=[part("100", INSIDE), part("200", AFTER)],
            cause=Cause.NORMAL_FAULT,
            rates=DEFAULT,
        )
        assert not q.warranty_job
        assert [line.amount.amount for line in q.lines if line.kind is LineKind.PARTS] == [
            Decimal("0.00"),
            Decimal("200.00"),
        ]


class TestMoney:
    def test_float_is_refused(self) -> None:
        with pytest.raises(TypeError, match="Decimal"):
            Money(1.5, "CNY")  # type: ignore[arg-type]

    def test_currencies_do_not_mix(self) -> None:
        with pytest.raises(ValueError, match="cannot add"):
            Money(Decimal(1), "CNY") + Money(Decimal(1), "EUR")

    def test_rounding_is_half_up_to_cents(self) -> None:
        assert Money(Decimal("0.125"), "CNY").times(1).amount == Decimal("0.13")

    def test_negative_rate_refused(self) -> None:
        with pytest.raises(ValueError, match="labour_per_hour"):
            Rates("CNY", labour_per_hour=Decimal("-1"))


money = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False)
coverage = st.sampled_from([INSIDE, AFTER])
parts = st.lists(
    st.builds(
        lambda cost, cov, qty: part(str(cost), cov, qty),
        money,
        coverage,
        st.integers(min_value=1, max_value=20),
    ),
    max_size=6,
)
amounts = st.decimals(min_value=0, max_value=500, places=2, allow_nan=False)


@given(
    parts=parts,
    asset=coverage,
    cause=st.sampled_from(list(Cause)),
    hours=amounts,
    km=amounts,
    rates=st.sampled_from([DEFAULT, PRICED]),
)
def test_lines_add_up_and_never_negative(
    parts: list[PartToPrice],
    asset: Coverage,
    cause: Cause,
    hours: Decimal,
    km: Decimal,
    rates: Rates,
) -> None:
    q = price_repair(
        asset=asset, parts=parts, cause=cause, rates=rates, labour_hours=hours, travel_km=km
    )
    assert sum((line.amount.amount for line in q.lines), Decimal(0)) == q.total.amount
    assert all(line.amount.amount >= 0 for line in q.lines)
    assert q.total.amount >= 0


@given(parts=parts, asset=coverage, cause=st.sampled_from(list(Cause)), hours=amounts, km=amounts)
def test_default_policy_never_charges_above_the_parts_cost(
    parts: list[PartToPrice], asset: Coverage, cause: Cause, hours: Decimal, km: Decimal
) -> None:
    q = price_repair(
        asset=asset, parts=parts, cause=cause, rates=DEFAULT, labour_hours=hours, travel_km=km
    )
    cost = sum((p.cost_price * p.quantity for p in parts), Decimal(0))
    assert q.total.amount <= cost
