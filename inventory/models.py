"""ORM models owned by inventory: geography shared with dispatch, catalogue, depots, stock, assets.

`inventory` never imports `dispatch`: where a row points at a dispatch table (an
asset's site, a reservation's ticket) it does so by table name only.
"""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import Base, IdMixin
from db.audit import Audited
from db.types import UTCDateTime, enum_column
from inventory.depot_times import DEFAULT_PICK_MIN, DEFAULT_TRANSIT_HOURS

Money = Numeric(12, 2)


class Region(Audited, IdMixin, Base):
    """A named service area; in the demo world a prefecture-level city."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    name_local: Mapped[str | None] = mapped_column(String(120))
    lat: Mapped[float]
    lon: Mapped[float]
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")

    __table_args__ = (
        CheckConstraint("lat BETWEEN -90 AND 90", name="lat_range"),
        CheckConstraint("lon BETWEEN -180 AND 180", name="lon_range"),
    )


class ProductLine(Audited, IdMixin, Base):
    """A family of products; engineers' skills are product line x level."""

    __tablename__ = "product_lines"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class ProductModel(Audited, IdMixin, Base):
    """A model of installed equipment; parts say which models they fit."""

    __tablename__ = "product_models"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    product_line_id: Mapped[int] = mapped_column(ForeignKey("product_lines.id"), index=True)


class SupplierKind(enum.StrEnum):
    SUPPLIER = "supplier"
    PARTNER = "partner"


class Supplier(Audited, IdMixin, Base):
    """An outside source of parts (supplier or strategic partner) with a lead time."""

    __tablename__ = "suppliers"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SupplierKind] = mapped_column(enum_column(SupplierKind, "supplier_kind"))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    lead_time_hours: Mapped[int]
    # Courier time from the supplier to a site (`inventory.depot_times`: data, default 24 h).
    transit_hours: Mapped[int] = mapped_column(
        default=DEFAULT_TRANSIT_HOURS, server_default=str(DEFAULT_TRANSIT_HOURS)
    )

    __table_args__ = (
        CheckConstraint("lead_time_hours >= 0", name="lead_time_nonnegative"),
        CheckConstraint("transit_hours >= 0", name="transit_nonnegative"),
    )


class Part(Audited, IdMixin, Base):
    """A spare-part SKU with its purchase cost (what post-warranty customers pay)."""

    __tablename__ = "parts"

    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    product_line_id: Mapped[int] = mapped_column(ForeignKey("product_lines.id"), index=True)
    cost_price: Mapped[Decimal] = mapped_column(Money)
    list_price: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    key_part: Mapped[bool] = mapped_column(default=False)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"), index=True)

    fits: Mapped[list[ProductModel]] = relationship(secondary="part_fits", lazy="raise")
    substitutes: Mapped[list[Part]] = relationship(
        secondary="part_substitutes",
        primaryjoin="Part.id == PartSubstitute.part_id",
        secondaryjoin="Part.id == PartSubstitute.substitute_id",
        lazy="raise",
    )

    __table_args__ = (
        CheckConstraint("cost_price >= 0", name="cost_nonnegative"),
        CheckConstraint("list_price >= cost_price", name="list_not_below_cost"),
    )


class PartFit(Audited, Base):
    """Part x product model it fits."""

    __tablename__ = "part_fits"

    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), primary_key=True)
    product_model_id: Mapped[int] = mapped_column(
        ForeignKey("product_models.id"), primary_key=True, index=True
    )


class PartSubstitute(Audited, Base):
    """A part of similar function that may replace another (a free upgrade)."""

    __tablename__ = "part_substitutes"

    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), primary_key=True)
    substitute_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), primary_key=True)

    __table_args__ = (CheckConstraint("part_id <> substitute_id", name="not_self"),)


class DepotKind(enum.StrEnum):
    CENTRAL = "central"
    REGIONAL = "regional"
    VAN = "van"  # an engineer's van stock: a depot that moves with its engineer


class Depot(Audited, IdMixin, Base):
    """A place that holds stock: central warehouse, regional depot or an engineer's van."""

    __tablename__ = "depots"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[DepotKind] = mapped_column(enum_column(DepotKind, "depot_kind"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    place: Mapped[str | None] = mapped_column(String(120))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    # Both None means open around the clock (the seeds' 7x24x365).
    opens_at: Mapped[time | None] = mapped_column(Time())
    closes_at: Mapped[time | None] = mapped_column(Time())
    # Picking a ticket's parts at the counter (`inventory.depot_times`: data, default 10 min).
    pick_min: Mapped[int] = mapped_column(
        default=DEFAULT_PICK_MIN, server_default=str(DEFAULT_PICK_MIN)
    )

    __table_args__ = (
        CheckConstraint("kind = 'van' OR (lat IS NOT NULL AND lon IS NOT NULL)", name="located"),
        CheckConstraint("(opens_at IS NULL) = (closes_at IS NULL)", name="hours_both_or_neither"),
        CheckConstraint("pick_min >= 0", name="pick_nonnegative"),
    )


class StockLevel(IdMixin, Base):
    """Balance of one part at one depot; the database guards its invariants."""

    __tablename__ = "stock_levels"

    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"))
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), index=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    in_transit: Mapped[int] = mapped_column(default=0)
    on_order: Mapped[int] = mapped_column(default=0)
    reorder_point: Mapped[int] = mapped_column(default=0)
    # Faulty parts returned for inspection: counted here, never sellable (not in on_hand).
    returns: Mapped[int] = mapped_column(default=0, server_default="0")

    __table_args__ = (
        UniqueConstraint("depot_id", "part_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_nonnegative"),
        CheckConstraint("reserved >= 0", name="reserved_nonnegative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        CheckConstraint("in_transit >= 0", name="in_transit_nonnegative"),
        CheckConstraint("on_order >= 0", name="on_order_nonnegative"),
        CheckConstraint("reorder_point >= 0", name="reorder_point_nonnegative"),
        CheckConstraint("returns >= 0", name="returns_nonnegative"),
    )


class Asset(Audited, IdMixin, Base):
    """One installed unit at a customer site."""

    __tablename__ = "assets"

    serial: Mapped[str] = mapped_column(String(64), unique=True)
    product_model_id: Mapped[int] = mapped_column(ForeignKey("product_models.id"), index=True)
    # By table name: the site is dispatch's, and inventory never imports dispatch.
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    installed_on: Mapped[date] = mapped_column(Date())
    accepted_on: Mapped[date | None] = mapped_column(Date())
    # Without a warranty record the warranty runs from the installation date (domain.md).
    has_warranty_record: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (
        CheckConstraint(
            "accepted_on IS NULL OR accepted_on >= installed_on", name="accepted_after_installed"
        ),
    )


class InstalledPart(Audited, IdMixin, Base):
    """A part fitted in an asset; a replaced key part carries its own warranty start."""

    __tablename__ = "installed_parts"

    asset_id: Mapped[int] = mapped_column(ForeignKey("assets.id"), index=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), index=True)
    serial: Mapped[str | None] = mapped_column(String(64))
    installed_on: Mapped[date] = mapped_column(Date())
    warranty_starts_on: Mapped[date | None] = mapped_column(Date())
    removed_on: Mapped[date | None] = mapped_column(Date())

    __table_args__ = (
        CheckConstraint(
            "removed_on IS NULL OR removed_on >= installed_on", name="removed_after_installed"
        ),
    )


class LedgerKind(enum.StrEnum):
    """Why stock moved; each kind changes the balances in its own way (inventory.ledger)."""

    OPENING = "opening"  # an opening balance (a world loaded, a depot set up)
    RECEIPT = "receipt"
    ORDER = "order"  # a supplier or partner order placed: on order
    RESERVATION = "reservation"
    RELEASE = "release"
    EXPIRY = "expiry"
    PICK = "pick"
    SHIPMENT = "shipment"
    TRANSFER_OUT = "transfer_out"
    TRANSFER_IN = "transfer_in"
    RETURN = "return"  # a faulty part back into the returns bin
    ADJUSTMENT = "adjustment"
    SCRAP = "scrap"
    USE = "use"  # used on a ticket


class LedgerEntry(IdMixin, Base):
    """One immutable stock movement; the balances are the sums of these deltas."""

    __tablename__ = "ledger_entries"

    kind: Mapped[LedgerKind] = mapped_column(enum_column(LedgerKind, "ledger_kind"))
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"))
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), index=True)
    d_on_hand: Mapped[int] = mapped_column(default=0)
    d_reserved: Mapped[int] = mapped_column(default=0)
    d_in_transit: Mapped[int] = mapped_column(default=0)
    d_on_order: Mapped[int] = mapped_column(default=0)
    d_returns: Mapped[int] = mapped_column(default=0)
    # None: the system did it (an opening balance, the expiry sweeper).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(String(500), default="")
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"), index=True)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipments.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("supplier_orders.id"), index=True)
    # By table name: tickets are dispatch's, and inventory never imports dispatch.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)

    __table_args__ = (Index("ix_ledger_entries_stock_row", "depot_id", "part_id", "id"),)


class ReservationStatus(enum.StrEnum):
    RESERVED = "reserved"
    RELEASED = "released"
    PICKED = "picked"
    EXPIRED = "expired"
    USED = "used"  # consumed on its ticket without a separate pick


class Reservation(IdMixin, Base):
    """Units held at a depot for a ticket until `expires_at`; expired holds never block stock."""

    __tablename__ = "reservations"

    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"))
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    # The part asked for when a substitute of similar function was reserved instead.
    requested_part_id: Mapped[int | None] = mapped_column(ForeignKey("parts.id"))
    quantity: Mapped[int]
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    status: Mapped[ReservationStatus] = mapped_column(
        enum_column(ReservationStatus, "reservation_status"), default=ReservationStatus.RESERVED
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        # The reserve path and the sweeper look up live holds by stock row and expiry.
        Index("ix_reservations_live_holds", "depot_id", "part_id", "status", "expires_at"),
    )


class ShipmentStatus(enum.StrEnum):
    PENDING = "pending"  # waiting to leave its depot (ship by `ship_by`)
    IN_TRANSIT = "in_transit"
    RECEIVED = "received"  # arrived (at a depot: in its stock; at a site: delivered)
    CANCELLED = "cancelled"  # never left: its ticket needs it no more, its hold released


class Shipment(IdMixin, Base):
    """Parts leaving a depot for another depot (a transfer) or a customer site."""

    __tablename__ = "shipments"

    from_depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"), index=True)
    to_depot_id: Mapped[int | None] = mapped_column(ForeignKey("depots.id"))
    to_site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    quantity: Mapped[int]
    status: Mapped[ShipmentStatus] = mapped_column(
        enum_column(ShipmentStatus, "shipment_status"), default=ShipmentStatus.PENDING
    )
    reservation_id: Mapped[int | None] = mapped_column(ForeignKey("reservations.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ship_by: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    transit_min: Mapped[int]
    expected_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("transit_min >= 0", name="transit_nonnegative"),
        CheckConstraint("(to_depot_id IS NULL) <> (to_site_id IS NULL)", name="one_destination"),
    )


class SupplierOrder(IdMixin, Base):
    """Parts ordered from a supplier or partner for a depot, due after its lead time."""

    __tablename__ = "supplier_orders"

    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    depot_id: Mapped[int] = mapped_column(ForeignKey("depots.id"))
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"))
    quantity: Mapped[int]
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expected_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)


class IdempotencyStatus(enum.StrEnum):
    IN_FLIGHT = "in_flight"
    DONE = "done"


class IdempotencyKey(IdMixin, Base):
    """A stock-changing request already answered: its key, body fingerprint and response."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[IdempotencyStatus] = mapped_column(
        enum_column(IdempotencyStatus, "idempotency_status")
    )
    response_status: Mapped[int | None]
    response_body: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)

    __table_args__ = (UniqueConstraint("user_id", "key"),)


class QuoteKind(enum.StrEnum):
    QUOTE = "quote"  # before the work, from the parts expected
    FINAL = "final"  # after the fix, from the parts actually used


class Quote(IdMixin, Base):
    """A priced repair, stored with its ticket: every line says which rule priced it."""

    __tablename__ = "quotes"

    # By table name: tickets are dispatch's, and inventory never imports dispatch.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    asset_id: Mapped[int | None] = mapped_column(ForeignKey("assets.id"), index=True)
    kind: Mapped[QuoteKind] = mapped_column(enum_column(QuoteKind, "quote_kind"))
    cause: Mapped[str] = mapped_column(String(32))
    on_date: Mapped[date] = mapped_column(Date())
    currency: Mapped[str] = mapped_column(String(3))
    total: Mapped[Decimal] = mapped_column(Money)
    warranty_job: Mapped[bool]
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    __table_args__ = (CheckConstraint("total >= 0", name="total_nonnegative"),)
