"""`RecommendParams`: the knobs of a recommendation, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RecommendParams:
    """Parameters of `optimizer.recommend`.

    Parameters
    ----------
    max_options
        How many ranked options to return (>= 1).
    pick_s
        Time to pick parts at a depot counter, for depots without their own ``pick_s``.
    ship_within_s
        The ship promise: a part not picked up leaves a source within this time of the
        ticket's ``reported_at`` (default 8 h).
    overtime_s
        When set, every engineer's allowed overtime (a what-if); otherwise each engineer's own.
    max_travel_s
        Engineers whose straight drive to the site is longer are excluded as too far.
    """

    max_options: int = 5
    pick_s: int = 600
    ship_within_s: int = 8 * 3_600
    overtime_s: int | None = None
    max_travel_s: int = 6 * 3_600

    def __post_init__(self) -> None:
        if self.max_options < 1:
            raise ValueError(f"max_options: must be >= 1, got {self.max_options}")
        for name in ("pick_s", "ship_within_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")
        if self.overtime_s is not None and self.overtime_s < 0:
            raise ValueError(f"overtime_s: must be >= 0, got {self.overtime_s}")
        if self.max_travel_s <= 0:
            raise ValueError(f"max_travel_s: must be > 0, got {self.max_travel_s}")
