"""Structured errors of the dispatch package; no HTTP codes here (api/errors.py maps them).

Hierarchy:
    DispatchError
    ├── NotFoundError(entity, key)
    ├── WorldNotEmptyError(tables)
    ├── IllegalTransitionError(ticket_id, current, target, allowed)
    ├── InvalidTicketError(field, reason)
    └── StaleTicketError(ticket_id)
"""

from __future__ import annotations


class DispatchError(Exception):
    """Base of every error the dispatch package raises on purpose."""


class WorldNotEmptyError(DispatchError):
    """The demo world goes only into an empty database; `tables` already hold rows."""

    def __init__(self, tables: tuple[str, ...]) -> None:
        self.tables = tables
        super().__init__(
            "the database already holds data (in "
            + ", ".join(tables)
            + "): the demo world loads only into an empty database"
        )


class NotFoundError(DispatchError):
    """A row looked up by its key does not exist."""

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"{entity} {key!r} does not exist")
        self.entity = entity
        self.key = key


class IllegalTransitionError(DispatchError):
    """A status change the lifecycle does not allow from the ticket's current status."""

    def __init__(self, ticket_id: int, current: str, target: str, allowed: list[str]) -> None:
        allowed_text = ", ".join(allowed) if allowed else "none (the ticket is final)"
        super().__init__(
            f"ticket {ticket_id} is {current}: it cannot become {target}; allowed: {allowed_text}"
        )
        self.ticket_id = ticket_id
        self.current = current
        self.target = target
        self.allowed = allowed


class InvalidTicketError(DispatchError):
    """Ticket data that refers to the wrong things or breaks a rule (field-level)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


class StaleTicketError(DispatchError):
    """The ticket changed meanwhile (another update won); read it again and retry."""

    def __init__(self, ticket_id: int) -> None:
        super().__init__(f"ticket {ticket_id} was changed by someone else meanwhile; retry")
        self.ticket_id = ticket_id
