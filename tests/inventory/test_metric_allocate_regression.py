"""The greedy's answers are pinned: a faster implementation must choose the same units.

`data/metric_allocate_expected.json` was written by the scalar-scipy greedy (commit
c2ab771) before its Poisson terms were tabled per item: levels, the number of steps, a
hash of the value curve and every 97th point of the metric and backorder curves, for 6
random problems x 2 metrics x 2 rankings x 2 targets. Regenerate it only for a change that
is meant to alter the greedy's choices, and say so in the commit.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from inventory.metric import Metric
from inventory.metric_allocate import AllocationParams, Rank, allocate
from tests.inventory.metric_cases import CASES, random_problem

EXPECTED: dict[str, Any] = json.loads(
    (Path(__file__).parent / "data" / "metric_allocate_expected.json").read_text()
)


@pytest.mark.parametrize(("seed", "depots", "parts"), CASES)
@pytest.mark.parametrize("metric", list(Metric))
@pytest.mark.parametrize("rank", list(Rank))
@pytest.mark.parametrize("target", [0.8, 0.95])
def test_same_choices_as_the_scalar_greedy(
    seed: int, depots: int, parts: int, metric: Metric, rank: Rank, target: float
) -> None:
    want = EXPECTED[f"{seed}/{metric.value}/{rank.value}/{target}"]
    found = allocate(random_problem(seed, depots, parts), AllocationParams(target, metric, rank))
    assert found.central_levels.tolist() == want["central"]
    assert found.levels.tolist() == want["levels"]
    assert len(found.curve_cents) == want["steps"]
    cents = np.asarray(found.curve_cents, dtype="<i8").tobytes()
    assert hashlib.sha256(cents).hexdigest() == want["curve_cents_sha256"]
    # the same floats, not merely close ones: the tables hold the scalar calls' values
    assert found.curve_metric[want["picks"]].tolist() == want["curve_metric"]
    assert found.curve_backorders[want["picks"]].tolist() == want["curve_backorders"]
    assert str(found.trimmed) == want["trimmed"]
    assert found.reached == want["reached"]
