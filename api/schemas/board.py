"""Wire schemas of the pages' reads: the board, plan summaries, shifts, positions, pick lists."""

from __future__ import annotations

from datetime import time
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_core import to_json

from api.schemas.common import (
    Id,
    ReadModel,
    RegionRead,
    SkillRead,
    Timestamp,
    timestamp_text,
)
from api.schemas.dispatch import AssignmentRead
from api.schemas.stock import ReservationRead
from api.schemas.ticket import ClockRead
from dispatch.models import AssignmentStatus, PlanStage
from inventory.models import ReservationStatus

Risk = Literal["on_time", "at_risk", "breached"]


class WindowRead(BaseModel):
    start: Timestamp
    end: Timestamp


class DepotPinRead(ReadModel):
    id: int
    code: str
    name: str
    lat: float | None
    lon: float | None


class BoardEngineerRead(BaseModel):
    id: int
    code: str
    name: str
    lat: float = Field(description="his reported position, or home when he reported none")
    lon: float
    position_at: Timestamp | None = Field(description="null: the position is his home")
    status: str = Field(
        description="idle, assigned, en_route, on_site; absent (an absence covers now) or off_shift"
    )
    skills: list[SkillRead]
    windows: list[WindowRead] = Field(description="today's working windows (shifts - absences)")


class BoardTicketRead(BaseModel):
    id: int
    code: str
    severity: str
    status: str
    ticket_type_id: int
    site_id: int
    site_name: str
    lat: float
    lon: float
    engineer_id: int | None
    reported_at: Timestamp
    risk: Risk = Field(description="the worst pending clock: on_time, at_risk or breached")
    clocks: list[ClockRead] = Field(description="skills and parts: GET /v1/tickets/{id}")


class BoardAssignmentRead(AssignmentRead):
    """An active assignment on the board, with its visit as now expected."""

    expected_departs_at: Timestamp | None = Field(
        None, description="the visit as now expected (`dispatch.expected`). Not set off: its "
        "planned departure pushed behind the work before it (his job on site runs past its "
        "planned end), not before now, as the re-dispatch review reads it; en route or on "
        "site: when he set off. Null: no schedule, or not on the board"
    )  # fmt: skip
    expected_arrives_at: Timestamp | None = Field(
        None, description="the expected departure plus the planned drive, not before now "
        "while he is en route (past it without an arrival: arriving now, overdue); on site: "
        "when he arrived. The arrive clock's state and slack read it once it is later than "
        "planned"
    )  # fmt: skip
    expected_fixes_at: Timestamp | None = Field(
        None, description="the expected arrival plus the planned time on site; on site: when "
        "his job's duration says (past its planned end, the log's overrun rule). The fix "
        "clock reads it once it is later than planned"
    )  # fmt: skip
    pushed_min: int = Field(
        0, description="minutes the visit is pushed behind the work before it (his job on "
        "site overruns); 0: as planned, or set off"
    )  # fmt: skip
    overdue: list[Literal["depart", "arrive"]] = Field(
        default_factory=list, description="the visit's steps due by the board's now that have "
        "not happened (the expected times read them as happening now): depart, not set off "
        "past its departure (pushed behind the work before it); arrive, en route past his "
        "planned drive without an arrival. Empty: none (or not on the board)"
    )  # fmt: skip


class BoardRead(BaseModel):
    region: RegionRead
    timezone: str = Field(description="the zone the pages show times in (the region's)")
    now: Timestamp
    day_start: Timestamp = Field(description="the region's local day around now")
    day_end: Timestamp
    depots: list[DepotPinRead]
    engineers: list[BoardEngineerRead]
    tickets: list[BoardTicketRead]
    assignments: list[BoardAssignmentRead] = Field(description="active: the lanes and routes")
    published_plan_id: int | None
    draft_plan_id: int | None

    @classmethod
    def json_of(cls, board: Any) -> bytes:
        """This model's JSON for a `dispatch.board.Board` of plain rows, written directly.

        Plain dicts in this model's field order, instants through `timestamp_text` (the
        display zone), one `to_json`: building and validating the models of 1,000 tickets
        with their clocks cost ~100 ms a read (issue 19). tests/api/test_board_api.py reads
        the result back through `BoardRead`, so the two cannot drift apart.
        """
        ts = timestamp_text
        engineers = []
        for b in board.engineers:
            e = b.engineer
            here = e.current_lat is not None and e.current_lon is not None
            engineers.append({
                "id": e.id, "code": e.code, "name": e.name,
                "lat": e.current_lat if here else e.home_lat,
                "lon": e.current_lon if here else e.home_lon,
                "position_at": ts(e.position_at) if here and e.position_at else None,
                "status": b.status,
                "skills": [{"product_line_id": s.product_line_id, "product_line_code": s.code,
                            "product_line_name": s.name, "level": s.level} for s in b.skills],
                "windows": [{"start": ts(lo), "end": ts(hi)} for lo, hi in b.windows],
            })  # fmt: skip
        tickets = []
        for bt in board.tickets:
            t, site, clocks = bt.ticket, bt.site, bt.clocks
            states = {str(c.state) for c in clocks}
            risk: Risk = "breached" if "breached" in states else (
                "at_risk" if "at_risk" in states else "on_time")  # fmt: skip
            tickets.append({
                "id": t.id, "code": t.code, "severity": t.severity, "status": str(t.status),
                "ticket_type_id": t.ticket_type_id, "site_id": site.id,
                "site_name": site.name, "lat": site.lat, "lon": site.lon,
                "engineer_id": t.engineer_id, "reported_at": ts(t.reported_at), "risk": risk,
                "clocks": [{"clock": str(c.clock), "deadline": ts(c.deadline),
                            "event_at": None if c.event_at is None else ts(c.event_at),
                            "state": str(c.state), "slack_min": c.slack_min,
                            "overdue": c.overdue} for c in clocks],
            })  # fmt: skip
        region = board.region
        who = {b.engineer.id: b.engineer.name for b in board.engineers}
        code = {bt.ticket.id: bt.ticket.code for bt in board.tickets}
        expected = {e.assignment_id: e for e in board.expected.values()}

        def visit(a: Any) -> dict[str, Any]:
            e = expected.get(a.id)
            if e is None:
                return {"expected_departs_at": None, "expected_arrives_at": None,
                        "expected_fixes_at": None, "pushed_min": 0, "overdue": []}  # fmt: skip
            return {
                "expected_departs_at": ts(e.departs_at),
                "expected_arrives_at": ts(e.arrives_at),
                "expected_fixes_at": ts(e.fixes_at),
                "pushed_min": e.pushed_min,
                "overdue": [str(c) for c in e.overdue],
            }  # fmt: skip

        return to_json({
            "region": RegionRead.model_validate(region).model_dump(mode="json"),
            "timezone": region.timezone, "now": ts(board.now),
            "day_start": ts(board.day[0]), "day_end": ts(board.day[1]),
            "depots": [{"id": d.id, "code": d.code, "name": d.name, "lat": d.lat, "lon": d.lon}
                       for d in board.depots],
            "engineers": engineers, "tickets": tickets,
            "assignments": [{
                "id": a.id, "ticket_id": a.ticket_id, "ticket_code": code.get(a.ticket_id),
                "engineer_id": a.engineer_id, "engineer_name": who.get(a.engineer_id),
                "status": str(a.status), "departs_at": ts(a.departs_at),
                "arrives_at": ts(a.arrives_at), "fixes_at": ts(a.fixes_at),
                "parts_source": a.parts_source, "depot_id": a.depot_id,
                "supplier_id": a.supplier_id, "shipment_id": a.shipment_id, "pinned": a.pinned,
                "reservation_ids": [], "option": None, **visit(a),
            } for a in board.assignments],
            "published_plan_id": board.published_plan_id, "draft_plan_id": board.draft_plan_id,
        })  # fmt: skip


class BoardQuery(BaseModel):
    region_id: Id


class PlanFilterIn(BaseModel):
    region_id: Id | None = None
    stage: PlanStage | None = None


class PlanSummaryRead(BaseModel):
    id: int
    region_id: int | None
    stage: str
    as_of: Timestamp
    created_at: Timestamp
    published_at: Timestamp | None
    quality: str | None
    job_id: int | None
    tickets: int
    kpis: dict[str, Any] | None = Field(description="as in the plan (null until solved)")
    url: str

    @classmethod
    def of(cls, plan: Any) -> PlanSummaryRead:
        """From a `dispatch.models.Plan` row, without its routes."""
        result = plan.result or {}
        return cls(
            id=plan.id, region_id=plan.region_id, stage=str(plan.stage), as_of=plan.as_of,
            created_at=plan.created_at, published_at=plan.published_at, quality=plan.quality,
            job_id=plan.job_id, tickets=len(plan.ticket_ids), kpis=result.get("kpis"),
            url=f"/v1/dispatch/plans/{plan.id}",
        )  # fmt: skip


class AssignmentFilterIn(BaseModel):
    region_id: Id | None = None
    engineer_id: Id | None = None
    ticket_id: Id | None = None
    status: AssignmentStatus | None = None


class ShiftFilterIn(BaseModel):
    region_id: Id | None = None
    engineer_id: Id | None = None


class ShiftRead(ReadModel):
    id: int
    engineer_id: int
    weekday: int = Field(description="0 = Monday")
    starts_at: time = Field(description="local time of the engineer's region")
    ends_at: time = Field(description="at or before starts_at: the next day")


class EngineerPositionRead(ReadModel):
    id: int
    code: str
    name: str
    region_id: int
    current_lat: float | None
    current_lon: float | None
    position_at: Timestamp | None


class ReservationFilterIn(BaseModel):
    depot_id: Id | None = None
    ticket_id: Id | None = None
    status: ReservationStatus | None = None


class PickItemRead(BaseModel):
    """One held part as the counter reads it: SKU and name next to the id (issue 17)."""

    reservation_id: int
    part_id: int
    part_sku: str
    part_name: str
    quantity: int


class PickLineRead(BaseModel):
    assignment_id: int
    engineer_id: int
    engineer_code: str
    engineer_name: str
    ticket_id: int
    ticket_code: str
    departs_at: Timestamp = Field(description="when he leaves for the pickup and the visit")
    arrives_at: Timestamp = Field(description="his arrival at the customer")
    reservations: list[ReservationRead] = Field(description="what to put on the counter")
    items: list[PickItemRead] = Field(description="the same holds by SKU and part name")

    @classmethod
    def of(cls, line: Any) -> PickLineRead:
        """From a `dispatch.board.PickLine`."""
        a, e, t = line.assignment, line.engineer, line.ticket
        return cls(
            assignment_id=a.id, engineer_id=e.id, engineer_code=e.code, engineer_name=e.name,
            ticket_id=t.id, ticket_code=t.code, departs_at=a.departs_at, arrives_at=a.arrives_at,
            reservations=[ReservationRead.model_validate(r) for r in line.reservations],
            items=[
                PickItemRead(
                    reservation_id=r.id, part_id=r.part_id, quantity=r.quantity,
                    part_sku=line.parts.get(r.part_id, ("", ""))[0],
                    part_name=line.parts.get(r.part_id, ("", ""))[1],
                )
                for r in line.reservations
            ],
        )  # fmt: skip
