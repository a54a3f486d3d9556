"""Warranty coverage: one test per rule and per boundary."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory.warranty import (
    AssetFacts,
    Cause,
    CoverageRule,
    PartFacts,
    add_years,
    apply_cause,
    asset_coverage,
    doa_replacement_warranty_start,
    part_coverage,
    swapped_part_warranty_start,
)

# Accepted 2023-05-02 -> covered from 2023-05-03 to 2026-05-02 inclusive (3 years).
ASSET = AssetFacts(installed_on=date(2023, 4, 20), accepted_on=date(2023, 5, 2))


class TestAssetWarranty:
    def test_acceptance_day_itself_is_not_covered(self) -> None:
        c = asset_coverage(ASSET, on=date(2023, 5, 2), years=3)
        assert not c.covered
        assert c.rule is CoverageRule.ASSET_WARRANTY
        assert "not yet covered" in c.reason

    def test_covered_from_the_day_after_acceptance(self) -> None:
        c = asset_coverage(ASSET, on=date(2023, 5, 3), years=3)
        assert c.covered
        assert c.starts_on == date(2023, 5, 3)

    def test_last_day_covered(self) -> None:
        c = asset_coverage(ASSET, on=date(2026, 5, 2), years=3)
        assert c.covered
        assert c.last_covered_day == date(2026, 5, 2)

    def test_day_after_the_end_is_not_covered(self) -> None:
        c = asset_coverage(ASSET, on=date(2026, 5, 3), years=3)
        assert not c.covered
        assert "expired" in c.reason

    def test_years_are_policy_data(self) -> None:
        assert not asset_coverage(ASSET, on=date(2024, 5, 3), years=1).covered
        assert asset_coverage(ASSET, on=date(2024, 5, 2), years=1).covered

    def test_no_warranty_record_runs_from_installation(self) -> None:
        asset = AssetFacts(date(2023, 4, 20), date(2023, 5, 2), has_warranty_record=False)
        c = asset_coverage(asset, on=date(2023, 4, 20), years=3)
        assert c.covered
        assert c.rule is CoverageRule.FROM_INSTALLATION
        assert c.last_covered_day == date(2026, 4, 19)
        assert not asset_coverage(asset, on=date(2026, 4, 20), years=3).covered

    def test_no_acceptance_date_runs_from_installation(self) -> None:
        asset = AssetFacts(installed_on=date(2023, 4, 20), accepted_on=None)
        assert asset_coverage(asset, on=date(2023, 4, 20), years=3).rule is (
            CoverageRule.FROM_INSTALLATION
        )


class TestLeapDay:
    def test_29_february_plus_years_is_1_march(self) -> None:
        assert add_years(date(2024, 2, 29), 3) == date(2027, 3, 1)
        assert add_years(date(2024, 2, 29), 4) == date(2028, 2, 29)

    def test_coverage_starting_29_february(self) -> None:
        asset = AssetFacts(installed_on=date(2024, 2, 20), accepted_on=date(2024, 2, 28))
        assert asset_coverage(asset, on=date(2027, 2, 28), years=3).covered
        assert not asset_coverage(asset, on=date(2027, 3, 1), years=3).covered

    def test_negative_years_refused(self) -> None:
        with pytest.raises(ValueError, match="years"):
            add_years(date(2024, 1, 1), -1)


class TestParts:
    def test_swapped_key_part_restarts_its_warranty(self) -> None:
        part = PartFacts(
            installed_on=date(2026, 1, 10), key_part=True, warranty_starts_on=date(2026, 1, 10)
        )
        on = date(2027, 6, 1)  # asset expired 2026-05-03
        assert not asset_coverage(ASSET, on=on, years=3).covered
        c = part_coverage(ASSET, part, on=on, years=3)
        assert c.covered
        assert c.rule is CoverageRule.RESTARTED_PART_WARRANTY
        assert c.last_covered_day == date(2029, 1, 9)

    def test_non_key_part_follows_the_asset(self) -> None:
        part = PartFacts(installed_on=date(2026, 1, 10), key_part=False)
        c = part_coverage(ASSET, part, on=date(2027, 6, 1), years=3)
        assert not c.covered
        assert c.rule is CoverageRule.ASSET_WARRANTY

    def test_swap_records_a_start_only_for_key_parts(self) -> None:
        fixed = date(2026, 11, 2)
        assert swapped_part_warranty_start(key_part=True, fixed_on=fixed) == fixed
        assert swapped_part_warranty_start(key_part=False, fixed_on=fixed) is None

    def test_doa_replacement_keeps_the_replaced_units_coverage(self) -> None:
        doa = PartFacts(date(2026, 11, 2), key_part=True, warranty_starts_on=date(2026, 11, 2))
        assert doa_replacement_warranty_start(doa) == date(2026, 11, 2)


class TestCauses:
    @pytest.mark.parametrize(
        "cause", [Cause.CUSTOMER_DAMAGE, Cause.FORCE_MAJEURE, Cause.NONCONFORMING_SITE]
    )
    def test_excluded_cause_is_never_covered(self, cause: Cause) -> None:
        inside = asset_coverage(ASSET, on=date(2024, 1, 1), years=3)
        c = apply_cause(inside, cause)
        assert not c.covered
        assert c.rule is CoverageRule.EXCLUDED_CAUSE
        assert "2026-05-02" in c.reason

    def test_normal_fault_keeps_coverage(self) -> None:
        inside = asset_coverage(ASSET, on=date(2024, 1, 1), years=3)
        assert apply_cause(inside, Cause.NORMAL_FAULT) == inside


@given(
    accepted=st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)),
    years=st.integers(min_value=0, max_value=10),
    offset=st.integers(min_value=-800, max_value=4000),
)
def test_covered_exactly_inside_the_period(accepted: date, years: int, offset: int) -> None:
    asset = AssetFacts(installed_on=accepted, accepted_on=accepted)
    on = accepted + timedelta(days=offset)
    c = asset_coverage(asset, on=on, years=years)
    assert c.covered == (accepted < on < add_years(accepted + timedelta(days=1), years))
