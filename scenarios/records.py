"""What one simulation run leaves behind: a record per ticket and per-depot/engineer tallies."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(slots=True)
class JobRecord:
    """One ticket from report to fix (times in seconds from the epoch; None: did not happen)."""

    ticket_id: int
    region: str
    severity: str
    reported_at: int
    arrive_by: int | None
    fix_by: int | None
    needs_parts: bool
    engineer_id: int | None = None
    assigned_at: int | None = None
    source: str = "none"
    arrived_at: int | None = None
    fixed_at: int | None = None
    ships_at: int | None = None
    ship_within_s: int = 8 * 3_600
    swap_within_s: int = 2 * 3_600
    travel_m: int = 0
    overtime_s: int = 0
    parts_cost: Decimal = Decimal(0)  # purchase cost of the parts fitted
    warranty_cost: Decimal = Decimal(0)  # of those, given free under warranty
    charged: Decimal = Decimal(0)  # the quote's total to the customer
    travel_cost: Decimal = Decimal(0)  # km at the engineer's rate
    loaner: bool = False  # the fix overran its promise: a unit was lent
    loaner_cost: Decimal = Decimal(0)  # handling + days lent, at the scenario's loaner rates
    callout: bool = False  # an on-call engineer was woken for it
    callout_cost: Decimal = Decimal(0)  # at his labour rules' call-out cost
    respond_by: int | None = None
    depart_by: int | None = None
    departed_at: int | None = None  # the engineer set off for this job (pickup included)
    diverted: bool = False  # its engineer was sent from the road to another ticket first
    # the swap promise applies: at intake its parts were in stock at a depot or van that
    # could reach the site within the swap promise (None: not judged, no parts)
    swap_due: bool | None = None
    # its parts were shipped when it came in (`optimizer.ship_at_intake`), not by a visit's plan
    shipped_at_intake: bool = False
    # clock -> why no dispatch could keep it ("" keepable), judged at arrival (scenarios.bounds)
    bounds: dict[str, str] = field(default_factory=dict)
    # the latest plan's depart, arrival and fix (a miss planned in time ran late)
    planned_depart: int | None = None
    planned_arrival: int | None = None
    planned_fix: int | None = None

    @property
    def eta_s(self) -> int | None:
        return None if self.arrived_at is None else self.arrived_at - self.reported_at

    def respond_kept(self) -> bool | None:
        """A plan went back by the respond deadline: the dispatch decision is the response."""
        if self.respond_by is None:
            return None
        return self.assigned_at is not None and self.assigned_at <= self.respond_by

    def depart_kept(self) -> bool | None:
        """The engineer set off by the depart deadline (None: no depart clock, e.g. general)."""
        if self.depart_by is None:
            return None
        return self.departed_at is not None and self.departed_at <= self.depart_by

    def arrival_kept(self) -> bool | None:
        """Arrived by the deadline (None: the policy promises no arrival time)."""
        if self.arrive_by is None:
            return None
        return self.arrived_at is not None and self.arrived_at <= self.arrive_by

    def fix_kept(self) -> bool | None:
        if self.fix_by is None:
            return None
        return self.fixed_at is not None and self.fixed_at <= self.fix_by

    def shipped_in_time(self) -> bool | None:
        """A part not in stock left its source within the ship promise (8 h by default)."""
        if self.source != "shipment":
            return None
        return self.ships_at is not None and self.ships_at - self.reported_at <= self.ship_within_s

    def swapped_in_time(self) -> bool | None:
        """A part in stock within reach at intake was swapped within the swap promise (2 h).

        Judged on the world at intake (`swap_due`), not on the source dispatch chose: a part
        in reach that was shipped misses the promise; one picked up far away had none.
        Records not judged (`swap_due` None) count the parts taken from stock, as before.
        """
        if not self.needs_parts:
            return None
        due = self.source in ("van", "pickup") if self.swap_due is None else self.swap_due
        if not due:
            return None
        return self.fixed_at is not None and self.fixed_at - self.reported_at <= self.swap_within_s


@dataclass(slots=True)
class DepotTally:
    code: str
    region: str
    kind: str = "regional"  # central, regional (or a variant's added depot's kind)
    requests: int = 0  # part lines whose nearest depot this is
    filled: int = 0  # ... that it had in stock at the time
    stockout_days: set[int] = field(default_factory=set)


@dataclass(slots=True)
class EngineerTally:
    region: str
    shift_s: int = 0
    busy_s: int = 0  # travel + service
    overtime_s: int = 0
    travel_m: int = 0


@dataclass(slots=True)
class ReturnsTally:
    """Faulty units a run's swaps took out, and where they got to (counts of units)."""

    produced: int = 0  # swapped out and due back
    received: dict[int, int] = field(default_factory=dict)  # depot id -> units in its bin
    repaired: int = 0  # back on a shelf as serviceable stock
    scrapped: int = 0

    @property
    def backlog(self) -> int:
        """Units not yet settled: carried, in transit, awaiting inspection or in repair."""
        return self.produced - self.repaired - self.scrapped


@dataclass(slots=True)
class RunResult:
    """One run of one variant under one policy and replication."""

    variant: str
    policy: str
    replication: int
    horizon_s: int
    jobs: list[JobRecord]
    depots: dict[int, DepotTally]
    engineers: dict[int, EngineerTally]
    inventory_value: list[Decimal]  # one sample per simulated day
    partial: bool = False
    reached_s: int = 0  # simulated time reached (the horizon unless interrupted)
    reservation_refusals: int = 0  # a hold the stock rules refused (then shipped instead)
    wall_s: float = 0.0
    replan_wall_s: float = 0.0
    redispatched: int = 0  # visits handed to another engineer before departing
    diverted: int = 0  # engineers sent from the road to a new ticket (`optimizer.divert`)
    returns: ReturnsTally = field(default_factory=ReturnsTally)
