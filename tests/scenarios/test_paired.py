"""Paired differences on common random numbers: known answers, scipy's ttest_rel, edges."""

from __future__ import annotations

import math

import pytest
from scipy import stats  # type: ignore[import-untyped]  # no stubs for scipy

from scenarios.paired import paired_difference


class TestPairedDifference:
    def test_hand_computation(self) -> None:
        # d = [1, 2, 3]: mean 2, s_d = 1, half = t(0.975, 2) * 1 / sqrt(3) = 2.484
        got = paired_difference([11.0, 12.0, 13.0], [10.0, 10.0, 10.0])
        half = 4.302652729911275 / math.sqrt(3)
        assert got.mean == pytest.approx(2.0)
        assert [got.low, got.high] == pytest.approx([2 - half, 2 + half])
        assert got.n == 3
        assert not got.significant  # 2 - 2.484 < 0 < 2 + 2.484: three noisy pairs are not enough

    def test_matches_scipy_ttest_rel(self) -> None:
        base = [0.81, 0.77, 0.85, 0.79, 0.83]
        variant = [0.86, 0.80, 0.88, 0.85, 0.84]
        got = paired_difference(variant, base)
        ref = stats.ttest_rel(variant, base)
        ci = ref.confidence_interval(0.95)
        assert got.p_value == pytest.approx(ref.pvalue)
        assert [got.low, got.high] == pytest.approx([ci.low, ci.high])
        assert got.significant == (ref.pvalue < 0.05)

    def test_paired_beats_independent_intervals(self) -> None:
        # the streams vary a lot, the variant adds ~0.02 on each: unpaired CIs overlap
        base = [0.60, 0.90, 0.70, 0.80]
        variant = [0.62, 0.93, 0.71, 0.82]
        got = paired_difference(variant, base)
        assert got.significant
        assert got.low > 0

    def test_no_difference_is_not_significant(self) -> None:
        got = paired_difference([0.5, 0.7], [0.5, 0.7])
        assert (got.mean, got.low, got.high, got.significant, got.p_value) == (
            0.0, 0.0, 0.0, False, None,
        )  # fmt: skip

    def test_constant_shift_is_significant_without_p(self) -> None:
        got = paired_difference([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
        assert (got.mean, got.low, got.high, got.significant, got.p_value) == (
            1.0, 1.0, 1.0, True, None,
        )  # fmt: skip

    def test_one_replication_has_no_interval(self) -> None:
        got = paired_difference([3.0], [1.0])
        assert (got.mean, got.low, got.high, got.n, got.significant) == (2.0, 2.0, 2.0, 1, False)

    def test_refuses_unpaired_or_empty(self) -> None:
        with pytest.raises(ValueError, match="one value per replication"):
            paired_difference([1.0, 2.0], [1.0])
        with pytest.raises(ValueError, match="at least one"):
            paired_difference([], [])
        with pytest.raises(ValueError, match="level"):
            paired_difference([1.0], [1.0], level=1.0)
