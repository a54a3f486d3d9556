"""Parts shipped when a ticket comes in: one rule for production's intake and the simulator's.

The contract promises a spare in stock in reach swapped within 2 hours and one not in stock
shipped within 8 hours (both policy data: the ticket's ``swap_within_s`` and
``ship_within_s``). A shipment ordered only when a visit is planned starts its courier late
whenever the ticket waits for an engineer; decided at intake, the ship clock is kept whenever
some source can ship in time (issue 16). `ship_at_intake` decides:

1. nothing to decide: the ticket needs no parts, has no swap promise, or its parts are
   already under way (``Ticket.parts_underway``);
2. a part **in reach** (`swap_in_reach`): an engineer's van where he stands, or a depot that
   is open or opens soon enough, covers every line (exact part or substitute, `take_whole`)
   and reaches the site within the swap promise: the swap promise applies and dispatch
   brings the part (van or pickup); nothing is shipped;
3. otherwise the best shipment of every line (`optimizer.sourcing.best_shipment`: a depot or
   supplier that leaves by the ship promise first, then the earliest arrival), or nothing
   when no source has the parts.

Callers reserve what a depot ships at once (production: one transaction with the ticket;
the simulator: the live balances), so a shipment decided here never oversells.
"""

from __future__ import annotations

import numpy as np

from optimizer.model import Ticket
from optimizer.result import PartsPlan
from optimizer.schedule import next_open
from optimizer.sourcing import best_shipment, depots_covering, take_whole
from optimizer.travel import TravelTimes, travel_at
from optimizer.world import DispatchWorld


def swap_in_reach(world: DispatchWorld, ticket: Ticket, *, now: int, travel: TravelTimes) -> bool:
    """Return whether stock in reach covers the ticket's parts within its swap promise.

    Parameters
    ----------
    world
        Vans (``Engineer.van_stock`` at ``Engineer.location``) and depots with their
        available stock.
    ticket
        The ticket: its lines, substitutes and ``swap_within_s``.
    now
        The moment of intake (time-axis offset).
    travel
        The travel model (resolved at ``now`` for rush hours).

    Returns
    -------
    bool
        True when one van or depot covers every line and its drive to the site (after the
        depot opens) ends within ``swap_within_s`` of ``now``; False without parts or promise.
    """
    if not ticket.parts or ticket.swap_within_s is None:
        return False
    reach = ticket.swap_within_s
    moment = travel_at(travel, world.at(now))
    site = np.array([[ticket.site.lat, ticket.site.lon]], dtype=np.float64)
    vans = [
        row
        for row, e in enumerate(world.engineers)
        if e.van_stock and take_whole(ticket, ticket.parts, e.van_stock) is not None
    ]
    if vans:
        seconds, _ = moment.many_to_one(world.engineer_arrays.coords[vans], site)
        if int(seconds.min()) <= reach:
            return True
    rows = np.flatnonzero(depots_covering(world, ticket, ticket.parts)).tolist()
    if not rows:
        return False
    seconds, _ = moment.many_to_one(world.depot_arrays.coords[rows], site)
    for k, row in enumerate(rows):
        opens = next_open(world.depots[row].opening, now)
        if opens is not None and opens - now + int(seconds[k]) <= reach:
            return True
    return False


def ship_at_intake(
    world: DispatchWorld, ticket: Ticket, *, now: int, travel: TravelTimes, ship_within_s: int
) -> PartsPlan | None:
    """Return the shipment to order when the ticket comes in, or ``None`` to leave it to dispatch.

    Parameters
    ----------
    world
        Vans, depots and suppliers with their available stock.
    ticket
        The new ticket (its ``ship_within_s``, else ``ship_within_s`` below, is the promise).
    now
        The moment of intake (time-axis offset); the courier's lead starts here.
    travel
        The travel model (depot to site drives; rush hours at ``now``).
    ship_within_s
        The ship promise of tickets without their own (the params' default).

    Returns
    -------
    PartsPlan or None
        A ``SHIPMENT`` plan (source depot or supplier, the parts it supplies, when it leaves,
        its ``ship_by`` and arrival), or ``None``: nothing needed, a part in reach (the swap
        promise applies), parts already under way, or no source has them.
    """
    if not ticket.parts or ticket.swap_within_s is None or ticket.parts_underway is not None:
        return None
    if swap_in_reach(world, ticket, now=now, travel=travel):
        return None
    moment = travel_at(travel, world.at(now))
    if len(world.depots):
        site = np.array([[ticket.site.lat, ticket.site.lon]], dtype=np.float64)
        to_site, _ = moment.many_to_one(world.depot_arrays.coords, site)
    else:
        to_site = np.zeros(0, dtype=np.int64)
    found = best_shipment(
        world, ticket, ticket.parts, now=now, ship_by=ticket.ship_by(ship_within_s),
        depot_to_site_s=to_site,
    )  # fmt: skip
    return None if found is None else found.plan
