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


class LevelRead(ReadModel):
    depot: str
    part: str
    current: int
    recommended: int
    delta: int
    unit_cost: str
    value: str


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
    reached: bool
    achieved: float
    value_today: str
    value_recommended: str
    fill_rate_today: float
    fill_rate_recommended: float
    attainment_today: dict[str, float]
    attainment_recommended: dict[str, float]
    levels: list[LevelRead]
    curve: list[CurvePointRead]
    scenario_changes: list[StockLevelChange]

    @classmethod
    def of(cls, found: StockRecommendation) -> RecommendationRead:
        return cls.model_validate(found.to_dict())
