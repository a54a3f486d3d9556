"""Which stock each ticket may use: a min-cost flow from vans, depots and suppliers to tickets.

Scarce stock wanted by many tickets is allocated once, for the whole plan, so that the same
unit is never planned twice:

1. **Flow** (networkx network simplex). A super source feeds every source ``(van | depot |
   supplier, part)`` up to its available quantity; each source feeds the ticket lines it can
   supply (exact part or substitute). Every line also has an "unsupplied" arc. Arc costs,
   times the ticket's severity weight (so scarce units go to the most severe tickets first)::

       van of a qualified engineer     substitute rank        (van stock first)
       depot within pickup radius      rank + depot->site seconds + pick time
       shipment (far depot, supplier)  SHIP + seconds until the parts arrive
                                       (+ SHIP if it leaves after the ticket's ship_by)
       unsupplied                      UNSUPPLIED

2. **Alternatives.** A ticket's pickup may happen at its flow source or at other sources
   that still cover its lines from the *residual* stock; each alternative holds its own units
   (taken from the residual, severe tickets first), so whichever one the router chooses, no
   unit is promised twice.

A multi-line ticket picks up at one source: lines whose flow source differs from the
ticket's main source are shipped from their depot instead (couriers, not a second detour).
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import networkx as nx  # type: ignore[import-untyped]  # networkx ships no type hints
import numpy as np

from optimizer.candidates import skill_mask
from optimizer.deadline import Deadline
from optimizer.model import PartLine, Ticket
from optimizer.params import PlanParams
from optimizer.plan_result import Shipped
from optimizer.result import PartUse
from optimizer.schedule import next_open
from optimizer.sourcing import pick_part, take_whole
from optimizer.travel import TravelTimes
from optimizer.world import DispatchWorld

SHIP = 100_000
UNSUPPLIED = 10_000_000
# The network simplex takes about 3 times as long as listing its arcs took (1,000 tickets of
# the scaling benchmark: 4,300 arcs listed in 30 ms, solved in 90 ms idle; both slow down
# alike on a busy machine): below 4 times that much time left, `_greedy`.
_FLOW_PER_LISTING = 4.0
# After the listing, the greedy choice and each ticket's alternatives (`_supply`) take about
# a fifth of the time the listing took (1,000 tickets: 8 ms after 37 ms; they ran past the
# deadline by up to 10 ms when the listing was cut at it): kept out of the listing's time.
_AFTER_PER_LISTING = 0.3
Source = tuple[str, int]  # ("van", engineer row) | ("depot", depot row) | ("supplier", index)


@dataclass(frozen=True, slots=True)
class PickupOption:
    """One alternative pickup: at ``depot_id``, or from engineer ``van_of``'s own van."""

    depot_id: int | None
    van_of: int | None
    uses: tuple[PartUse, ...]


@dataclass(frozen=True, slots=True)
class TicketSupply:
    """How one ticket gets its parts.

    ``pickups`` are alternatives (one is visited before the ticket, on the same route);
    ``shipped`` parts arrive by courier, so service starts at ``ready_at`` at the earliest;
    ``missing`` lists line parts nobody has (the ticket cannot be planned), with the
    shortest lead time of a supplier that lists them (``supplier_lead_s``).
    """

    ticket_id: int
    pickups: tuple[PickupOption, ...] = ()
    shipped: tuple[Shipped, ...] = ()
    missing: tuple[int, ...] = ()
    supplier_lead_s: int | None = None

    @property
    def ready_at(self) -> int | None:
        """When the last shipped part arrives (``None``: nothing shipped)."""
        return max((s.arrives_at for s in self.shipped), default=None)


@dataclass(frozen=True, slots=True)
class _Arc:
    source: Source
    part: int  # the part this source gives (exact or substitute)
    cost: int
    ship: Shipped | None  # the shipment when this arc ships
    courier: Shipped | None = None  # a depot pickup's shipment, if the ticket picks elsewhere


def allocate(
    world: DispatchWorld,
    tickets: Sequence[Ticket],
    *,
    now: int,
    travel: TravelTimes,
    params: PlanParams,
    deadline: Deadline = Deadline.NONE,
) -> dict[int, TicketSupply]:
    """Allocate stock to every ticket's part lines (see the module docstring).

    Parameters
    ----------
    world
        Vans (engineers' ``van_stock``), depots and suppliers with their available stock.
    tickets
        The tickets to plan.
    now
        The planning moment (shipments are ordered now).
    travel
        Depot-to-site travel times.
    params
        Pickup radius, pick time, severity weights, alternatives per ticket.
    deadline
        When the allocation must be done (a share of the plan call's limit). The most
        urgent tickets are sourced first; those not reached by then get no entry (the caller
        drops them as out of time), and when too little time is left for the flow, each line
        takes its cheapest source with stock left, most urgent ticket first (`_greedy`).

    Returns
    -------
    dict
        ``{ticket id: TicketSupply}`` for every ticket (empty supply without parts), but
        those the deadline cut off.
    """
    needing = [t for t in tickets if t.parts and t.parts_underway is None]
    out = {t.id: _underway(t) for t in tickets}
    if not needing:
        return out
    sites = np.array([[t.site.lat, t.site.lon] for t in needing], dtype=np.float64)
    if len(world.depots):
        depot_s, _ = travel.matrix(world.depot_arrays.coords, sites)
    else:
        depot_s = np.zeros((0, len(needing)), dtype=np.int64)
    column = {t.id: i for i, t in enumerate(needing)}
    arcs: dict[tuple[int, int], list[_Arc]] = {}
    listing = time.monotonic()
    for t in needing if deadline.at is None else sorted(needing, key=_urgency):
        # keep time for choosing and for the alternatives of the tickets listed so far
        if deadline.left() <= _AFTER_PER_LISTING * (time.monotonic() - listing):
            del out[t.id]
            continue
        to_site = depot_s[:, column[t.id]]
        for line in t.parts:
            arcs[(t.id, line.part_id)] = _arcs(world, t, line, now, to_site, params)
    needing = [t for t in needing if t.id in out]
    if deadline.left() < (_FLOW_PER_LISTING + _AFTER_PER_LISTING) * (time.monotonic() - listing):
        chosen = _greedy(world, needing, arcs)
    else:
        chosen = _flow(world, needing, arcs, params)
    residual = _stock(world)
    for t in needing:
        for line in t.parts:
            arc = chosen.get((t.id, line.part_id))
            if arc is not None:
                residual[arc.source][arc.part] -= line.qty
    for t in sorted(needing, key=_urgency):
        out[t.id] = _supply(world, t, chosen, arcs, residual, params)
    return out


def _urgency(t: Ticket) -> tuple[int, int, int]:
    return (t.severity_rank, t.arrive_by or 0, t.id)


def _greedy(
    world: DispatchWorld, tickets: Sequence[Ticket], arcs: Mapping[tuple[int, int], list[_Arc]]
) -> dict[tuple[int, int], _Arc]:
    """The flow's fallback: each line its cheapest source with stock left, urgent first.

    The arc costs are the flow's (van, then the nearest depot, then shipments), so this is
    the flow without its exchanges between tickets: what a deadline too short for the
    network simplex still affords.
    """
    left = _stock(world)
    chosen: dict[tuple[int, int], _Arc] = {}
    for t in sorted(tickets, key=_urgency):
        for line in t.parts:
            for arc in sorted(arcs[(t.id, line.part_id)], key=lambda a: (a.cost, a.source)):
                if left[arc.source].get(arc.part, 0) >= line.qty:
                    left[arc.source][arc.part] -= line.qty
                    chosen[(t.id, line.part_id)] = arc
                    break
    return chosen


def _underway(t: Ticket) -> TicketSupply:
    """A ticket's supply before allocation: its shipment under way (ordered at intake,
    `optimizer.intake`), else nothing yet."""
    plan = t.parts_underway
    if plan is None or plan.ships_at is None or plan.part_arrives_at is None:
        return TicketSupply(t.id)
    shipped = Shipped(
        plan.uses, plan.depot_id, plan.supplier_id, plan.ships_at, plan.part_arrives_at,
        plan.ship_by,
    )  # fmt: skip
    return TicketSupply(t.id, shipped=(shipped,))


def _stock(world: DispatchWorld) -> dict[Source, dict[int, int]]:
    stock: dict[Source, dict[int, int]] = {}
    for row, e in enumerate(world.engineers):
        stock[("van", row)] = dict(e.van_stock)
    for row, d in enumerate(world.depots):
        stock[("depot", row)] = dict(d.stock)
    for k, s in enumerate(world.suppliers):
        stock[("supplier", k)] = dict(s.parts)
    return stock


def _arcs(
    world: DispatchWorld, t: Ticket, line: PartLine, now: int, to_site: np.ndarray,
    params: PlanParams,
) -> list[_Arc]:  # fmt: skip
    """Every source that can supply ``line`` whole, with its cost (before severity)."""
    arcs: list[_Arc] = []
    ship_by = t.ship_by(params.ship_within_s)  # the contract's promise, else the params'
    qualified = skill_mask(world, t) if len(t.parts) == 1 else np.zeros(0, dtype=np.bool_)
    for row_ in np.flatnonzero(qualified).tolist():
        part = pick_part(t, line, world.engineers[row_].van_stock)
        if part is not None:
            arcs.append(_Arc(("van", row_), part, 1 + t.accepted(line.part_id).index(part), None))
    for row, depot in enumerate(world.depots):
        part = pick_part(t, line, depot.stock)
        opens = next_open(depot.opening, now)
        if part is None or opens is None:
            continue
        rank = t.accepted(line.part_id).index(part)
        drive = int(to_site[row])
        leaves = opens + depot.ship_lead_s
        use = (PartUse(line.part_id, part, line.qty),)
        ship = Shipped(use, depot.id, None, leaves, leaves + drive, ship_by)
        if drive <= params.pickup_radius_s:
            pick = params.pick_s if depot.pick_s is None else depot.pick_s
            arcs.append(_Arc(("depot", row), part, 2 + rank + drive + pick, None, ship))
        else:
            cost = SHIP + _late_ship(leaves, ship_by) + rank + leaves + drive - now
            arcs.append(_Arc(("depot", row), part, cost, ship))
    for k, supplier in enumerate(world.suppliers):
        part = pick_part(t, line, supplier.parts)
        if part is None:
            continue
        leaves = now + supplier.lead_s
        ship = Shipped(
            (PartUse(line.part_id, part, line.qty),), None, supplier.id, leaves,
            leaves + supplier.transit_s, ship_by,
        )  # fmt: skip
        cost = SHIP + _late_ship(leaves, ship_by) + leaves + supplier.transit_s - now
        arcs.append(_Arc(("supplier", k), part, cost, ship))
    return arcs


def _late_ship(leaves: int, ship_by: int) -> int:
    """A shipment that breaks the ship promise ranks after every one that keeps it.

    Depot leaving at 10:00 for a ship-by of 12:00: 0; a supplier leaving at 14:00: `SHIP`,
    more than any difference of hours between two shipments (as `optimizer.sourcing`).
    """
    return SHIP if leaves > ship_by else 0


def _flow(
    world: DispatchWorld, tickets: Sequence[Ticket], arcs: Mapping[tuple[int, int], list[_Arc]],
    params: PlanParams,
) -> dict[tuple[int, int], _Arc]:  # fmt: skip
    """Solve the min-cost flow; return each supplied line's source arc."""
    graph = nx.DiGraph()
    total = sum(line.qty for t in tickets for line in t.parts)
    graph.add_node("S", demand=-total)
    stock = _stock(world)
    for t in tickets:
        weight = params.weight(t.severity_rank)
        for line in t.parts:
            node = ("line", t.id, line.part_id)
            graph.add_node(node, demand=line.qty)
            graph.add_edge("S", node, capacity=line.qty, weight=UNSUPPLIED * weight)
            for arc in arcs[(t.id, line.part_id)]:
                src = ("src", arc.source, arc.part)
                if not graph.has_edge("S", src):
                    graph.add_edge("S", src, capacity=stock[arc.source][arc.part], weight=0)
                graph.add_edge(src, node, capacity=line.qty, weight=arc.cost * weight)
    flow = nx.network_simplex(graph)[1]
    chosen: dict[tuple[int, int], _Arc] = {}
    committed = _stock(world)
    for t in tickets:
        for line in t.parts:
            node = ("line", t.id, line.part_id)
            used = [(flow[("src", a.source, a.part)].get(node, 0), a) for a in arcs[node[1:]]]
            used = [(f, a) for f, a in used if f > 0]
            if not used:
                continue
            best = max(used, key=lambda fa: (fa[0], -fa[1].cost))[1]
            if committed[best.source].get(best.part, 0) < line.qty:
                continue  # a split line that no longer fits whole (qty > 1): unsupplied
            committed[best.source][best.part] -= line.qty
            chosen[(t.id, line.part_id)] = best
    return chosen


def _supply(
    world: DispatchWorld, t: Ticket, chosen: Mapping[tuple[int, int], _Arc],
    arcs: Mapping[tuple[int, int], list[_Arc]], residual: dict[Source, dict[int, int]],
    params: PlanParams,
) -> TicketSupply:  # fmt: skip
    """One ticket's pickups (main source plus alternatives) and shipments."""
    missing = tuple(line.part_id for line in t.parts if (t.id, line.part_id) not in chosen)
    if missing:
        return TicketSupply(t.id, missing=missing, supplier_lead_s=_lead(world, t, missing))
    shipped: list[Shipped] = []
    pick_lines: dict[Source, list[PartLine]] = {}
    for line in t.parts:
        arc = chosen[(t.id, line.part_id)]
        if arc.ship is not None:
            shipped.append(arc.ship)
        else:
            pick_lines.setdefault(arc.source, []).append(line)
    if not pick_lines:
        return TicketSupply(t.id, shipped=tuple(shipped))
    main = max(pick_lines, key=lambda s: (len(pick_lines[s]), s))
    for source, others in pick_lines.items():
        for line in others if source != main else ():
            courier = chosen[(t.id, line.part_id)].courier  # one pickup per ticket
            if courier is not None:
                shipped.append(courier)
    lines = tuple(pick_lines[main])
    uses = tuple(
        PartUse(line.part_id, chosen[(t.id, line.part_id)].part, line.qty) for line in lines
    )
    options = [_option(world, main, uses)]
    for arc in sorted(arcs[(t.id, lines[0].part_id)], key=lambda a: (a.cost, a.source)):
        if len(options) >= params.max_alternatives:
            break
        stock = residual[arc.source]
        if arc.ship is not None or arc.source == main:
            continue
        alt = take_whole(t, lines, stock)
        if alt is not None:
            options.append(_option(world, arc.source, alt))
            for use in alt:
                stock[use.part_id] -= use.qty
    return TicketSupply(t.id, pickups=tuple(options), shipped=tuple(shipped))


def _option(world: DispatchWorld, source: Source, uses: tuple[PartUse, ...]) -> PickupOption:
    kind, row = source
    if kind == "van":
        return PickupOption(None, world.engineers[row].id, uses)
    return PickupOption(world.depots[row].id, None, uses)


def _lead(world: DispatchWorld, t: Ticket, missing: tuple[int, ...]) -> int | None:
    leads = [
        s.lead_s + s.transit_s
        for s in world.suppliers
        if any(p in s.parts for part_id in missing for p in t.accepted(part_id))
    ]
    return min(leads, default=None)
