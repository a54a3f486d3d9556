"""Candidates of one recommendation: the vectorised screen and each candidate's plan.

`screen_engineers` filters all engineers at once (skills, ready time, travel, shifts, too
far) and orders the candidates by a lower bound of their rank key (see
`optimizer.assignment`). `chunk_options` then builds the exact plan of a chunk of
candidates: parts from the van, via the depot that gets him there first, or by shipment.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import numpy.typing as npt

from optimizer.model import PartLine, Ticket
from optimizer.params import RecommendParams
from optimizer.penalties import ClockPenalties, clock_cost
from optimizer.result import Option, PartsPlan, PartsSource, PartUse, Promise, PromiseCheck
from optimizer.schedule import first_fit, open_at
from optimizer.sourcing import (
    Shipment,
    best_shipment,
    depots_covering,
    split_van,
    uses_from,
    van_covers,
)
from optimizer.travel import TravelTimes
from optimizer.world import FAR, DispatchWorld

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
FloatArray = npt.NDArray[np.float64]

# Slack on the lower bounds for float rounding in a travel model's triangle inequality.
TOLERANCE_S = 2
TOLERANCE_M = 10


@dataclass(eq=False)
class Call:
    """One `recommend` call: its inputs and what it computes at most once."""

    world: DispatchWorld
    ticket: Ticket
    now: int
    travel: TravelTimes
    params: RecommendParams
    site: FloatArray = field(init=False)
    parts_failed: list[int] = field(default_factory=list)
    evaluated: dict[int, Option | None] = field(default_factory=dict)
    _depot_to_site: tuple[IntArray, IntArray] | None = None
    _covering: dict[tuple[PartLine, ...], BoolArray] = field(default_factory=dict)
    _shipments: dict[tuple[PartLine, ...], Shipment | None] = field(default_factory=dict)
    _depot_uses: dict[tuple[tuple[PartLine, ...], int], tuple[PartUse, ...]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        self.site = np.array([[self.ticket.site.lat, self.ticket.site.lon]], dtype=np.float64)

    @property
    def ship_by(self) -> int:
        """The ship promise's deadline."""
        return self.ticket.ship_by(self.params.ship_within_s)

    def depot_to_site(self) -> tuple[IntArray, IntArray]:
        """Seconds and metres from every depot to the site (computed once, on demand)."""
        if self._depot_to_site is None:
            coords = self.world.depot_arrays.coords
            if len(coords):
                self._depot_to_site = self.travel.many_to_one(coords, self.site)
            else:
                empty = np.zeros(0, dtype=np.int64)
                self._depot_to_site = (empty, empty)
        return self._depot_to_site

    def covering(self, lines: tuple[PartLine, ...]) -> BoolArray:
        """Depot rows whose stock covers ``lines`` (cached per line set)."""
        if lines not in self._covering:
            self._covering[lines] = depots_covering(self.world, self.ticket, lines)
        return self._covering[lines]

    def shipment(self, lines: tuple[PartLine, ...]) -> Shipment | None:
        """The best shipment of ``lines`` (cached per line set)."""
        if lines not in self._shipments:
            self._shipments[lines] = best_shipment(
                self.world, self.ticket, lines, now=self.now, ship_by=self.ship_by,
                depot_to_site_s=self.depot_to_site()[0],
            )  # fmt: skip
        return self._shipments[lines]

    def depot_uses(self, lines: tuple[PartLine, ...], row: int) -> tuple[PartUse, ...]:
        """The parts depot row ``row`` (covering ``lines``) supplies; once per call, since
        every candidate picking up there takes the same."""
        key = (lines, row)
        if key not in self._depot_uses:
            self._depot_uses[key] = uses_from(self.ticket, lines, self.world.depots[row].stock)
        return self._depot_uses[key]


@dataclass(frozen=True, eq=False)
class Screen:
    """The vectorised screen: arrays over skill-qualified rows, and the candidates' order.

    ``rows`` are the engineer rows with every skill; the other arrays align with ``rows``.
    ``candidate`` marks those whose straight visit fits a shift and who are not too far;
    ``order`` lists candidate positions in increasing lower-bound order.
    """

    skill_ok: BoolArray
    rows: IntArray
    ready: IntArray
    origins: FloatArray
    travel_s: IntArray
    travel_m: IntArray
    overtime: IntArray  # (m, k): allowed seconds past each shift window's end
    fits: BoolArray
    shift: IntArray
    depart: IntArray
    near: BoolArray
    dedicated: BoolArray
    candidate: BoolArray
    van_ok: BoolArray
    lb: tuple[IntArray, IntArray, IntArray, IntArray, IntArray]
    order: IntArray
    latest_fix: IntArray  # FAR, or the fix that still lets his committed visit arrive (gap)
    heads_home: IntArray  # when he heads home if idle (`optimizer.standing.heads_home_at`)

    def lower_bound(self, pos: int) -> tuple[int, int, int, int, int]:
        """The lower bound of the rank key of candidate position ``pos``."""
        return tuple(int(a[pos]) for a in self.lb)  # type: ignore[return-value]

    def arrival(self, pos: int) -> int:
        """The straight-drive arrival of position ``pos``."""
        return int(self.depart[pos] + self.travel_s[pos])


def skill_mask(world: DispatchWorld, ticket: Ticket) -> BoolArray:
    """Return, per engineer row, whether he holds every required skill at its level."""
    arrays = world.engineer_arrays
    ok = np.ones(len(world.engineers), dtype=np.bool_)
    for line, level in ticket.skills.items():
        col = arrays.skill_col.get(line)
        if col is None:
            return np.zeros_like(ok)
        ok &= arrays.skill_level[:, col] >= level
    return ok


def _costs(
    p: ClockPenalties, penalty: int, deadline: int | None, at: IntArray,
    after_job: BoolArray | None = None,
) -> IntArray:  # fmt: skip
    """`optimizer.penalties.clock_cost` over an array of event times (``after_job`` per
    entry: the visit follows another job of his, so the slack is the margin)."""
    if deadline is None or penalty == 0:
        return np.zeros_like(at)
    late = at - deadline
    margin: IntArray | int = p.margin_s(False)
    if after_job is not None:
        margin = np.where(after_job, p.margin_s(True), p.margin_s(False))
    risk = np.where(late > -margin, penalty * p.at_risk_pct // 100, 0)
    return np.where(late > 0, penalty + penalty * p.late_pct_per_hour * late // 360_000, risk)


def _clock_bound(call: Call, depart: IntArray, arrival: IntArray, after: BoolArray) -> IntArray:
    """Penalties of a plan departing at ``depart`` and arriving at ``arrival`` (parts aside).

    Monotone in both, so lower bounds of the departure and arrival give a lower bound of
    the clock costs of any plan of the candidate (its swap and ship clocks cost >= 0).
    ``after``: the candidate finishes another job first (the slack applies to every clock).
    """
    t = call.ticket
    p = t.prices
    return (
        _costs(p, p.depart, t.depart_by, depart, after)
        + _costs(p, p.arrive, t.arrive_by, arrival, after)
        + _costs(p, p.fix, t.fix_by, arrival + t.service_s, after)
    )


def screen_engineers(call: Call) -> Screen:
    """Screen every engineer at once and order the candidates by their lower bound."""
    world, arrays, now = call.world, call.world.engineer_arrays, call.now
    skill_ok = skill_mask(world, call.ticket)
    rows = np.flatnonzero(skill_ok).astype(np.int64)
    busy = arrays.busy_until[rows] > now
    ready = np.maximum(now, arrays.busy_until[rows])
    origins = np.where(busy[:, None], arrays.busy_coords[rows], arrays.coords[rows])
    if rows.size:
        travel_s, travel_m = (a.copy() for a in call.travel.many_to_one(origins, call.site))
    else:
        travel_s = travel_m = np.zeros(0, dtype=np.int64)
    own = arrays.overtime_s[rows]
    if call.params.overtime_s is not None:
        own = np.full_like(own, call.params.overtime_s)
    overtime = np.minimum(own[:, None], arrays.overtime_room[rows])
    depart, shift, fits, heads = _fit(call, rows, overtime, ready, origins, travel_s, travel_m)
    latest_fix = np.full(rows.size, FAR, dtype=np.int64)
    _fill_gaps(call, rows, overtime,
               (ready, origins, travel_s, travel_m, depart, shift, fits, heads),
               latest_fix)  # fmt: skip
    # he finishes another job first (a gap's chain included): as `make_option` decides it
    after = ready > now
    near = travel_s <= call.params.max_travel_s
    dedicated = arrays.ids[rows] == (
        -1 if call.ticket.dedicated_engineer is None else call.ticket.dedicated_engineer
    )
    site_rows = arrays.dedicated_rows.get(call.ticket.site_id)
    if site_rows is not None:
        dedicated |= np.isin(rows, site_rows)
    candidate = fits & near
    van_ok = van_covers(world, call.ticket)[rows] if call.ticket.parts else np.ones_like(fits)
    lb_arrival = depart + travel_s - TOLERANCE_S
    # Every plan of a candidate departs no earlier than ``depart`` (its pickups start in
    # the same shift or a later one), so ``depart`` decides its depart clock exactly; a
    # pickup's detour is never shorter than the straight drive (triangle inequality), so the
    # straight drive bounds the travel cost; overtime costs >= 0.
    t = call.ticket
    tier = np.zeros_like(depart) if t.depart_by is None else (depart > t.depart_by).astype(np.int64)
    drive = np.maximum(travel_s - TOLERANCE_S, 0)
    metres = np.maximum(travel_m - TOLERANCE_M, 0)
    cost = (
        _clock_bound(call, depart, lb_arrival, after)
        + arrays.cost_per_hour[rows] * drive // 3_600
        + arrays.cost_per_km[rows] * metres // 1_000
    )
    not_dedicated = (~dedicated).astype(np.int64)
    ids = arrays.ids[rows]
    order = np.lexsort((ids, lb_arrival, not_dedicated, cost, tier))
    order = order[candidate[order]]
    return Screen(
        skill_ok, rows, ready, origins, travel_s, travel_m, overtime, fits, shift, depart, near,
        dedicated, candidate, van_ok, (tier, cost, not_dedicated, lb_arrival, ids), order,
        latest_fix, heads,
    )  # fmt: skip


def heads_home(ready: IntArray, start: IntArray, end: IntArray) -> IntArray:
    """`optimizer.standing.heads_home_at` per row: the end of the shift window (row of
    ``start``, ``end``) that ``ready`` falls in, else ``ready`` itself."""
    inside = (start <= ready[:, None]) & (ready[:, None] < end)
    return np.where(inside.any(axis=1), np.where(inside, end, -FAR).max(axis=1), ready)


def _fit(
    call: Call, rows: IntArray, overtime: IntArray, ready: IntArray, origins: FloatArray,
    travel_s: IntArray, travel_m: IntArray,
) -> tuple[IntArray, IntArray, BoolArray, IntArray]:  # fmt: skip
    """The first shift each row's straight visit fits in, and when he heads home.

    He sets off from ``origins`` when he leaves at once or within the shift he is free in;
    a departure after that shift's end sets off from home (`optimizer.sets_off_from`, the
    rule the simulator's engineers drive by): those rows are fitted again from home, over
    the later shifts only, and ``origins`` and the travel arrays are overwritten in place.
    """
    arrays = call.world.engineer_arrays
    service = call.ticket.service_s
    start, end = arrays.shift_start[rows], arrays.shift_end[rows]
    depart, shift, fits = first_fit(ready, travel_s + service, start, end, overtime)
    heads = heads_home(ready, start, end)
    home = arrays.home_coords[rows]
    straight_on = fits & ((depart <= ready) | (depart < heads))
    away = arrays.has_home[rows] & (origins != home).any(axis=1)
    redo = np.flatnonzero(~straight_on & away)
    if redo.size == 0:
        return depart, shift, fits, heads
    h_s, h_m = call.travel.many_to_one(home[redo], call.site)
    later = end[redo] > heads[redo, None]  # windows after the one he is free in
    h_depart, h_shift, h_fits = first_fit(
        ready[redo], h_s + service, np.where(later, start[redo], -FAR),
        np.where(later, end[redo], -FAR), overtime[redo],
    )  # fmt: skip
    origins[redo], travel_s[redo], travel_m[redo] = home[redo], h_s, h_m
    depart[redo], shift[redo], fits[redo] = h_depart, h_shift, h_fits
    return depart, shift, fits, heads


def _fill_gaps(
    call: Call, rows: IntArray, overtime: IntArray,
    screen: tuple[
        IntArray, FloatArray, IntArray, IntArray, IntArray, IntArray, BoolArray, IntArray
    ],
    latest_fix: IntArray,
) -> None:  # fmt: skip
    """Where the visit fits an engineer's gap before a committed visit, plan it there.

    He leaves when his back-to-back work ends, from where it ends, and must finish early
    enough to drive to the committed site by its planned arrival (`optimizer.reserved`);
    the screen's arrays are overwritten in place for those rows, ``latest_fix`` keeps that
    bound for the exact plan (a pickup or shipment must not push the fix past it).
    """
    arrays = call.world.engineer_arrays
    pos = np.flatnonzero(arrays.gap_ready[rows] > -FAR)
    if pos.size == 0:
        return
    ready, origins, travel_s, travel_m, depart, shift, fits, heads = screen
    g = rows[pos]
    service = call.ticket.service_s
    g_ready = np.maximum(call.now, arrays.gap_ready[g])
    g_origins = arrays.gap_origin[g].copy()
    g_s, g_m = (a.copy() for a in call.travel.many_to_one(g_origins, call.site))
    g_depart, g_shift, g_fits, g_heads = _fit(call, g, overtime[pos], g_ready, g_origins, g_s, g_m)
    back_s, _ = call.travel.matrix(call.site, arrays.gap_back[g])
    latest = arrays.gap_back_by[g] - back_s[0]
    ok = g_fits & (g_depart + g_s + service <= latest)
    at = pos[ok]
    ready[at], origins[at], heads[at] = g_ready[ok], g_origins[ok], g_heads[ok]
    travel_s[at], travel_m[at] = g_s[ok], g_m[ok]
    depart[at], shift[at], fits[at] = g_depart[ok], g_shift[ok], True
    latest_fix[at] = latest[ok]


def make_option(
    call: Call, screen: Screen, pos: int, *, depart: int, arrival: int, plan: PartsPlan,
    travel: tuple[int, int], shift: int,
) -> Option:  # fmt: skip
    """Build a candidate's option (in shift ``shift``) with its promise checks and costs."""
    t = call.ticket
    p = t.prices
    start_work = max(arrival, plan.part_arrives_at or arrival)
    fixes_at = start_work + t.service_s
    checks = []
    # he finishes another job first: its overrun would delay this visit, so the slack applies
    after_job = bool(screen.ready[pos] > call.now)

    def check(promise: Promise, penalty: int, deadline: int, at: int, after: bool = False) -> None:
        cost = clock_cost(penalty, deadline, at, p, after_job=after)
        checks.append(PromiseCheck(promise, deadline, at, cost, p.margin_s(after), after))

    if t.depart_by is not None:  # a job overrunning before it makes the departure late too
        check(Promise.DEPART, p.depart, t.depart_by, depart, after_job)
    if t.arrive_by is not None:
        check(Promise.ARRIVAL, p.arrive, t.arrive_by, arrival, after_job)
    if t.fix_by is not None:
        check(Promise.FIX, p.fix, t.fix_by, fixes_at, after_job)
    swap_by = t.swap_by
    # The swap promise holds for parts in stock, however they travel (van, pickup, or a
    # depot's courier); a supplier's shipment has the ship promise only.
    from_stock = plan.source in (PartsSource.VAN, PartsSource.PICKUP) or (
        plan.source is PartsSource.SHIPMENT and plan.supplier_id is None
    )
    if swap_by is not None and from_stock:
        check(Promise.SWAP, p.swap, swap_by, fixes_at)
    if (
        plan.source is PartsSource.SHIPMENT
        and plan.ship_by is not None
        and plan.ships_at is not None
    ):
        check(Promise.SHIP, p.ship, plan.ship_by, plan.ships_at)
    arrays = call.world.engineer_arrays
    row = int(screen.rows[pos])
    overtime = max(0, fixes_at - int(arrays.shift_end[row, shift]))
    return Option(
        int(arrays.ids[row]), depart, arrival, fixes_at, plan, tuple(checks), travel[0],
        travel[1], bool(screen.dedicated[pos]),
        travel_cost=int(arrays.cost_per_hour[row]) * travel[0] // 3_600
        + int(arrays.cost_per_km[row]) * travel[1] // 1_000,
        overtime_s=overtime, overtime_cost=int(arrays.overtime_cost[row]) * overtime // 3_600,
    )  # fmt: skip


def _direct(call: Call, screen: Screen, pos: int, plan: PartsPlan) -> Option:
    return make_option(
        call, screen, pos, depart=int(screen.depart[pos]), arrival=screen.arrival(pos), plan=plan,
        travel=(int(screen.travel_s[pos]), int(screen.travel_m[pos])),
        shift=int(screen.shift[pos]),
    )  # fmt: skip


def plan_key(option: Option) -> tuple[int, int, bool, int]:
    """How one candidate's parts plans compare: depart clock kept, least cost, a pickup
    (the part in hand, not waited for), arrival."""
    return (
        int(option.departs_late), option.cost, option.parts.source is not PartsSource.PICKUP,
        option.arrives_at,
    )  # fmt: skip


def choose_plan(pickup: Option | None, shipment: Option | None) -> Option | None:
    """Pick the better of a candidate's pickup and shipment plans (`plan_key`)."""
    found = [o for o in (pickup, shipment) if o is not None]
    return min(found, key=plan_key) if found else None


def chunk_options(call: Call, screen: Screen, chunk: IntArray) -> list[Option | None]:
    """Return the exact option of each candidate position in ``chunk`` (``None``: no parts)."""
    ticket = call.ticket
    out: list[Option | None] = [None] * len(chunk)
    groups: dict[tuple[PartLine, ...], list[tuple[int, int, tuple[PartUse, ...]]]] = {}
    for j, pos in enumerate(int(p) for p in chunk):
        engineer = call.world.engineers[int(screen.rows[pos])]
        if not ticket.parts:
            out[j] = _direct(call, screen, pos, PartsPlan(PartsSource.NONE))
            continue
        if ticket.parts_underway is not None:  # shipped at intake: every option waits for it
            out[j] = _direct(call, screen, pos, ticket.parts_underway)
            continue
        van_uses, missing = (
            split_van(ticket, engineer.van_stock) if engineer.van_stock else ((), ticket.parts)
        )
        if not missing:
            out[j] = _direct(call, screen, pos, PartsPlan(PartsSource.VAN, van_uses))
        else:
            groups.setdefault(missing, []).append((j, pos, van_uses))
    for missing, members in groups.items():
        positions = np.array([pos for _, pos, _ in members], dtype=np.int64)
        pickups = _pickups(call, screen, positions, missing, [uses for _, _, uses in members])
        shipment = call.shipment(missing)
        for (j, pos, van_uses), pickup in zip(members, pickups, strict=True):
            shipped = None
            if shipment is not None:
                plan = _with_van(shipment.plan, van_uses)
                shipped = _direct(call, screen, pos, plan)
            out[j] = choose_plan(pickup, shipped)
            if out[j] is None:
                call.parts_failed.append(int(call.world.engineer_arrays.ids[screen.rows[pos]]))
    for j, pos in enumerate(int(p) for p in chunk):
        option = out[j]
        if option is not None and option.fixes_at > int(screen.latest_fix[pos]):
            out[j] = None  # the parts plan ends too late for his committed visit
    return out


def _with_van(plan: PartsPlan, van_uses: tuple[PartUse, ...]) -> PartsPlan:
    if not van_uses:
        return plan
    return replace(plan, uses=van_uses + plan.uses)


def _pickups(
    call: Call, screen: Screen, positions: IntArray, missing: tuple[PartLine, ...],
    van_uses: list[tuple[PartUse, ...]],
) -> list[Option | None]:  # fmt: skip
    """Exact pickup options of candidates sharing the same missing lines (vectorised)."""
    depots = np.flatnonzero(call.covering(missing))
    if depots.size == 0:
        return [None] * len(positions)
    world = call.world
    to_depot_s, to_depot_m = call.travel.matrix(
        screen.origins[positions], world.depot_arrays.coords[depots]
    )
    # a pickup in a later shift than the one he is free in sets off from home
    rows = screen.rows[positions]
    home = world.engineer_arrays.home_coords[rows]
    away = world.engineer_arrays.has_home[rows] & (screen.origins[positions] != home).any(axis=1)
    home_s, home_m = to_depot_s, to_depot_m
    if away.any():
        home_s, home_m = call.travel.matrix(home, world.depot_arrays.coords[depots])
    from_s, from_m = (a[depots] for a in call.depot_to_site())
    pick = np.array(
        [
            world.depots[d].pick_s if world.depots[d].pick_s is not None else call.params.pick_s
            for d in depots
        ]
    )
    openings = [world.depots[d].opening for d in depots]
    out: list[Option | None] = []
    for i, pos in enumerate(int(p) for p in positions):
        out.append(
            _pickup_one(
                call,
                screen,
                pos,
                depots,
                (to_depot_s[i], to_depot_m[i]),
                (home_s[i], home_m[i]) if away[i] else None,
                (from_s, from_m),
                pick,
                missing,
                van_uses[i],
                openings,
            )
        )
    return out


def _pickup_one(
    call: Call, screen: Screen, pos: int, depots: IntArray, leg1: tuple[IntArray, IntArray],
    from_home: tuple[IntArray, IntArray] | None, leg2: tuple[IntArray, IntArray],
    pick: IntArray, missing: tuple[PartLine, ...], van_uses: tuple[PartUse, ...],
    openings: list[tuple[tuple[int, int], ...]],
) -> Option | None:  # fmt: skip
    """The earliest-arriving pickup of one candidate over the shifts where it fits
    (``from_home``: his first leg from home, for a departure after the shift he is free in,
    `optimizer.sets_off_from`; None: he is there already)."""
    world, row = call.world, int(screen.rows[pos])
    arrays = world.engineer_arrays
    service = call.ticket.service_s
    ready, heads = int(screen.ready[pos]), int(screen.heads_home[pos])
    first = leg1
    for k in range(int(screen.shift[pos]), arrays.shift_start.shape[1]):
        end = int(arrays.shift_end[row, k])
        if end <= -FAR:
            break
        depart = max(ready, int(arrays.shift_start[row, k]))
        went_home = from_home is not None and depart > ready and depart >= heads
        leg1 = from_home if went_home and from_home is not None else first
        at_depot = open_at(openings, depart + leg1[0])
        at_site = at_depot + pick + leg2[0]
        best = int(np.argmin(at_site))
        arrival = int(at_site[best])
        if arrival >= FAR or arrival + service > end + int(screen.overtime[pos, k]):
            continue
        depot = world.depots[int(depots[best])]
        plan = PartsPlan(
            PartsSource.PICKUP, van_uses + call.depot_uses(missing, int(depots[best])),
            depot_id=depot.id, pickup_at=int(at_depot[best]),
        )  # fmt: skip
        travel = (int(leg1[0][best] + leg2[0][best]), int(leg1[1][best] + leg2[1][best]))
        return make_option(
            call, screen, pos, depart=depart, arrival=arrival, plan=plan, travel=travel, shift=k
        )
    return None
