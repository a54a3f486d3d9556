"""ORM models owned by dispatch: contracts and promise policies, sites, engineers, tickets."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import Base, IdMixin, UTCDateTime, enum_column
from db.audit import Audited
from dispatch.labour import DEFAULT_LABOUR_RULES as LABOUR
from optimizer.bump import DIVERT_ENGINEERS, MAKE_ROOM_ENGINEERS
from optimizer.reassign import REDISPATCH_AFTER_MIN, REDISPATCH_EVERY_MIN

Money = Numeric(12, 2)


class InspectionFrequency(enum.StrEnum):
    NONE = "none"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class PromisePolicy(Audited, IdMixin, Base):
    """What a contract promises; every number of domain.md is a default stored here."""

    __tablename__ = "promise_policies"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    warranty_years: Mapped[int] = mapped_column(SmallInteger, default=3)
    at_risk_margin_min: Mapped[int] = mapped_column(default=15)
    swap_within_min: Mapped[int] = mapped_column(default=120)  # in-stock part swapped
    ship_within_min: Mapped[int] = mapped_column(default=480)  # out-of-stock part shipped
    reservation_lifetime_min: Mapped[int] = mapped_column(default=240)
    frozen_horizon_min: Mapped[int] = mapped_column(default=30)
    # An announced ETA a re-plan may move by at most this much, either way (the dispatcher
    # may allow more per re-plan).
    eta_tolerance_min: Mapped[int] = mapped_column(default=30)
    # An inspection visit is due within this many days of its earliest start.
    inspection_window_days: Mapped[int] = mapped_column(SmallInteger, default=7)
    inspection_frequency: Mapped[InspectionFrequency] = mapped_column(
        enum_column(InspectionFrequency, "inspection_frequency"), default=InspectionFrequency.NONE
    )
    labour_rate_per_hour: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    travel_rate_per_km: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    service_fee: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    # A broken clock costs its penalty plus this share of it per hour late; a clock kept
    # inside the at-risk margin costs `at_risk_penalty_pct` of it (optimizer.penalties).
    late_penalty_pct_per_hour: Mapped[int] = mapped_column(SmallInteger, default=25)
    at_risk_penalty_pct: Mapped[int] = mapped_column(SmallInteger, default=10)
    # Jobs are planned with the duration this share of finished jobs of their type took, once
    # the log holds `plan_min_jobs` of them (dispatch.durations); a visit that follows another
    # job keeps `slack_min` before its arrive and fix deadlines, or costs the at-risk share.
    plan_duration_pct: Mapped[int] = mapped_column(SmallInteger, default=50)
    plan_min_jobs: Mapped[int] = mapped_column(default=20)
    # ... learnt from the log's newest `plan_log_jobs` finished jobs.
    plan_log_jobs: Mapped[int] = mapped_column(default=2_000)
    slack_min: Mapped[int] = mapped_column(default=30)
    # A visit another engineer would serve better (dispatch.redispatch, the simulator's rule)
    # is only proposed to the dispatcher by default; True moves it at once (never pinned).
    redispatch_apply: Mapped[bool] = mapped_column(default=False)
    # The worker asks the rule again for visits not departed every `redispatch_every_min`,
    # and at once for an engineer's next visits when his job on site runs more than
    # `redispatch_after_min` past its planned end (the simulator's `retry_every_min` and
    # `redispatch_after_min`, the same documented defaults: optimizer.reassign).
    redispatch_every_min: Mapped[int] = mapped_column(default=REDISPATCH_EVERY_MIN)
    redispatch_after_min: Mapped[int] = mapped_column(default=REDISPATCH_AFTER_MIN)
    # A new ticket whose best option breaks its arrival asks this many nearest engineers
    # with a visit not departed whether a colleague keeps it (dispatch.room, the simulator's
    # optimised policy: optimizer.make_room); 0: never. Documented default 3.
    make_room_engineers: Mapped[int] = mapped_column(default=MAKE_ROOM_ENGINEERS)
    # ... and this many nearest engineers driving to a visit whether they take it first, their
    # visit kept by them after it or by a colleague (optimizer.divert); 0: never. Default 3.
    divert_engineers: Mapped[int] = mapped_column(default=DIVERT_ENGINEERS)

    severities: Mapped[list[PolicySeverity]] = relationship(
        back_populates="policy", lazy="raise", order_by="PolicySeverity.rank"
    )

    __table_args__ = (
        CheckConstraint("warranty_years BETWEEN 0 AND 20", name="warranty_years_range"),
        CheckConstraint("at_risk_margin_min >= 0", name="margin_nonnegative"),
        CheckConstraint("swap_within_min > 0", name="swap_positive"),
        CheckConstraint("ship_within_min > 0", name="ship_positive"),
        CheckConstraint("reservation_lifetime_min > 0", name="reservation_lifetime_positive"),
        CheckConstraint("frozen_horizon_min >= 0", name="frozen_horizon_nonnegative"),
        CheckConstraint("eta_tolerance_min >= 0", name="eta_tolerance_nonnegative"),
        CheckConstraint("inspection_window_days > 0", name="inspection_window_positive"),
        CheckConstraint(
            "labour_rate_per_hour >= 0 AND travel_rate_per_km >= 0 AND service_fee >= 0",
            name="rates_nonnegative",
        ),
        CheckConstraint(
            "late_penalty_pct_per_hour >= 0 AND at_risk_penalty_pct >= 0",
            name="penalty_shares_nonnegative",
        ),
        CheckConstraint(
            "plan_duration_pct BETWEEN 50 AND 99 AND plan_min_jobs >= 1 AND slack_min >= 0",
            name="planning_policy_range",
        ),
        CheckConstraint("plan_log_jobs >= 1", name="plan_log_jobs_positive"),
        CheckConstraint(
            "redispatch_every_min >= 1 AND redispatch_after_min >= 0",
            name="redispatch_policy_range",
        ),
        CheckConstraint("make_room_engineers >= 0", name="make_room_engineers_nonnegative"),
        CheckConstraint("divert_engineers >= 0", name="divert_engineers_nonnegative"),
    )


class PolicySeverity(Audited, IdMixin, Base):
    """One severity (or priority) level of a policy and its clock offsets in minutes.

    An offset of None means the policy sets no deadline for that clock (e.g. a
    general ticket departs "at a time agreed with the customer").
    """

    __tablename__ = "policy_severities"

    policy_id: Mapped[int] = mapped_column(ForeignKey("promise_policies.id"))
    code: Mapped[str] = mapped_column(String(16))
    label: Mapped[str] = mapped_column(String(200))
    rank: Mapped[int] = mapped_column(SmallInteger)  # 1 = most urgent
    respond_min: Mapped[int | None]
    depart_min: Mapped[int | None]
    arrive_min: Mapped[int | None]
    fix_min: Mapped[int | None]
    arrive_hard: Mapped[bool] = mapped_column(default=False)
    # What breaking each clock costs (contract currency); None: the documented default of
    # the rank (optimizer.penalties.DEFAULT_PENALTIES). Swap and ship: the parts promises.
    respond_penalty: Mapped[Decimal | None] = mapped_column(Money)
    depart_penalty: Mapped[Decimal | None] = mapped_column(Money)
    arrive_penalty: Mapped[Decimal | None] = mapped_column(Money)
    fix_penalty: Mapped[Decimal | None] = mapped_column(Money)
    swap_penalty: Mapped[Decimal | None] = mapped_column(Money)
    ship_penalty: Mapped[Decimal | None] = mapped_column(Money)

    policy: Mapped[PromisePolicy] = relationship(back_populates="severities", lazy="raise")

    __table_args__ = (
        UniqueConstraint("policy_id", "code"),
        UniqueConstraint("policy_id", "rank"),
        CheckConstraint("rank >= 1", name="rank_positive"),
        CheckConstraint(
            "(respond_min IS NULL OR respond_min >= 0) AND (depart_min IS NULL OR depart_min >= 0)"
            " AND (arrive_min IS NULL OR arrive_min >= 0) AND (fix_min IS NULL OR fix_min >= 0)",
            name="offsets_nonnegative",
        ),
        CheckConstraint(
            " AND ".join(
                f"({c}_penalty IS NULL OR {c}_penalty >= 0)"
                for c in ("respond", "depart", "arrive", "fix", "swap", "ship")
            ),
            name="penalties_nonnegative",
        ),
    )


class Contract(Audited, IdMixin, Base):
    """A customer's service contract; its policy decides every promise."""

    __tablename__ = "contracts"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    policy_id: Mapped[int] = mapped_column(ForeignKey("promise_policies.id"), index=True)
    starts_on: Mapped[date] = mapped_column(Date())
    ends_on: Mapped[date | None] = mapped_column(Date())

    policy: Mapped[PromisePolicy] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint("ends_on IS NULL OR ends_on > starts_on", name="ends_after_start"),
    )


class LabourRule(Audited, IdMixin, Base):
    """Labour rules of a region or an engineer group (fields: `dispatch.labour.LabourRules`).

    ``region_id`` set: the rules of that region's engineers; ``None``: a group's rules, for
    the engineers whose ``labour_rule_id`` points here. Defaults are the documented ones.
    """

    __tablename__ = "labour_rules"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), unique=True)
    overtime_max_min: Mapped[int] = mapped_column(default=LABOUR.overtime_max_min)
    start_into_overtime: Mapped[bool] = mapped_column(default=LABOUR.start_into_overtime)
    overtime_day_max_min: Mapped[int] = mapped_column(default=LABOUR.overtime_day_max_min)
    overtime_week_max_min: Mapped[int] = mapped_column(default=LABOUR.overtime_week_max_min)
    overtime_cost_per_hour: Mapped[Decimal] = mapped_column(
        Money, default=LABOUR.overtime_cost_per_hour
    )
    callout_cost: Mapped[Decimal] = mapped_column(Money, default=LABOUR.callout_cost)
    callout_max_rank: Mapped[int] = mapped_column(SmallInteger, default=LABOUR.callout_max_rank)
    callout_lead_min: Mapped[int] = mapped_column(default=LABOUR.callout_lead_min)

    __table_args__ = (
        CheckConstraint(
            "overtime_max_min >= 0 AND overtime_day_max_min >= 0 AND overtime_week_max_min >= 0"
            " AND callout_lead_min >= 0 AND callout_max_rank >= 0",
            name="minutes_nonnegative",
        ),
        CheckConstraint(
            "overtime_cost_per_hour >= 0 AND callout_cost >= 0", name="costs_nonnegative"
        ),
    )


class Engineer(Audited, IdMixin, Base):
    """A service engineer: home base, current position, skills, shifts, van stock."""

    __tablename__ = "engineers"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    home_place: Mapped[str | None] = mapped_column(String(120))
    home_lat: Mapped[float]
    home_lon: Mapped[float]
    current_lat: Mapped[float | None]
    current_lon: Mapped[float | None]
    position_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The van is a depot of kind "van", so its stock lives in the same ledger.
    van_depot_id: Mapped[int | None] = mapped_column(ForeignKey("depots.id"), unique=True)
    van_capacity: Mapped[int | None]
    cost_per_hour: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    cost_per_km: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    # His group's labour rules (None: his region's, else the defaults; dispatch.labour).
    labour_rule_id: Mapped[int | None] = mapped_column(ForeignKey("labour_rules.id"), index=True)

    skills: Mapped[list[EngineerSkill]] = relationship(lazy="raise")
    shifts: Mapped[list[Shift]] = relationship(lazy="raise", order_by="Shift.weekday")

    __table_args__ = (
        CheckConstraint("van_capacity IS NULL OR van_capacity >= 0", name="van_capacity"),
        CheckConstraint("cost_per_hour >= 0 AND cost_per_km >= 0", name="costs_nonnegative"),
    )


class EngineerSkill(Audited, Base):
    """Engineer x product line at a level (1 basic, 2 advanced, 3 expert)."""

    __tablename__ = "engineer_skills"

    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id"), primary_key=True)
    product_line_id: Mapped[int] = mapped_column(
        ForeignKey("product_lines.id"), primary_key=True, index=True
    )
    level: Mapped[int] = mapped_column(SmallInteger)

    __table_args__ = (CheckConstraint("level BETWEEN 1 AND 3", name="level_range"),)


class Shift(Audited, IdMixin, Base):
    """A weekly shift in the engineer's region time zone; may end after midnight."""

    __tablename__ = "shifts"

    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)  # 0 = Monday (ISO weekday - 1)
    starts_at: Mapped[time] = mapped_column(Time())
    ends_at: Mapped[time] = mapped_column(Time())  # <= starts_at means the next day
    # On call, not at work: he may be woken for a severe ticket at his rules' call-out cost.
    on_call: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        CheckConstraint("starts_at <> ends_at", name="nonempty"),
    )


class Absence(Audited, IdMixin, Base):
    """Time an engineer is not available (sick leave, holiday, training)."""

    __tablename__ = "absences"

    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(200))

    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),)


class Site(Audited, IdMixin, Base):
    """A customer site with installed equipment, under one contract."""

    __tablename__ = "sites"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    place: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(300))
    lat: Mapped[float]
    lon: Mapped[float]
    rural: Mapped[bool] = mapped_column(default=False)
    dedicated_engineer_id: Mapped[int | None] = mapped_column(
        ForeignKey("engineers.id"), index=True
    )

    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
    )


class TicketType(Audited, IdMixin, Base):
    """Product line x fault class, with its standard service duration."""

    __tablename__ = "ticket_types"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    product_line_id: Mapped[int] = mapped_column(ForeignKey("product_lines.id"), index=True)
    fault_class: Mapped[str] = mapped_column(String(64))
    service_min: Mapped[int]
    required_level: Mapped[int] = mapped_column(SmallInteger, default=1)

    __table_args__ = (
        UniqueConstraint("product_line_id", "fault_class"),
        CheckConstraint("service_min > 0", name="service_positive"),
        CheckConstraint("required_level BETWEEN 1 AND 3", name="level_range"),
    )


class TicketStatus(enum.StrEnum):
    NEW = "new"
    RESPONDED = "responded"
    ASSIGNED = "assigned"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    FIXED = "fixed"
    CLOSED = "closed"
    CALLBACK_DONE = "callback_done"
    RESOLVED_REMOTELY = "resolved_remotely"
    CANCELLED = "cancelled"


class Channel(enum.StrEnum):
    PHONE = "phone"
    WEB = "web"
    EMAIL = "email"
    REMOTE = "remote"  # remote monitoring raised it


class Ticket(IdMixin, Base):
    """A fault report (work order) whose promise clocks start at `reported_at`."""

    __tablename__ = "tickets"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    ticket_type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id"), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel, "channel"))
    status: Mapped[TicketStatus] = mapped_column(
        enum_column(TicketStatus, "ticket_status"), default=TicketStatus.NEW, index=True
    )
    description: Mapped[str] = mapped_column(Text, default="")
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    respond_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    depart_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrive_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fix_by: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # A later arrival appointment agreed with the customer (general tickets).
    agreed_arrival_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The engineer assigned through dispatch; only the assignment service sets it.
    engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id"), index=True)
    # When each clock's event happened (None while pending). ``departed_at``/``arrived_at``
    # are the ticket's FIRST departure and arrival, whoever made them: the promise clocks
    # read them (`dispatch.clocks`). Where the visit under way stands (its expected arrival,
    # its time on site) is read from its active assignment's own events instead.
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fixed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    callback_comment: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
    # Optimistic concurrency: a stale update fails instead of overwriting a newer one.
    version: Mapped[int] = mapped_column(default=1)

    required_skills: Mapped[list[TicketSkill]] = relationship(lazy="raise")
    required_parts: Mapped[list[TicketPart]] = relationship(lazy="raise")

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (
        CheckConstraint(
            "satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5", name="satisfaction_range"
        ),
        CheckConstraint(
            "status <> 'cancelled' OR cancel_reason IS NOT NULL", name="cancel_has_reason"
        ),
    )


class TicketSkill(Base):
    """A skill a ticket needs: product line at a minimum level."""

    __tablename__ = "ticket_skills"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    product_line_id: Mapped[int] = mapped_column(ForeignKey("product_lines.id"), primary_key=True)
    min_level: Mapped[int] = mapped_column(SmallInteger, default=1)

    __table_args__ = (CheckConstraint("min_level BETWEEN 1 AND 3", name="level_range"),)


class TicketPart(Base):
    """A part a ticket is expected to need."""

    __tablename__ = "ticket_parts"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), primary_key=True)
    quantity: Mapped[int] = mapped_column(default=1)

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class TicketPartUsed(IdMixin, Base):
    """A part an engineer reports as used on a ticket."""

    __tablename__ = "ticket_parts_used"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    quantity: Mapped[int]
    serial: Mapped[str | None] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class LogKind(enum.StrEnum):
    CREATED = "created"
    TRANSITION = "transition"
    CHANGE = "change"
    PARTS_USED = "parts_used"
    DECISION = "decision"  # a dispatch decision with the alternatives at that moment


class ServiceLogEntry(IdMixin, Base):
    """One line of a ticket's service log: who did what, when, and why. Never updated."""

    __tablename__ = "service_log"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[LogKind] = mapped_column(enum_column(LogKind, "log_kind"))
    from_status: Mapped[str | None] = mapped_column(String(32))
    to_status: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    # Field changes as {"field": [old, new]} or decision details; JSON on both databases.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AssignmentStatus(enum.StrEnum):
    ACTIVE = "active"  # the engineer's schedule holds this job
    WITHDRAWN = "withdrawn"  # re-planned away or cancelled before the work
    DONE = "done"  # the ticket was fixed or closed


class Assignment(IdMixin, Base):
    """An engineer's planned job: the one record of who goes, when, with which parts.

    Only the assignment service writes it, in the same transaction as the ticket's
    "assigned" transition and the part reservation (and its visit's events, below, with
    the ticket's en-route / on-site transitions). A ticket has at most one active
    assignment (a partial unique index enforces it under concurrency).

    ``departed_at``/``arrived_at``: this visit's own events (its engineer set off, arrived).
    The projections of a visit under way read them, so a visit handed back to dispatch and
    assigned again starts afresh; the ticket's stamps keep the first departure and arrival
    for the promise clocks.
    """

    __tablename__ = "assignments"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id"), index=True)
    status: Mapped[AssignmentStatus] = mapped_column(
        enum_column(AssignmentStatus, "assignment_status"), default=AssignmentStatus.ACTIVE
    )
    departs_at: Mapped[datetime] = mapped_column(UTCDateTime())
    arrives_at: Mapped[datetime] = mapped_column(UTCDateTime())
    fixes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    parts_source: Mapped[str] = mapped_column(String(16))  # none, van, pickup, shipment
    depot_id: Mapped[int | None] = mapped_column(ForeignKey("depots.id"))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"))
    pinned: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    close_reason: Mapped[str | None] = mapped_column(String(500))
    departed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        Index(
            "uq_assignments_active_ticket",
            "ticket_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
        CheckConstraint("arrives_at >= departs_at", name="arrives_after_departure"),
        CheckConstraint("fixes_at >= arrives_at", name="fixed_after_arrival"),
    )


class MoveProposal(Base):
    """The re-dispatch rule's last answer for one visit not departed yet, stored.

    Written by the worker's tick, a fix recorded and the board's read when none is current
    (`dispatch.redispatch`): the board reads these rows instead of asking the rule per visit
    on every poll. ``to_engineer_id`` None: keep the plan. ``rule``: "better"
    (`optimizer.better_elsewhere`) or "overrun" (`optimizer.keeps_what_was_planned`).
    ``world_version``: `dispatch.snapshot_cache.world_version` when it was asked.
    """

    __tablename__ = "move_proposals"

    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    from_engineer_id: Mapped[int] = mapped_column(ForeignKey("engineers.id"))
    to_engineer_id: Mapped[int | None] = mapped_column(ForeignKey("engineers.id"))
    rule: Mapped[str] = mapped_column(String(16))
    departs_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    arrives_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    keep_cost: Mapped[int] = mapped_column(BigInteger, default=0)  # fen
    move_cost: Mapped[int] = mapped_column(BigInteger, default=0)  # fen
    late_min: Mapped[int] = mapped_column(default=0)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    world_version: Mapped[str] = mapped_column(String(200))


class RedispatchTick(Base):
    """When the worker's next re-dispatch tick of a policy's visits is due; a worker claims
    it with a conditional update, so two workers never run the same tick."""

    __tablename__ = "redispatch_ticks"

    policy_id: Mapped[int] = mapped_column(ForeignKey("promise_policies.id"), primary_key=True)
    next_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PlanStage(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class Plan(IdMixin, Base):
    """A region's route plan as the solver returned it (JSON), and its stage.

    Drafts are compared with the published plan and published through the assignment
    service; a newer published plan supersedes the older one.
    """

    __tablename__ = "plans"

    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    stage: Mapped[PlanStage] = mapped_column(
        enum_column(PlanStage, "plan_stage"), default=PlanStage.DRAFT
    )
    as_of: Mapped[datetime] = mapped_column(UTCDateTime())
    ticket_ids: Mapped[list[int]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    quality: Mapped[str | None] = mapped_column(String(16))
    job_id: Mapped[int | None] = mapped_column(ForeignKey("jobs.id"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
