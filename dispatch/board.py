"""What the pages read: a region's board, and the lists behind it (plans, assignments,
shifts, positions, the pick list). Reads only; every rule stays in its own module.

The board is one read so that a region of 300 engineers and 1,000 open tickets answers in
a few queries of plain columns: tickets with their site and policy margin (their clocks by
`clocks.read_clocks` through `dispatch.expected`'s projection, as every other read),
engineers with today's working windows (calendar), active assignments (the lanes and
routes), the published plan's id.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Generic, TypeAlias, TypeVar, cast
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Row, Select, and_, or_, select
from sqlalchemy.orm import Session

from dispatch.calendar import Interval, WeeklyShift, working_windows
from dispatch.clocks import ClockReading, read_clocks
from dispatch.durations import DurationLog
from dispatch.errors import NotFoundError
from dispatch.expected import ExpectedVisit, expected_visits, projections_of
from dispatch.lifecycle import OPEN_STATUSES
from dispatch.models import (
    Absence,
    Assignment,
    AssignmentStatus,
    Contract,
    Engineer,
    EngineerSkill,
    Plan,
    PlanStage,
    PromisePolicy,
    Shift,
    Site,
    Ticket,
    TicketStatus,
)
from inventory.models import (
    Depot,
    DepotKind,
    Part,
    ProductLine,
    Region,
    Reservation,
    ReservationStatus,
    Shipment,
)
from inventory.pagination import Page, fetch_page
from inventory.shipments import ShipmentFilter, shipments_query

# A plain result row: columns by name, no ORM object behind it.
Record: TypeAlias = "Row[*tuple[Any, ...]]"
HeldT = TypeVar("HeldT", Reservation, Shipment)

# An engineer's state on the board, from his most advanced active visit.
_STATUS_RANK = {TicketStatus.ON_SITE: 3, TicketStatus.EN_ROUTE: 2, TicketStatus.ASSIGNED: 1}


@dataclass(frozen=True, slots=True)
class BoardEngineer:
    """An engineer's lane: plain rows (`engineers` and `engineer_skills` columns), no ORM
    objects, so that 300 of them load in two queries without the identity map's cost."""

    engineer: Record
    skills: list[Record]  # product_line_id, code, name (the product line's), level
    status: str  # idle, assigned, en_route, on_site; absent, or off_shift when not working now
    windows: list[Interval]  # today's working windows (shifts minus absences)


@dataclass(frozen=True, slots=True)
class SitePin:
    """Where a ticket is: what the map needs of its site."""

    id: int
    name: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class BoardTicket:
    ticket: Record  # every column of `tickets`, by name as on `Ticket`
    clocks: list[ClockReading]
    site: SitePin

    @property
    def at_risk(self) -> bool:
        """A pending clock is at risk or breached (as `TicketView.at_risk`)."""
        return any(c.state in ("at_risk", "breached") for c in self.clocks)


@dataclass(frozen=True, slots=True)
class Board:
    region: Region
    now: datetime
    day: Interval  # the region's local calendar day around `now`
    depots: list[Record]
    engineers: list[BoardEngineer]
    tickets: list[BoardTicket]
    assignments: list[Record]  # every column of `assignments`
    published_plan_id: int | None
    draft_plan_id: int | None
    # ticket id -> its visit as now expected (assigned, en route, on site; with a schedule)
    expected: dict[int, ExpectedVisit] = field(default_factory=dict)


def local_day(now: datetime, timezone: str) -> Interval:
    """The calendar day around `now` in `timezone`, as aware datetimes."""
    zone = ZoneInfo(timezone)
    start = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, (start + timedelta(days=1)).astimezone(zone)


def _region(session: Session, region_id: int) -> Region:
    region = session.get(Region, region_id)
    if region is None:
        raise NotFoundError("region", region_id)
    return region


def read_board(
    session: Session, *, region_id: int, now: datetime, durations: DurationLog | None = None
) -> Board:
    """Everything the dispatcher's board shows for one region at `now`.

    An assigned, en-route or on-site ticket's clocks read its visit as now expected
    (`ExpectedVisit`): pushed behind its engineer's overrunning job as the re-dispatch
    review reads it, set off late, or on site past its planned end, so the board shows it
    at risk before any move is stored. ``durations``: the log of finished jobs when the
    caller has it (read only when some such visit is on the board).

    Core selects of plain columns, one query per table with IN lists: loading a thousand
    tickets as ORM objects cost more than the queries themselves (issue 19).
    """
    region = _region(session, region_id)
    day = local_day(now, region.timezone)
    depots = list(
        session.execute(
            select(Depot.id, Depot.code, Depot.name, Depot.lat, Depot.lon)
            .where(Depot.region_id == region_id, Depot.kind != DepotKind.VAN)
            .order_by(Depot.id)
        )
    )  # fmt: skip
    open_here = (
        select(Ticket.id).join(Site, Site.id == Ticket.site_id)
        .where(Site.region_id == region_id, Ticket.status.in_(OPEN_STATUSES))
    )  # fmt: skip
    # Tickets with their site and their policy's at-risk margin, in one query.
    ticket_rows = session.execute(
        select(Ticket.__table__, Site.name.label("site_name"), Site.lat.label("site_lat"),
               Site.lon.label("site_lon"), PromisePolicy.at_risk_margin_min)
        .join(Site, Site.id == Ticket.site_id)
        .join(Contract, Contract.id == Site.contract_id)
        .join(PromisePolicy, PromisePolicy.id == Contract.policy_id)
        .where(Site.region_id == region_id, Ticket.status.in_(OPEN_STATUSES))
        .order_by(Ticket.id)
    ).all()  # fmt: skip
    # Lanes: the region's engineers, and anyone from elsewhere sent to one of its tickets.
    engineers_here = select(Engineer.id).where(Engineer.region_id == region_id)
    assignments = session.execute(
        select(Assignment.__table__)
        .where(
            Assignment.status == AssignmentStatus.ACTIVE,
            or_(Assignment.engineer_id.in_(engineers_here), Assignment.ticket_id.in_(open_here)),
        )
        .order_by(Assignment.engineer_id, Assignment.arrives_at, Assignment.id)
    ).all()
    expected = expected_visits(
        session, ticket_rows, now=now, durations=durations, assignments=assignments
    )
    tickets = [
        BoardTicket(
            t,
            # A row has the ticket's attributes by name: what the clocks read.
            read_clocks(
                cast(Ticket, t), margin=timedelta(minutes=t.at_risk_margin_min), now=now,
                projections=projections_of(
                    expected, t, margin=timedelta(minutes=t.at_risk_margin_min)
                ),
            ),
            SitePin(t.site_id, t.site_name, t.site_lat, t.site_lon),
        )
        for t in ticket_rows
    ]  # fmt: skip
    visiting = {a.engineer_id for a in assignments}
    engineers = session.execute(
        select(Engineer.id, Engineer.code, Engineer.name, Engineer.region_id, Engineer.home_lat,
               Engineer.home_lon, Engineer.current_lat, Engineer.current_lon,
               Engineer.position_at)
        .where(or_(and_(Engineer.region_id == region_id, Engineer.active),
                   Engineer.id.in_(visiting)))
        .order_by(Engineer.id)
    ).all()  # fmt: skip
    ids = [e.id for e in engineers]
    wanted = {e.region_id for e in engineers} | {region_id}
    zones = {
        row.id: row.timezone
        for row in session.execute(select(Region.id, Region.timezone).where(Region.id.in_(wanted)))
    }
    skills: dict[int, list[Record]] = defaultdict(list)
    shifts: dict[int, list[WeeklyShift]] = defaultdict(list)
    absences: dict[int, list[Interval]] = defaultdict(list)
    if ids:
        for skill in session.execute(
            select(EngineerSkill.engineer_id, EngineerSkill.product_line_id,
                   ProductLine.code, ProductLine.name, EngineerSkill.level)
            .join(ProductLine, ProductLine.id == EngineerSkill.product_line_id)
            .where(EngineerSkill.engineer_id.in_(ids))
        ):  # fmt: skip
            skills[skill.engineer_id].append(skill)
        for s in session.execute(
            select(Shift.engineer_id, Shift.weekday, Shift.starts_at, Shift.ends_at)
            .where(Shift.engineer_id.in_(ids), Shift.on_call.is_(False))
        ):  # fmt: skip
            shifts[s.engineer_id].append(WeeklyShift(s.weekday, s.starts_at, s.ends_at))
        for away in session.execute(
            select(Absence.engineer_id, Absence.starts_at, Absence.ends_at)
            .where(
                Absence.engineer_id.in_(ids), Absence.ends_at > day[0], Absence.starts_at < day[1]
            )
        ):  # fmt: skip
            absences[away.engineer_id].append((away.starts_at, away.ends_at))
    status_of = {t.id: t.status for t in ticket_rows}
    rank: dict[int, int] = defaultdict(int)
    for a in assignments:
        rank[a.engineer_id] = max(
            rank[a.engineer_id],
            _STATUS_RANK.get(status_of.get(a.ticket_id, TicketStatus.ASSIGNED), 1),
        )
    names = {0: "idle", 1: "assigned", 2: "en_route", 3: "on_site"}
    board_engineers = []
    for e in engineers:
        windows = working_windows(
            shifts[e.id], absences[e.id], start=day[0], end=day[1], timezone=zones[e.region_id]
        )
        working = any(lo <= now < hi for lo, hi in windows)
        status = names[rank[e.id]]
        if status == "idle" and any(lo <= now < hi for lo, hi in absences[e.id]):
            status = "absent"  # reported away (e.g. a disruption): not merely off shift
        elif status == "idle" and not working:
            status = "off_shift"
        board_engineers.append(BoardEngineer(e, skills[e.id], status, windows))
    return Board(
        region=region, now=now, day=day, depots=depots, engineers=board_engineers,
        tickets=tickets, assignments=list(assignments), expected=expected,
        published_plan_id=_latest_plan(session, region_id, PlanStage.PUBLISHED),
        draft_plan_id=_latest_plan(session, region_id, PlanStage.DRAFT),
    )  # fmt: skip


def _latest_plan(session: Session, region_id: int, stage: PlanStage) -> int | None:
    return session.scalar(
        select(Plan.id).where(Plan.region_id == region_id, Plan.stage == stage)
        .order_by(Plan.id.desc()).limit(1)
    )  # fmt: skip


# -- paged lists ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanFilter:
    region_id: int | None = None
    stage: PlanStage | None = None


def list_plans(
    session: Session, *, filters: PlanFilter, after: int | None, limit: int
) -> Page[Plan]:
    """Plans in id order (keyset pages)."""
    stmt = select(Plan)
    if filters.region_id is not None:
        stmt = stmt.where(Plan.region_id == filters.region_id)
    if filters.stage is not None:
        stmt = stmt.where(Plan.stage == filters.stage)
    return fetch_page(stmt, Plan.id, session=session, after=after, limit=limit)


@dataclass(frozen=True, slots=True)
class AssignmentFilter:
    region_id: int | None = None
    engineer_id: int | None = None
    ticket_id: int | None = None
    status: AssignmentStatus | None = None


def list_assignments(
    session: Session, *, filters: AssignmentFilter, after: int | None, limit: int
) -> Page[Assignment]:
    """Assignments in id order (keyset pages)."""
    conditions: list[ColumnElement[bool]] = []
    if filters.region_id is not None:
        in_region = select(Engineer.id).where(Engineer.region_id == filters.region_id)
        conditions.append(Assignment.engineer_id.in_(in_region))
    if filters.engineer_id is not None:
        conditions.append(Assignment.engineer_id == filters.engineer_id)
    if filters.ticket_id is not None:
        conditions.append(Assignment.ticket_id == filters.ticket_id)
    if filters.status is not None:
        conditions.append(Assignment.status == filters.status)
    stmt = select(Assignment).where(*conditions)
    return fetch_page(stmt, Assignment.id, session=session, after=after, limit=limit)


def list_shifts(
    session: Session, *, region_id: int | None, engineer_id: int | None, after: int | None,
    limit: int,
) -> Page[Shift]:  # fmt: skip
    """Weekly shifts (local times of the engineer's region) in id order."""
    stmt = select(Shift)
    if region_id is not None:
        stmt = stmt.where(
            Shift.engineer_id.in_(select(Engineer.id).where(Engineer.region_id == region_id))
        )
    if engineer_id is not None:
        stmt = stmt.where(Shift.engineer_id == engineer_id)
    return fetch_page(stmt, Shift.id, session=session, after=after, limit=limit)


@dataclass(frozen=True, slots=True)
class PickLine:
    """One pickup a published assignment needs at a depot, in route order."""

    assignment: Assignment
    engineer: Engineer
    ticket: Ticket
    reservations: list[Reservation]
    parts: dict[int, tuple[str, str]]  # {part id: (SKU, name)}: what the counter reads


def pick_list(session: Session, *, depot_id: int) -> list[PickLine]:
    """The pickups active assignments need at `depot_id`, engineer by engineer in route order.

    Route order is each engineer's departure order; the held parts are the ticket's live
    reservations at that depot (what the warehouse puts on the counter).
    """
    if session.get(Depot, depot_id) is None:
        raise NotFoundError("depot", depot_id)
    rows = session.execute(
        select(Assignment, Engineer, Ticket)
        .join(Engineer, Engineer.id == Assignment.engineer_id)
        .join(Ticket, Ticket.id == Assignment.ticket_id)
        .where(
            Assignment.status == AssignmentStatus.ACTIVE,
            Assignment.parts_source == "pickup",
            Assignment.depot_id == depot_id,
        )
        .order_by(Assignment.departs_at, Assignment.engineer_id, Assignment.id)
    ).all()
    ticket_ids = [t.id for _, _, t in rows]
    held: dict[int, list[Reservation]] = defaultdict(list)
    if ticket_ids:
        for r in session.scalars(
            select(Reservation).where(
                Reservation.ticket_id.in_(ticket_ids),
                Reservation.depot_id == depot_id,
                Reservation.status == ReservationStatus.RESERVED,
            ).order_by(Reservation.id)
        ):  # fmt: skip
            assert r.ticket_id is not None
            held[r.ticket_id].append(r)
    from dispatch.names import parts

    named = parts(session, (r.part_id for rs in held.values() for r in rs))
    return [PickLine(a, e, t, held[t.id], named) for a, e, t in rows]


@dataclass(frozen=True, slots=True)
class ReservationFilter:
    depot_id: int | None = None
    ticket_id: int | None = None
    status: ReservationStatus | None = None


@dataclass(frozen=True, slots=True)
class Coded(Generic[HeldT]):
    """A reservation or shipment with its part's SKU and name and its ticket's code.

    Warehouse staff read codes, not ids; every other attribute is the row's own.
    """

    row: HeldT
    part_sku: str | None
    part_name: str | None
    ticket_code: str | None

    @property
    def id(self) -> int:
        return self.row.id

    def __getattr__(self, name: str) -> Any:
        return getattr(self.row, name)


def _coded_page(
    stmt: Select[HeldT],
    model: type[Reservation] | type[Shipment],
    *,
    session: Session,
    after: int | None,
    limit: int,
) -> Page[Coded[HeldT]]:
    """One keyset page of `stmt`, joined once to parts and tickets (not a query per row)."""
    coded = (
        stmt.add_columns(Part.sku, Part.name, Ticket.code)
        .outerjoin(Part, Part.id == model.part_id)
        .outerjoin(Ticket, Ticket.id == model.ticket_id)
    )  # fmt: skip
    if after is not None:
        coded = coded.where(model.id > after)
    rows = cast("list[Record]", session.execute(coded.order_by(model.id).limit(limit + 1)).all())
    items = [Coded(row[0], row[1], row[2], row[3]) for row in rows[:limit]]
    return Page(items=items, next_after=items[-1].id if len(rows) > limit else None)


def list_reservations(
    session: Session, *, filters: ReservationFilter, after: int | None, limit: int
) -> Page[Coded[Reservation]]:
    """Reservations in id order (keyset pages), with part and ticket codes."""
    stmt = select(Reservation)
    if filters.depot_id is not None:
        stmt = stmt.where(Reservation.depot_id == filters.depot_id)
    if filters.ticket_id is not None:
        stmt = stmt.where(Reservation.ticket_id == filters.ticket_id)
    if filters.status is not None:
        stmt = stmt.where(Reservation.status == filters.status)
    return _coded_page(stmt, Reservation, session=session, after=after, limit=limit)


def list_shipments(
    session: Session,
    *,
    filters: ShipmentFilter,
    now: datetime,
    after: int | None,
    limit: int,
    margin_min: int = 0,
) -> Page[Coded[Shipment]]:
    """Shipments in id order (`inventory.shipments.shipments_query`), with part and ticket codes."""
    stmt = shipments_query(filters=filters, now=now, margin_min=margin_min)
    return _coded_page(stmt, Shipment, session=session, after=after, limit=limit)
