"""Movements: receipts, adjustments, returns, transfers, orders and shipments, all in the ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from inventory import reservations as rs
from inventory import shipments as sh
from inventory import stock
from inventory.models import LedgerKind, ShipmentStatus
from inventory.stock_errors import (
    InsufficientStock,
    InvalidMovement,
    OrderAlreadyReceived,
    ShipmentNotOpen,
    UnknownDepot,
)
from tests.inventory.movement_builders import make_site_id, make_supplier
from tests.inventory.stock_builders import T0, assert_consistent, make_shop, row


class TestReceiveAndAdjust:
    def test_receipt_creates_the_row(self, session: Session) -> None:
        shop = make_shop(session, on_hand=0)
        stock.receive(session=session, depot_id=shop.other, part_id=shop.odd, quantity=4,
                      who=shop.who())  # fmt: skip
        assert row(session, shop.other, shop.odd).on_hand == 4
        assert_consistent(session)

    def test_cycle_count_sets_on_hand(self, session: Session) -> None:
        shop = make_shop(session, on_hand=5)
        got = stock.adjust(session=session, depot_id=shop.depot, part_id=shop.part, counted=3,
                           reason="cycle count", who=shop.who())  # fmt: skip
        assert got == -2
        assert row(session, shop.depot, shop.part).on_hand == 3
        assert_consistent(session)

    def test_adjustment_cannot_take_reserved_units(self, session: Session) -> None:
        shop = make_shop(session, on_hand=3)
        rs.reserve(session=session, depot_id=shop.depot, lines=[rs.ReserveLine(shop.part, 2)],
                   user_id=shop.user, now=T0)  # fmt: skip
        with pytest.raises(InsufficientStock) as caught:
            stock.adjust(session=session, depot_id=shop.depot, part_id=shop.part, delta=-2,
                         reason="lost", who=shop.who())  # fmt: skip
        assert caught.value.lines[0].available == 1
        assert_consistent(session)

    def test_adjustment_needs_a_reason_and_one_amount(self, session: Session) -> None:
        shop = make_shop(session)
        with pytest.raises(InvalidMovement):
            stock.adjust(session=session, depot_id=shop.depot, part_id=shop.part, delta=1,
                         reason=" ", who=shop.who())  # fmt: skip
        with pytest.raises(InvalidMovement):
            stock.adjust(session=session, depot_id=shop.depot, part_id=shop.part, delta=1,
                         counted=2, reason="x", who=shop.who())  # fmt: skip

    def test_unknown_depot(self, session: Session) -> None:
        shop = make_shop(session)
        with pytest.raises(UnknownDepot):
            stock.receive(session=session, depot_id=10**9, part_id=shop.part, quantity=1,
                          who=shop.who())  # fmt: skip


class TestReturns:
    def test_returns_go_to_the_bin_not_the_shelf(self, session: Session) -> None:
        shop = make_shop(session, on_hand=1)
        stock.return_faulty(session=session, depot_id=shop.depot, part_id=shop.part, quantity=2,
                            who=shop.who())  # fmt: skip
        level = row(session, shop.depot, shop.part)
        assert (level.on_hand, level.returns) == (1, 2)
        stock.scrap(session=session, depot_id=shop.depot, part_id=shop.part, quantity=2,
                    reason="inspected", who=shop.who())  # fmt: skip
        with pytest.raises(InsufficientStock):
            stock.scrap(session=session, depot_id=shop.depot, part_id=shop.part, quantity=1,
                        reason="again", who=shop.who())  # fmt: skip
        assert_consistent(session)


class TestTransfers:
    def test_out_now_in_on_arrival(self, session: Session) -> None:
        shop = make_shop(session, on_hand=5)
        moved = sh.transfer(session=session, from_depot_id=shop.depot, to_depot_id=shop.other,
                            part_id=shop.part, quantity=2, transit_min=90,
                            who=shop.who())  # fmt: skip
        assert moved.expected_at == T0 + timedelta(minutes=90)
        assert row(session, shop.depot, shop.part).on_hand == 3
        assert row(session, shop.other, shop.part).in_transit == 2
        assert_consistent(session)
        sh.receive_shipment(session=session, shipment_id=moved.id, who=shop.who())
        level = row(session, shop.other, shop.part)
        assert (level.on_hand, level.in_transit) == (2, 0)
        with pytest.raises(ShipmentNotOpen):
            sh.receive_shipment(session=session, shipment_id=moved.id, who=shop.who())
        assert_consistent(session)

    def test_cannot_transfer_more_than_available(self, session: Session) -> None:
        shop = make_shop(session, on_hand=1)
        with pytest.raises(InsufficientStock):
            sh.transfer(session=session, from_depot_id=shop.depot, to_depot_id=shop.other,
                        part_id=shop.part, quantity=2, transit_min=0, who=shop.who())  # fmt: skip


class TestOrders:
    def test_on_order_until_received(self, session: Session) -> None:
        shop = make_shop(session, on_hand=0)
        supplier = make_supplier(session, lead_time_hours=48)
        placed = sh.order(session=session, supplier_id=supplier, depot_id=shop.depot,
                          part_id=shop.part, quantity=6, who=shop.who())  # fmt: skip
        assert placed.expected_at == T0 + timedelta(hours=48)
        assert row(session, shop.depot, shop.part).on_order == 6
        assert_consistent(session)
        sh.receive_order(session=session, order_id=placed.id, who=shop.who())
        level = row(session, shop.depot, shop.part)
        assert (level.on_hand, level.on_order) == (6, 0)
        with pytest.raises(OrderAlreadyReceived):
            sh.receive_order(session=session, order_id=placed.id, who=shop.who())
        assert_consistent(session)


class TestStockView:
    def test_available_ignores_expired_holds_and_filters(self, session: Session) -> None:
        shop = make_shop(session, on_hand=3)
        rs.reserve(session=session, depot_id=shop.depot, lines=[rs.ReserveLine(shop.part, 3)],
                   user_id=shop.user, now=T0, lifetime_min=5)  # fmt: skip
        view = stock.StockFilter(depot_id=shop.depot, part_id=shop.part)
        [now_row] = stock.list_stock(session=session, now=T0, filters=view, after=None,
                                     limit=10).items  # fmt: skip
        assert now_row.available == 0
        later = T0 + timedelta(minutes=6)
        [later_row] = stock.list_stock(session=session, now=later, filters=view, after=None,
                                       limit=10).items  # fmt: skip
        assert (later_row.available, later_row.reserved) == (3, 0)

    def test_ledger_lists_by_kind(self, session: Session) -> None:
        shop = make_shop(session, on_hand=3)
        page = stock.list_ledger(session=session, after=None, limit=10,
                                 filters=stock.LedgerFilter(depot_id=shop.depot,
                                                            kind=LedgerKind.RECEIPT))  # fmt: skip
        assert {e.part_id for e in page.items} == {shop.part, shop.sub}


class TestShipmentsToSites:
    def test_late_lists_those_that_missed_or_will_miss(self, session: Session) -> None:
        shop = make_shop(session, on_hand=3)
        site = make_site_id(session)
        kw = dict(session=session, from_depot_id=shop.depot, site_id=site, part_id=shop.part,
                  quantity=1, transit_min=60, who=shop.who())  # fmt: skip
        early = sh.ship_to_site(requested_at=T0, **kw)  # type: ignore[arg-type]
        late = sh.ship_to_site(requested_at=T0 - timedelta(hours=9), **kw)  # type: ignore[arg-type]
        assert early.ship_by == T0 + timedelta(hours=8)
        late_ones = sh.shipments_query(filters=sh.ShipmentFilter(late=True), now=T0)
        assert [s.id for s in session.scalars(late_ones)] == [late.id]
        sent = sh.dispatch_shipment(session=session, shipment_id=early.id,
                                    who=shop.who(T0 + timedelta(hours=9)))  # fmt: skip
        assert sent.status == ShipmentStatus.IN_TRANSIT
        assert {s.id for s in session.scalars(late_ones)} == {late.id, early.id}
        assert_consistent(session)
