"""Building blocks of master-data validation, shared by inventory and dispatch services.

Services collect every broken rule before writing anything (a client fixes all of
them in one round trip, and a refused change leaves nothing half-written), then
raise their own package's `ValidationFailed`.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import InstrumentedAttribute, Session

from db import Base
from db.errors import unique_clash
from inventory.errors import DuplicateError, FieldError, IntegrityConflictError, ValidationFailed

ModelT = TypeVar("ModelT", bound=Base)

# Money columns are NUMERIC(12, 2): ten digits before the point, two after.
MONEY_MAX = Decimal("9999999999.99")


class FieldErrors:
    """Collects broken rules; `raise_if_any` raises them all at once."""

    def __init__(
        self, raise_as: Callable[[list[FieldError]], Exception] = ValidationFailed
    ) -> None:
        self.errors: list[FieldError] = []
        self._raise_as = raise_as

    def add(self, field: str, reason: str, type: str = "value_error") -> None:
        self.errors.append(FieldError(field, reason, type))

    def has(self, field: str) -> bool:
        """Whether `field` already failed (later rules about it would only add noise)."""
        return any(e.field == field for e in self.errors)

    def raise_if_any(self) -> None:
        if self.errors:
            raise self._raise_as(self.errors)


def reference(
    session: Session, errors: FieldErrors, model: type[ModelT], key: int | None, field: str
) -> ModelT | None:
    """The row `key` points at, or None (recording a field error when the row is missing)."""
    if key is None:
        return None
    row = session.get(model, key)
    if row is None:
        errors.add(field, f"{model.__name__} {key} does not exist", "reference_not_found")
    return row


def check_unique(
    session: Session,
    column: InstrumentedAttribute[Any],
    value: object,
    *,
    entity: str,
    exclude_id: int | None = None,
    raise_as: Callable[[str, str, object], Exception] = DuplicateError,
) -> None:
    """Raise `raise_as(entity, field, value)` when another row already holds `value`."""
    stmt = select(column.class_.id).where(column == value)
    if exclude_id is not None:
        stmt = stmt.where(column.class_.id != exclude_id)
    if session.scalars(stmt.limit(1)).first() is not None:
        raise raise_as(entity, column.key, value)


def check_money(errors: FieldErrors, field: str, value: Decimal | None) -> None:
    """Exact money: at most two decimal places, within the column's range, never negative."""
    if value is None:
        return
    if not value.is_finite():
        errors.add(field, "must be a finite amount")
    elif value < 0:
        errors.add(field, "must not be negative")
    elif value > MONEY_MAX:
        errors.add(field, f"must be at most {MONEY_MAX}")
    elif value != value.quantize(Decimal("0.01")):
        errors.add(field, "must have at most two decimal places")


def check_currency(errors: FieldErrors, field: str, value: str | None) -> None:
    """An ISO 4217 code: three capital letters."""
    if value is not None and not (len(value) == 3 and value.isascii() and value.isupper()):
        errors.add(field, "must be an ISO 4217 code of three capital letters, e.g. CNY")


def flush_or_conflict(
    session: Session,
    entity: str,
    raise_as: Callable[[str], Exception] = IntegrityConflictError,
    duplicate_as: Callable[[str, str, object], Exception] = DuplicateError,
) -> None:
    """Flush; a constraint the checks could not see (a concurrent insert) becomes a conflict.

    A unique value taken meanwhile is `duplicate_as(entity, field, value)`, as the
    check would have said had it run a moment later. The session is unusable
    afterwards; the caller's transaction rolls back.
    """
    pending = list(session.new) + list(session.dirty)
    try:
        session.flush()
    except IntegrityError as exc:
        clash = unique_clash(exc)
        if clash is None or " " in clash.field:
            raise raise_as(entity) from exc
        value: object = clash.value
        if value is None:  # SQLite names the column only: the pending row holds the value
            rows = [r for r in pending if getattr(r, "__tablename__", None) == clash.table]
            value = next((getattr(r, clash.field) for r in rows if hasattr(r, clash.field)), None)
        raise duplicate_as(entity, clash.field, value) from exc
