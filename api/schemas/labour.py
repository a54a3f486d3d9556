"""Wire schemas of labour rules and clock penalties (admin): ranges match the service's."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field

from api.schemas.admin import Code32, MoneyIn, Name200, WriteModel
from api.schemas.common import Id, Money, ReadModel
from dispatch.labour import LabourRules
from dispatch.masterdata.labour import PCT_MAX, RANK_MAX
from dispatch.penalties import CLOCKS, clock_penalties

DayMinutes = Annotated[int, Field(ge=0, le=1_440)]
WeekMinutes = Annotated[int, Field(ge=0, le=10_080)]
Rank = Annotated[int, Field(ge=0, le=RANK_MAX, description="1 = urgent only; 0 = never")]
Pct = Annotated[int, Field(ge=0, le=PCT_MAX)]


class LabourRuleUpdate(WriteModel):
    """Fields to change; `region_id: null` makes it a group's rule (engineers point at it)."""

    NULLABLE = frozenset({"region_id"})

    code: Code32 | None = None
    name: Name200 | None = None
    region_id: Id | None = Field(None, description="the region it rules; null: a group's rule")
    overtime_max_min: DayMinutes | None = Field(
        None, description="how long a visit may run past the end of its shift"
    )
    start_into_overtime: bool | None = Field(
        None, description="a visit may be planned although it ends in overtime"
    )
    overtime_day_max_min: DayMinutes | None = Field(None, description="overtime cap per day")
    overtime_week_max_min: WeekMinutes | None = Field(None, description="overtime cap per week")
    overtime_cost_per_hour: MoneyIn | None = None
    callout_cost: MoneyIn | None = Field(None, description="waking an on-call engineer")
    callout_max_rank: Rank | None = Field(
        None, description="severities of this rank or more severe may wake an on-call engineer"
    )
    callout_lead_min: DayMinutes | None = Field(
        None, description="from the call to the on-call engineer's departure"
    )


class LabourRuleCreate(LabourRuleUpdate):
    """A new rule; numbers left out take the documented defaults."""

    code: Code32
    name: Name200


class LabourRulesRead(ReadModel):
    """The numbers of a set of labour rules."""

    overtime_max_min: int
    start_into_overtime: bool
    overtime_day_max_min: int
    overtime_week_max_min: int
    overtime_cost_per_hour: Money
    callout_cost: Money
    callout_max_rank: int
    callout_lead_min: int

    @classmethod
    def of(cls, rules: LabourRules) -> LabourRulesRead:
        return cls.model_validate(rules)


class LabourRuleRead(LabourRulesRead):
    id: int
    code: str
    name: str
    region_id: int | None


class SeverityPenaltiesPut(WriteModel):
    """A severity's penalty per clock (contract currency); a clock left out or null takes
    the documented default of the severity's rank."""

    NULLABLE = frozenset(CLOCKS)

    respond: MoneyIn | None = None
    depart: MoneyIn | None = None
    arrive: MoneyIn | None = None
    fix: MoneyIn | None = None
    swap: MoneyIn | None = Field(None, description="a part in stock swapped within the promise")
    ship: MoneyIn | None = Field(None, description="a part not in stock shipped in time")

    def amounts(self) -> dict[str, Any]:
        """Every clock: the amount sent, or None (the rank's default)."""
        return {clock: getattr(self, clock) for clock in CLOCKS}


class PenaltySharesPatch(WriteModel):
    late_penalty_pct_per_hour: Pct | None = Field(
        None, description="% of a broken clock's penalty added per hour late"
    )
    at_risk_penalty_pct: Pct | None = Field(
        None, description="% of the penalty a clock kept with less than the margin costs"
    )


class SeverityPenaltiesRead(BaseModel):
    code: str
    rank: int
    respond: Money
    depart: Money
    arrive: Money
    fix: Money
    swap: Money
    ship: Money
    defaults: list[str] = Field(description="clocks priced at the documented default of the rank")


class ClockPenaltiesRead(BaseModel):
    """What breaking each clock of each severity costs under a policy."""

    policy_id: int
    currency: str
    late_penalty_pct_per_hour: int
    at_risk_penalty_pct: int
    at_risk_margin_min: int
    severities: list[SeverityPenaltiesRead]

    @classmethod
    def of(cls, policy: Any) -> ClockPenaltiesRead:
        levels = []
        for s in sorted(policy.severities, key=lambda level: level.rank):
            fen = clock_penalties(s, policy)
            levels.append(
                SeverityPenaltiesRead(
                    code=s.code,
                    rank=s.rank,
                    **{c: Decimal(getattr(fen, c)) / 100 for c in CLOCKS},
                    defaults=[c for c in CLOCKS if getattr(s, f"{c}_penalty") is None],
                )  # fmt: skip
            )
        return cls(
            policy_id=policy.id, currency=policy.currency,
            late_penalty_pct_per_hour=policy.late_penalty_pct_per_hour,
            at_risk_penalty_pct=policy.at_risk_penalty_pct,
            at_risk_margin_min=policy.at_risk_margin_min, severities=levels,
        )  # fmt: skip
