"""The simulated world: frozen dataclasses that what-if transforms replace piece by piece.

Built once from a base world's rows (`scenarios.base`), then changed only through
`dataclasses.replace` (`scenarios.whatif`), so every variant shares the base untouched.
Time is integer seconds from `epoch` (00:00 local on the scenario's start date).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from dispatch.calendar import WeeklyShift
from dispatch.durations import DurationPolicy
from dispatch.labour import DEFAULT_LABOUR_RULES, LabourRules
from dispatch.promises import SeverityOffsets
from inventory.depot_times import DEFAULT_PICK_MIN, DEFAULT_TRANSIT_HOURS
from optimizer import DIVERT_ENGINEERS, MAKE_ROOM_ENGINEERS, ClockPenalties, Location, SpeedProfile

StockKey = tuple[int, int]  # (depot id, part id)
SEVERITY_CLASSES = ("urgent", "serious", "general")  # rank 1, 2, 3 and below


def severity_class(rank: int) -> str:
    """The reporting class of a severity rank (P1-P4 fold onto urgent/serious/general)."""
    return SEVERITY_CLASSES[min(max(rank, 1), 3) - 1]


@dataclass(frozen=True, slots=True)
class SimEngineer:
    id: int
    region_id: int
    home: Location
    skills: Mapping[str, int]
    shifts: tuple[WeeklyShift, ...]
    van_depot_id: int | None
    cost_per_hour: Decimal = Decimal(0)
    cost_per_km: Decimal = Decimal(0)
    labour: LabourRules = DEFAULT_LABOUR_RULES  # his group's, region's or the defaults
    on_call: tuple[WeeklyShift, ...] = ()  # not working time: he may be called out


@dataclass(frozen=True, slots=True)
class SimDepot:
    id: int
    code: str
    region_id: int
    location: Location | None  # None for a van (it rides with its engineer)
    kind: str
    pick_s: int = 60 * DEFAULT_PICK_MIN  # picking at its counter (`depots.pick_min`)


@dataclass(frozen=True, slots=True)
class SimSite:
    id: int
    region_id: int
    location: Location
    policy_id: int
    dedicated_engineer_id: int | None
    rural: bool = False


@dataclass(frozen=True, slots=True)
class SimAsset:
    id: int
    site_id: int
    model_id: int
    line: str
    installed_on: date
    accepted_on: date | None
    has_warranty_record: bool


@dataclass(frozen=True, slots=True)
class SimPart:
    id: int
    sku: str
    line: str
    cost_price: Decimal
    key_part: bool
    supplier_id: int


@dataclass(frozen=True, slots=True)
class SimSeverity:
    code: str
    rank: int
    offsets: SeverityOffsets
    penalties: ClockPenalties = ClockPenalties()


@dataclass(frozen=True, slots=True)
class SimPolicy:
    id: int
    code: str
    warranty_years: int
    currency: str
    ship_within_min: int
    swap_within_min: int
    severities: tuple[SimSeverity, ...]  # by rank
    durations: DurationPolicy = DurationPolicy()  # how safely its jobs are planned
    # engineers asked to make room for a ticket's arrival (promise_policies, dispatch.room)
    make_room_engineers: int = MAKE_ROOM_ENGINEERS
    # engineers driving to a visit asked to take a ticket first (promise_policies, dispatch.room)
    divert_engineers: int = DIVERT_ENGINEERS

    def by_rank(self, rank: int) -> SimSeverity:
        """The severity of a rank, or the policy's least severe one beyond its ranks."""
        return self.severities[min(rank, len(self.severities)) - 1]


@dataclass(frozen=True, slots=True)
class TicketType:
    id: int
    line: str
    service_min: int
    required_level: int


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span of the horizon, in seconds from the epoch."""

    start_s: int
    end_s: int

    def covers(self, at: int) -> bool:
        return self.start_s <= at < self.end_s


@dataclass(frozen=True, slots=True)
class Surge:
    region_id: int
    factor: float
    period: Period


# Relative ticket arrival weights by local hour (0-23) and weekday (Monday first): the default
# peaks in business hours (09-12 and 14-17 about 1.8x the daily mean, the small hours about a
# fifth of it) and on working days (weekends about 0.6x); docs/scenarios.md, "Demand profile".
BUSINESS_HOURS: tuple[float, ...] = (
    0.3, 0.25, 0.2, 0.2, 0.2, 0.25, 0.4, 0.7, 1.3, 1.8, 1.9, 1.8,
    1.3, 1.4, 1.8, 1.8, 1.6, 1.2, 0.9, 0.7, 0.6, 0.5, 0.4, 0.35,
)  # fmt: skip
WORKING_WEEK: tuple[float, ...] = (1.15, 1.1, 1.1, 1.1, 1.1, 0.8, 0.65)


@dataclass(frozen=True, slots=True)
class ArrivalProfile:
    """When tickets arrive: relative weights by local hour and by weekday (Monday first).

    Only the shape matters: the weights are scaled so that a whole week keeps the region's
    mean tickets per day. All ones is the flat (homogeneous) rate.
    """

    hours: tuple[float, ...] = BUSINESS_HOURS
    weekdays: tuple[float, ...] = WORKING_WEEK

    def __post_init__(self) -> None:
        for name, values, n in (("hours", self.hours, 24), ("weekdays", self.weekdays, 7)):
            if len(values) != n or min(values) < 0 or sum(values) <= 0:
                raise ValueError(f"{name}: {n} weights >= 0, not all zero")

    @property
    def flat(self) -> bool:
        return len(set(self.hours)) == 1 and len(set(self.weekdays)) == 1


FLAT_ARRIVALS = ArrivalProfile((1.0,) * 24, (1.0,) * 7)


VAN_REFILL_H = 12.0  # a van is refilled from a depot of its region by his next shift
UNSOURCED_LEAD_DAYS = 7.0  # a part without a supplier: its order arrives after this long


@dataclass(frozen=True, slots=True)
class RestockPolicy:
    """How the simulator restocks below a reorder point (defaults: docs/scenarios.md).

    A van is refilled by a transfer from a depot of its region that has the units, which
    takes `van_refill_s`; a depot orders from the part's supplier (its `lead_time_hours`),
    or, for a part without one, waits `unsourced_lead_s`. The scenario's `restock:` data.
    """

    van_refill_s: int = round(VAN_REFILL_H * 3_600)
    unsourced_lead_s: int = round(UNSOURCED_LEAD_DAYS * 86_400)


@dataclass(frozen=True, slots=True)
class ReturnsPolicy:
    """What happens to the faulty unit a swap takes out (defaults: docs/scenarios.md).

    The engineer carries it until he next picks parts at a depot and drops it there; after
    `carry_h` without such a visit it is couriered (`courier_h`) to the depot nearest the
    site. The depot inspects it (`inspect_h`); a `repairable_share` of units is repaired
    (`repair_days`) back onto that depot's shelf, the rest are scrapped.
    """

    enabled: bool = True
    warranty_only: bool = True  # only parts swapped free under warranty go back (domain)
    carry_h: float = 24.0
    courier_h: float = 24.0
    inspect_h: float = 24.0
    repairable_share: float = 0.6
    repair_days: float = 5.0
    seed: int = 0  # the scenario's: which units are repairable is common to all variants


@dataclass(frozen=True, slots=True)
class LoanerRates:
    """The cost of lending a unit while a fix overruns its promise (contract currency)."""

    per_loan: Decimal = Decimal("200")  # handling: courier both ways, refurbishing
    per_day: Decimal = Decimal("50")  # each started day from the fix deadline to the fix


@dataclass(frozen=True)
class SimWorld:
    """Everything the simulation reads; replaced, never mutated."""

    epoch: datetime
    timezone: str
    regions: Mapping[int, str]  # id -> code
    engineers: tuple[SimEngineer, ...]
    depots: tuple[SimDepot, ...]
    stock: Mapping[StockKey, int]  # starting on hand (vans included)
    reorder_points: Mapping[StockKey, int]
    parts: Mapping[int, SimPart]
    part_fits: Mapping[int, tuple[int, ...]]  # product model -> parts that fit
    substitutes: Mapping[int, tuple[int, ...]]
    supplier_lead_s: Mapping[int, int]
    sites: tuple[SimSite, ...]
    assets_by_site: Mapping[int, tuple[SimAsset, ...]]
    policies: Mapping[int, SimPolicy]
    ticket_types: tuple[TicketType, ...]
    # courier time to a site by supplier id (`suppliers.transit_hours`; absent: the default)
    supplier_transit_s: Mapping[int, int] = field(default_factory=dict)
    travel_speed: float = 1.0
    speed_by_hour: SpeedProfile = SpeedProfile()  # rush hours (the scenario's; free flow here)
    outages: Mapping[int, tuple[Period, ...]] = field(default_factory=dict)  # depot id
    strikes: Mapping[int, tuple[Period, ...]] = field(default_factory=dict)  # engineer id
    surges: tuple[Surge, ...] = ()
    returns: ReturnsPolicy = ReturnsPolicy()
    restock: RestockPolicy = RestockPolicy()
    loaners: LoanerRates = LoanerRates()
    # arrival profiles learnt from the base world's service log, by region id (none: no log)
    learnt_arrivals: Mapping[int, ArrivalProfile] = field(default_factory=dict)
    # finished jobs of the base world's log as (ticket type id, standard s, actual s): the
    # planning durations start from them (dispatch.durations)
    duration_history: tuple[tuple[int, int, int], ...] = ()

    def region_id(self, code: str) -> int:
        """The id of a region code (ValueError naming the code when unknown)."""
        for rid, rcode in self.regions.items():
            if rcode == code:
                return rid
        raise ValueError(f"region {code!r} is not in the base world")

    def transit_s(self, supplier_id: int) -> int:
        """A supplier's courier time to a site (its row's, else the documented default)."""
        return self.supplier_transit_s.get(supplier_id, 3_600 * DEFAULT_TRANSIT_HOURS)

    def depot(self, code: str) -> SimDepot:
        """The depot of a code (ValueError naming the code when unknown)."""
        for depot in self.depots:
            if depot.code == code:
                return depot
        raise ValueError(f"depot {code!r} is not in the base world")
