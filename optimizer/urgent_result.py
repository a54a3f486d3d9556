"""What an urgent insertion returns: the plan, the announced visits it changes, the promise."""

from __future__ import annotations

from dataclasses import dataclass

from optimizer.diff import PromiseState
from optimizer.plan_result import Plan, Stop


@dataclass(frozen=True, slots=True)
class VisitChange:
    """An announced visit the new plan changes (``None``: not served in that plan).

    ``deferred``: the insertion took it out of the plan to make room (a change it counts);
    an announced visit that no longer fits anyway is not served either, but not deferred.
    """

    ticket_id: int
    engineer_before: int
    engineer_after: int | None
    eta_before: int
    eta_after: int | None
    deferred: bool = False

    @property
    def moved(self) -> bool:
        """Reassigned to another engineer, or deferred (what the change budget counts)."""
        return self.deferred or (
            self.engineer_after is not None and self.engineer_after != self.engineer_before
        )

    @property
    def eta_delta_s(self) -> int | None:
        """How far the start moved (seconds; ``None`` when no longer served)."""
        return None if self.eta_after is None else self.eta_after - self.eta_before


@dataclass(frozen=True)
class Insertion:
    """What `insert_urgent` returns.

    Parameters
    ----------
    plan
        The new plan (validated; the stability rules too).
    changes
        Every announced visit whose engineer or start changed, or that is no longer served.
    promise
        The inserted ticket's promise state (``dropped``: it fits nowhere).
    engineer_id, eta
        Who serves it and when the visit starts (``None`` when dropped).
    """

    plan: Plan
    changes: tuple[VisitChange, ...]
    promise: PromiseState
    engineer_id: int | None
    eta: int | None

    @property
    def moved(self) -> int:
        """How many announced visits changed engineer or were deferred (the budget's count)."""
        return sum(c.moved for c in self.changes)

    @property
    def deferred(self) -> tuple[int, ...]:
        """Ticket ids of the announced visits deferred to make room."""
        return tuple(c.ticket_id for c in self.changes if c.deferred)


def state_of(stop: Stop | None) -> PromiseState:
    """A visit's promise state from its lateness in seconds (``None``: not served)."""
    if stop is None:
        return PromiseState.DROPPED
    if stop.arrival_late_s is None and stop.fix_late_s is None:
        return PromiseState.NO_PROMISE
    late = (stop.arrival_late_s or 0) > 0 or (stop.fix_late_s or 0) > 0
    return PromiseState.LATE if late else PromiseState.KEPT
