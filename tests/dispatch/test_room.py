"""Making room for a new ticket's arrival in production (`dispatch.room`, issue 16): the
simulator's rule (`optimizer.make_room`) over the database's world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

import optimizer as opt
from db import User
from dispatch.assign import confirm_assignment
from dispatch.errors import AssignmentConflict
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    Engineer,
    LogKind,
    PromisePolicy,
    ServiceLogEntry,
    Ticket,
    TicketStatus,
)
from dispatch.room import RoomMade, apply_room, make_room_for
from dispatch.tickets import transition
from inventory.models import ProductModel
from tests.builders import make_asset, make_site
from tests.dispatch_world import TIANHE, _engineer, _on_shift, make_dispatch_world
from tests.ticket_builders import T0, open_ticket

TRAVEL = opt.GeodesicTravelTimes()
NORTH_KM = 0.009  # degrees of latitude per km
NOW = T0 + timedelta(minutes=1)  # a minute after the far visit was given


@dataclass(frozen=True)
class FarVisit:
    """The ids: the urgent ticket, Haizhu (near it), his visit up north, the far engineer,
    and the dispatcher who assigned the visit."""

    ticket: int
    near: int
    visit: int
    far: int
    dispatcher: int


def far_visit_world(session: Session, *, nearby_free: bool = False) -> FarVisit:
    """Haizhu has just been given a visit 40 km north (not departed); an urgent ticket is
    open at Tianhe, where nobody else qualified is free (unless ``nearby_free``: Panyu is).
    A colleague 110 km north keeps the visit's arrival, not the urgent one's."""
    dw = make_dispatch_world(session, with_part=False)
    w = dw.base
    w.engineer.active = False
    dw.panyu.active = nearby_free
    north = make_site(session, w.region, w.contract, lat=TIANHE[0] + 40 * NORTH_KM, lon=TIANHE[1])
    model = session.get(ProductModel, w.asset.product_model_id)
    assert model is not None
    asset = make_asset(session, north, model)
    far = _engineer(session, w, (TIANHE[0] + 110 * NORTH_KM, TIANHE[1]), skills={w.line: 3})
    _on_shift(session, far, time(8), time(20))
    visit = open_ticket(session, w, severity="general", site_id=north.id, asset_id=asset.id)
    confirm_assignment(
        session, ticket_id=visit.id, engineer_id=dw.haizhu.id, user=w.dispatcher, now=T0,
        travel=TRAVEL,
    )  # fmt: skip
    session.flush()
    return FarVisit(dw.ticket.id, dw.haizhu.id, visit.id, far.id, w.dispatcher.id)


def test_the_near_engineer_takes_the_urgent_ticket_and_a_far_one_his_visit(
    session: Session,
) -> None:
    ids = far_visit_world(session)
    room = make_room_for(
        session, ticket_id=ids.ticket, now=T0 + timedelta(minutes=1), travel=TRAVEL
    )
    assert room is not None
    assignment = session.query(Assignment).filter_by(ticket_id=ids.visit).one()
    assert (room.engineer_id, room.moved_ticket_id, room.moved_to) == (
        ids.near, ids.visit, ids.far
    )  # fmt: skip
    assert room.moved_assignment_id == assignment.id
    assert room.arrives_at <= T0 + timedelta(minutes=120)  # the urgent arrival kept
    assert room.moved_arrives_at <= T0 + timedelta(minutes=120)  # the visit's kept too
    assert room.best_cost is None or room.cost < room.best_cost


def test_the_ticket_s_policy_says_how_many_engineers_are_asked(session: Session) -> None:
    """`make_room_engineers` of the ticket's promise policy: 0 asks nobody, 1 the nearest."""
    ids = far_visit_world(session)
    session.execute(update(PromisePolicy).values(make_room_engineers=0))
    assert make_room_for(session, ticket_id=ids.ticket, now=NOW, travel=TRAVEL) is None
    session.execute(update(PromisePolicy).values(make_room_engineers=1))
    room = make_room_for(session, ticket_id=ids.ticket, now=NOW, travel=TRAVEL)
    assert room is not None
    assert (room.engineer_id, room.moved_to) == (ids.near, ids.far)


def test_no_room_when_the_best_option_keeps_the_arrival(session: Session) -> None:
    ids = far_visit_world(session, nearby_free=True)
    assert make_room_for(session, ticket_id=ids.ticket, now=T0, travel=TRAVEL) is None


def _offered(session: Session) -> tuple[FarVisit, RoomMade, User]:
    """The far-visit world, the room offered a minute after its visit was given (`NOW`),
    and the dispatcher who would make it."""
    ids = far_visit_world(session)
    room = make_room_for(session, ticket_id=ids.ticket, now=NOW, travel=TRAVEL)
    assert room is not None
    user = session.get(User, ids.dispatcher)
    assert user is not None
    return ids, room, user


def test_applying_the_room_makes_both_reassignments(session: Session) -> None:
    ids, room, user = _offered(session)
    now = NOW
    done = apply_room(
        session, ticket_id=ids.ticket, engineer_id=room.engineer_id,
        moved_assignment_id=room.moved_assignment_id, moved_to=room.moved_to, user=user,
        now=now, travel=TRAVEL,
    )  # fmt: skip
    session.flush()
    active = {
        a.ticket_id: a.engineer_id
        for a in session.query(Assignment).filter_by(status=AssignmentStatus.ACTIVE)
    }
    assert active == {ids.ticket: ids.near, ids.visit: ids.far}
    assert done.taken.assignment.arrives_at <= T0 + timedelta(minutes=120)  # kept, as offered
    assert done.moved.assignment.arrives_at == room.moved_arrives_at
    moved = session.get(Ticket, ids.visit)
    assert moved is not None
    assert moved.status is TicketStatus.ASSIGNED


def test_a_room_no_longer_offered_is_refused_and_nothing_is_written(session: Session) -> None:
    ids, room, user = _offered(session)
    now = NOW
    before = session.query(Assignment).count()
    with pytest.raises(AssignmentConflict, match="not offered now"):
        apply_room(
            session, ticket_id=ids.ticket, engineer_id=room.engineer_id,
            moved_assignment_id=room.moved_assignment_id, moved_to=ids.near, user=user,
            now=now, travel=TRAVEL,
        )  # fmt: skip
    assert session.query(Assignment).count() == before
    visit = session.get(Ticket, ids.visit)
    assert visit is not None
    assert visit.status is TicketStatus.ASSIGNED


# --- diverting a driver (`optimizer.divert`): make_room finds nobody, he is on the road


def en_route_world(session: Session) -> FarVisit:
    """The far-visit world with Haizhu set off at T0 for his visit 40 km north: no visit of
    anyone's is left not departed, so no room is made; he is on the road near Tianhe."""
    ids = far_visit_world(session)
    user = session.get(User, ids.dispatcher)
    assert user is not None
    transition(session, ticket_id=ids.visit, target=TicketStatus.EN_ROUTE, user=user, now=T0)
    session.flush()
    return ids


DRIVING_NOW = T0 + timedelta(minutes=10)


def test_a_driver_is_diverted_when_nobody_makes_room(session: Session) -> None:
    ids = en_route_world(session)
    offer = make_room_for(session, ticket_id=ids.ticket, now=DRIVING_NOW, travel=TRAVEL)
    assert offer is not None
    assert offer.kind == "divert"
    assignment = session.query(Assignment).filter_by(ticket_id=ids.visit).one()
    assert (offer.engineer_id, offer.moved_ticket_id) == (ids.near, ids.visit)
    assert offer.moved_assignment_id == assignment.id
    assert offer.moved_to in (ids.near, ids.far)
    assert offer.arrives_at <= T0 + timedelta(minutes=120)  # the urgent arrival kept
    assert offer.best_cost is None or offer.cost < offer.best_cost
    assert offer.stopped_at is not None  # on the road north of where he set off
    engineer = session.get(Engineer, ids.near)
    assert engineer is not None
    assert engineer.current_lat is not None
    assert engineer.current_lat < offer.stopped_at.lat < TIANHE[0] + 40 * NORTH_KM


def test_the_policy_s_divert_engineers_0_never_diverts(session: Session) -> None:
    ids = en_route_world(session)
    session.execute(update(PromisePolicy).values(divert_engineers=0))
    assert make_room_for(session, ticket_id=ids.ticket, now=DRIVING_NOW, travel=TRAVEL) is None


def test_applying_the_divert_stops_his_drive_and_reassigns_both(session: Session) -> None:
    ids = en_route_world(session)
    offer = make_room_for(session, ticket_id=ids.ticket, now=DRIVING_NOW, travel=TRAVEL)
    assert offer is not None
    assert offer.stopped_at is not None
    user = session.get(User, ids.dispatcher)
    assert user is not None
    done = apply_room(
        session, ticket_id=ids.ticket, engineer_id=offer.engineer_id,
        moved_assignment_id=offer.moved_assignment_id, moved_to=offer.moved_to, user=user,
        now=DRIVING_NOW, travel=TRAVEL, kind="divert",
    )  # fmt: skip
    session.flush()
    active = {
        a.ticket_id: a.engineer_id
        for a in session.query(Assignment).filter_by(status=AssignmentStatus.ACTIVE)
    }
    assert active == {ids.ticket: ids.near, ids.visit: offer.moved_to}
    assert done.taken.assignment.arrives_at <= T0 + timedelta(minutes=120)
    visit = session.get(Ticket, ids.visit)
    assert visit is not None
    assert visit.status is TicketStatus.ASSIGNED
    assert visit.departed_at is None  # it departs anew
    engineer = session.get(Engineer, ids.near)
    assert engineer is not None
    assert (engineer.current_lat, engineer.current_lon) == (
        offer.stopped_at.lat, offer.stopped_at.lon
    )  # fmt: skip
    assert engineer.position_at == DRIVING_NOW
    old = session.get(Assignment, offer.moved_assignment_id)
    assert old is not None
    assert old.status is AssignmentStatus.WITHDRAWN
    assert old.departed_at == T0  # his drive, on his visit; the new visit has not set off
    assert done.moved.assignment.departed_at is None
    log = session.scalars(
        select(ServiceLogEntry).where(
            ServiceLogEntry.ticket_id == ids.visit, ServiceLogEntry.kind == LogKind.DECISION
        )
    ).all()
    assert any((e.details or {}).get("diverted_for") == ids.ticket for e in log)


def test_a_divert_no_longer_offered_is_refused_and_nothing_is_written(session: Session) -> None:
    """He arrived in the meantime (or it is asked as a room): 409, nothing written."""
    ids = en_route_world(session)
    offer = make_room_for(session, ticket_id=ids.ticket, now=DRIVING_NOW, travel=TRAVEL)
    assert offer is not None
    user = session.get(User, ids.dispatcher)
    assert user is not None
    before = session.query(Assignment).count()
    with pytest.raises(AssignmentConflict, match="not offered now"):
        apply_room(
            session, ticket_id=ids.ticket, engineer_id=offer.engineer_id,
            moved_assignment_id=offer.moved_assignment_id, moved_to=offer.moved_to, user=user,
            now=DRIVING_NOW, travel=TRAVEL,
        )  # fmt: skip
    transition(session, ticket_id=ids.visit, target=TicketStatus.ON_SITE, user=user,
               now=DRIVING_NOW)  # fmt: skip
    with pytest.raises(AssignmentConflict, match="not offered now"):
        apply_room(
            session, ticket_id=ids.ticket, engineer_id=offer.engineer_id,
            moved_assignment_id=offer.moved_assignment_id, moved_to=offer.moved_to, user=user,
            now=DRIVING_NOW, travel=TRAVEL, kind="divert",
        )  # fmt: skip
    assert session.query(Assignment).count() == before
    visit = session.get(Ticket, ids.visit)
    assert visit is not None
    assert visit.departed_at == T0
