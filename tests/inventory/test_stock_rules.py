"""The pure stock invariant: available = on hand - held; nothing oversells."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from inventory import stock_rules
from inventory.stock_rules import Balance, Oversold


def test_available_is_on_hand_less_held() -> None:
    assert Balance(5, 3).available == 2  # 5 - 3


def test_reserve_within_available() -> None:
    assert stock_rules.reserve(Balance(5, 3), 2) == Balance(5, 5)


def test_reserve_more_than_available_is_refused() -> None:
    with pytest.raises(Oversold, match="available 2"):
        stock_rules.reserve(Balance(5, 3), 3)


def test_pick_takes_held_units_off_the_shelf() -> None:
    assert stock_rules.pick(Balance(5, 2), 2) == Balance(3, 0)


def test_pick_without_hold_is_refused() -> None:
    with pytest.raises(Oversold):
        stock_rules.pick(Balance(5, 0), 1)


def test_issue_release_receive() -> None:
    assert stock_rules.issue(Balance(2, 1), 1) == Balance(1, 1)
    with pytest.raises(Oversold):
        stock_rules.issue(Balance(2, 1), 2)
    assert stock_rules.release(Balance(2, 1), 1) == Balance(2, 0)
    assert stock_rules.receive(Balance(0, 0), 4) == Balance(4, 0)
    assert stock_rules.can_reserve(Balance(1, 0), 1)
    assert not stock_rules.can_reserve(Balance(1, 1), 1)


@pytest.mark.parametrize(("on_hand", "held"), [(-1, 0), (1, 2), (0, -1)])
def test_invalid_balance(on_hand: int, held: int) -> None:
    with pytest.raises(ValueError, match="invalid balance"):
        Balance(on_hand, held)


@given(st.lists(st.tuples(st.sampled_from("rpiv"), st.integers(1, 4)), max_size=40))
def test_no_sequence_of_movements_oversells(moves: list[tuple[str, int]]) -> None:
    balance = Balance(3)
    ops = {"r": stock_rules.reserve, "p": stock_rules.pick, "i": stock_rules.issue}
    for op, qty in moves:
        with contextlib.suppress(Oversold):
            balance = ops.get(op, stock_rules.receive)(balance, qty)
        assert 0 <= balance.held <= balance.on_hand
