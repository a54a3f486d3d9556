"""Which source supplies a ticket's parts: the van, a depot on the way, or a shipment.

The order of preference (the `optimizer.assignment` plan policy applies it per engineer):

1. the engineer's **van stock** covers every line: no detour;
2. otherwise the missing lines are picked up at **one depot with available stock**, the one
   that gets him to the site earliest (detour plus pick time included);
3. when no pickup keeps the promises, a **shipment** from a depot or a supplier that leaves
   within the ship promise (8 h by default), earliest arrival first.

A line is covered by its exact part or, when that is short, by a substitute of similar
function (``Ticket.substitutes``, best first); one line is never split across parts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from optimizer.model import PartLine, Ticket
from optimizer.result import PartsPlan, PartsSource, PartUse
from optimizer.schedule import next_open
from optimizer.world import DispatchWorld

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def pick_part(ticket: Ticket, line: PartLine, stock: Mapping[int, int]) -> int | None:
    """Return the part that supplies ``line`` from ``stock``: exact first, then substitutes.

    Parameters
    ----------
    ticket
        The ticket (its substitutes map).
    line
        The line to supply.
    stock
        ``{part_id: available qty}`` of one van, depot or supplier.

    Returns
    -------
    int or None
        The part id, or ``None`` when no accepted part has ``line.qty`` units.
    """
    for part in ticket.accepted(line.part_id):
        if stock.get(part, 0) >= line.qty:
            return part
    return None


def take_whole(
    ticket: Ticket, lines: Sequence[PartLine], stock: Mapping[int, int]
) -> tuple[PartUse, ...] | None:
    """Every one of ``lines`` from ``stock`` together, or ``None``.

    Lines are taken in order, each from what the earlier ones left (exact part first): two
    lines may land on the same part (one line's substitute is another's part), and each
    fitting alone does not mean both fit. This is the one rule for "a source covers lines".
    """
    taken: dict[int, int] = {}  # what earlier lines took (a depot's stock is not copied)
    uses = []
    for line in lines:
        part = _pick_left(ticket, line, stock, taken)
        if part is None:
            return None
        taken[part] = taken.get(part, 0) + line.qty
        uses.append(PartUse(line.part_id, part, line.qty))
    return tuple(uses)


def _pick_left(
    ticket: Ticket, line: PartLine, stock: Mapping[int, int], taken: Mapping[int, int]
) -> int | None:
    """`pick_part` from ``stock`` less what earlier lines ``taken``."""
    for part in ticket.accepted(line.part_id):
        if stock.get(part, 0) - taken.get(part, 0) >= line.qty:
            return part
    return None


def split_van(
    ticket: Ticket, van: Mapping[int, int]
) -> tuple[tuple[PartUse, ...], tuple[PartLine, ...]]:
    """Split a ticket's lines into those the van supplies and those still missing.

    In line order, each from what the earlier lines left in the van (see `take_whole`).
    """
    taken: dict[int, int] = {}
    uses: list[PartUse] = []
    missing: list[PartLine] = []
    for line in ticket.parts:
        part = _pick_left(ticket, line, van, taken)
        if part is None:
            missing.append(line)
        else:
            taken[part] = taken.get(part, 0) + line.qty
            uses.append(PartUse(line.part_id, part, line.qty))
    return tuple(uses), tuple(missing)


def van_covers(world: DispatchWorld, ticket: Ticket) -> BoolArray:
    """Return, per engineer row, whether his van supplies every line of the ticket."""
    n = len(world.engineers)
    covers = np.ones(n, dtype=np.bool_)
    for line in ticket.parts:
        line_ok = np.zeros(n, dtype=np.bool_)
        for part in ticket.accepted(line.part_id):
            entry = world.engineer_arrays.van.get(part)
            if entry is not None:
                rows, qty = entry
                line_ok[rows[qty >= line.qty]] = True
        covers &= line_ok
    if ticket.lines_share_parts:  # each line alone is not enough: check the rows together
        for row in np.flatnonzero(covers).tolist():
            van = world.engineers[row].van_stock
            covers[row] = take_whole(ticket, ticket.parts, van) is not None
    return covers


def depots_covering(world: DispatchWorld, ticket: Ticket, lines: tuple[PartLine, ...]) -> BoolArray:
    """Return, per depot row, whether its available stock supplies every one of ``lines``."""
    m = len(world.depots)
    covers = np.ones(m, dtype=np.bool_)
    for line in lines:
        line_ok = np.zeros(m, dtype=np.bool_)
        for part in ticket.accepted(line.part_id):
            column = world.depot_arrays.stock.get(part)
            if column is not None:
                line_ok |= column >= line.qty
        covers &= line_ok
    if ticket.lines_share_parts:  # each line alone is not enough: check the rows together
        for row in np.flatnonzero(covers).tolist():
            covers[row] = take_whole(ticket, lines, world.depots[row].stock) is not None
    return covers


def uses_from(
    ticket: Ticket, lines: tuple[PartLine, ...], stock: Mapping[int, int]
) -> tuple[PartUse, ...]:
    """Return the parts a covering source supplies for ``lines`` (see `take_whole`)."""
    found = take_whole(ticket, lines, stock)
    if found is None:  # callers pass covering sources only
        raise ValueError(f"lines: parts {[line.part_id for line in lines]} are not covered")
    return found


@dataclass(frozen=True, slots=True)
class Shipment:
    """A shipment candidate: its plan and the ship-promise order key."""

    plan: PartsPlan
    keeps_ship: bool


def best_shipment(
    world: DispatchWorld,
    ticket: Ticket,
    lines: tuple[PartLine, ...],
    *,
    now: int,
    ship_by: int,
    depot_to_site_s: IntArray,
) -> Shipment | None:
    """Return the shipment of ``lines`` that keeps the ship promise and arrives first.

    Sources are depots whose stock covers every line (they leave ``ship_lead_s`` after they
    next open and drive to the site) and suppliers that cover every line (``lead_s`` then
    ``transit_s``). Among those that leave by ``ship_by`` the earliest arrival wins; if none
    does, the earliest arrival of all (a broken ship promise). ``None``: no source at all.
    """
    best: tuple[tuple[int, int, int, int, int], PartsPlan] | None = None
    covering = depots_covering(world, ticket, lines)
    for row in np.flatnonzero(covering):
        depot = world.depots[int(row)]
        opens = next_open(depot.opening, now)
        if opens is None:
            continue
        leaves = opens + depot.ship_lead_s
        arrives = leaves + int(depot_to_site_s[row])
        plan = PartsPlan(
            PartsSource.SHIPMENT, uses_from(ticket, lines, depot.stock), depot_id=depot.id,
            ships_at=leaves, ship_by=ship_by, part_arrives_at=arrives,
        )  # fmt: skip
        key = (int(leaves > ship_by), arrives, leaves, 0, depot.id)
        if best is None or key < best[0]:
            best = (key, plan)
    for supplier in world.suppliers:
        if take_whole(ticket, lines, supplier.parts) is None:
            continue
        leaves = now + supplier.lead_s
        arrives = leaves + supplier.transit_s
        plan = PartsPlan(
            PartsSource.SHIPMENT, uses_from(ticket, lines, supplier.parts),
            supplier_id=supplier.id, ships_at=leaves, ship_by=ship_by, part_arrives_at=arrives,
        )  # fmt: skip
        key = (int(leaves > ship_by), arrives, leaves, 1, supplier.id)
        if best is None or key < best[0]:
            best = (key, plan)
    if best is None:
        return None
    return Shipment(best[1], keeps_ship=best[0][0] == 0)
