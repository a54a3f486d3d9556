"""What route planning returns: a `Plan` of routes, dropped tickets with reasons, and KPIs.

Instants are offsets in seconds on the world's time axis, as everywhere in the optimizer;
`Plan.to_dict` turns them into ISO 8601 timestamps with offset, minutes and km for JSON.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from optimizer.model import Location
from optimizer.result import Option, PartUse


class StopKind(enum.StrEnum):
    """What happens at a stop."""

    VISIT = "visit"  # the ticket's on-site service
    PICKUP = "pickup"  # parts picked at a depot (or taken from the van) for a later visit


class PlanQuality(enum.StrEnum):
    """How good a plan is known to be."""

    OPTIMAL = "optimal"  # proven optimal (or nothing to plan)
    IMPROVED = "improved"  # the search ended on its own terms (solution limit, local optimum)
    TIME_LIMITED = "time_limited"  # the search was stopped by its time limit: best found
    FALLBACK = "fallback"  # the greedy plan: no search, a search that failed or was stopped
    NOTHING_PLACED = "nothing_placed"  # tickets were asked for, none is in a route (see dropped)


class DropReason(enum.StrEnum):
    """Why a ticket is not in any route."""

    NO_QUALIFIED_ENGINEER = "no_qualified_engineer"  # nobody with the skills is on shift
    DEADLINE_OUT_OF_REACH = "deadline_out_of_reach"  # a hard deadline nobody can meet
    NO_STOCK = "no_stock"  # no van, depot or supplier has the parts
    NO_ROOM = "no_room"  # qualified engineers exist, but no route has room for the visit
    OUT_OF_TIME = "out_of_time"  # the plan call's time limit ran out before it was tried


@dataclass(frozen=True, slots=True)
class Shipped:
    """Parts a courier brings to the site; the visit waits for ``arrives_at``.

    ``ship_by`` is the ticket's ship promise (its contract's, or the params'): the shipment
    keeps it when ``ships_at <= ship_by``.
    """

    uses: tuple[PartUse, ...]
    depot_id: int | None
    supplier_id: int | None
    ships_at: int
    arrives_at: int
    ship_by: int | None = None


@dataclass(frozen=True, slots=True)
class Stop:
    """One stop of a route.

    A pickup has ``depot_id`` (``None``: from the engineer's own van, at the route's start)
    and the ``parts`` it takes for ``ticket_id``. A visit has its promise lateness (seconds,
    0 when kept; ``None`` without that promise) and the ``shipped`` parts it waits for.
    """

    kind: StopKind
    ticket_id: int
    location: Location
    arrives_at: int
    starts_at: int
    departs_at: int
    depot_id: int | None = None
    parts: tuple[PartUse, ...] = ()
    shipped: tuple[Shipped, ...] = ()
    arrival_late_s: int | None = None
    fix_late_s: int | None = None
    load: int = 0  # units on board when leaving the stop


@dataclass(frozen=True, slots=True)
class Route:
    """One engineer's day: leaves at ``departs_at``, ends at home at ``returns_at``.

    ``fills_gap``: the route fills his gap before a committed visit (`Engineer.gap`): it
    leaves from where his back-to-back work ends and ``returns_at`` is his arrival at the
    committed visit's site, by its planned arrival.
    """

    engineer_id: int
    departs_at: int
    returns_at: int
    stops: tuple[Stop, ...]
    travel_s: int
    travel_m: int
    overtime_s: int
    cost: int  # minor currency units: hours and km at the engineer's rates
    fills_gap: bool = False

    @property
    def visits(self) -> tuple[Stop, ...]:
        """The visit stops, in order."""
        return tuple(s for s in self.stops if s.kind is StopKind.VISIT)


@dataclass(frozen=True, slots=True)
class Dropped:
    """A ticket left out of the plan, never silently: the reason and its numbers."""

    ticket_id: int
    reason: DropReason
    detail: str
    best_arrival: int | None = None
    deadline: int | None = None
    lead_s: int | None = None


@dataclass(frozen=True, slots=True)
class PromiseTally:
    """Promises kept out of those made, for one severity rank."""

    severity_rank: int
    kept: int
    total: int


@dataclass(frozen=True, slots=True)
class PlanKpis:
    """The plan's headline numbers; a dropped ticket's promises count as broken."""

    served: int
    dropped: int
    promises: tuple[PromiseTally, ...]
    travel_s: int
    travel_m: int
    overtime_s: int
    lateness_s: int
    cost: int

    @property
    def promises_kept(self) -> int:
        """Promises kept, all severities."""
        return sum(t.kept for t in self.promises)


@dataclass(frozen=True, slots=True)
class SolverStats:
    """How the plan was found (``wall_ms`` is the only non-deterministic field)."""

    greedy_objective: int
    objective: int
    status: str
    wall_ms: int = 0


@dataclass(frozen=True)
class Plan:
    """A whole-region route plan.

    Parameters
    ----------
    epoch
        The world's time axis origin (for `to_dict`).
    now
        The planning moment (offset).
    routes
        One per engineer with at least one stop, by engineer id.
    dropped
        Tickets not planned, each with its reason, by ticket id.
    kpis
        Promises kept per severity, travel, overtime, cost.
    quality
        How good the plan is known to be.
    stats
        Objectives of the greedy and the returned plan, solver status, wall time.
    violations
        What the independent validator found (empty for every plan `optimizer.plan` returns).
    """

    epoch: datetime
    now: int
    routes: tuple[Route, ...]
    dropped: tuple[Dropped, ...]
    kpis: PlanKpis
    quality: PlanQuality
    stats: SolverStats
    violations: tuple[str, ...] = field(default=())
    # (ticket id, option): on-call engineers woken for these tickets (`optimizer.callout`)
    callouts: tuple[tuple[int, Option], ...] = field(default=())

    def is_feasible(self) -> bool:
        """Return whether the independent validator found nothing wrong."""
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        """Return plain JSON-friendly data: ISO timestamps, minutes, km."""
        return {
            "now": self._iso(self.now),
            "quality": self.quality.value,
            "feasible": self.is_feasible(),
            "violations": list(self.violations),
            "routes": [self._route(r) for r in self.routes],
            "dropped": [self._dropped(d) for d in self.dropped],
            "callouts": [self._callout(t, o) for t, o in self.callouts],
            "kpis": self._kpis(),
            "stats": {
                "greedy_objective": self.stats.greedy_objective,
                "objective": self.stats.objective,
                "status": self.stats.status,
                "wall_ms": self.stats.wall_ms,
            },
        }

    def _iso(self, offset: int | None) -> str | None:
        if offset is None:
            return None
        return (self.epoch + timedelta(seconds=int(offset))).isoformat()

    def _route(self, r: Route) -> dict[str, Any]:
        return {
            "engineer_id": r.engineer_id,
            "departs_at": self._iso(r.departs_at),
            "returns_at": self._iso(r.returns_at),
            "travel_min": round(r.travel_s / 60, 1),
            "distance_km": round(r.travel_m / 1_000, 3),
            "overtime_min": round(r.overtime_s / 60, 1),
            "cost_minor": r.cost,
            "stops": [self._stop(s) for s in r.stops],
        }

    def _stop(self, s: Stop) -> dict[str, Any]:
        return {
            "kind": s.kind.value,
            "ticket_id": s.ticket_id,
            "lat": s.location.lat,
            "lon": s.location.lon,
            "arrives_at": self._iso(s.arrives_at),
            "starts_at": self._iso(s.starts_at),
            "departs_at": self._iso(s.departs_at),
            "depot_id": s.depot_id,
            "parts": [_use(u) for u in s.parts],
            "shipped": [
                {
                    "parts": [_use(u) for u in sh.uses],
                    "depot_id": sh.depot_id,
                    "supplier_id": sh.supplier_id,
                    "ships_at": self._iso(sh.ships_at),
                    "arrives_at": self._iso(sh.arrives_at),
                    "ship_by": self._iso(sh.ship_by),
                }
                for sh in s.shipped
            ],
            "arrival_late_min": _minutes(s.arrival_late_s),
            "fix_late_min": _minutes(s.fix_late_s),
            "load": s.load,
        }

    def _callout(self, ticket_id: int, o: Option) -> dict[str, Any]:
        p = o.parts
        return {
            "ticket_id": ticket_id,
            "engineer_id": o.engineer_id,
            "departs_at": self._iso(o.departs_at),
            "arrives_at": self._iso(o.arrives_at),
            "fixes_at": self._iso(o.fixes_at),
            "travel_min": round(o.travel_s / 60, 1),
            "distance_km": round(o.travel_m / 1_000, 3),
            "overtime_min": round(o.overtime_s / 60, 1),
            "callout_cost_minor": o.callout_cost,
            "cost_minor": o.cost,
            "keeps_all_promises": o.keeps_all,
            "parts": {
                "source": p.source.value,
                "depot_id": p.depot_id,
                "supplier_id": p.supplier_id,
                "uses": [_use(u) for u in p.uses],
                "ships_at": self._iso(p.ships_at),
                "part_arrives_at": self._iso(p.part_arrives_at),
            },
        }

    def _dropped(self, d: Dropped) -> dict[str, Any]:
        return {
            "ticket_id": d.ticket_id,
            "reason": d.reason.value,
            "detail": d.detail,
            "best_arrival": self._iso(d.best_arrival),
            "deadline": self._iso(d.deadline),
            "lead_min": _minutes(d.lead_s),
        }

    def _kpis(self) -> dict[str, Any]:
        k = self.kpis
        return {
            "served": k.served,
            "dropped": k.dropped,
            "promises_kept": k.promises_kept,
            "promises": [
                {"severity_rank": t.severity_rank, "kept": t.kept, "total": t.total}
                for t in k.promises
            ],
            "travel_min": round(k.travel_s / 60, 1),
            "distance_km": round(k.travel_m / 1_000, 3),
            "overtime_min": round(k.overtime_s / 60, 1),
            "lateness_min": round(k.lateness_s / 60, 1),
            "cost_minor": k.cost,
        }


def _use(u: PartUse) -> dict[str, int]:
    return {"line_part_id": u.line_part_id, "part_id": u.part_id, "qty": u.qty}


def _minutes(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)
