"""`Deadline`: one monotonic instant handed down through every phase of a plan call.

A plan call's limit counts from its entry. Each phase (allocation, screening, the travel
matrix, the greedy construction, the search, assembling and validating) reads the same
deadline and takes a *share* of what is left, so that a slow phase cuts its own work short
(and falls back: the tickets it never reached are dropped as ``out_of_time``) instead of
eating the time of those after it. ``time.monotonic`` is the only clock of the optimizer;
``Deadline.NONE`` (no wall-clock limit) never passes, which keeps tests and fixed-iteration
benchmarks deterministic.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True)
class Deadline:
    """A ``time.monotonic()`` instant (``at``), or none (``None``: no wall-clock limit)."""

    at: float | None = None

    NONE: ClassVar[Deadline]

    @classmethod
    def after(cls, seconds: float | None) -> Deadline:
        """The instant ``seconds`` from now (``None``: no limit)."""
        return cls(None if seconds is None else time.monotonic() + seconds)

    def left(self) -> float:
        """Seconds until the deadline (``inf`` without one; negative once passed)."""
        return math.inf if self.at is None else self.at - time.monotonic()

    def passed(self) -> bool:
        """Whether the deadline is over."""
        return self.at is not None and time.monotonic() >= self.at

    def share(self, fraction: float) -> Deadline:
        """A deadline ``fraction`` of the time left from now: one phase's part of the rest."""
        if self.at is None:
            return self
        now = time.monotonic()
        return Deadline(now + max(0.0, self.at - now) * fraction)

    def minus(self, seconds: float) -> Deadline:
        """The deadline ``seconds`` earlier: room kept for the work after a phase."""
        return self if self.at is None else Deadline(self.at - seconds)


Deadline.NONE = Deadline(None)
