"""Parts used on a ticket leave stock: from the van, the ticket's hold, or a named depot."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch import field, parts
from dispatch.errors import InvalidTicketError
from dispatch.models import Ticket, TicketStatus
from inventory import reservations as rs
from inventory import stock
from inventory.models import DepotKind, LedgerEntry, LedgerKind, StockLevel
from inventory.stock_errors import InsufficientStock
from inventory.verify import verify
from tests.builders import make_depot
from tests.ticket_builders import T0, TicketWorld, make_ticket_world, open_ticket

NOW = T0 + timedelta(hours=1)


def _on_site(session: Session) -> tuple[TicketWorld, Ticket]:
    world = make_ticket_world(session)
    ticket = open_ticket(session, world)
    ticket.engineer_id, ticket.status = world.engineer.id, TicketStatus.ON_SITE
    session.flush()
    return world, ticket


def _stock(session: Session, world: TicketWorld, depot_id: int, n: int) -> None:
    stock.receive(session=session, depot_id=depot_id, part_id=world.part.id, quantity=n,
                  who=stock.Who(None, T0))  # fmt: skip


def _use(session: Session, world: TicketWorld, ticket: Ticket, n: int = 1, **kw: int) -> None:
    field.record_parts_used(session, user=world.engineer_user, ticket_id=ticket.id, now=NOW,
                            uses=[field.PartUse(world.part.id, n, **kw)])  # fmt: skip


def _on_hand(session: Session, depot_id: int) -> int:
    stmt = select(StockLevel.on_hand).where(StockLevel.depot_id == depot_id)
    return session.execute(stmt).scalar_one()


class TestConsumePart:
    def test_from_the_van(self, session: Session) -> None:
        world, ticket = _on_site(session)
        van = make_depot(session, None, kind=DepotKind.VAN, lat=None, lon=None)
        world.engineer.van_depot_id = van.id
        _stock(session, world, van.id, 2)
        _use(session, world, ticket, 2)
        assert _on_hand(session, van.id) == 0
        kinds = session.scalars(select(LedgerEntry.kind).where(LedgerEntry.ticket_id == ticket.id))
        assert list(kinds) == [LedgerKind.USE]
        assert verify(session=session) == []

    def test_too_few_in_the_van_is_insufficient_stock(self, session: Session) -> None:
        world, ticket = _on_site(session)
        van = make_depot(session, None, kind=DepotKind.VAN, lat=None, lon=None)
        world.engineer.van_depot_id = van.id
        _stock(session, world, van.id, 1)
        with pytest.raises(InsufficientStock):
            _use(session, world, ticket, 2)

    def test_from_the_tickets_reservation(self, session: Session) -> None:
        world, ticket = _on_site(session)
        depot = make_depot(session, world.region)
        _stock(session, world, depot.id, 3)
        parts.reserve_for_ticket(session, depot_id=depot.id, ticket_id=ticket.id,
                                 lines=[rs.ReserveLine(world.part.id, 1)],
                                 who=stock.Who(None, T0))  # fmt: skip
        _use(session, world, ticket)
        assert _on_hand(session, depot.id) == 2
        assert verify(session=session) == []

    def test_a_picked_part_is_only_recorded(self, session: Session) -> None:
        world, ticket = _on_site(session)
        depot = make_depot(session, world.region)
        _stock(session, world, depot.id, 1)
        [held] = parts.reserve_for_ticket(session, depot_id=depot.id, ticket_id=ticket.id,
                                          lines=[rs.ReserveLine(world.part.id, 1)],
                                          who=stock.Who(None, T0))  # fmt: skip
        parts.pick_for_ticket(session, reservation_id=held.id, who=stock.Who(None, T0))
        _use(session, world, ticket)
        assert _on_hand(session, depot.id) == 0
        assert verify(session=session) == []

    def test_from_a_named_depot(self, session: Session) -> None:
        world, ticket = _on_site(session)
        depot = make_depot(session, world.region)
        _stock(session, world, depot.id, 1)
        _use(session, world, ticket, depot_id=depot.id)
        assert _on_hand(session, depot.id) == 0

    def test_no_source_is_a_field_error(self, session: Session) -> None:
        world, ticket = _on_site(session)
        with pytest.raises(InvalidTicketError):
            _use(session, world, ticket)

    def test_the_hold_lasts_as_the_tickets_policy_says(self, session: Session) -> None:
        world, ticket = _on_site(session)
        depot = make_depot(session, world.region)
        _stock(session, world, depot.id, 1)
        [held] = parts.reserve_for_ticket(session, depot_id=depot.id, ticket_id=ticket.id,
                                          lines=[rs.ReserveLine(world.part.id, 1)],
                                          who=stock.Who(None, T0))  # fmt: skip
        assert held.expires_at == T0 + timedelta(minutes=world.policy.reservation_lifetime_min)
