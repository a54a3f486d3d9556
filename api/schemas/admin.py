"""Wire schemas of master-data administration: what an admin may send, field by field.

Every write schema refuses unknown fields (`extra="forbid"`): a client cannot set
what the route does not offer (no mass assignment). Fields left out of a PATCH
keep their value; `null` is accepted only where a value may be absent
(`NULLABLE`), so a PATCH never blanks a required field by accident. Lengths and
ranges match the columns, so no value reaches the database to fail there.
"""

from __future__ import annotations

from datetime import time
from decimal import Decimal
from typing import Annotated, Any, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
)

from api.schemas.common import Day, Id, Instant, Lat, Lon, ReadModel, Timestamp
from db.identity import Role, Scope
from dispatch.masterdata import SeverityLevel, SkillLevel
from dispatch.models import InspectionFrequency
from inventory.catalogue import StockTarget
from inventory.models import DepotKind


def _local(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("a local time of the region: give no UTC offset")
    return value


Code16 = Annotated[str, Field(min_length=1, max_length=16)]
Code32 = Annotated[str, Field(min_length=1, max_length=32)]
Sku = Annotated[str, Field(min_length=1, max_length=64)]
Zone = Annotated[str, Field(min_length=1, max_length=64)]
Address = Annotated[str, Field(min_length=1, max_length=300)]
Name120 = Annotated[str, Field(min_length=1, max_length=120)]
Name200 = Annotated[str, Field(min_length=1, max_length=200)]
LocalTime = Annotated[time, AfterValidator(_local)]
MoneyIn = Annotated[
    Decimal, Field(ge=0, max_digits=12, decimal_places=2, description="a decimal string")
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217, e.g. CNY")]
Minutes = Annotated[int, Field(ge=0, le=1_000_000)]
Count = Annotated[int, Field(ge=0, le=1_000_000_000)]


def _domain(value: Any) -> Any:
    if isinstance(value, Item):
        return value.domain(**value.model_dump())
    if isinstance(value, list):
        return [_domain(v) for v in value]
    return value


class WriteModel(BaseModel):
    """Base of every request body of the admin routes."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Fields that may be sent as null; any other field is left out or given a value.
    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @field_validator("*", mode="before")
    @classmethod
    def _null_only_where_allowed(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None and info.field_name not in cls.NULLABLE:
            raise ValueError("must not be null: leave the field out to keep its value")
        return value

    def fields(self) -> Any:
        """The fields the client sent, nested items as the service's dataclasses.

        Left-out optional fields are absent, so the service's defaults (on create)
        or the stored values (on update) apply. Typed `Any`: each service names the
        fields it takes (keywords or a TypedDict), and the tests hold the two together.
        """
        return {name: _domain(getattr(self, name)) for name in self.model_fields_set}


class Item(WriteModel):
    """A nested item of a body that becomes the service's dataclass `domain`."""

    domain: ClassVar[type]


# Engineers


class SkillIn(Item):
    domain = SkillLevel

    product_line_id: Id
    level: int = Field(ge=1, le=3, description="1 basic, 2 advanced, 3 expert")


class EngineerUpdate(WriteModel):
    """Fields to change; `create_van: true` gives the engineer a new van depot."""

    NULLABLE = frozenset(
        {"home_place", "van_capacity", "user_id", "van_depot_id", "labour_rule_id"}
    )

    code: Code32 | None = None
    name: Name120 | None = None
    region_id: Id | None = None
    home_place: Name120 | None = None
    home_lat: Lat | None = None
    home_lon: Lon | None = None
    van_capacity: Count | None = Field(None, description="units the van holds; null: no limit")
    cost_per_hour: MoneyIn | None = None
    cost_per_km: MoneyIn | None = None
    user_id: Id | None = Field(None, description="the engineer's login, a user of role engineer")
    active: bool | None = None
    van_depot_id: Id | None = Field(None, description="an existing van depot nobody drives")
    labour_rule_id: Id | None = Field(
        None, description="his group's labour rules; null: his region's, else the defaults"
    )
    create_van: bool | None = Field(None, description="create a van depot VAN-<code>")


class EngineerCreate(EngineerUpdate):
    code: Code32
    name: Name120
    region_id: Id
    home_lat: Lat
    home_lon: Lon
    skills: list[SkillIn] = Field([], max_length=100)


class SkillsPut(WriteModel):
    """The engineer's whole skill set; an empty list removes every skill."""

    skills: list[SkillIn] = Field(max_length=100)


class ShiftCreate(WriteModel):
    """A weekly shift in local time; `ends_at` at or before `starts_at` ends the next day."""

    weekday: int = Field(ge=0, le=6, description="0 Monday ... 6 Sunday")
    starts_at: LocalTime
    ends_at: LocalTime


class AbsenceUpdate(WriteModel):
    """Change an absence; ending it early sets `ends_at`."""

    starts_at: Instant | None = None
    ends_at: Instant | None = None
    reason: Name200 | None = None


class AbsenceCreate(AbsenceUpdate):
    starts_at: Instant
    ends_at: Instant
    reason: Name200 = Field(description="sick leave, holiday, training, ...")


class StockLineIn(Item):
    domain = StockTarget

    part_id: Id
    on_hand: Count
    reorder_point: Count = 0


class StockPut(WriteModel):
    """What a van carries, in full: parts left out leave the van."""

    levels: list[StockLineIn] = Field(max_length=1000)


class ShiftRead(ReadModel):
    id: int
    engineer_id: int
    weekday: int
    starts_at: time
    ends_at: time


class AbsenceRead(ReadModel):
    id: int
    engineer_id: int
    starts_at: Timestamp
    ends_at: Timestamp
    reason: str


class StockLevelRead(ReadModel):
    depot_id: int
    part_id: int
    on_hand: int
    reserved: int
    in_transit: int
    on_order: int
    reorder_point: int


# Sites and contracts


class SiteUpdate(WriteModel):
    NULLABLE = frozenset({"place", "address", "dedicated_engineer_id"})

    code: Code32 | None = None
    name: Name200 | None = None
    region_id: Id | None = None
    contract_id: Id | None = None
    place: Name120 | None = None
    address: Address | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    rural: bool | None = None
    dedicated_engineer_id: Id | None = Field(None, description="an active engineer")


class SiteCreate(SiteUpdate):
    code: Code32
    name: Name200
    region_id: Id
    contract_id: Id
    lat: Lat
    lon: Lon


class ContractUpdate(WriteModel):
    NULLABLE = frozenset({"ends_on"})

    code: Code32 | None = None
    customer_name: Name200 | None = None
    policy_id: Id | None = None
    starts_on: Day | None = None
    ends_on: Day | None = Field(None, description="after starts_on; null: open-ended")


class ContractCreate(ContractUpdate):
    code: Code32
    customer_name: Name200
    policy_id: Id
    starts_on: Day


# Promise policies


class SeverityIn(Item):
    """A severity level; an offset (minutes from the report) left out or null sets no deadline."""

    domain = SeverityLevel
    NULLABLE = frozenset({"respond_min", "depart_min", "arrive_min", "fix_min"})

    code: Code16
    label: Name200
    rank: int = Field(ge=1, le=100, description="1 = most urgent; ranks run 1..n")
    respond_min: Minutes | None = None
    depart_min: Minutes | None = None
    arrive_min: Minutes | None = None
    fix_min: Minutes | None = None
    arrive_hard: bool = False


class PolicyUpdate(WriteModel):
    """Fields to change; given `severities` replace all levels. Left out on create: defaults."""

    code: Code32 | None = None
    name: Name200 | None = None
    timezone: Zone | None = Field(None, description="IANA zone (default Asia/Shanghai)")
    currency: Currency | None = None
    warranty_years: int | None = Field(None, ge=0, le=20)
    at_risk_margin_min: Minutes | None = None
    swap_within_min: Minutes | None = Field(None, ge=1)
    ship_within_min: Minutes | None = Field(None, ge=1)
    reservation_lifetime_min: Minutes | None = Field(None, ge=1)
    frozen_horizon_min: Minutes | None = None
    eta_tolerance_min: Minutes | None = Field(
        None, description="how far a re-plan may move an announced ETA, either way"
    )
    inspection_window_days: int | None = Field(
        None, ge=1, le=366, description="an inspection visit is due within this many days"
    )
    inspection_frequency: InspectionFrequency | None = None
    plan_duration_pct: int | None = Field(
        None, ge=50, le=99,
        description="jobs are planned with this quantile of their type's finished durations",
    )  # fmt: skip
    plan_min_jobs: int | None = Field(
        None, ge=1, description="finished jobs of a type before its own durations are used"
    )
    plan_log_jobs: int | None = Field(
        None, ge=1, description="durations are learnt from this many newest finished jobs"
    )
    slack_min: Minutes | None = Field(
        None, description="slack a visit after another job keeps before its arrive and fix"
    )
    redispatch_apply: bool | None = Field(
        None, description="move a visit another engineer would serve better at once "
        "(default false: only propose it to the dispatcher)",
    )  # fmt: skip
    redispatch_every_min: int | None = Field(
        None, ge=1, description="the worker asks the re-dispatch rule again this often (default 15)"
    )
    redispatch_after_min: Minutes | None = Field(
        None, description="a job on site this long past its planned end moves the engineer's "
        "next visits to whoever keeps their promises (default 15)",
    )  # fmt: skip
    make_room_engineers: int | None = Field(
        None, ge=0, le=1_000, description="a new ticket whose best option breaks its arrival "
        "asks this many nearest engineers with a visit not departed whether a colleague keeps "
        "it, so one of them takes the ticket first (default 3; 0: never)",
    )  # fmt: skip
    divert_engineers: int | None = Field(
        None, ge=0, le=1_000, description="... and, when no room is made, this many nearest "
        "engineers driving to a visit whether they take the ticket first, their visit kept by "
        "them after it or by a colleague (default 3; 0: never)",
    )  # fmt: skip
    labour_rate_per_hour: MoneyIn | None = None
    travel_rate_per_km: MoneyIn | None = None
    service_fee: MoneyIn | None = None
    severities: list[SeverityIn] | None = Field(None, min_length=1, max_length=20)


class PolicyCreate(PolicyUpdate):
    code: Code32
    name: Name200
    severities: list[SeverityIn] = Field(min_length=1, max_length=20)


# Depots and parts


class DepotUpdate(WriteModel):
    """Fields to change; opening hours both or neither (neither: open around the clock)."""

    NULLABLE = frozenset({"region_id", "place", "lat", "lon", "opens_at", "closes_at"})

    code: Code32 | None = None
    name: Name200 | None = None
    kind: DepotKind | None = None
    region_id: Id | None = None
    place: Name120 | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    opens_at: LocalTime | None = None
    closes_at: LocalTime | None = None
    pick_min: Minutes | None = Field(
        None, description="minutes to pick a ticket's parts at its counter (default 10); "
        "production, the planner and the simulator plan pickups with it",
    )  # fmt: skip


class DepotCreate(DepotUpdate):
    code: Code32
    name: Name200
    kind: DepotKind


class PartUpdate(WriteModel):
    """Fields to change; given `fits` or `substitutes` replace those lists."""

    NULLABLE = frozenset({"supplier_id"})

    sku: Sku | None = None
    name: Name200 | None = None
    product_line_id: Id | None = None
    cost_price: MoneyIn | None = None
    list_price: MoneyIn | None = Field(None, description="not below cost_price")
    currency: Currency | None = None
    key_part: bool | None = None
    supplier_id: Id | None = None
    fits: list[Id] | None = Field(None, max_length=500, description="product model ids")
    substitutes: list[Id] | None = Field(None, max_length=100, description="part ids")


class PartCreate(PartUpdate):
    sku: Sku
    name: Name200
    product_line_id: Id
    cost_price: MoneyIn
    list_price: MoneyIn


# Users


class UserUpdate(WriteModel):
    name: Name120 | None = None
    role: Role | None = None
    active: bool | None = None


class UserCreate(UserUpdate):
    name: Name120
    role: Role


class UserRead(ReadModel):
    id: int
    name: str
    role: Role
    active: bool
    created_at: Timestamp


class ScopeUpdate(WriteModel):
    """The depots and regions a user may write at; a list replaces, [] clears, absent keeps."""

    depot_ids: list[Id] | None = Field(None, max_length=1000)
    region_ids: list[Id] | None = Field(None, max_length=1000)


class ScopeRead(BaseModel):
    """null: not restricted by that kind (the default); a list: writes only there."""

    depot_ids: list[int] | None
    region_ids: list[int] | None

    @classmethod
    def of(cls, scope: Scope) -> ScopeRead:
        def listed(ids: frozenset[int] | None) -> list[int] | None:
            return None if ids is None else sorted(ids)

        return cls(depot_ids=listed(scope.depot_ids), region_ids=listed(scope.region_ids))


class UserKeyRead(UserRead):
    """A user with a newly issued key: shown this once, stored only as a hash."""

    api_key: str

    @classmethod
    def issued(cls, user_and_key: tuple[Any, str]) -> UserKeyRead:
        user, key = user_and_key
        return cls(**UserRead.model_validate(user).model_dump(), api_key=key)
