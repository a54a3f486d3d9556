"""The stock invariant as pure functions over one balance (depot x part), no database.

Rule 10 (house style): available = on hand - live holds, and no movement may leave a
negative counter or more held than on hand. The database path (`inventory.ledger`) enforces
the same rule with a conditional UPDATE and CHECK constraints; these functions state it once
for in-memory users (the what-if simulation) and could word the ledger's refusals.
"""

from __future__ import annotations

from dataclasses import dataclass

# The default policy's hold (PromisePolicy.reservation_lifetime_min); callers pass the
# ticket's own policy value when there is one. Here, not in `inventory.reservations`, so
# the command line can show it without loading the database layer.
DEFAULT_LIFETIME_MIN = 240


class Oversold(ValueError):
    """A movement would sell or hold units that are not there; nothing was changed."""

    def __init__(self, balance: Balance, what: str, qty: int) -> None:
        self.balance, self.what, self.qty = balance, what, qty
        super().__init__(
            f"cannot {what} {qty}: on hand {balance.on_hand}, held {balance.held}, "
            f"available {balance.available}"
        )


@dataclass(frozen=True, slots=True)
class Balance:
    """One stock row: units on hand and units held by live reservations."""

    on_hand: int = 0
    held: int = 0

    def __post_init__(self) -> None:
        if self.on_hand < 0 or self.held < 0 or self.held > self.on_hand:
            raise ValueError(f"invalid balance: on hand {self.on_hand}, held {self.held}")

    @property
    def available(self) -> int:
        """Units a new reservation may take: on hand less live holds."""
        return self.on_hand - self.held


def _positive(qty: int) -> None:
    if qty < 1:
        raise ValueError(f"quantity must be >= 1, got {qty}")


def can_reserve(balance: Balance, qty: int) -> bool:
    """Whether a hold of `qty` fits in what is available (e.g. 5 on hand, 3 held: 2 fit)."""
    return 1 <= qty <= balance.available


def reserve(balance: Balance, qty: int) -> Balance:
    """Hold `qty` units; refuse (Oversold) more than available."""
    _positive(qty)
    if qty > balance.available:
        raise Oversold(balance, "reserve", qty)
    return Balance(balance.on_hand, balance.held + qty)


def release(balance: Balance, qty: int) -> Balance:
    """Give back `qty` held units (a cancelled or expired hold)."""
    _positive(qty)
    if qty > balance.held:
        raise Oversold(balance, "release", qty)
    return Balance(balance.on_hand, balance.held - qty)


def pick(balance: Balance, qty: int) -> Balance:
    """Take `qty` held units off the shelf: on hand and held both drop."""
    _positive(qty)
    if qty > balance.held:
        raise Oversold(balance, "pick", qty)
    return Balance(balance.on_hand - qty, balance.held - qty)


def issue(balance: Balance, qty: int) -> Balance:
    """Take `qty` unheld units at once (a pick without a prior hold)."""
    _positive(qty)
    if qty > balance.available:
        raise Oversold(balance, "issue", qty)
    return Balance(balance.on_hand - qty, balance.held)


def receive(balance: Balance, qty: int) -> Balance:
    """Put `qty` units on the shelf (a receipt, transfer in or inspected return)."""
    _positive(qty)
    return Balance(balance.on_hand + qty, balance.held)
