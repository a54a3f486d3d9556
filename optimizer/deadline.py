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

import gc
import math
import threading
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


# Above this limit a full collection (0.1-0.2 s with a large world in memory) is within the
# 5 % a plan call may run over, so the collector is left alone: long searches make garbage.
GC_HELD_UNDER_S = 5.0
_held = [0, False]  # calls holding the collector off; whether it was on before the first
_held_lock = threading.Lock()


def collector_held(limit_s: float | None) -> CollectorHeld:
    """Hold the cyclic garbage collector off for a call with a short wall-clock limit.

    A full collection walks every live object in one go: 0.14-0.17 s with the demo world
    and 1,000 tickets in memory, every fourth 200 ms plan (BENCHMARKS.md, "Every plan call
    within its limit"), and no deadline check can see it coming: the call ran 20-80 % over
    when it struck after the last check. Reference counting still frees what a plan makes;
    the collection that came due runs after the call. Nested calls and threads count: the
    collector comes back with the last one out, and only if it was on.
    """
    return CollectorHeld(limit_s is not None and limit_s <= GC_HELD_UNDER_S)


class CollectorHeld:
    """The context of `collector_held`: a class, not a generator, so that nothing tracked
    is allocated after the collector is back on. The collection that came due starts at
    the next allocation of a container; with ``contextlib.contextmanager`` that was the
    generator's ``StopIteration`` inside the ``with``, so the due collection (a full one,
    0.11-0.19 s, every eleventh 200 ms plan of 1,000 tickets) still ran inside the call."""

    __slots__ = ("_hold",)

    def __init__(self, hold: bool) -> None:
        self._hold = hold

    def __enter__(self) -> None:
        if not self._hold:
            return
        with _held_lock:
            if _held[0] == 0:
                _held[1] = gc.isenabled()
                gc.disable()
            _held[0] += 1

    def __exit__(self, *exc: object) -> None:
        if not self._hold:
            return
        with _held_lock:
            _held[0] -= 1
            if _held[0] == 0 and _held[1]:
                gc.enable()  # the last thing: the due collection starts after the call
