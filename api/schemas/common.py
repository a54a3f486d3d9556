"""Wire schemas: what the API reads and returns; never ORM or solver classes.

Conventions: timestamps are ISO 8601 with the offset of the request's display zone
(`DISPLAY_ZONE`, set per request by `api.localtime`; UTC when unset), money is a decimal string
with two places (never a float), coordinates are floats in degrees.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import date, datetime, time, tzinfo
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, PlainSerializer
from pydantic_core import PydanticCustomError

from api.area import SERVICE_AREA
from dispatch.models import InspectionFrequency
from inventory.models import DepotKind

# Ids are INTEGER columns: 32-bit on PostgreSQL. A larger number is a 422 on both
# databases, never PostgreSQL's "integer out of range" (SQLite would have taken it).
MAX_ID = 2**31 - 1
Id = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_ID, description="the id of the row")]
Code = Annotated[str, Field(min_length=1, max_length=64)]


def _money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


# The zone a person reads this response's times in; storage and the wire's instants stay
# the same, only the offset changes. One place converts: the `Timestamp` serializer.
DISPLAY_ZONE: ContextVar[tzinfo | None] = ContextVar("display_zone", default=None)


def timestamp_text(value: datetime) -> str:
    """An instant as the wire writes it: ISO 8601 in this request's display zone."""
    zone = DISPLAY_ZONE.get()
    return (value if zone is None else value.astimezone(zone)).isoformat()


Money = Annotated[Decimal, PlainSerializer(_money, return_type=str, when_used="json")]
Timestamp = Annotated[
    AwareDatetime, PlainSerializer(timestamp_text, return_type=str, when_used="json")
]

# Instants and days a client sends are within these years: the calendar's edges (year 1,
# 9999) overflow on the first hour added to them; nothing Spares plans lies outside.
EARLIEST_YEAR, LATEST_YEAR = 1900, 2199


DayT = TypeVar("DayT", bound=date)


def within_years(value: DayT) -> DayT:
    """The one bound on every instant and day a client sends (a 422 outside it)."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"must lie within the years {EARLIEST_YEAR}-{LATEST_YEAR}")
    return value


# The input forms of `Timestamp` and `date`: request bodies and queries use these.
Instant = Annotated[Timestamp, AfterValidator(within_years)]
Day = Annotated[date, AfterValidator(within_years)]


def _in_area(axis: Literal["lat", "lon"]) -> Any:
    def check(value: float) -> float:
        area = SERVICE_AREA.get()
        if area is not None:
            low, high = area.bounds(axis)
            if not low <= value <= high:
                raise PydanticCustomError(
                    "service_area",
                    "{axis} {value} lies outside the service area ({low} to {high}: the"
                    " regions' box and its margin)",
                    {"axis": axis, "value": value, "low": round(low, 2), "high": round(high, 2)},
                )
        return value

    return AfterValidator(check)


# Every coordinate a client sends: on the globe, and within the service area (api.area) of
# the request, whose box the key's check sets; the one place the area is enforced.
Lat = Annotated[float, Field(ge=-90, le=90), _in_area("lat")]
Lon = Annotated[float, Field(ge=-180, le=180), _in_area("lon")]

ItemT = TypeVar("ItemT", bound=BaseModel)


class ReadModel(BaseModel):
    """Base of the XRead schemas: built from ORM objects by attribute."""

    model_config = ConfigDict(from_attributes=True)


class PageRead(BaseModel, Generic[ItemT]):
    """A keyset page: pass `next_after` as `after` for the next page; null on the last one."""

    model_config = ConfigDict(from_attributes=True)

    items: list[ItemT]
    next_after: int | None


class HealthRead(BaseModel):
    status: Literal["ok", "ready"]


class RegionRead(ReadModel):
    id: int
    code: str
    name: str
    name_local: str | None
    lat: float
    lon: float
    timezone: str


class DepotRead(ReadModel):
    id: int
    code: str
    name: str
    kind: DepotKind
    region_id: int | None
    place: str | None
    lat: float | None
    lon: float | None
    opens_at: time | None = Field(description="null with closes_at: open around the clock")
    closes_at: time | None
    pick_min: int = Field(description="minutes to pick a ticket's parts at its counter")


class ProductLineRead(ReadModel):
    id: int
    code: str
    name: str


class ProductModelRead(ReadModel):
    id: int
    code: str
    name: str
    product_line_id: int


class ProductModelBrief(ReadModel):
    id: int
    code: str
    name: str


class PartBrief(ReadModel):
    id: int
    sku: str
    name: str


class PartRead(ReadModel):
    id: int
    sku: str
    name: str
    product_line_id: int
    cost_price: Money
    list_price: Money
    currency: str
    key_part: bool
    supplier_id: int | None
    fits: list[ProductModelBrief]
    substitutes: list[PartBrief]


class AssetRead(ReadModel):
    id: int
    serial: str
    product_model_id: int
    site_id: int
    installed_on: date
    accepted_on: date | None
    has_warranty_record: bool


class SkillRead(ReadModel):
    product_line_id: int
    product_line_code: str | None = Field(None, description="the skill as a product line")
    product_line_name: str | None = None
    level: int = Field(description="1 basic, 2 advanced, 3 expert")


def name_skills(session: Any, engineers: list[EngineerRead]) -> None:
    """Fill each skill's product line code and name (one query for them all)."""
    from dispatch.names import product_lines

    lines = product_lines(session, (k.product_line_id for e in engineers for k in e.skills))
    for e in engineers:
        for k in e.skills:
            k.product_line_code, k.product_line_name = lines.get(k.product_line_id, (None, None))


class EngineerRead(ReadModel):
    id: int
    code: str
    name: str
    region_id: int
    home_place: str | None
    home_lat: float
    home_lon: float
    current_lat: float | None
    current_lon: float | None
    position_at: Timestamp | None
    van_depot_id: int | None
    van_capacity: int | None
    cost_per_hour: Money
    cost_per_km: Money
    active: bool
    labour_rule_id: int | None = None
    skills: list[SkillRead]


class SiteRead(ReadModel):
    id: int
    code: str
    name: str
    region_id: int
    contract_id: int
    place: str | None
    address: str | None
    lat: float
    lon: float
    rural: bool
    dedicated_engineer_id: int | None


class ContractRead(ReadModel):
    id: int
    code: str
    customer_name: str
    policy_id: int
    starts_on: date
    ends_on: date | None


class SeverityRead(ReadModel):
    """One severity of a policy; an offset (minutes from the report) of null sets no deadline."""

    code: str
    label: str
    rank: int
    respond_min: int | None
    depart_min: int | None
    arrive_min: int | None
    fix_min: int | None
    arrive_hard: bool


class PolicyRead(ReadModel):
    id: int
    code: str
    name: str
    timezone: str
    currency: str
    warranty_years: int
    at_risk_margin_min: int
    swap_within_min: int
    ship_within_min: int
    reservation_lifetime_min: int
    frozen_horizon_min: int
    eta_tolerance_min: int
    inspection_window_days: int
    inspection_frequency: InspectionFrequency
    plan_duration_pct: int
    plan_min_jobs: int
    plan_log_jobs: int
    slack_min: int
    redispatch_apply: bool
    redispatch_every_min: int
    redispatch_after_min: int
    make_room_engineers: int
    divert_engineers: int
    labour_rate_per_hour: Money
    travel_rate_per_km: Money
    service_fee: Money
    severities: list[SeverityRead]


class ContractDetailRead(ContractRead):
    """A contract with its promise policy and the policy's severities embedded."""

    policy: PolicyRead

    @classmethod
    def from_detail(cls, detail: Any) -> ContractDetailRead:
        """Flatten a `dispatch.queries.ContractDetail` (contract + policy) into one body."""
        contract = ContractRead.model_validate(detail.contract)
        return cls(**contract.model_dump(), policy=PolicyRead.model_validate(detail.policy))


# Query filters: field names are the service's keyword arguments, aliases the query names.


class RegionCodeFilter(BaseModel):
    region_code: Code | None = Field(None, alias="region", description="region code")
    region_id: Id | None = None


class DepotFilter(RegionCodeFilter):
    kind: DepotKind | None = None


class ProductModelFilter(BaseModel):
    product_line_code: Code | None = Field(None, alias="product_line", description="line code")
    product_line_id: Id | None = None


class PartFilter(ProductModelFilter):
    key_part: bool | None = None
    q: str | None = Field(
        None, min_length=1, max_length=200, description="SKU prefix or part of the name"
    )
    fits_model_code: Code | None = Field(None, alias="fits", description="product model code")
    fits_model_id: Id | None = None


class AssetFilter(BaseModel):
    site_id: Id | None = None
    product_model_code: Code | None = Field(None, alias="product_model", description="model code")
    product_model_id: Id | None = None
    serial: Code | None = None


class EngineerFilter(RegionCodeFilter):
    product_line_code: Code | None = Field(
        None, alias="skill", description="product line code of a skill"
    )
    product_line_id: Id | None = Field(None, alias="skill_id", description="product line id")
    min_level: int | None = Field(
        None, ge=1, le=3, description="minimum level of that skill (or of any skill)"
    )
    active: bool | None = None


class SiteFilter(RegionCodeFilter):
    contract_code: Code | None = Field(None, alias="contract", description="contract code")
    contract_id: Id | None = None
    rural: bool | None = None
    dedicated_engineer_id: Id | None = None


class ContractFilter(BaseModel):
    policy_code: Code | None = Field(None, alias="policy", description="promise policy code")
    policy_id: Id | None = None
