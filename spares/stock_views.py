"""`spares stock show|reservations`: what is where, by depot code and part SKU or name.

Read-only views for the warehouse; a depot or part is named by id, code (SKU) or name, so a
person never has to look an id up first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table

from spares.localtime import caption, cli_zone, clock

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

console = Console()

DepotRef = Annotated[
    str | None, typer.Option("--depot", help="a depot's id, code or name (vans too)")
]
PartRef = Annotated[str | None, typer.Option("--part", help="a part's id, SKU or name")]


def find_id(session: Session, kind: str, text: str, hint: str | None = None) -> int:
    """The id of the depot or part that `text` names: an id, its code (SKU) or its name."""
    from spares.names import resolve

    return resolve(session, kind, text, hint=hint)


def show_cmd(
    ctx: typer.Context,
    depot: DepotRef = None,
    part: PartRef = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 200,
) -> None:
    """Stock of one depot (every part) or of one part (every depot), with codes and names."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    import db
    from inventory import stock
    from inventory.models import Depot

    if (depot is None) == (part is None):
        raise typer.BadParameter("give --depot or --part (one of them)")
    engine = db.make_engine(ctx.obj.settings.database_url)
    try:
        with db.make_sessionmaker(engine)() as session:
            depot_id = None if depot is None else find_id(session, "depot", depot)
            part_id = None if part is None else find_id(session, "part", part)
            codes: dict[int | None, str] = {
                i: c for i, c in session.execute(select(Depot.id, Depot.code))
            }
            page = stock.list_stock(
                session=session, now=datetime.now(UTC), after=None, limit=limit,
                filters=stock.StockFilter(depot_id=depot_id, part_id=part_id),
            )  # fmt: skip
    finally:
        engine.dispose()
    title = f"stock at depot {codes.get(depot_id, depot)}" if depot else f"stock of part {part}"
    table = Table(title=title, title_justify="left")
    for name in ("depot", "SKU", "part", "on hand", "held", "available", "transit"):
        left = name in ("depot", "SKU", "part")
        table.add_column(name, justify="left" if left else "right", no_wrap=name != "part")
    for row in page.items:
        table.add_row(codes.get(row.depot_id, str(row.depot_id)), row.part_sku, row.part_name,
                      str(row.on_hand), str(row.reserved), str(row.available),
                      str(row.in_transit))  # fmt: skip
    console.print(table)
    if page.next_after is not None:
        console.print(f"(more: raise --limit above {limit})")


def reservations_cmd(
    ctx: typer.Context,
    depot: DepotRef = None,
    part: PartRef = None,
    ticket: Annotated[
        str | None, typer.Option("--ticket", help="held for this ticket (id or code)")
    ] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, max=1000)] = 200,
) -> None:
    """Live holds (not picked, released or expired): where, what, for which ticket, until when."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    import db
    from dispatch.models import Ticket
    from inventory.models import Depot, Part, Reservation, ReservationStatus

    engine = db.make_engine(ctx.obj.settings.database_url)
    now = datetime.now(UTC)
    try:
        with db.make_sessionmaker(engine)() as session:
            r = Reservation
            stmt = (
                select(r, Depot.code, Part.sku, Part.name, Ticket.code)
                .join(Depot, Depot.id == r.depot_id)
                .join(Part, Part.id == r.part_id)
                .outerjoin(Ticket, Ticket.id == r.ticket_id)
                .where(r.status == ReservationStatus.RESERVED, r.expires_at > now)
                .order_by(r.expires_at, r.id)
                .limit(limit)
            )
            if depot is not None:
                stmt = stmt.where(r.depot_id == find_id(session, "depot", depot))
            if part is not None:
                stmt = stmt.where(r.part_id == find_id(session, "part", part))
            if ticket is not None:
                stmt = stmt.where(r.ticket_id == find_id(session, "ticket", ticket))
            rows = session.execute(stmt).all()
            zone = cli_zone(ctx.obj, session)
    finally:
        engine.dispose()
    table = Table(title=f"{len(rows)} live hold(s)", title_justify="left", caption=caption(zone))
    for name in ("id", "depot", "SKU", "part", "qty", "ticket", "until"):
        table.add_column(name, justify="right" if name in ("id", "qty") else "left")
    for hold, code, sku, name, ticket_code in rows:
        table.add_row(str(hold.id), code, sku, name, str(hold.quantity), ticket_code or "",
                      clock(hold.expires_at, zone))  # fmt: skip
    console.print(table)
