"""Reservations: never oversold, expired holds never block, every change in the ledger."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from inventory import reservations as rs
from inventory.models import LedgerEntry, LedgerKind, Reservation, ReservationStatus
from inventory.stock_errors import (
    InsufficientStock,
    InvalidMovement,
    ReservationExpired,
    ReservationNotActive,
    UnknownPart,
    UnknownReservation,
)
from tests.inventory.stock_builders import T0, assert_consistent, make_shop, row


def _reserve(session: Session, shop, qty: int, *, part=None, now=T0, **kw):  # type: ignore[no-untyped-def]
    line = rs.ReserveLine(part or shop.part, qty, kw.pop("substitute_for", None))
    return rs.reserve(session=session, depot_id=shop.depot, lines=[line], user_id=shop.user,
                      now=now, **kw)  # fmt: skip


class TestReserve:
    def test_holds_units_and_records_them(self, session: Session) -> None:
        shop = make_shop(session, on_hand=5)
        [held] = _reserve(session, shop, 3, ticket_id=None, lifetime_min=30)
        assert held.status == ReservationStatus.RESERVED
        assert held.expires_at == T0 + timedelta(minutes=30)
        level = row(session, shop.depot, shop.part)
        assert (level.on_hand, level.reserved) == (5, 3)
        assert_consistent(session)

    def test_the_last_unit_then_409_with_what_is_available(self, session: Session) -> None:
        shop = make_shop(session, on_hand=2, sub_on_hand=4)
        _reserve(session, shop, 2)
        with pytest.raises(InsufficientStock) as caught:
            _reserve(session, shop, 1)
        [line] = caught.value.lines
        assert (line.requested, line.available) == (1, 0)
        [offer] = caught.value.substitutes
        assert (offer.part_id, offer.available) == (shop.sub, 4)
        assert_consistent(session)

    def test_a_substitute_may_be_named(self, session: Session) -> None:
        shop = make_shop(session, on_hand=0, sub_on_hand=2)
        [held] = _reserve(session, shop, 1, part=shop.sub, substitute_for=shop.part)
        assert (held.part_id, held.requested_part_id) == (shop.sub, shop.part)
        assert_consistent(session)

    def test_a_part_that_is_no_substitute_is_refused(self, session: Session) -> None:
        shop = make_shop(session)
        with pytest.raises(InvalidMovement):
            _reserve(session, shop, 1, part=shop.odd, substitute_for=shop.part)

    def test_unknown_part_and_zero_quantity(self, session: Session) -> None:
        shop = make_shop(session)
        with pytest.raises(UnknownPart):
            _reserve(session, shop, 1, part=10**9)
        with pytest.raises(InvalidMovement):
            _reserve(session, shop, 0)

    def test_multi_line_is_all_or_nothing(self, session: Session) -> None:
        shop = make_shop(session, on_hand=5, sub_on_hand=1)
        lines = [rs.ReserveLine(shop.part, 2), rs.ReserveLine(shop.sub, 2)]
        nested = session.begin_nested()
        with pytest.raises(InsufficientStock) as caught:
            rs.reserve(session=session, depot_id=shop.depot, lines=lines, user_id=shop.user, now=T0)
        nested.rollback()
        assert [ln.part_id for ln in caught.value.lines] == [shop.sub]
        assert row(session, shop.depot, shop.part).reserved == 0
        assert_consistent(session)


class TestExpiry:
    def test_an_expired_hold_never_blocks_even_before_the_sweeper(self, session: Session) -> None:
        shop = make_shop(session, on_hand=2)
        [old] = _reserve(session, shop, 2, lifetime_min=10)
        later = T0 + timedelta(minutes=11)
        [new] = _reserve(session, shop, 2, now=later)
        assert new.status == ReservationStatus.RESERVED
        session.refresh(old)
        assert old.status == ReservationStatus.EXPIRED
        kinds = session.scalars(
            select(LedgerEntry.kind).where(LedgerEntry.reservation_id == old.id)
        ).all()
        assert sorted(kinds) == sorted([LedgerKind.RESERVATION, LedgerKind.EXPIRY])
        assert_consistent(session)

    def test_the_sweeper_releases_expired_holds(self, session: Session) -> None:
        shop = make_shop(session, on_hand=3)
        _reserve(session, shop, 1, lifetime_min=5)
        _reserve(session, shop, 1, lifetime_min=60)
        assert rs.sweep_expired(session=session, now=T0 + timedelta(minutes=6)) == 1
        assert row(session, shop.depot, shop.part).reserved == 1
        assert rs.sweep_expired(session=session, now=T0 + timedelta(minutes=6)) == 0
        assert_consistent(session)


class TestReleaseAndPick:
    def test_release_frees_the_units(self, session: Session) -> None:
        shop = make_shop(session, on_hand=2)
        [held] = _reserve(session, shop, 2)
        rs.release(session=session, reservation_id=held.id, user_id=shop.user, now=T0)
        assert row(session, shop.depot, shop.part).reserved == 0
        with pytest.raises(ReservationNotActive):
            rs.release(session=session, reservation_id=held.id, user_id=shop.user, now=T0)
        assert_consistent(session)

    def test_an_expired_hold_cannot_be_released_or_picked(self, session: Session) -> None:
        shop = make_shop(session, on_hand=2)
        [held] = _reserve(session, shop, 1, lifetime_min=1)
        later = T0 + timedelta(minutes=2)
        with pytest.raises(ReservationExpired):
            rs.release(session=session, reservation_id=held.id, user_id=shop.user, now=later)
        with pytest.raises(ReservationExpired):
            rs.consume(session=session, reservation_id=held.id, user_id=shop.user, now=later)

    def test_pick_takes_units_off_the_shelf(self, session: Session) -> None:
        shop = make_shop(session, on_hand=4)
        [held] = _reserve(session, shop, 3)
        picked = rs.consume(session=session, reservation_id=held.id, user_id=shop.user, now=T0)
        assert picked.status == ReservationStatus.PICKED
        level = row(session, shop.depot, shop.part)
        assert (level.on_hand, level.reserved) == (1, 0)
        assert_consistent(session)

    def test_unknown_reservation(self, session: Session) -> None:
        with pytest.raises(UnknownReservation):
            rs.release(session=session, reservation_id=10**9, user_id=None, now=T0)

    def test_reservations_are_rows(self, session: Session) -> None:
        shop = make_shop(session)
        [held] = _reserve(session, shop, 1, ticket_id=None)
        assert session.get(Reservation, held.id) is not None
