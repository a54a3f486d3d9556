"""Paired differences between two variants run on common random numbers.

With common random numbers, replication r of every variant sees the same ticket stream, so
the variants' KPIs are correlated and the noise of the stream cancels in their difference.
Comparing two independent intervals would throw that away (overlapping CIs, yet a real
difference); the paired test works on d_r = variant_r - base_r instead:

    mean d +- t(0.975, n-1) * s_d / sqrt(n)

which is the interval of `scipy.stats.ttest_rel(variant, base)`. Pure: another module (the
stock-level claim) reuses it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats  # type: ignore[import-untyped]  # no stubs for scipy


@dataclass(frozen=True, slots=True)
class PairedDifference:
    """Mean of variant - base over paired replications, with its t-interval.

    `significant`: the interval excludes 0 (needs n >= 2). `p_value` is the two-sided
    paired t-test's; None with n < 2 or when every difference is the same (no spread: the
    interval is that one value, significant unless it is 0).
    """

    mean: float
    low: float
    high: float
    n: int
    significant: bool
    p_value: float | None


def paired_difference(
    variant: Sequence[float], base: Sequence[float], level: float = 0.95
) -> PairedDifference:
    """Mean and t-interval of variant[r] - base[r]; e.g. d = [1, 2, 3]: 2 +- 4.303/sqrt(3)."""
    if len(variant) != len(base):
        raise ValueError(
            f"variant, base: need one value per replication each ({len(variant)} != {len(base)})"
        )
    if not variant:
        raise ValueError("variant, base: need at least one replication")
    if not 0 < level < 1:
        raise ValueError(f"level: must be in (0, 1), got {level}")
    d = np.asarray(variant, dtype=float) - np.asarray(base, dtype=float)
    n, mean = int(d.size), float(d.mean())
    if n == 1:
        return PairedDifference(mean, mean, mean, 1, False, None)
    sd = float(np.std(d, ddof=1))
    if sd == 0.0:
        # every replication moved by the same amount: no noise left to test against
        return PairedDifference(mean, mean, mean, n, mean != 0.0, None)
    half = float(stats.t.ppf((1 + level) / 2, n - 1)) * sd / math.sqrt(n)
    t = mean / (sd / math.sqrt(n))
    p = float(2 * stats.t.sf(abs(t), n - 1))
    low, high = mean - half, mean + half
    return PairedDifference(mean, low, high, n, low > 0 or high < 0, p)


__all__ = ["PairedDifference", "paired_difference"]
