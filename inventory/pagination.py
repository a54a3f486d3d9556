"""Keyset pagination by primary key: stable under inserts, no OFFSET scans.

It lives here, the lowest package with queries, so that dispatch can use it too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session


class _HasId(Protocol):
    @property
    def id(self) -> Any: ...


RowT = TypeVar("RowT", bound=_HasId)


@dataclass(frozen=True, slots=True)
class Page(Generic[RowT]):
    """One page of rows in id order; `next_after` is the cursor of the next page, or None."""

    items: Sequence[RowT]
    next_after: int | None


def fetch_page(
    stmt: Select[RowT],
    id_column: InstrumentedAttribute[int],
    *,
    session: Session,
    after: int | None,
    limit: int,
) -> Page[RowT]:
    """Run `stmt` for the rows after the cursor; one extra row tells whether more follow."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    if after is not None:
        stmt = stmt.where(id_column > after)
    rows = list(session.scalars(stmt.order_by(id_column).limit(limit + 1)))
    items = rows[:limit]
    return Page(items=items, next_after=items[-1].id if len(rows) > limit else None)
