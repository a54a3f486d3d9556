"""Structured errors of the inventory package; HTTP codes are the API's business.

InventoryError
├── NotFoundError(entity, key)
├── ValidationFailed(errors: list[FieldError])
├── DuplicateError(entity, field, value)
└── IntegrityConflictError(entity)
"""

from __future__ import annotations

from dataclasses import dataclass


class InventoryError(Exception):
    """Base of every error inventory raises on purpose."""


class NotFoundError(InventoryError):
    """A row looked up by its key does not exist."""

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"{entity} {key!r} does not exist")
        self.entity = entity
        self.key = key


@dataclass(frozen=True, slots=True)
class FieldError:
    """One broken rule of submitted data.

    `field` is a dotted path into the submitted data (``"severities.1.rank"``), so a
    client can point at the input; `type` says what kind of rule it broke.
    """

    field: str
    reason: str
    type: str = "value_error"


class ValidationFailed(InventoryError):
    """Submitted master data breaks one or more rules; every broken rule is listed."""

    def __init__(self, errors: list[FieldError]) -> None:
        if not errors:
            raise ValueError("ValidationFailed needs at least one FieldError")
        super().__init__("; ".join(f"{e.field}: {e.reason}" for e in errors))
        self.errors = list(errors)


class DuplicateError(InventoryError):
    """A row with the same unique value exists already (a code, a SKU, a name)."""

    def __init__(self, entity: str, field: str, value: object) -> None:
        super().__init__(f"a {entity} with {field} {value!r} exists already")
        self.entity = entity
        self.field = field
        self.value = value


class IntegrityConflictError(InventoryError):
    """The database refused a write the checks let through: a concurrent change won."""

    def __init__(self, entity: str) -> None:
        super().__init__(
            f"the {entity} could not be written: it conflicts with a concurrent change;"
            " read it again and retry"
        )
        self.entity = entity
