"""Tickets as the dispatcher reads them: with their needs, parts used and clock readings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from dispatch import names as lookup
from dispatch.clocks import ClockReading, WorklistFilter, at_risk_worklist, clocks_as_expected
from dispatch.durations import DurationLog
from dispatch.errors import NotFoundError
from dispatch.expected import ExpectedVisit
from dispatch.models import (
    Contract,
    PromisePolicy,
    Site,
    Ticket,
    TicketPart,
    TicketPartUsed,
    TicketSkill,
    TicketStatus,
)
from inventory.pagination import Page, fetch_page


@dataclass(frozen=True, slots=True)
class TicketNames:
    """What a person knows a ticket's ids by (issue 17: names, not only ids)."""

    site: str = ""
    ticket_type: str = ""
    engineer: str | None = None
    lines: dict[int, tuple[str, str]] = field(default_factory=dict)  # id: (code, name)
    parts: dict[int, tuple[str, str]] = field(default_factory=dict)  # id: (SKU, name)
    users: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TicketView:
    """One ticket with everything a read shows about it."""

    ticket: Ticket
    clocks: list[ClockReading]
    skills: list[TicketSkill]
    parts: list[TicketPart]
    parts_used: list[TicketPartUsed]
    names: TicketNames = field(default_factory=TicketNames)

    @property
    def id(self) -> int:
        """The ticket's id (pages of views are keyed by it)."""
        return self.ticket.id

    @property
    def at_risk(self) -> bool:
        """True when a pending clock is at risk or already breached."""
        return any(c.state in ("at_risk", "breached") for c in self.clocks)


def _margins(session: Session, tickets: Sequence[Ticket]) -> dict[int, timedelta]:
    """The at-risk margin of each ticket's policy, in one query."""
    if not tickets:
        return {}
    stmt = (
        select(Ticket.id, PromisePolicy.at_risk_margin_min)
        .join(Site, Site.id == Ticket.site_id)
        .join(Contract, Contract.id == Site.contract_id)
        .join(PromisePolicy, PromisePolicy.id == Contract.policy_id)
        .where(Ticket.id.in_([t.id for t in tickets]))
    )
    return {tid: timedelta(minutes=m) for tid, m in session.execute(stmt)}


ChildT = TypeVar("ChildT", TicketSkill, TicketPart, TicketPartUsed)


def _children(session: Session, model: type[ChildT], ids: list[int]) -> dict[int, list[ChildT]]:
    """Rows of a ticket's child table for many tickets, grouped by ticket id."""
    grouped: dict[int, list[ChildT]] = defaultdict(list)
    if ids:
        for row in session.scalars(select(model).where(model.ticket_id.in_(ids))):
            grouped[row.ticket_id].append(row)
    return grouped


def view_tickets(
    session: Session, tickets: Sequence[Ticket], *, now: datetime,
    clocks: Mapping[int, list[ClockReading]] | None = None, durations: DurationLog | None = None,
) -> list[TicketView]:  # fmt: skip
    """Views of several tickets with a fixed number of queries (no N+1), their clocks as
    `clocks_of` reads them. ``clocks``: their readings when the caller has read them (the
    worklist's), not read again; ``durations``: the log of finished jobs when it has it."""
    ids = [t.id for t in tickets]
    read = clocks_of(session, tickets, now=now, durations=durations) if clocks is None else clocks
    skills = _children(session, TicketSkill, ids)
    parts = _children(session, TicketPart, ids)
    used = _children(session, TicketPartUsed, ids)
    named = _Names.of(session, tickets, skills, parts, used)
    return [
        TicketView(
            ticket=t,
            clocks=read[t.id],
            skills=skills[t.id],
            parts=parts[t.id],
            parts_used=used[t.id],
            names=named.ticket(t),
        )
        for t in tickets
    ]


@dataclass(frozen=True, slots=True)
class _Names:
    """The names of a page of tickets, one query per kind."""

    sites: dict[int, str]
    types: dict[int, str]
    engineers: dict[int, str]
    lines: dict[int, tuple[str, str]]
    parts: dict[int, tuple[str, str]]
    users: dict[int, str]

    @classmethod
    def of(
        cls, session: Session, tickets: Sequence[Ticket], skills: dict[int, list[TicketSkill]],
        parts: dict[int, list[TicketPart]], used: dict[int, list[TicketPartUsed]],
    ) -> _Names:  # fmt: skip
        every_used = [u for rows in used.values() for u in rows]
        part_ids = [p.part_id for rows in parts.values() for p in rows]
        return cls(
            sites=lookup.site_names(session, (t.site_id for t in tickets)),
            types=lookup.ticket_type_names(session, (t.ticket_type_id for t in tickets)),
            engineers=lookup.engineer_names(session, (t.engineer_id for t in tickets)),
            lines=lookup.product_lines(
                session, (k.product_line_id for rows in skills.values() for k in rows)
            ),
            parts=lookup.parts(session, [*part_ids, *(u.part_id for u in every_used)]),
            users=lookup.user_names(session, (u.recorded_by_id for u in every_used)),
        )

    def ticket(self, t: Ticket) -> TicketNames:
        engineer = None if t.engineer_id is None else self.engineers.get(t.engineer_id)
        return TicketNames(
            site=self.sites.get(t.site_id, ""), ticket_type=self.types.get(t.ticket_type_id, ""),
            engineer=engineer, lines=self.lines, parts=self.parts, users=self.users,
        )  # fmt: skip


def clocks_of(
    session: Session, tickets: Sequence[Ticket], *, now: datetime,
    durations: DurationLog | None = None, expected: Mapping[int, ExpectedVisit] | None = None,
) -> dict[int, list[ClockReading]]:  # fmt: skip
    """Only the clocks of many tickets, a committed visit's as now expected, as the board
    reads it (`clocks.clocks_as_expected`). One query for their margins, and only when some
    ticket is assigned, en route or on site the fixed few of its visits (``durations``: the
    log if known)."""
    margins = _margins(session, tickets)
    return clocks_as_expected(
        session, tickets, margins, now=now, durations=durations, expected=expected
    )


def view_ticket(
    session: Session, *, ticket_id: int, now: datetime, durations: DurationLog | None = None
) -> TicketView:
    """One ticket's view (its clocks as the board reads them), or NotFoundError."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFoundError("ticket", ticket_id)
    return view_tickets(session, [ticket], now=now, durations=durations)[0]


@dataclass(frozen=True, slots=True)
class TicketFilter:
    status: TicketStatus | None = None
    region_id: int | None = None
    site_id: int | None = None
    engineer_id: int | None = None


def _filtered(filters: TicketFilter) -> Select[Any]:
    stmt = select(Ticket)
    if filters.status is not None:
        stmt = stmt.where(Ticket.status == filters.status)
    if filters.site_id is not None:
        stmt = stmt.where(Ticket.site_id == filters.site_id)
    if filters.engineer_id is not None:
        stmt = stmt.where(Ticket.engineer_id == filters.engineer_id)
    if filters.region_id is not None:
        stmt = stmt.join(Site, Site.id == Ticket.site_id).where(Site.region_id == filters.region_id)
    return stmt


def list_tickets(
    session: Session, *, filters: TicketFilter, now: datetime, after: int | None, limit: int,
    durations: DurationLog | None = None,
) -> Page[TicketView]:  # fmt: skip
    """Tickets in id order (keyset pages), each with its clocks (`clocks_of`: an assigned
    visit's as the board reads it, the page's visits read together)."""
    page: Page[Ticket] = fetch_page(
        _filtered(filters), Ticket.id, session=session, after=after, limit=limit
    )
    views = view_tickets(session, page.items, now=now, durations=durations)
    return Page(items=views, next_after=page.next_after)


def list_at_risk(
    session: Session, *, filters: TicketFilter, now: datetime, after: int | None, limit: int,
    durations: DurationLog | None = None,
) -> Page[TicketView]:  # fmt: skip
    """The dispatcher's worklist: open tickets at risk or breached, most urgent first.

    Pages like every list: `next_after` is the last ticket's id while more follow (the
    next page starts after that ticket's place in the urgency order), None on the last.
    Every filter narrows the tickets read before the page is cut. Each ticket shows the
    clocks it was ordered by (`at_risk_worklist`'s, a committed visit's as now expected).
    """
    where = WorklistFilter(filters.status, filters.site_id, filters.engineer_id)
    items = at_risk_worklist(
        session, now=now, region_id=filters.region_id, after=after, limit=limit + 1, where=where,
        durations=durations,
    )  # fmt: skip
    shown = items[:limit]
    views = view_tickets(
        session, [i.ticket for i in shown], now=now, clocks={i.ticket.id: i.clocks for i in shown}
    )
    return Page(items=views, next_after=shown[-1].ticket.id if len(items) > limit else None)
