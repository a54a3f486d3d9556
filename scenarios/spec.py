"""The scenario file (YAML or JSON) as validated pydantic models, with field-level errors.

A scenario is a base world, a horizon, a demand model and variants; each variant is a list
of changes applied to the base (docs/scenarios.md). Unknown fields are refused, so a typo
is an error that names its place (`variants.1.changes.0.factor: ...`), never a silent
default.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from dispatch.world import REFERENCE_DATE
from inventory.depot_times import DEFAULT_PICK_MIN
from optimizer import GUANGDONG_RUSH_HOURS, SpeedProfile
from optimizer.reassign import REDISPATCH_AFTER_MIN, REDISPATCH_EVERY_MIN
from scenarios.model import (
    BUSINESS_HOURS,
    UNSOURCED_LEAD_DAYS,
    VAN_REFILL_H,
    WORKING_WEEK,
    ArrivalProfile,
)

Policy = Literal["optimised", "naive", "naive_unlimited"]
POLICIES: tuple[Policy, ...] = ("optimised", "naive", "naive_unlimited")


class ScenarioError(ValueError):
    """A scenario file that cannot be used: every problem as `(field path, message)`."""

    def __init__(self, source: str, problems: list[tuple[str, str]]) -> None:
        self.source, self.problems = source, problems
        lines = "\n".join(f"  {where}: {what}" for where, what in problems)
        super().__init__(f"{source}: {len(problems)} problem(s)\n{lines}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BaseWorld(_Strict):
    """Where the simulated world comes from: the demo generator, a bundle folder or a DB."""

    kind: Literal["demo", "bundle", "database"] = "demo"
    seed: int = Field(7, ge=0)
    size: Literal["small", "medium", "large"] = "small"
    path: str | None = None  # bundle folder (relative paths: to the scenario file)
    database_url: str | None = None

    @model_validator(mode="after")
    def _source(self) -> BaseWorld:
        if self.kind == "bundle" and not self.path:
            raise ValueError("path: required for a bundle base")
        if self.kind == "database" and not self.database_url:
            raise ValueError("database_url: required for a database base")
        return self


class ArrivalShape(_Strict):
    """Relative arrival weights by local hour (24) and weekday (7, Monday first)."""

    hours: tuple[float, ...] = BUSINESS_HOURS
    weekdays: tuple[float, ...] = WORKING_WEEK

    @model_validator(mode="after")
    def _shape(self) -> ArrivalShape:
        self.profile()  # ArrivalProfile names the field that is wrong
        return self

    def profile(self) -> ArrivalProfile:
        return ArrivalProfile(tuple(self.hours), tuple(self.weekdays))


class Demand(_Strict):
    """Ticket arrivals: Poisson per region, spread over its sites, shaped by the hour."""

    tickets_per_day: float = Field(20.0, ge=0)  # whole world; split by each region's sites
    per_region: dict[str, float] = Field(default_factory=dict)  # region code -> tickets/day
    severity_mix: tuple[float, ...] = (0.2, 0.35, 0.45)  # by rank, most severe first
    part_share: float = Field(0.4, ge=0, le=1)  # tickets that need a spare part
    damage_share: float = Field(0.05, ge=0, le=1)  # customer damage: priced at cost
    service_spread: float = Field(0.25, ge=0, le=2)  # lognormal sigma of the service time
    from_history: bool = False  # rates from the base world's tickets when it has enough
    profile: ArrivalShape = ArrivalShape()  # default: business-hours peak
    per_region_profile: dict[str, ArrivalShape] = Field(default_factory=dict)  # by region code

    @model_validator(mode="after")
    def _mix(self) -> Demand:
        if not self.severity_mix or min(self.severity_mix) < 0:
            raise ValueError("severity_mix: probabilities must be >= 0")
        if abs(sum(self.severity_mix) - 1) > 1e-6:
            raise ValueError(f"severity_mix: must sum to 1, got {sum(self.severity_mix):.4f}")
        if any(rate < 0 for rate in self.per_region.values()):
            raise ValueError("per_region: rates must be >= 0")
        return self


class Returns(_Strict):
    """Faulty units swapped out: back to a depot, inspected, repaired or scrapped."""

    enabled: bool = True
    warranty_only: bool = True  # only parts swapped free under warranty come back
    carry_h: float = Field(24.0, ge=0)  # kept in the van until a depot visit, at most this
    courier_h: float = Field(24.0, ge=0)  # then couriered to the depot nearest the site
    inspect_h: float = Field(24.0, ge=0)
    repairable_share: float = Field(0.6, ge=0, le=1)
    repair_days: float = Field(5.0, ge=0)  # repaired units then go back on that depot's shelf


class Restock(_Strict):
    """How stock below its reorder point comes back (docs/scenarios.md, "Restocking")."""

    van_refill_h: float = Field(VAN_REFILL_H, ge=0)  # a transfer from a depot of its region
    unsourced_lead_days: float = Field(UNSOURCED_LEAD_DAYS, ge=0)  # a part without supplier


class Loaners(_Strict):
    """What a loaner costs, in the contract's currency (exact: written as strings or ints)."""

    per_loan: Decimal = Field(Decimal("200"), ge=0, decimal_places=2)
    per_day: Decimal = Field(Decimal("50"), ge=0, decimal_places=2)


class _Period(_Strict):
    start_day: int = Field(0, ge=0)  # days after the start of the horizon
    days: float = Field(1, gt=0)


class AddDepot(_Strict):
    kind: Literal["add_depot"]
    code: str
    region: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    stock_like: str | None = None  # copy the stock levels of this depot
    pick_min: int = Field(DEFAULT_PICK_MIN, ge=0)  # picking at its counter (`depots.pick_min`)


class RemoveDepot(_Strict):
    kind: Literal["remove_depot"]
    depot: str


class MoveDepot(_Strict):
    kind: Literal["move_depot"]
    depot: str
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class Engineers(_Strict):
    """+n copies of the matching engineers, -n: the newest leave.

    ``start``/``end``/``weekdays``: the copies work this weekly pattern instead of their
    models' (a late shift where the misses are, not another copy of the day shift).
    """

    kind: Literal["engineers"]
    delta: int  # + adds copies of the region's engineers, - removes the newest
    region: str | None = None
    skill: str | None = None  # product line code
    start: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")  # local HH:MM
    end: str | None = Field(None, pattern=r"^\d{2}:\d{2}$")  # <= start: ends the next day
    weekdays: tuple[int, ...] | None = None  # 0 = Monday; with start and end (default Mon-Fri)

    @model_validator(mode="after")
    def _shift(self) -> Engineers:
        if (self.start is None) != (self.end is None):
            raise ValueError("start: give both start and end, or neither")
        if self.start is not None and self.start == self.end:
            raise ValueError("end: must differ from start")
        if self.weekdays is not None and (
            not self.weekdays or any(not 0 <= d <= 6 for d in self.weekdays)
        ):
            raise ValueError("weekdays: each must be 0 (Monday) .. 6")
        if self.weekdays is not None and self.start is None:
            raise ValueError("weekdays: only with start and end")
        return self


class ShiftPattern(_Strict):
    """Engineers (of a region, of a product line) work this weekly pattern instead of theirs:
    all of them, or the newest ``count`` (a late or night shift for a few, not for all)."""

    kind: Literal["shift_pattern"]
    start: str = Field(pattern=r"^\d{2}:\d{2}$")  # local HH:MM
    end: str = Field(pattern=r"^\d{2}:\d{2}$")  # <= start: ends the next day
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4)  # 0 = Monday
    region: str | None = None
    skill: str | None = None  # product line code: only engineers with that skill
    count: int | None = Field(None, ge=1)  # the newest not on it already; None: all

    @model_validator(mode="after")
    def _days(self) -> ShiftPattern:
        if not self.weekdays or any(not 0 <= d <= 6 for d in self.weekdays):
            raise ValueError("weekdays: each must be 0 (Monday) .. 6")
        if self.start == self.end:
            raise ValueError("end: must differ from start")
        return self


class OnCallRoster(_Strict):
    """An on-call roster: every ``1 / share``-th engineer (by id, of a region) is on call in
    these weekly hours, besides his own shifts. On call is not working time; he may be
    called out for a severe ticket at his labour rules' call-out cost. Without this change
    a world has the on-call shifts of its data (the generated demo world has none)."""

    kind: Literal["on_call"]
    start: str = Field("20:00", pattern=r"^\d{2}:\d{2}$")  # local HH:MM
    end: str = Field("08:00", pattern=r"^\d{2}:\d{2}$")  # <= start: ends the next day
    weekdays: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)  # 0 = Monday
    share: float = Field(0.1, gt=0, le=1)
    region: str | None = None

    @model_validator(mode="after")
    def _days(self) -> OnCallRoster:
        if not self.weekdays or any(not 0 <= d <= 6 for d in self.weekdays):
            raise ValueError("weekdays: each must be 0 (Monday) .. 6")
        if self.start == self.end:
            raise ValueError("end: must differ from start")
        return self


class StockLevel(_Strict):
    kind: Literal["stock_level"]
    depot: str | None = None  # None: every non-van depot
    part: str | None = None  # SKU; None: every part
    factor: float | None = Field(None, ge=0)
    quantity: int | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _one(self) -> StockLevel:
        if (self.factor is None) == (self.quantity is None):
            raise ValueError("factor: give exactly one of factor and quantity")
        return self


class PromisePolicy(_Strict):
    kind: Literal["promise_policy"]
    severity: str  # code, e.g. urgent
    arrive_min: int | None = Field(None, ge=0)
    fix_min: int | None = Field(None, ge=0)
    policy: str | None = None  # policy code; None: every policy with that severity


class TravelSpeed(_Strict):
    kind: Literal["travel_speed"]
    factor: float = Field(gt=0, le=5)


class DemandSurge(_Period):
    kind: Literal["demand_surge"]
    region: str
    factor: float = Field(gt=1)


class Strike(_Period):
    kind: Literal["strike"]
    share: float = Field(1.0, gt=0, le=1)  # share of the engineers who strike
    region: str | None = None


class DepotOutage(_Period):
    kind: Literal["depot_outage"]
    depot: str


class ReturnsChange(_Strict):
    """Another returns flow in one variant: only the fields given change."""

    kind: Literal["returns"]
    enabled: bool | None = None
    warranty_only: bool | None = None
    carry_h: float | None = Field(None, ge=0)
    courier_h: float | None = Field(None, ge=0)
    inspect_h: float | None = Field(None, ge=0)
    repairable_share: float | None = Field(None, ge=0, le=1)
    repair_days: float | None = Field(None, ge=0)


class LoanerRates(_Strict):
    kind: Literal["loaner_rates"]
    per_loan: Decimal | None = Field(None, ge=0, decimal_places=2)
    per_day: Decimal | None = Field(None, ge=0, decimal_places=2)


class LabourRulesChange(_Strict):
    """Other labour rules (dispatch.labour.LabourRules) for everyone, or one region's staff.

    Only the fields given change; each engineer keeps the rest of the rules he works under.
    """

    kind: Literal["labour_rules"]
    region: str | None = None
    overtime_max_min: int | None = Field(None, ge=0)
    start_into_overtime: bool | None = None
    overtime_day_max_min: int | None = Field(None, ge=0)
    overtime_week_max_min: int | None = Field(None, ge=0)
    overtime_cost_per_hour: Decimal | None = Field(None, ge=0, decimal_places=2)
    callout_cost: Decimal | None = Field(None, ge=0, decimal_places=2)
    callout_max_rank: int | None = Field(None, ge=0)
    callout_lead_min: int | None = Field(None, ge=0)


class ClockPenaltiesChange(_Strict):
    """Other prices of broken promises for one severity code (contract currency, like
    the stored `*_penalty` columns), for every policy or one policy code."""

    kind: Literal["clock_penalties"]
    severity: str  # code, e.g. urgent
    policy: str | None = None  # policy code; None: every policy with that severity
    respond: Decimal | None = Field(None, ge=0, decimal_places=2)
    depart: Decimal | None = Field(None, ge=0, decimal_places=2)
    arrive: Decimal | None = Field(None, ge=0, decimal_places=2)
    fix: Decimal | None = Field(None, ge=0, decimal_places=2)
    swap: Decimal | None = Field(None, ge=0, decimal_places=2)
    ship: Decimal | None = Field(None, ge=0, decimal_places=2)
    late_pct_per_hour: int | None = Field(None, ge=0)
    at_risk_pct: int | None = Field(None, ge=0)
    at_risk_margin_min: int | None = Field(None, ge=0)


class PlanningChange(_Strict):
    """How safely jobs are planned, for every policy or one policy code: the quantile of
    the learnt service durations and the history it needs (`dispatch.durations`), the
    slack a visit after another job keeps before its arrive and fix clocks, and how many
    engineers are asked to make room for a ticket's arrival (`optimizer.make_room`) or,
    driving to a visit, to take it first (`optimizer.divert`)."""

    kind: Literal["planning"]
    policy: str | None = None  # policy code; None: every policy
    plan_duration_pct: int | None = Field(None, ge=50, le=99)
    plan_min_jobs: int | None = Field(None, ge=1)
    plan_log_jobs: int | None = Field(None, ge=1)
    slack_min: int | None = Field(None, ge=0)
    make_room_engineers: int | None = Field(None, ge=0)
    divert_engineers: int | None = Field(None, ge=0)


Change = Annotated[
    AddDepot | RemoveDepot | MoveDepot | Engineers | ShiftPattern | StockLevel
    | PromisePolicy | TravelSpeed | DemandSurge | Strike | DepotOutage | ReturnsChange
    | LoanerRates | LabourRulesChange | ClockPenaltiesChange | OnCallRoster | PlanningChange,
    Field(discriminator="kind"),
]  # fmt: skip


class RushHours(_Strict):
    """Speed as a share of free flow by local hour (24 each; 1 everywhere: free flow)."""

    weekday: tuple[float, ...] = GUANGDONG_RUSH_HOURS.weekday
    weekend: tuple[float, ...] = GUANGDONG_RUSH_HOURS.weekend

    @model_validator(mode="after")
    def _shape(self) -> RushHours:
        self.profile()  # SpeedProfile names the field that is wrong
        return self

    def profile(self) -> SpeedProfile:
        return SpeedProfile(tuple(self.weekday), tuple(self.weekend))


class Variant(_Strict):
    name: str = Field(min_length=1, max_length=40)
    changes: tuple[Change, ...] = ()


HeadlineKpi = Literal[
    "promise_attainment", "respond_attainment", "depart_attainment", "arrival_attainment",
    "fix_attainment", "ship_8h_attainment", "swap_2h_attainment",
]  # fmt: skip


class Precision(_Strict):
    """Add replications until every headline KPI's 95 % half-width is below the target.

    Shares, in percentage points, scope "all", every variant x policy; at most
    `max_replications` (the report says when the target was not reached).
    """

    half_width_points: float = Field(2.0, gt=0, le=50)
    max_replications: int = Field(20, ge=2, le=100)
    kpis: tuple[HeadlineKpi, ...] = (
        "promise_attainment", "arrival_attainment", "fix_attainment", "swap_2h_attainment",
    )  # fmt: skip


class Scenario(_Strict):
    """A whole scenario file; variant "base" (no changes) is always run first."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    base: BaseWorld = BaseWorld()
    start: date = REFERENCE_DATE  # fixed, never today (rule 4)
    horizon_days: float = Field(7, gt=0, le=366)
    demand: Demand = Demand()
    seed: int = Field(1, ge=0)
    replications: int = Field(3, ge=1, le=100)
    policies: tuple[Policy, ...] = ("optimised",)
    replan_every_min: int | None = Field(None, ge=5)
    # overrun re-dispatch; null: never (production: promise_policies.redispatch_after_min)
    redispatch_after_min: int | None = Field(REDISPATCH_AFTER_MIN, ge=0)
    # tickets nobody could take are offered again, late visits asked again (production's
    # worker tick: promise_policies.redispatch_every_min)
    retry_every_min: int = Field(REDISPATCH_EVERY_MIN, ge=1)
    # a new ticket whose arrival its best option breaks: engineers (nearest first) asked to
    # hand their next visit to a colleague who keeps it (`optimizer.make_room`). null: each
    # ticket's promise policy says (`promise_policies.make_room_engineers`, default 3); a
    # number sets every policy's in the base world (0: never); `planning` changes go on top
    make_room_engineers: int | None = Field(None, ge=0)
    # ... and engineers (nearest first) driving to a visit asked to take it first, their
    # visit kept by them after it or by a colleague (`optimizer.divert`). null: each
    # ticket's promise policy says (`promise_policies.divert_engineers`, default 3); a
    # number sets every policy's in the base world (0: never); `planning` changes go on top
    divert_engineers: int | None = Field(None, ge=0)
    returns: Returns = Returns()
    restock: Restock = Restock()
    loaners: Loaners = Loaners()
    rush_hours: RushHours = RushHours()  # default: optimizer.GUANGDONG_RUSH_HOURS
    # changes to the base world before any variant: today's world of the question (e.g.
    # 25 % fewer engineers), so every variant, an advice's moves and the screen start there
    world_changes: tuple[Change, ...] = ()
    variants: tuple[Variant, ...] = ()
    precision: Precision | None = None  # None: exactly `replications` runs

    @model_validator(mode="after")
    def _names(self) -> Scenario:
        names = [v.name for v in self.variants]
        if "base" in names or len(names) != len(set(names)):
            raise ValueError("variants: names must be unique and not 'base'")
        if not self.policies or len(set(self.policies)) != len(self.policies):
            raise ValueError("policies: some of optimised, naive, naive_unlimited, each once")
        return self


def parse_scenario(data: object, source: str = "<scenario>") -> Scenario:
    """Validate loaded YAML/JSON data; raise ScenarioError listing every field problem."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = [
            (".".join(str(p) for p in err["loc"]) or "(file)", err["msg"]) for err in exc.errors()
        ]
        raise ScenarioError(source, problems) from None


def load_scenario(path: Path | str) -> Scenario:
    """Read a scenario file (.yaml, .yml or .json); a bundle path is made absolute."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ScenarioError(str(path), [("(file)", str(exc))]) from None
    scenario = parse_scenario(data, str(path))
    if scenario.base.path and not Path(scenario.base.path).is_absolute():
        absolute = str((path.parent / scenario.base.path).resolve())
        scenario = scenario.model_copy(
            update={"base": scenario.base.model_copy(update={"path": absolute})}
        )
    return scenario


def with_variant(scenario: Scenario, name: str, changes: object, source: str) -> Scenario:
    """The scenario plus one variant, validated like a file (field errors name `source`)."""
    data = scenario.model_dump(mode="json")
    data["variants"] = [*data["variants"], {"name": name, "changes": changes}]
    return parse_scenario(data, source)


def load_recommendation(path: Path | str, scenario: Scenario) -> Scenario:
    """Apply a `spares stock recommend --out` file's `scenario_changes` as a variant.

    The variant is named after the file (its stem, e.g. `metric-95`), so the report shows
    the recommended stock's promises and inventory value next to today's stock ("base").
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise ScenarioError(str(path), [("(file)", str(exc))]) from None
    if not isinstance(data, dict) or not isinstance(data.get("scenario_changes"), list):
        raise ScenarioError(str(path), [("scenario_changes", "missing: not a recommendation")])
    name = re.sub(r"[^A-Za-z0-9_.-]", "-", path.stem)[:40] or "recommended"
    return with_variant(scenario, name, data["scenario_changes"], str(path))
