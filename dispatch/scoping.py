"""Where a write lands: the depots and regions a request touches, for the users' scopes.

Warehouse staff are scoped to depots and dispatchers to regions (`db.identity.Scope`); the
API names what a request refers to (path ids and body fields) and this module resolves
each reference to the depot or region it belongs to. An id that does not exist resolves to
nothing: the service itself answers 404 for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dispatch.models import Assignment, Plan, Site, Ticket
from inventory.models import Asset, Depot, Reservation, Shipment, SupplierOrder


@dataclass(slots=True)
class WriteTargets:
    """What one write request refers to, by kind of reference."""

    depots: set[int] = field(default_factory=set)  # depot ids named directly
    reservations: set[int] = field(default_factory=set)
    shipments_out: set[int] = field(default_factory=set)  # leaving their depot (ship)
    shipments_in: set[int] = field(default_factory=set)  # arriving at their depot (receive)
    orders: set[int] = field(default_factory=set)  # supplier orders received at a depot
    regions: set[int] = field(default_factory=set)
    sites: set[int] = field(default_factory=set)
    tickets: set[int] = field(default_factory=set)
    assignments: set[int] = field(default_factory=set)
    plans: set[int] = field(default_factory=set)
    assets: set[int] = field(default_factory=set)  # installed units at their sites (DOA swaps)


def _ids(session: Session, stmt: Select[Any]) -> set[int]:
    return {i for i in session.scalars(stmt) if i is not None}


def touched_depots(session: Session, t: WriteTargets) -> set[int]:
    """Every depot whose stock the request would change."""
    found = set(t.depots)
    if t.reservations:
        found |= _ids(
            session, select(Reservation.depot_id).where(Reservation.id.in_(t.reservations))
        )
    if t.shipments_out:
        found |= _ids(
            session, select(Shipment.from_depot_id).where(Shipment.id.in_(t.shipments_out))
        )
    if t.shipments_in:
        found |= _ids(session, select(Shipment.to_depot_id).where(Shipment.id.in_(t.shipments_in)))
    if t.orders:
        found |= _ids(session, select(SupplierOrder.depot_id).where(SupplierOrder.id.in_(t.orders)))
    return found


def touched_regions(session: Session, t: WriteTargets) -> set[int]:
    """Every region whose tickets or plans the request would change."""
    found = set(t.regions)
    tickets = set(t.tickets)
    if t.assignments:
        tickets |= _ids(
            session, select(Assignment.ticket_id).where(Assignment.id.in_(t.assignments))
        )
    if t.plans:
        for region_id, ticket_ids in session.execute(
            select(Plan.region_id, Plan.ticket_ids).where(Plan.id.in_(t.plans))
        ):
            if region_id is not None:
                found.add(region_id)
            else:  # a plan of listed tickets: their regions
                tickets |= {int(i) for i in _listed(ticket_ids)}
    sites = set(t.sites)
    if t.assets:
        sites |= _ids(session, select(Asset.site_id).where(Asset.id.in_(t.assets)))
    if tickets:
        sites |= _ids(session, select(Ticket.site_id).where(Ticket.id.in_(tickets)))
    if sites:
        found |= _ids(session, select(Site.region_id).where(Site.id.in_(sites)))
    return found


def _listed(value: object) -> Iterable[int]:
    return value if isinstance(value, list) else ()


def asset_regions(session: Session, t: WriteTargets) -> set[int]:
    """The regions of the assets a request changes (where their sites are)."""
    if not t.assets:
        return set()
    sites = _ids(session, select(Asset.site_id).where(Asset.id.in_(t.assets)))
    return _ids(session, select(Site.region_id).where(Site.id.in_(sites))) if sites else set()


def depot_regions(session: Session, depot_ids: Iterable[int]) -> set[int]:
    """The regions the given depots stand in (vans, without a region, count for none)."""
    return _ids(session, select(Depot.region_id).where(Depot.id.in_(set(depot_ids))))
