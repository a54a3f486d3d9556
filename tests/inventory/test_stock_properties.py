"""Invariants after any sequence of stock operations: reserved <= on hand, available >= 0,
balances == ledger (hypothesis, on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from inventory import reservations as rs
from inventory import shipments as sh
from inventory import stock
from inventory.errors import InventoryError
from tests.inventory.stock_builders import T0, Shop, assert_consistent, make_shop, row

OPS = st.lists(
    st.tuples(
        st.sampled_from(
            ["reserve", "release", "pick", "receive", "adjust", "transfer", "arrive", "return",
             "scrap", "sweep"]
        ),
        st.integers(1, 4),
        st.integers(0, 90),
    ),
    max_size=25,
)  # fmt: skip


def _apply(session: Session, shop: Shop, op: str, n: int, minutes: int, state: dict) -> None:  # type: ignore[type-arg]
    now = T0 + timedelta(minutes=state["clock"])
    state["clock"] += minutes
    who = shop.who(now)
    d, p = shop.depot, shop.part
    if op == "reserve":
        held = rs.reserve(session=session, depot_id=d, lines=[rs.ReserveLine(p, n)],
                          user_id=shop.user, now=now, lifetime_min=60)  # fmt: skip
        state["held"] += [h.id for h in held]
    elif op in ("release", "pick") and state["held"]:
        rid = state["held"].pop(n % len(state["held"]))
        if op == "release":
            rs.release(session=session, reservation_id=rid, user_id=shop.user, now=now)
        else:
            rs.consume(session=session, reservation_id=rid, user_id=shop.user, now=now)
    elif op == "receive":
        stock.receive(session=session, depot_id=d, part_id=p, quantity=n, who=who)
    elif op == "adjust":
        stock.adjust(session=session, depot_id=d, part_id=p, delta=-n, reason="count", who=who)
    elif op == "transfer":
        moved = sh.transfer(session=session, from_depot_id=d, to_depot_id=shop.other, part_id=p,
                            quantity=n, transit_min=30, who=who)  # fmt: skip
        state["moving"].append(moved.id)
    elif op == "arrive" and state["moving"]:
        sh.receive_shipment(session=session, shipment_id=state["moving"].pop(), who=who)
    elif op == "return":
        stock.return_faulty(session=session, depot_id=d, part_id=p, quantity=n, who=who)
    elif op == "scrap":
        stock.scrap(session=session, depot_id=d, part_id=p, quantity=n, reason="x", who=who)
    elif op == "sweep":
        rs.sweep_expired(session=session, now=now)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=OPS)
def test_invariants_hold_after_any_sequence(
    session: Session, ops: list[tuple[str, int, int]]
) -> None:
    example = session.begin_nested()  # each example starts from the same empty database
    try:
        shop = make_shop(session, on_hand=3)
        state: dict = {"clock": 0, "held": [], "moving": []}  # type: ignore[type-arg]
        for op, n, minutes in ops:
            step = session.begin_nested()
            try:
                _apply(session, shop, op, n, minutes, state)
            except InventoryError:
                step.rollback()  # refused: it must have written nothing
            else:
                step.commit()
            level = row(session, shop.depot, shop.part)
            assert 0 <= level.reserved <= level.on_hand
            assert level.on_hand - level.reserved >= 0
            assert_consistent(session)
    finally:
        example.rollback()
