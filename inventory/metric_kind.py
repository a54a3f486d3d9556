"""What a stock target is measured on: a light module, so a command line can offer the choice
without loading numpy and scipy (`inventory.metric` re-exports it)."""

from __future__ import annotations

import enum


class Metric(enum.StrEnum):
    """What the target is measured on."""

    FILL_RATE = "fill-rate"  # demand-weighted share of all demand met from a shelf at once
    SWAP_2H = "swap-2h"  # each depot's share of its own demand met from its own shelf
