"""The engineer's own day: his open tickets in the order he will do them, each with his visit
(when to leave, when he is expected, which part to pick up where).

Route order is the one he drives: the job he is on, then the one he is driving to, then his
active assignments by their expected departure (`dispatch.expected`, the board's projection,
so a visit pushed behind his overrunning job, set off late or running past its planned end
reads as the board shows it); tickets without an active assignment come last by arrival
deadline.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import User
from dispatch.durations import DurationLog
from dispatch.expected import ExpectedVisit, expected_visits
from dispatch.field import own_tickets
from dispatch.models import Assignment, AssignmentStatus, Ticket, TicketStatus
from dispatch.promises import Clock
from dispatch.ticket_views import TicketView, clocks_of, view_tickets
from inventory.models import Depot, Part, Reservation, ReservationStatus

_LAST = datetime.max.replace(tzinfo=UTC)
# Where a ticket's status puts it in his route: on site, then en route, then the rest.
_STAGE = {TicketStatus.ON_SITE: 0, TicketStatus.EN_ROUTE: 1}


@dataclass(frozen=True, slots=True)
class PickupPart:
    """A part held for the visit at the depot he picks it up from."""

    part_id: int
    sku: str
    name: str
    quantity: int


@dataclass(frozen=True, slots=True)
class MyVisit:
    """His active assignment for one ticket: planned and as now expected (the board's
    `ExpectedVisit`): not set off, pushed behind his overrunning job; en route, arriving his
    planned drive after he set off; on site, done when his job's duration says. Expected
    equals planned while the plan holds."""

    assignment_id: int
    departs_at: datetime
    arrives_at: datetime
    fixes_at: datetime
    expected_departs_at: datetime
    expected_arrives_at: datetime
    expected_fixes_at: datetime
    pushed_min: int
    parts_source: str  # none, van, pickup, shipment
    depot_id: int | None = None
    depot_name: str | None = None
    shipment_id: int | None = None
    pickup: list[PickupPart] = field(default_factory=list)
    # the steps due by now that have not happened (`ExpectedVisit.overdue`, the board's word)
    overdue: tuple[Clock, ...] = ()


@dataclass(frozen=True, slots=True)
class DayItem:
    """One open ticket of his day with his visit (None: no active assignment)."""

    view: TicketView
    visit: MyVisit | None


def _visit(a: Any, expected: ExpectedVisit | None, pickup: list[PickupPart]) -> MyVisit:
    overdue: tuple[Clock, ...] = ()
    if expected is None:  # no schedule to project, or no departure recorded: as planned
        at = (a.departs_at, a.arrives_at, a.fixes_at)
        pushed = 0
    else:
        at = (expected.departs_at, expected.arrives_at, expected.fixes_at)
        pushed, overdue = expected.pushed_min, expected.overdue
    return MyVisit(
        a.id, a.departs_at, a.arrives_at, a.fixes_at, *at, pushed, a.parts_source,
        a.depot_id, a.depot_name, a.shipment_id, pickup, overdue,
    )  # fmt: skip


def _pickups(session: Session, rows: list[Any]) -> dict[int, list[PickupPart]]:
    """The parts held for each pickup visit at its depot (as the depot's pick list), one query."""
    wanted = {a.ticket_id: a.depot_id for a in rows if a.parts_source == "pickup"}
    out: dict[int, list[PickupPart]] = defaultdict(list)
    if not wanted:
        return out
    held = session.execute(
        select(Reservation.ticket_id, Reservation.depot_id, Reservation.part_id, Part.sku,
               Part.name, Reservation.quantity)
        .join(Part, Part.id == Reservation.part_id)
        .where(Reservation.ticket_id.in_(sorted(wanted)),
               Reservation.status == ReservationStatus.RESERVED)
        .order_by(Reservation.id)
    ).all()  # fmt: skip
    for ticket_id, depot_id, part_id, sku, name, quantity in held:
        if ticket_id is not None and wanted.get(ticket_id) == depot_id:
            out[ticket_id].append(PickupPart(part_id, sku, name, quantity))
    return out


def route_order(tickets: list[Ticket], visits: dict[int, MyVisit]) -> list[Ticket]:
    """On site, en route, then by expected departure; without a visit last by deadline."""

    def key(t: Ticket) -> tuple[int, datetime, datetime, int]:
        visit = visits.get(t.id)
        deadline = t.arrive_by or _LAST
        if visit is None:
            return (3, deadline, deadline, t.id)
        return (_STAGE.get(t.status, 2), visit.expected_departs_at, deadline, t.id)

    return sorted(tickets, key=key)


def my_day(
    session: Session, *, user: User, now: datetime, durations: DurationLog | None = None
) -> list[DayItem]:
    """His open tickets in route order, each with his visit, in a fixed number of queries:
    his tickets, their active assignments with their depots, the held parts of pickups, the
    projection's few (`expected_visits`, given those assignments) and the views' own."""
    tickets = own_tickets(session, user=user)
    rows: list[Any] = []
    if tickets:
        rows = list(session.execute(
            select(Assignment.id, Assignment.ticket_id, Assignment.engineer_id,
                   Assignment.departs_at, Assignment.arrives_at, Assignment.fixes_at,
                   Assignment.parts_source, Assignment.depot_id, Assignment.shipment_id,
                   Depot.name.label("depot_name"))
            .outerjoin(Depot, Depot.id == Assignment.depot_id)
            .where(Assignment.status == AssignmentStatus.ACTIVE,
                   Assignment.ticket_id.in_([t.id for t in tickets]))
            .order_by(Assignment.engineer_id, Assignment.arrives_at, Assignment.id)
        ).all())  # fmt: skip
    expected = expected_visits(session, tickets, now=now, durations=durations, assignments=rows)
    pickups = _pickups(session, rows)
    visits = {a.ticket_id: _visit(a, expected.get(a.ticket_id), pickups[a.ticket_id])
              for a in rows}  # fmt: skip
    ordered = route_order(tickets, visits)
    clocks = clocks_of(session, ordered, now=now, durations=durations, expected=expected)
    views = view_tickets(session, ordered, now=now, clocks=clocks)
    return [DayItem(v, visits.get(v.ticket.id)) for v in views]
