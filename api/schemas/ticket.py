"""Wire schemas of tickets, their clocks and service log, and engineers' field updates."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import Id, Instant, Lat, Lon, ReadModel, Timestamp
from dispatch.models import Channel, LogKind, TicketStatus
from dispatch.promises import Clock, ClockState

Severity = Annotated[str, Field(min_length=1, max_length=16, examples=["urgent"])]
Reason = Annotated[str, Field(min_length=1, max_length=500)]


class StrictModel(BaseModel):
    """Request bodies refuse unknown fields: no mass assignment."""

    model_config = ConfigDict(extra="forbid")


class SkillNeedIn(StrictModel):
    product_line_id: Id
    min_level: int = Field(1, ge=1, le=3)


class PartNeedIn(StrictModel):
    part_id: Id
    quantity: int = Field(1, ge=1, le=10_000)


class TicketCreate(StrictModel):
    """A new ticket; `skills` null means the ticket type's skill, `parts` may be unknown yet."""

    site_id: Id
    ticket_type_id: Id
    severity: Severity
    channel: Channel
    description: str = Field("", max_length=10_000)
    asset_id: Id | None = None
    reported_at: Instant | None = Field(None, description="when the request came in; now")
    agreed_arrival_at: Instant | None = Field(
        None, description="a later arrival appointment agreed with the customer"
    )
    skills: list[SkillNeedIn] | None = Field(None, max_length=20)
    parts: list[PartNeedIn] = Field(default_factory=list, max_length=100)


class TicketUpdate(StrictModel):
    """A severity change recomputes every deadline from `reported_at`."""

    severity: Severity
    reason: Reason | None = None


class TransitionIn(StrictModel):
    to: TicketStatus
    reason: Reason | None = Field(None, description="required to cancel")
    satisfaction: int | None = Field(None, ge=1, le=5, description="required for callback_done")
    comment: str | None = Field(None, max_length=2_000)


class ClockRead(ReadModel):
    clock: Clock
    deadline: Timestamp
    event_at: Timestamp | None
    state: ClockState
    slack_min: int | None = Field(description="minutes to spare (negative: late); null if void")
    overdue: bool = Field(
        False, description="pending (no event, not void) and its deadline past at the read's "
        "now: late now, by the server's clock"
    )  # fmt: skip


class SkillNeedRead(ReadModel):
    product_line_id: int
    product_line_code: str | None = Field(None, description="the skill as a product line")
    product_line_name: str | None = None
    min_level: int


class PartNeedRead(ReadModel):
    part_id: int
    sku: str | None = None
    part_name: str | None = None
    quantity: int


class PartUsedRead(ReadModel):
    part_id: int
    sku: str | None = None
    part_name: str | None = None
    quantity: int
    serial: str | None
    recorded_at: Timestamp
    recorded_by_id: int
    recorded_by_name: str | None = Field(None, description="the user who recorded it")


class TicketRead(BaseModel):
    id: int
    code: str
    site_id: int
    asset_id: int | None
    ticket_type_id: int
    site_name: str | None = None
    ticket_type_name: str | None = None
    severity: str
    channel: Channel
    status: TicketStatus
    description: str
    reported_at: Timestamp
    agreed_arrival_at: Timestamp | None
    engineer_id: int | None
    engineer_name: str | None = None
    cancel_reason: str | None
    satisfaction: int | None
    callback_comment: str | None
    at_risk: bool
    clocks: list[ClockRead]
    skills: list[SkillNeedRead]
    parts: list[PartNeedRead]
    parts_used: list[PartUsedRead]
    version: int = Field(
        description='bumped by every change; the ETag header carries it ("7") for If-Match'
    )

    @classmethod
    def from_view(cls, view: Any) -> TicketRead:
        """Flatten a `dispatch.ticket_views.TicketView`."""
        t, names = view.ticket, view.names
        fields = {name: getattr(t, name) for name in cls.model_fields if hasattr(t, name)}
        no_line, no_part = (None, None), (None, None)

        def skill(s: Any) -> SkillNeedRead:
            code, name = names.lines.get(s.product_line_id, no_line)
            return SkillNeedRead(product_line_id=s.product_line_id, product_line_code=code,
                                 product_line_name=name, min_level=s.min_level)  # fmt: skip

        def part(p: Any) -> PartNeedRead:
            sku, name = names.parts.get(p.part_id, no_part)
            return PartNeedRead(part_id=p.part_id, sku=sku, part_name=name, quantity=p.quantity)

        def used(p: Any) -> PartUsedRead:
            sku, name = names.parts.get(p.part_id, no_part)
            return PartUsedRead.model_validate(p).model_copy(update={
                "sku": sku, "part_name": name,
                "recorded_by_name": names.users.get(p.recorded_by_id),
            })  # fmt: skip

        return cls(
            **fields,
            site_name=names.site or None,
            ticket_type_name=names.ticket_type or None,
            engineer_name=names.engineer,
            at_risk=view.at_risk,
            clocks=[ClockRead.model_validate(c) for c in view.clocks],
            skills=[skill(s) for s in view.skills],
            parts=[part(p) for p in view.parts],
            parts_used=[used(p) for p in view.parts_used],
        )


class TicketPage(BaseModel):
    items: list[TicketRead]
    next_after: int | None

    @classmethod
    def from_page(cls, page: Any) -> TicketPage:
        return cls(items=[TicketRead.from_view(v) for v in page.items], next_after=page.next_after)


class LogEntryRead(ReadModel):
    id: int
    at: Timestamp
    user_id: int
    user_name: str | None = Field(None, description="who: the user's name")
    kind: LogKind
    from_status: str | None
    to_status: str | None
    reason: str | None
    details: dict[str, Any] | None


class TicketFilterIn(BaseModel):
    status: TicketStatus | None = None
    region_id: Id | None = None
    site_id: Id | None = None
    engineer_id: Id | None = None
    at_risk: bool = Field(
        False, description="only open tickets at risk or breached, most urgent first"
    )


class FieldStatusIn(StrictModel):
    """An engineer's report on his own ticket, optionally with where he is."""

    status: Literal["en_route", "on_site", "fixed"]
    lat: Lat | None = None
    lon: Lon | None = None


class PositionIn(StrictModel):
    lat: Lat
    lon: Lon


class PartUseIn(StrictModel):
    part_id: Id
    quantity: int = Field(1, ge=1, le=1_000)
    serial: str | None = Field(None, max_length=64)
    depot_id: Id | None = Field(
        None, description="where the part came from; default: my van, else the ticket's hold"
    )


class PartsUsedIn(StrictModel):
    parts: list[PartUseIn] = Field(min_length=1, max_length=100)


class PositionRead(ReadModel):
    id: int
    current_lat: float | None
    current_lon: float | None
    position_at: Timestamp | None


class TicketTypeRead(ReadModel):
    id: int
    code: str
    name: str
    product_line_id: int
    fault_class: str
    service_min: int = Field(description="standard service duration in minutes")
    required_level: int = Field(description="skill level the fault needs (1-3)")


class PickupPartRead(BaseModel):
    part_id: int
    sku: str
    part_name: str
    quantity: int


class MyVisitRead(BaseModel):
    """His active assignment for the ticket: when to leave, when he is expected, the parts."""

    assignment_id: int
    departs_at: Timestamp = Field(description="planned departure")
    arrives_at: Timestamp = Field(description="planned arrival")
    fixes_at: Timestamp = Field(description="planned end of the work on site")
    expected_departs_at: Timestamp = Field(
        description="as now expected, as the board projects it: pushed behind his job on site "
        "running past its planned end; once he set off, when he did; equal to planned while "
        "the plan holds"
    )
    expected_arrives_at: Timestamp = Field(
        description="expected departure plus the drive, not before now while en route "
        "(arriving now: overdue); on site, when he arrived"
    )
    expected_fixes_at: Timestamp = Field(
        description="expected arrival plus the time on site; on site, when his job's duration "
        "says (later once it runs past its planned end)"
    )
    pushed_min: int = Field(
        description="minutes the visit is pushed behind the work before it; 0: as planned, "
        "or set off"
    )
    parts_source: Literal["none", "van", "pickup", "shipment"] = Field(
        description="where his parts come from: none needed, his van, a pickup at `depot`, "
        "or shipped to the site"
    )
    depot_id: int | None = Field(None, description="the depot he picks the parts up at")
    depot_name: str | None = None
    shipment_id: int | None = Field(None, description="the shipment bringing the parts to site")
    pickup: list[PickupPartRead] = Field(
        default_factory=list, description="for a pickup: the parts held for him at the depot"
    )
    overdue: list[Literal["depart", "arrive"]] = Field(
        default_factory=list, description="the visit's steps due by now that have not happened "
        "(the expected times read them as happening now), as on the board: depart, not set "
        "off past its departure; arrive, en route past his planned drive without an arrival"
    )  # fmt: skip


class MyTicketRead(TicketRead):
    """One of his tickets with his visit (GET /v1/me/tickets, in route order)."""

    visit: MyVisitRead | None = Field(
        None, description="his active assignment for it; null: none (listed last)"
    )

    @classmethod
    def from_item(cls, item: Any) -> MyTicketRead:
        """A `dispatch.my_day.DayItem`: its ticket view and his visit."""
        read = TicketRead.from_view(item.view).model_dump()
        v = item.visit
        if v is None:
            return cls(**read)
        pickup = [PickupPartRead(part_id=p.part_id, sku=p.sku, part_name=p.name,
                                 quantity=p.quantity) for p in v.pickup]  # fmt: skip
        visit = MyVisitRead(
            assignment_id=v.assignment_id, departs_at=v.departs_at, arrives_at=v.arrives_at,
            fixes_at=v.fixes_at, expected_departs_at=v.expected_departs_at,
            expected_arrives_at=v.expected_arrives_at, expected_fixes_at=v.expected_fixes_at,
            pushed_min=v.pushed_min, parts_source=v.parts_source, depot_id=v.depot_id,
            depot_name=v.depot_name, shipment_id=v.shipment_id, pickup=pickup,
            overdue=[str(c) for c in v.overdue],
        )  # fmt: skip
        return cls(**read, visit=visit)
