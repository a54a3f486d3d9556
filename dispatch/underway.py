"""Parts under way to a ticket's site: shipped at intake, then used by whichever visit goes.

The ship promise (8 h by default, `PromisePolicy.ship_within_min`) runs from the report, so
a shipment ordered only when a visit is planned starts late whenever the ticket waits for an
engineer. At intake, `dispatch.intake_parts.ship_at_intake` asks the optimizer's rule
(`optimizer.ship_at_intake`, the simulator's too): when no van or depot in reach can swap
the part within the swap promise, a depot that has it holds it and a shipment to the site
is opened, in the intake's transaction. Every later recommendation, plan and assignment of
the ticket waits for the shipments under way (`underway_plan`, read by
`dispatch.snapshot.job_for`) and never orders another (`open_shipments`, read by
`dispatch.assign`); withdrawing the engineer keeps their holds, cancelling the ticket
(or resolving it remotely) cancels those still waiting to leave and releases their holds
(`stop_shipments`); one picked or on its way is left to arrive: no return flow exists.

A supplier that would ship is not ordered here (inventory orders a supplier for a depot,
not for a site): such a ticket is left to dispatch as before.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

import optimizer as opt
from inventory.models import Reservation, ReservationStatus, Shipment, ShipmentStatus
from inventory.shipments import cancel_shipment
from inventory.stock import Who

OPEN = (ShipmentStatus.PENDING, ShipmentStatus.IN_TRANSIT)
# a hold that still backs its shipment: live, or already picked for the courier
BACKED = (ReservationStatus.RESERVED, ReservationStatus.PICKED, ReservationStatus.USED)


def open_shipments(session: Session, ticket_id: int) -> list[Shipment]:
    """The ticket's shipments to its site not delivered yet, whose holds still back them."""
    stmt = (
        select(Shipment)
        .outerjoin(Reservation, Reservation.id == Shipment.reservation_id)
        .where(
            Shipment.ticket_id == ticket_id,
            Shipment.to_site_id.is_not(None),
            Shipment.status.in_(OPEN),
            or_(Shipment.reservation_id.is_(None), Reservation.status.in_(BACKED)),
        )
        .order_by(Shipment.id)
    )
    return list(session.scalars(stmt))


@dataclass(frozen=True, slots=True)
class Stopped:
    """What `stop_shipments` did: shipments cancelled, and those left to arrive."""

    cancelled: tuple[int, ...]
    under_way: tuple[int, ...]


def stop_shipments(session: Session, ticket_id: int, *, who: Who, reason: str) -> Stopped:
    """Cancel the ticket's site shipments still on the shelf; leave those picked or gone.

    A pending shipment whose hold is live (or lapsed) never leaves: cancelled, the hold
    released (`inventory.shipments.cancel_shipment`, in the ledger). One whose units were
    picked, or which left, is not stopped here: inventory has no return flow for it.
    """
    s = Shipment
    stmt = (
        select(s, Reservation.status)
        .outerjoin(Reservation, Reservation.id == s.reservation_id)
        .where(s.ticket_id == ticket_id, s.to_site_id.is_not(None), s.status.in_(OPEN))
        .order_by(s.id)
    )
    cancelled, under_way = [], []
    for shipment, hold in session.execute(stmt).all():
        picked = hold in (ReservationStatus.PICKED, ReservationStatus.USED)
        if shipment.status is ShipmentStatus.PENDING and not picked:
            cancel_shipment(session=session, shipment_id=shipment.id, who=who, reason=reason)
            cancelled.append(shipment.id)
        else:
            under_way.append(shipment.id)
    return Stopped(tuple(cancelled), tuple(under_way))


def backing_holds(session: Session, ticket_id: int) -> set[int]:
    """The ids of the ticket's holds that back a shipment under way (not to be released)."""
    return {s.reservation_id for s in open_shipments(session, ticket_id) if s.reservation_id}


def underway_plan(
    shipments: Sequence[Shipment], offset: Callable[[datetime], int], leads: dict[int, int]
) -> opt.PartsPlan | None:
    """The optimizer's view of shipments under way: one plan the visit waits for.

    ``offset`` turns a time into the snapshot's axis (0 = now); ``leads`` are the depots'
    ship lead times. A pending shipment leaves that lead after its request (not before
    now); one in transit arrives when expected. The last part to arrive sets the time.
    """
    if not shipments:
        return None
    leaves, arrives = [], []
    for s in shipments:
        if s.shipped_at is not None:
            left = offset(s.shipped_at)
        else:
            left = max(0, offset(s.requested_at) + leads.get(s.from_depot_id, 0))
        leaves.append(left)
        arrives.append(offset(s.expected_at) if s.expected_at else left + 60 * s.transit_min)
    uses = tuple(opt.PartUse(s.part_id, s.part_id, s.quantity) for s in shipments)
    return opt.PartsPlan(
        opt.PartsSource.SHIPMENT, uses, depot_id=shipments[0].from_depot_id,
        ships_at=max(leaves), ship_by=offset(min(s.ship_by for s in shipments)),
        part_arrives_at=max(arrives),
    )  # fmt: skip
