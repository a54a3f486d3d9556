"""The solver's data: frozen, validated dataclasses with integer seconds and metres.

Time is one axis of integer seconds counted from the world's ``epoch`` (a timezone-aware
datetime given by the caller; the optimizer never reads a clock). Every instant below
(shift windows, ``busy_until``, deadlines, ``now``) is such an offset. A window is a
half-open ``(start, end)`` pair of offsets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from optimizer.penalties import ClockPenalties, default_penalties
from optimizer.result import PartsPlan

Window = tuple[int, int]


def _require(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ValueError(f"{name}: {message}")


def _check_windows(windows: tuple[Window, ...], name: str) -> None:
    previous_end: int | None = None
    for start, end in windows:
        _require(start < end, name, f"window ({start}, {end}) must have start < end")
        _require(
            previous_end is None or start >= previous_end,
            name,
            "windows must be sorted and must not overlap",
        )
        previous_end = end


def _check_quantities(stock: Mapping[int, int], name: str) -> None:
    for part_id, qty in stock.items():
        _require(qty >= 0, name, f"quantity of part {part_id} must be >= 0, got {qty}")


@dataclass(frozen=True, slots=True)
class Gap:
    """Free time before an engineer's next committed visit, which a job may fill (issue 16).

    Committed work that runs back to back keeps him busy (``Engineer.busy_until``: where it
    ends is where "who goes now" starts); a visit committed for later leaves the time before
    it free. A job fits the gap when he leaves at ``ready`` (or later) from ``origin``, does
    it, and drives to ``back_to`` by ``back_by``: the committed visit keeps its planned
    arrival, so its promises. Built by `optimizer.reserved.free_gap`.

    Parameters
    ----------
    ready
        When he can leave: the end of his back-to-back work (``now`` or earlier: free now).
    origin
        Where he leaves from: where that work ends (``None``: his ``location``).
    back_to
        The committed visit's site.
    back_by
        Its planned arrival.
    """

    ready: int
    origin: Location | None
    back_to: Location
    back_by: int


@dataclass(frozen=True, slots=True)
class Location:
    """A point on the earth, in WGS84 degrees.

    Parameters
    ----------
    lat
        Latitude in degrees, within [-90, 90].
    lon
        Longitude in degrees, within [-180, 180].
    """

    lat: float
    lon: float

    def __post_init__(self) -> None:
        _require(math.isfinite(self.lat) and -90 <= self.lat <= 90, "lat", f"{self.lat}")
        _require(math.isfinite(self.lon) and -180 <= self.lon <= 180, "lon", f"{self.lon}")


@dataclass(frozen=True, slots=True)
class PartLine:
    """A quantity of one spare part a ticket needs.

    Parameters
    ----------
    part_id
        The SKU.
    qty
        How many units, at least 1.
    """

    part_id: int
    qty: int = 1

    def __post_init__(self) -> None:
        _require(self.qty >= 1, "qty", f"must be >= 1, got {self.qty}")


@dataclass(frozen=True, eq=False)
class Engineer:
    """A field engineer as the dispatcher sees him at one moment.

    Parameters
    ----------
    id
        Unique engineer id.
    location
        Where he is now.
    skills
        ``{product_line: level}``; a ticket needs every one of its lines at its level or above.
    shifts
        Sorted, non-overlapping ``(start, end)`` offsets when he works.
    home
        His home base (informational; the ETA starts at ``location``).
    overtime_s
        How long past a shift's end his work may run (seconds): his labour rules' allowance,
        less what the day's and week's caps have used up.
    start_into_overtime
        Whether a visit may be planned to start when it will end in overtime; when false,
        planned visits end by the shift's end (``plan_overtime_s`` is 0) and the allowance
        only absorbs overruns.
    overtime_cost_per_hour
        What an hour past the shift's end costs (fen), on top of ``cost_per_hour``.
    overtime_cap
        ``"day"`` or ``"week"`` when that cap of overtime, with what he already worked, cut
        ``overtime_s`` below the per-visit allowance (explanations say so); ``None``: it did not.
    busy_until
        When his current job ends; ``None`` when he is free.
    busy_location
        Where that job ends (required with ``busy_until``); his ETA then starts there.
    gap
        Free time before a committed visit that a recommendation may fill (`Gap`); the
        recommendation then plans the return leg to that visit. ``busy_until`` still says
        when all his committed work ends (a job that does not fit the gap comes after it).
    van_stock
        ``{part_id: qty}`` he carries.
    dedicated_sites
        Sites whose customer has him as their dedicated engineer.
    absences
        Sorted, non-overlapping ``(start, end)`` offsets when he is away (leave, training):
        route planning cuts them out of his shifts.
    capacity
        How many part units (and `Ticket.demand` units) his van carries at once; ``None``
        means unlimited.
    cost_per_hour, cost_per_km
        What an hour of his route and a km driven cost, in integer minor currency units
        (fen); reported by route planning and weighted by ``PlanParams.cost_weight``.

    Notes
    -----
    Route planning starts him at ``location`` (or ``busy_location`` when ``busy_until``
    is set) and ends his route at ``home`` (``location`` when there is no home).
    """

    id: int
    location: Location
    skills: Mapping[str, int]
    shifts: tuple[Window, ...]
    home: Location | None = None
    overtime_s: int = 0
    busy_until: int | None = None
    busy_location: Location | None = None
    van_stock: Mapping[int, int] = field(default_factory=dict)
    dedicated_sites: frozenset[int] = frozenset()
    absences: tuple[Window, ...] = ()
    capacity: int | None = None
    cost_per_hour: int = 0
    cost_per_km: int = 0
    start_into_overtime: bool = True
    overtime_cost_per_hour: int = 0
    overtime_cap: str | None = None
    gap: Gap | None = None

    def __post_init__(self) -> None:
        for line, level in self.skills.items():
            _require(level >= 1, "skills", f"level of {line!r} must be >= 1, got {level}")
        _check_windows(self.shifts, "shifts")
        _check_windows(self.absences, "absences")
        _require(
            self.capacity is None or self.capacity >= 0,
            "capacity",
            f"must be >= 0: {self.capacity}",
        )
        for name in ("cost_per_hour", "cost_per_km", "overtime_cost_per_hour"):
            _require(getattr(self, name) >= 0, name, f"must be >= 0, got {getattr(self, name)}")
        _require(self.overtime_s >= 0, "overtime_s", f"must be >= 0, got {self.overtime_s}")
        _require(
            (self.busy_until is None) == (self.busy_location is None),
            "busy_location",
            "busy_until and busy_location go together",
        )
        _check_quantities(self.van_stock, "van_stock")

    @property
    def plan_overtime_s(self) -> int:
        """How far a planned visit may run past a shift's end (0 unless he may start into
        overtime)."""
        return self.overtime_s if self.start_into_overtime else 0


@dataclass(frozen=True, eq=False)
class OnCall:
    """An engineer on call: not at work, but he may be woken for a severe ticket at a cost.

    Parameters
    ----------
    engineer
        Him, with his on-call windows as ``shifts`` (a call-out's visit starts in the window
        the call falls in and may run past its end by his ``overtime_s``).
    cost
        What waking him costs (fen), on top of his hours, km and overtime.
    lead_s
        From the call to his departure.
    max_rank
        Tickets of ``severity_rank`` below this may wake him (his labour rules'
        ``callout_max_rank``: 1 = urgent only, 0 = none).
    """

    engineer: Engineer
    cost: int = 0
    lead_s: int = 0
    max_rank: int = 1

    def __post_init__(self) -> None:
        for name in ("cost", "lead_s", "max_rank"):
            _require(getattr(self, name) >= 0, name, f"must be >= 0, got {getattr(self, name)}")

    def may_wake(self, ticket: Ticket, now: int) -> bool:
        """Whether the ticket is severe enough and he is on call at ``now``."""
        return ticket.severity_rank < self.max_rank and any(
            start <= now < end for start, end in self.engineer.shifts
        )


@dataclass(frozen=True, eq=False)
class Depot:
    """A warehouse that can hand parts to an engineer or ship them.

    Parameters
    ----------
    id
        Unique depot id.
    location
        Where it is.
    stock
        ``{part_id: available qty}`` (on hand less live reservations).
    opening
        Sorted ``(start, end)`` windows when a pickup can start; empty means 24x7.
    pick_s
        Time to pick the parts at the counter; ``None`` takes ``RecommendParams.pick_s``.
    ship_lead_s
        Time from an order until a courier leaves with the parts.
    """

    id: int
    location: Location
    stock: Mapping[int, int]
    opening: tuple[Window, ...] = ()
    pick_s: int | None = None
    ship_lead_s: int = 3_600

    def __post_init__(self) -> None:
        _check_quantities(self.stock, "stock")
        _check_windows(self.opening, "opening")
        _require(self.pick_s is None or self.pick_s >= 0, "pick_s", f"{self.pick_s}")
        _require(self.ship_lead_s >= 0, "ship_lead_s", f"must be >= 0, got {self.ship_lead_s}")


@dataclass(frozen=True, eq=False)
class Supplier:
    """A partner or supplier that ships parts to a site.

    Parameters
    ----------
    id
        Unique supplier id.
    parts
        ``{part_id: available qty}`` it can ship.
    lead_s
        Time from an order until the parts leave.
    transit_s
        Courier time from leaving to arriving on site.
    """

    id: int
    parts: Mapping[int, int]
    lead_s: int
    transit_s: int

    def __post_init__(self) -> None:
        _check_quantities(self.parts, "parts")
        _require(self.lead_s >= 0, "lead_s", f"must be >= 0, got {self.lead_s}")
        _require(self.transit_s >= 0, "transit_s", f"must be >= 0, got {self.transit_s}")


@dataclass(frozen=True, eq=False)
class Ticket:
    """A job to recommend an engineer for.

    Parameters
    ----------
    id
        Ticket id.
    site
        Where the job is.
    site_id
        The customer site (for dedicated engineers).
    skills
        ``{product_line: minimum level}`` the job needs.
    service_s
        Standard on-site service duration.
    reported_at
        When the request came in (the promise clocks start there).
    arrive_by, fix_by
        Deadlines of the arrival and fix promises; ``None`` when the policy has none.
    depart_by
        Deadline of the depart promise (the engineer sets off by then, e.g. urgent +15 min);
        ``None`` when the policy has none (general tickets). Recommendations check it; route
        planning ignores it.
    parts
        Parts the job needs (maybe none yet).
    substitutes
        ``{part_id: (substitute part ids, best first)}``: parts of similar function.
    severity_rank
        0 is the most severe (informational here).
    dedicated_engineer
        The customer's dedicated engineer, when there is one.
    loaner_units
        Part ids of units of equal function that can be lent if the fix overruns.
    hard_arrival
        The policy makes ``arrive_by`` a hard bound (route planning never plans a later
        arrival; it drops the ticket with a reason instead).
    not_before
        The earliest start of service (an appointment the customer agreed, a Solomon ready
        time); ``None``: as soon as possible.
    demand
        Units loaded at the route's start and delivered here (a VRP demand; 0 for repairs,
        whose parts come as pickups).
    ship_within_s
        The ship promise of this ticket's contract: a part not picked up leaves its source
        within this time of ``reported_at``; ``None``: the params' ``ship_within_s``.
    swap_within_s
        The swap promise of this ticket's contract: a part in stock (van or depot) is
        swapped, i.e. the fix done, within this time of ``reported_at``; ``None``: no swap
        clock is checked.
    penalties
        What breaking each clock costs (contract x severity, fen); ``None``: the documented
        defaults of ``severity_rank`` (`optimizer.penalties.DEFAULT_PENALTIES`).
    parts_underway
        A shipment of every line already ordered (at intake, `optimizer.intake`): every
        option and plan waits for its ``part_arrives_at`` instead of sourcing the parts
        again; ``None``: the parts (if any) are still to be sourced.
    """

    id: int
    site: Location
    site_id: int
    skills: Mapping[str, int]
    service_s: int
    reported_at: int = 0
    arrive_by: int | None = None
    fix_by: int | None = None
    parts: tuple[PartLine, ...] = ()
    substitutes: Mapping[int, tuple[int, ...]] = field(default_factory=dict)
    severity_rank: int = 0
    dedicated_engineer: int | None = None
    loaner_units: tuple[int, ...] = ()
    hard_arrival: bool = False
    not_before: int | None = None
    demand: int = 0
    ship_within_s: int | None = None
    depart_by: int | None = None
    swap_within_s: int | None = None
    penalties: ClockPenalties | None = None
    parts_underway: PartsPlan | None = None

    def __post_init__(self) -> None:
        _require(self.service_s >= 0, "service_s", f"must be >= 0, got {self.service_s}")
        _require(
            self.ship_within_s is None or self.ship_within_s >= 0,
            "ship_within_s", f"must be >= 0, got {self.ship_within_s}",
        )  # fmt: skip
        _require(self.demand >= 0, "demand", f"must be >= 0, got {self.demand}")
        _require(
            self.swap_within_s is None or self.swap_within_s >= 0,
            "swap_within_s", f"must be >= 0, got {self.swap_within_s}",
        )  # fmt: skip
        _require(
            not self.hard_arrival or self.arrive_by is not None,
            "hard_arrival",
            "needs an arrive_by deadline",
        )
        for line, level in self.skills.items():
            _require(level >= 1, "skills", f"level of {line!r} must be >= 1, got {level}")
        ids = [line.part_id for line in self.parts]
        _require(len(ids) == len(set(ids)), "parts", "a part appears on two lines")
        for name in ("depart_by", "arrive_by", "fix_by"):
            deadline = getattr(self, name)
            _require(
                deadline is None or deadline >= self.reported_at,
                name,
                f"must be >= reported_at ({self.reported_at}), got {deadline}",
            )

    def ship_by(self, default_within_s: int) -> int:
        """When a shipped part must leave: ``reported_at`` + this ticket's ship promise.

        ``default_within_s`` (the params' ship promise) applies when the ticket has none.
        """
        within = default_within_s if self.ship_within_s is None else self.ship_within_s
        return self.reported_at + within

    @property
    def swap_by(self) -> int | None:
        """When a part in stock must be swapped (the fix done); ``None``: no swap clock."""
        if self.swap_within_s is None or not self.parts:
            return None
        return self.reported_at + self.swap_within_s

    @property
    def prices(self) -> ClockPenalties:
        """The ticket's clock penalties, or the documented defaults of its severity."""
        return (
            self.penalties if self.penalties is not None else default_penalties(self.severity_rank)
        )

    def accepted(self, part_id: int) -> tuple[int, ...]:
        """Return the part ids that satisfy a line of ``part_id``: exact part first."""
        return (part_id, *self.substitutes.get(part_id, ()))

    @property
    def lines_share_parts(self) -> bool:
        """Whether two lines accept a common part (so they compete for the same units)."""
        seen: set[int] = set()
        for line in self.parts:
            accepted = set(self.accepted(line.part_id))
            if seen & accepted:
                return True
            seen |= accepted
        return False
