"""`diff`: what a draft plan changes against the published one, for the dispatcher to review.

Pure and JSON-friendly. It reads `Plan` objects or their `Plan.to_dict` form (a thin adapter
turns either into one per-ticket view): who moves, whose start (ETA) moves by how many
minutes, which promises change state, which tickets are newly dropped or newly served, each
engineer's visit sequence before and after, and the parts sources (reservations) that
change per ticket.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from optimizer.plan_result import Plan, StopKind


class PromiseState(enum.StrEnum):
    """A ticket's promises in one plan."""

    KEPT = "kept"  # served, every promise kept
    LATE = "late"  # served, a promise broken
    NO_PROMISE = "no_promise"  # served, no deadline to keep
    DROPPED = "dropped"  # not served


_RANK = {PromiseState.KEPT: 0, PromiseState.NO_PROMISE: 0, PromiseState.LATE: 1,
         PromiseState.DROPPED: 2}  # fmt: skip


def worse(before: PromiseState | None, after: PromiseState | None) -> bool:
    """Whether a promise state got worse (kept -> late, anything served -> dropped)."""
    if before is None or after is None:
        return False
    return _RANK[after] > _RANK[before]


@dataclass(frozen=True, slots=True)
class _Visit:
    engineer_id: int | None
    eta: datetime | None
    state: PromiseState
    sources: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TicketDiff:
    """One ticket's change between two plans (``None``: absent from that plan)."""

    ticket_id: int
    engineer_before: int | None
    engineer_after: int | None
    eta_change_min: float | None
    promise_before: PromiseState | None
    promise_after: PromiseState | None

    @property
    def moved(self) -> bool:
        """Served by another engineer in both plans."""
        return None not in (self.engineer_before, self.engineer_after) and (
            self.engineer_before != self.engineer_after
        )

    @property
    def newly_dropped(self) -> bool:
        """Served before, dropped (or gone) now."""
        return self.engineer_before is not None and self.engineer_after is None

    @property
    def newly_served(self) -> bool:
        """Not served before, served now."""
        return self.engineer_before is None and self.engineer_after is not None

    @property
    def at_risk(self) -> bool:
        """Its promise state got worse."""
        return worse(self.promise_before, self.promise_after)


@dataclass(frozen=True, slots=True)
class RouteDiff:
    """One engineer's visit sequence (ticket ids) before and after."""

    engineer_id: int
    before: tuple[int, ...]
    after: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ReservationDiff:
    """One ticket's parts sources before and after (``"depot:3 part 10 x1"``, ``"van:7 ..."``)."""

    ticket_id: int
    before: tuple[str, ...]
    after: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PlanDiff:
    """Everything that differs between two plans; unchanged tickets and routes are left out."""

    tickets: tuple[TicketDiff, ...]
    routes: tuple[RouteDiff, ...]
    reservations: tuple[ReservationDiff, ...]

    @property
    def at_risk(self) -> tuple[int, ...]:
        """Ticket ids whose promise state got worse."""
        return tuple(t.ticket_id for t in self.tickets if t.at_risk)

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-friendly data (minutes, states as strings)."""
        return {
            "tickets": [
                {
                    "ticket_id": t.ticket_id,
                    "engineer_before": t.engineer_before,
                    "engineer_after": t.engineer_after,
                    "moved": t.moved,
                    "eta_change_min": t.eta_change_min,
                    "promise_before": None if t.promise_before is None else t.promise_before.value,
                    "promise_after": None if t.promise_after is None else t.promise_after.value,
                    "newly_dropped": t.newly_dropped,
                    "newly_served": t.newly_served,
                    "at_risk": t.at_risk,
                }
                for t in self.tickets
            ],
            "routes": [
                {"engineer_id": r.engineer_id, "before": list(r.before), "after": list(r.after)}
                for r in self.routes
            ],
            "reservations": [
                {"ticket_id": r.ticket_id, "before": list(r.before), "after": list(r.after)}
                for r in self.reservations
            ],
            "at_risk": list(self.at_risk),
        }


def diff(old: Plan | Mapping[str, Any], new: Plan | Mapping[str, Any]) -> PlanDiff:
    """Return what ``new`` changes against ``old``.

    Parameters
    ----------
    old, new
        Two plans of the same region, as `Plan` objects or their `Plan.to_dict` data.

    Returns
    -------
    PlanDiff
        Changed tickets (by id), changed routes (by engineer), changed parts sources.
    """
    a, b = _view(old), _view(new)
    tickets = tuple(
        _ticket(tid, a.get(tid), b.get(tid))
        for tid in sorted(a.keys() | b.keys())
        if a.get(tid) != b.get(tid)
    )
    seq_a, seq_b = _sequences(old), _sequences(new)
    routes = tuple(
        RouteDiff(e, seq_a.get(e, ()), seq_b.get(e, ()))
        for e in sorted(seq_a.keys() | seq_b.keys())
        if seq_a.get(e, ()) != seq_b.get(e, ())
    )
    reservations = tuple(
        ReservationDiff(tid, _sources(a.get(tid)), _sources(b.get(tid)))
        for tid in sorted(a.keys() | b.keys())
        if _sources(a.get(tid)) != _sources(b.get(tid))
    )
    return PlanDiff(tickets, routes, reservations)


def _ticket(tid: int, a: _Visit | None, b: _Visit | None) -> TicketDiff:
    change = None
    if a is not None and b is not None and a.eta is not None and b.eta is not None:
        change = round((b.eta - a.eta).total_seconds() / 60, 1)
    return TicketDiff(
        tid, None if a is None else a.engineer_id, None if b is None else b.engineer_id, change,
        None if a is None else a.state, None if b is None else b.state,
    )  # fmt: skip


def _sources(v: _Visit | None) -> tuple[str, ...]:
    return () if v is None else v.sources


def _state(arrival_late: float | None, fix_late: float | None) -> PromiseState:
    if arrival_late is None and fix_late is None:
        return PromiseState.NO_PROMISE
    return (
        PromiseState.LATE if (arrival_late or 0) > 0 or (fix_late or 0) > 0 else PromiseState.KEPT
    )


def _as_dict(plan: Plan | Mapping[str, Any]) -> Mapping[str, Any]:
    return plan.to_dict() if isinstance(plan, Plan) else plan


def _view(plan: Plan | Mapping[str, Any]) -> dict[int, _Visit]:
    """Per ticket: engineer, start, promise state, parts sources (the one shape diffed)."""
    data = _as_dict(plan)
    out: dict[int, _Visit] = {}
    for route in data["routes"]:
        engineer = int(route["engineer_id"])
        sources: dict[int, list[str]] = {}
        for s in route["stops"]:
            tid = int(s["ticket_id"])
            if s["kind"] == StopKind.PICKUP.value:
                where = f"depot:{s['depot_id']}" if s["depot_id"] is not None else f"van:{engineer}"
                sources.setdefault(tid, []).extend(_parts(where, s["parts"]))
                continue
            for sh in s["shipped"]:
                where = (
                    f"ship from depot:{sh['depot_id']}"
                    if sh["depot_id"] is not None
                    else f"ship from supplier:{sh['supplier_id']}"
                )
                sources.setdefault(tid, []).extend(_parts(where, sh["parts"]))
            out[tid] = _Visit(
                engineer, datetime.fromisoformat(s["starts_at"]),
                _state(s["arrival_late_min"], s["fix_late_min"]),
                tuple(sorted(sources.get(tid, ()))),
            )  # fmt: skip
    for d in data["dropped"]:
        out[int(d["ticket_id"])] = _Visit(None, None, PromiseState.DROPPED, ())
    return out


def _parts(where: str, uses: list[dict[str, int]]) -> list[str]:
    return [f"{where} part {u['part_id']} x{u['qty']}" for u in uses]


def _sequences(plan: Plan | Mapping[str, Any]) -> dict[int, tuple[int, ...]]:
    data = _as_dict(plan)
    return {
        int(r["engineer_id"]): tuple(
            int(s["ticket_id"]) for s in r["stops"] if s["kind"] == StopKind.VISIT.value
        )
        for r in data["routes"]
    }


def promise_states(plan: Plan) -> dict[int, PromiseState]:
    """Return each planned ticket's promise state in ``plan``."""
    return {tid: v.state for tid, v in _view(plan).items()}


def eta_of(plan: Plan) -> dict[int, tuple[int, int]]:
    """Return ``{ticket id: (engineer id, start offset)}`` of every visit in ``plan``."""
    return {s.ticket_id: (r.engineer_id, s.starts_at) for r in plan.routes for s in r.visits}
