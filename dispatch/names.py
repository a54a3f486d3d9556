"""Names next to ids, for every answer a person reads (issue 17): one query per kind.

Reads return ids (stable, what programs join on) and, beside them, what a person knows
a thing by: a user's name, an engineer's name, a site's name, a product line's code and
name, a part's SKU and name. Each function takes many ids and answers in one query, so a
page of a hundred rows costs a handful of queries, not a hundred.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db import User
from dispatch.models import Engineer, Site, Ticket, TicketType
from inventory.models import Depot, Part, ProductLine, Region


def _by_id(session: Session, key: Any, columns: tuple[Any, ...], ids: Iterable[int | None]) -> Any:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    rows = session.execute(select(key, *columns).where(key.in_(wanted)))
    return {row[0]: (row[1] if len(columns) == 1 else tuple(row[1:])) for row in rows}


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """{user id: name}."""
    return _by_id(session, User.id, (User.name,), ids)  # type: ignore[no-any-return]


def engineer_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """{engineer id: name}."""
    return _by_id(session, Engineer.id, (Engineer.name,), ids)  # type: ignore[no-any-return]


def engineer_label(session: Session, engineer_id: int) -> str:
    """'engineer Wang Wei (E012)': how a log line or a cause names an engineer."""
    engineer = session.get(Engineer, engineer_id)
    if engineer is None:
        return f"engineer {engineer_id}"
    return f"engineer {engineer.name} ({engineer.code})"


def ticket_codes(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """{ticket id: code}."""
    return _by_id(session, Ticket.id, (Ticket.code,), ids)  # type: ignore[no-any-return]


def site_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """{site id: name}."""
    return _by_id(session, Site.id, (Site.name,), ids)  # type: ignore[no-any-return]


def ticket_type_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """{ticket type id: name}."""
    return _by_id(session, TicketType.id, (TicketType.name,), ids)  # type: ignore[no-any-return]


def product_lines(session: Session, ids: Iterable[int | None]) -> dict[int, tuple[str, str]]:
    """{product line id: (code, name)}: skills read as product lines."""
    cols = (ProductLine.code, ProductLine.name)
    return _by_id(session, ProductLine.id, cols, ids)  # type: ignore[no-any-return]


def parts(session: Session, ids: Iterable[int | None]) -> dict[int, tuple[str, str]]:
    """{part id: (SKU, name)}."""
    return _by_id(session, Part.id, (Part.sku, Part.name), ids)  # type: ignore[no-any-return]


def depot_codes(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """{depot id: code}."""
    return _by_id(session, Depot.id, (Depot.code,), ids)  # type: ignore[no-any-return]


def region_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """{region id: name}."""
    return _by_id(session, Region.id, (Region.name,), ids)  # type: ignore[no-any-return]
