"""What a published plan has promised: announced visits, pins, and the rules a re-plan keeps.

A `Baseline` is plain data (the database keeps it with the published plan): per engineer the
visits already announced, in order, with their announced ETA (the announced *start* of the
visit, `Stop.starts_at`: when the engineer rings the bell), which ones the dispatcher pinned
and which are in progress, and three numbers of the promise policy: the frozen horizon, the
ETA tolerance and whether the dispatcher allows larger ETA moves.

The rules (`check_commitments` re-checks them on any plan, independently of the planner):

- **fixed** visits (in progress, or announced to start before ``now + frozen_horizon_s``)
  stay with their engineer, form the head of his route and keep their order;
- **pinned** visits stay with their engineer and keep their order among his locked visits
  (other work may be inserted between them);
- every other announced visit may move, but its start moves at most ``eta_tolerance_s`` from
  the announced ETA (a hard bound; a visit that cannot honour it is dropped with a reason)
  unless ``allow_eta_moves``. Fixed visits are exempt: their times follow from the head of
  the route, which nothing can reshuffle.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field, replace

from optimizer.plan_result import Plan, Stop


@dataclass(frozen=True, slots=True)
class Commitment:
    """One announced visit.

    Parameters
    ----------
    ticket_id
        The ticket.
    engineer_id
        Who was announced.
    eta
        The announced start of the visit (time-axis offset).
    pinned
        The dispatcher pinned this assignment.
    in_progress
        The engineer is on site: planned as his first stop from ``now``, with
        `Ticket.service_s` the remaining service time (its parts count as on board).
    """

    ticket_id: int
    engineer_id: int
    eta: int
    pinned: bool = False
    in_progress: bool = False


@dataclass(frozen=True)
class Baseline:
    """The published plan's commitments and the stability policy.

    Parameters
    ----------
    commitments
        Announced visits (unique tickets); per engineer their order is by ``eta`` (an
        in-progress visit first).
    frozen_horizon_s
        Visits announced to start before ``now + frozen_horizon_s`` are fixed (policy data:
        the caller passes its contracts' ``frozen_horizon_min``; no default here).
    eta_tolerance_s
        How far an announced start may move (either way; policy data, likewise).
    allow_eta_moves
        The dispatcher allows larger moves: the tolerance is not applied.
    """

    commitments: tuple[Commitment, ...] = ()
    frozen_horizon_s: int = field(kw_only=True)
    eta_tolerance_s: int = field(kw_only=True)
    allow_eta_moves: bool = False

    def __post_init__(self) -> None:
        ids = [c.ticket_id for c in self.commitments]
        if len(ids) != len(set(ids)):
            raise ValueError("commitments: a ticket is announced twice")
        for name in ("frozen_horizon_s", "eta_tolerance_s"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: must be >= 0, got {getattr(self, name)}")

    @classmethod
    def from_plan(
        cls,
        plan: Plan,
        *,
        pinned: Collection[int] = (),
        in_progress: Collection[int] = (),
        frozen_horizon_s: int,
        eta_tolerance_s: int,
        allow_eta_moves: bool = False,
    ) -> Baseline:
        """Return the commitments of a published plan: every visit, announced at its start.

        Parameters
        ----------
        plan
            The published plan.
        pinned, in_progress
            Ticket ids the dispatcher pinned, and those whose visit has begun.
        frozen_horizon_s, eta_tolerance_s, allow_eta_moves
            The stability policy (see the class).

        Returns
        -------
        Baseline
        """
        found = tuple(
            Commitment(s.ticket_id, r.engineer_id, s.starts_at, s.ticket_id in pinned,
                       s.ticket_id in in_progress)
            for r in plan.routes
            for s in r.visits
        )  # fmt: skip
        return cls(
            found, frozen_horizon_s=frozen_horizon_s, eta_tolerance_s=eta_tolerance_s,
            allow_eta_moves=allow_eta_moves,
        )  # fmt: skip

    def by_ticket(self) -> dict[int, Commitment]:
        """Return the commitments by ticket id."""
        return {c.ticket_id: c for c in self.commitments}

    def is_fixed(self, c: Commitment, now: int) -> bool:
        """Whether ``c`` is in progress or starts inside the frozen horizon."""
        return c.in_progress or c.eta < now + self.frozen_horizon_s

    def is_locked(self, c: Commitment, now: int) -> bool:
        """Whether ``c`` must stay with its engineer (fixed or pinned)."""
        return c.pinned or self.is_fixed(c, now)

    def routes(self) -> dict[int, list[Commitment]]:
        """Return each engineer's announced visits in order (in progress first, then ETA)."""
        out: dict[int, list[Commitment]] = {}
        for c in sorted(self.commitments, key=lambda c: (not c.in_progress, c.eta, c.ticket_id)):
            out.setdefault(c.engineer_id, []).append(c)
        return out

    def without(self, ticket_ids: Iterable[int]) -> Baseline:
        """Return the baseline with the commitments of ``ticket_ids`` released."""
        gone = set(ticket_ids)
        kept = tuple(c for c in self.commitments if c.ticket_id not in gone)
        return replace(self, commitments=kept)


def check_commitments(baseline: Baseline, plan: Plan) -> list[str]:
    """Return every stability rule ``plan`` breaks against ``baseline`` (empty: none).

    Parameters
    ----------
    baseline
        The published commitments and policy.
    plan
        A re-plan made at ``plan.now``.

    Returns
    -------
    list of str
        One sentence per violation: a locked visit on another engineer, a fixed visit not at
        the head of its route, locked visits out of order, an ETA moved past the tolerance.
    """
    now = plan.now
    served = {
        s.ticket_id: (r.engineer_id, i, s) for r in plan.routes for i, s in enumerate(r.visits)
    }
    out: list[str] = []
    for engineer_id, announced in baseline.routes().items():
        locked = [c for c in announced if baseline.is_locked(c, now) and c.ticket_id in served]
        for c in locked:
            where = served[c.ticket_id][0]
            if where != engineer_id:
                out.append(f"ticket {c.ticket_id} is locked to engineer {engineer_id}, not {where}")
        own = [served[c.ticket_id][1] for c in locked if served[c.ticket_id][0] == engineer_id]
        if own != sorted(own):
            out.append(f"engineer {engineer_id}: locked visits are out of their announced order")
        head = [c for c in locked if baseline.is_fixed(c, now)]
        for k, c in enumerate(head):
            where, index, _ = served[c.ticket_id]
            if where == engineer_id and index != k:
                out.append(f"ticket {c.ticket_id} is fixed but is visit {index + 1}, not {k + 1}")
    if not baseline.allow_eta_moves:
        for c in baseline.commitments:
            if c.ticket_id in served and not baseline.is_fixed(c, now):
                out.extend(_tolerance(c, served[c.ticket_id][2], baseline.eta_tolerance_s))
    return out


def _tolerance(c: Commitment, stop: Stop, tolerance: int) -> list[str]:
    # announced 10:00, tolerance 30 min: a start between 09:30 and 10:30 keeps the promise
    moved = stop.starts_at - c.eta
    if abs(moved) <= tolerance:
        return []
    return [f"ticket {c.ticket_id}: start moved {moved} s from its ETA, tolerance {tolerance} s"]
