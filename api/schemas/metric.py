"""Wire shapes of stock recommendations (POST /v1/stock/recommendations); money as strings."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.common import ReadModel
from inventory.stock_recommend import StockRecommendation


class RecommendationCreate(BaseModel):
    """What to reach: a target on a metric, for the whole network or one region's depots."""

    model_config = ConfigDict(extra="forbid")

    target: float = Field(gt=0, lt=1, description="e.g. 0.95; strictly between 0 and 1")
    metric: Literal["fill-rate", "swap-2h"] = Field(
        "fill-rate",
        description="fill-rate: all demand met from a shelf at once; swap-2h: each depot's "
        "own demand met from its own shelf (the in-stock 2-hour swap)",
    )
    region: str | None = Field(None, min_length=1, max_length=32, description="region code")
    central_fill: float | None = Field(
        None,
        gt=0,
        lt=1,
        description="the central warehouse keeps the base stock of the demand it pools "
        "(resupplies, regional misses, its own customers) at this fill rate; default: target",
    )


class CutRead(ReadModel):
    """What cutting this row below today costs, every other row as today."""

    frees: str = Field(description="money taken off the shelves, in the answer's currency")
    backorders_added: float = Field(description="expected backorders at any moment, network")
    measure: Literal["swap-2h", "ship-8h"] = Field(
        description="swap-2h: the regional depot's attainment (all its parts); ship-8h: the "
        "central warehouse's share of requests for this part it ships at once"
    )
    today: float
    after: float


class LevelRead(ReadModel):
    depot: str
    part: str
    current: int
    recommended: int
    delta: int
    unit_cost: str
    value: str
    cut: CutRead | None = Field(None, description="set when recommended is below current")


class CurvePointRead(ReadModel):
    units: int
    value: str
    metric: float
    backorders: float


class StockLevelChange(ReadModel):
    """A scenario change (scenarios/spec.py `stock_level`) that applies one level."""

    kind: Literal["stock_level"]
    depot: str
    part: str
    quantity: int


class RecommendationRead(ReadModel):
    target: float
    metric: str
    currency: str = Field(description="of every value")
    history_days: float | None = Field(description="days of stock records behind the rates")
    history_short: bool = Field(
        description="fewer days than a recommendation needs: the rates lean on the installed base"
    )
    uses_recorded: int | None = Field(
        None, description="units used in the window; 0: every rate is the installed base's prior"
    )
    reached: bool
    achieved: float
    value_today: str
    value_recommended: str
    fill_rate_today: float
    fill_rate_recommended: float
    backorders_today: float | None = None
    backorders_recommended: float | None = None
    ship_8h_today: float | None = Field(None, description="the central warehouse's ship-8h")
    ship_8h_recommended: float | None = None
    central_fill: float | None = Field(None, description="the pooling floor's fill rate")
    central_floor: dict[str, int] | None = Field(
        None, description="units per SKU the central warehouse keeps for pooling"
    )
    attainment_today: dict[str, float]
    attainment_recommended: dict[str, float]
    levels: list[LevelRead]
    curve: list[CurvePointRead]
    scenario_changes: list[StockLevelChange]

    @classmethod
    def of(cls, found: StockRecommendation) -> RecommendationRead:
        return cls.model_validate(found.to_dict())
