"""Wire schemas of warranty checks and quotes: covered or not, until when, and the rule."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.common import Day, Id, ReadModel, Timestamp
from api.schemas.ticket import StrictModel
from inventory.warranty import Cause


class CoverageRead(BaseModel):
    covered: bool
    starts_on: date
    covered_until: date = Field(description="the last covered day")
    rule: str = Field(
        description="asset_warranty, from_installation, restarted_part_warranty or excluded_cause"
    )
    reason: str

    @classmethod
    def of(cls, c: Any) -> CoverageRead:
        return cls(
            covered=c.covered,
            starts_on=c.starts_on,
            covered_until=c.last_covered_day,
            rule=str(c.rule),
            reason=c.reason,
        )


class InstalledPartRead(BaseModel):
    installed_part_id: int
    part_id: int
    sku: str
    key_part: bool
    serial: str | None
    installed_on: date
    coverage: CoverageRead


class WarrantyRead(BaseModel):
    asset_id: int
    serial: str
    on: date
    warranty_years: int
    timezone: str
    coverage: CoverageRead
    parts: list[InstalledPartRead]

    @classmethod
    def of(cls, w: Any) -> WarrantyRead:
        """From `dispatch.warranty_service.AssetWarranty`."""
        parts = [
            InstalledPartRead(
                installed_part_id=p.installed.id,
                part_id=p.part.id,
                sku=p.part.sku,
                key_part=p.part.key_part,
                serial=p.installed.serial,
                installed_on=p.installed.installed_on,
                coverage=CoverageRead.of(p.coverage),
            )
            for p in w.parts
        ]
        return cls(
            asset_id=w.asset.id,
            serial=w.asset.serial,
            on=w.on,
            warranty_years=w.years,
            timezone=w.timezone,
            coverage=CoverageRead.of(w.coverage),
            parts=parts,
        )


class DoaSwapIn(StrictModel):
    part_id: Id = Field(description="the replacement: the same part or one of equal function")
    serial: str | None = Field(None, max_length=64)


class InstalledPartBrief(ReadModel):
    id: int
    asset_id: int
    part_id: int
    serial: str | None
    installed_on: date
    warranty_starts_on: date | None


class QuotePartIn(StrictModel):
    part_id: Id
    quantity: int = Field(1, ge=1, le=1_000)
    replaces_part_id: Id | None = Field(
        None, description="the part a substitute of similar function replaces (free upgrade)"
    )


class QuoteCreate(StrictModel):
    """A ticket (its expected parts by default) or an asset with parts; a cause."""

    ticket_id: Id | None = None
    asset_id: Id | None = None
    parts: list[QuotePartIn] | None = Field(None, max_length=100)
    cause: Cause = Cause.NORMAL_FAULT
    on: Day | None = Field(None, description="the date coverage is judged on (default: today)")
    labour_hours: Decimal | None = Field(None, ge=0, le=1_000, decimal_places=2)
    travel_km: Decimal | None = Field(None, ge=0, le=10_000, decimal_places=2)


class QuoteLineRead(BaseModel):
    kind: str
    description: str
    quantity: str
    unit_amount: str
    amount: str
    rule: str
    reason: str


class QuoteRead(ReadModel):
    id: int
    ticket_id: int | None
    asset_id: int | None
    kind: str
    cause: str
    on_date: date
    currency: str
    total: str
    warranty_job: bool
    lines: list[QuoteLineRead]
    created_at: Timestamp

    @classmethod
    def of(cls, q: Any) -> QuoteRead:
        return cls(
            id=q.id,
            ticket_id=q.ticket_id,
            asset_id=q.asset_id,
            kind=str(q.kind),
            cause=q.cause,
            on_date=q.on_date,
            currency=q.currency,
            total=str(q.total.quantize(Decimal("0.01"))),
            warranty_job=q.warranty_job,
            lines=[QuoteLineRead(**line) for line in q.lines],
            created_at=q.created_at,
        )
