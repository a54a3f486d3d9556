"""ORM models owned by inventory: geography shared with dispatch, catalogue, depots, stock, assets.

`inventory` never imports `dispatch`: where a row points at a dispatch table (an
asset's site) it does so by table name only.
"""

from __future__ import annotations

import enum
from datetime import date, time
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Numeric, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from db import Base, IdMixin
from db.types import enum_column

Money = Numeric(12, 2)


class Region(IdMixin, Base):
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


class ProductLine(IdMixin, Base):
    """A family of products; engineers' skills are product line x level."""

    __tablename__ = "product_lines"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(120))


class ProductModel(IdMixin, Base):
    """A model of installed equipment; parts say which models they fit."""

    __tablename__ = "product_models"

    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    product_line_id: Mapped[int] = mapped_column(ForeignKey("product_lines.id"), index=True)


class SupplierKind(enum.StrEnum):
    SUPPLIER = "supplier"
    PARTNER = "partner"


class Supplier(IdMixin, Base):
    """An outside source of parts (supplier or strategic partner) with a lead time."""

    __tablename__ = "suppliers"

    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[SupplierKind] = mapped_column(enum_column(SupplierKind, "supplier_kind"))
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    lead_time_hours: Mapped[int]

    __table_args__ = (CheckConstraint("lead_time_hours >= 0", name="lead_time_nonnegative"),)


class Part(IdMixin, Base):
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


class PartFit(Base):
    """Part x product model it fits."""

    __tablename__ = "part_fits"

    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), primary_key=True)
    product_model_id: Mapped[int] = mapped_column(
        ForeignKey("product_models.id"), primary_key=True, index=True
    )


class PartSubstitute(Base):
    """A part of similar function that may replace another (a free upgrade)."""

    __tablename__ = "part_substitutes"

    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), primary_key=True)
    substitute_id: Mapped[int] = mapped_column(ForeignKey("parts.id"), primary_key=True)

    __table_args__ = (CheckConstraint("part_id <> substitute_id", name="not_self"),)


class DepotKind(enum.StrEnum):
    CENTRAL = "central"
    REGIONAL = "regional"
    VAN = "van"  # an engineer's van stock: a depot that moves with its engineer


class Depot(IdMixin, Base):
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

    __table_args__ = (
        CheckConstraint("kind = 'van' OR (lat IS NOT NULL AND lon IS NOT NULL)", name="located"),
        CheckConstraint("(opens_at IS NULL) = (closes_at IS NULL)", name="hours_both_or_neither"),
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

    __table_args__ = (
        UniqueConstraint("depot_id", "part_id"),
        CheckConstraint("on_hand >= 0", name="on_hand_nonnegative"),
        CheckConstraint("reserved >= 0", name="reserved_nonnegative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        CheckConstraint("in_transit >= 0", name="in_transit_nonnegative"),
        CheckConstraint("on_order >= 0", name="on_order_nonnegative"),
        CheckConstraint("reorder_point >= 0", name="reorder_point_nonnegative"),
    )


class Asset(IdMixin, Base):
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


class InstalledPart(IdMixin, Base):
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
