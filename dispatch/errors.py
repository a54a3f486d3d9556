"""Structured errors of the dispatch package; no HTTP codes here (api/errors.py maps them).

Hierarchy:
    DispatchError
    ├── NotFoundError(entity, key)
    ├── WorldNotEmptyError(tables)
    ├── IllegalTransitionError(ticket_id, current, target, allowed)
    ├── InvalidTicketError(field, reason)
    ├── StaleTicketError(ticket_id)
    ├── VersionMismatch(ticket_id, expected, current_version)   a write made for another version
    ├── ValidationFailed(errors: list[FieldError])   master data breaking rules, per field
    ├── DuplicateError(entity, field, value)          a unique code taken already
    ├── InUseError(entity, key, detail)               a change would strand rows that use it
    ├── NoVanError(engineer_id)                       van stock for an engineer without a van
    ├── IntegrityConflictError(entity)                a concurrent change won
    ├── AssignmentConflict(ticket_id, reason, next_best)
    └── InvalidPlanRequest(field, reason, ticket_ids) a plan request that cannot be planned
"""

from __future__ import annotations

from inventory.errors import FieldError


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
    """The ticket changed meanwhile (another update won); read it again and retry.

    `current_version` is the committed version now (None when it could not be read).
    """

    def __init__(self, ticket_id: int, current_version: int | None = None) -> None:
        now = "" if current_version is None else f" (now version {current_version})"
        super().__init__(
            f"ticket {ticket_id} was changed by someone else meanwhile{now}; read it and retry"
        )
        self.ticket_id = ticket_id
        self.current_version = current_version


class VersionMismatch(DispatchError):
    """The writer said which versions of the ticket it changes (HTTP `If-Match`) and the
    ticket, locked for the change, has another: nothing was changed. Read it and decide."""

    def __init__(self, ticket_id: int, expected: list[int], current_version: int) -> None:
        named = ", ".join(str(v) for v in expected)
        super().__init__(
            f"ticket {ticket_id} is at version {current_version}, not {named}: "
            "it changed since it was read; read it again before changing it"
        )
        self.ticket_id = ticket_id
        self.expected = expected
        self.current_version = current_version


class ValidationFailed(DispatchError):
    """Submitted master data breaks one or more rules; every broken rule is listed."""

    def __init__(self, errors: list[FieldError]) -> None:
        if not errors:
            raise ValueError("ValidationFailed needs at least one FieldError")
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = list(errors)


class DuplicateError(DispatchError):
    """A row with the same unique value exists already (a code)."""

    def __init__(self, entity: str, field: str, value: object) -> None:
        super().__init__(f"a {entity} with {field} {value!r} exists already")
        self.entity = entity
        self.field = field
        self.value = value


class InUseError(DispatchError):
    """The change would leave other rows pointing at something that no longer fits them."""

    def __init__(self, entity: str, key: object, detail: str) -> None:
        super().__init__(f"{entity} {key!r}: {detail}")
        self.entity = entity
        self.key = key


class NoVanError(DispatchError):
    """Van stock was set for an engineer who has no van depot."""

    def __init__(self, engineer_id: int) -> None:
        super().__init__(
            f"engineer {engineer_id} has no van; give them one first"
            ' (PATCH the engineer with {"create_van": true})'
        )
        self.engineer_id = engineer_id


class IntegrityConflictError(DispatchError):
    """The database refused a write the checks let through: a concurrent change won."""

    def __init__(self, entity: str) -> None:
        super().__init__(
            f"the {entity} could not be written: it conflicts with a concurrent change;"
            " read it again and retry"
        )
        self.entity = entity


class AssignmentConflict(DispatchError):
    """The assignment cannot be made as asked; `next_best` is the best option now, if any."""

    def __init__(
        self, ticket_id: int, reason: str, next_best: dict[str, object] | None = None
    ) -> None:
        hint = ""
        if next_best is not None:
            name = next_best.get("engineer")
            who = f"{name} ({next_best['engineer_id']})" if name else next_best["engineer_id"]
            hint = f"; next best: engineer {who} arriving {next_best['arrives_at']}"
        super().__init__(f"ticket {ticket_id} cannot be assigned: {reason}{hint}")
        self.ticket_id = ticket_id
        self.reason = reason
        self.next_best = next_best


class InvalidPlanRequest(DispatchError):
    """A route-planning request that cannot be planned as asked (field-level)."""

    def __init__(self, field: str, reason: str, ticket_ids: list[int] | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.ticket_ids = ticket_ids


class PublishConflict(DispatchError):
    """A draft plan cannot be published as it stands; nothing was changed."""

    def __init__(self, plan_id: int, conflicts: list[str]) -> None:
        super().__init__(
            f"plan {plan_id} cannot be published: {len(conflicts)} conflict(s); nothing changed"
        )
        self.plan_id = plan_id
        self.conflicts = conflicts
