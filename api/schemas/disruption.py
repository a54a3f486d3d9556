"""Wire schemas of disruptions reported against the published plan.

The body is discriminated by ``kind``; each kind maps one to one onto a
`dispatch.disruptions` value, and the answer is `dispatch.disruptions.disruption_summary`
typed for clients. No rules live here beyond the shape of the fields.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from api.schemas.common import Id, Instant
from api.schemas.ticket import StrictModel
from dispatch.disruptions import (
    DEFAULT_ABSENCE_REASON,
    Disruption,
    EngineerAbsent,
    PartOut,
    VisitOverrun,
)
from dispatch.planning import SYNC_MAX_TIME_LIMIT_S

DEFAULT_DISRUPTION_TIME_LIMIT_S = 2.0
MAX_OVERRUN_MIN = 24 * 60


class _DisruptionBase(StrictModel):
    allow_eta_moves: bool = Field(
        False, description="let announced ETAs move beyond the policies' tolerance this once"
    )
    time_limit_s: float = Field(
        DEFAULT_DISRUPTION_TIME_LIMIT_S, ge=0, le=SYNC_MAX_TIME_LIMIT_S,
        description="wall-clock limit of the re-plan's search; 0: the first plan found",
    )  # fmt: skip


class EngineerAbsentCreate(_DisruptionBase):
    """The engineer is away from now: recorded in his calendar, his visits re-planned."""

    kind: Literal["engineer_absent"]
    engineer_id: Id
    until: Instant | None = Field(None, description="default: the 48-hour planning horizon")
    reason: str = Field(DEFAULT_ABSENCE_REASON, min_length=1, max_length=200)

    def to_disruption(self) -> Disruption:
        """The dispatch value."""
        return EngineerAbsent(self.engineer_id, self.until, self.reason)


class VisitOverrunCreate(_DisruptionBase):
    """The ticket's visit (planned or in progress) takes ``extra_min`` longer."""

    kind: Literal["visit_overrun"]
    ticket_id: Id
    extra_min: int = Field(ge=1, le=MAX_OVERRUN_MIN)

    def to_disruption(self) -> Disruption:
        """The dispatch value."""
        return VisitOverrun(self.ticket_id, self.extra_min)


class PartOutCreate(_DisruptionBase):
    """The depot has no more units of the part (stock itself is not changed here)."""

    kind: Literal["part_out"]
    depot_id: Id
    part_id: Id

    def to_disruption(self) -> Disruption:
        """The dispatch value."""
        return PartOut(self.depot_id, self.part_id)


DisruptionCreate = Annotated[
    EngineerAbsentCreate | VisitOverrunCreate | PartOutCreate, Field(discriminator="kind")
]


class DiffSummaryRead(BaseModel):
    """Counts of what the draft changes; the details are at ``GET .../plans/{id}/diff``."""

    tickets_changed: int
    moved: int = Field(description="served by another engineer")
    newly_dropped: int
    newly_served: int
    routes_changed: int
    reservations_changed: int


class AtRiskRead(BaseModel):
    """A ticket whose promise state gets worse in the draft."""

    ticket_id: int
    code: str
    severity: str
    promise_before: str | None = Field(description="kept, late, no_promise or dropped")
    promise_after: str | None
    engineer_before: int | None
    engineer_after: int | None
    affected: bool = Field(description="its own visit was released by the disruption")
    why: str


class DisruptionRead(BaseModel):
    """The draft re-plan after a disruption, and the promises it puts at risk."""

    plan_id: int = Field(description="the draft: diff it, then publish it")
    published_plan_id: int
    kind: str
    cause: str
    feasible: bool = Field(description="the validator passed: the draft can be published")
    affected: list[int] = Field(description="tickets whose announced visit was released")
    absence_id: int | None = Field(description="the engineer's recorded absence")
    unpinned: list[int] = Field(description="tickets of the absent engineer that were unpinned")
    handed_back: list[int] = Field(
        description="tickets the absent engineer had under way (en route, on site): taken "
        "back from him and re-planned in the draft"
    )
    diff: DiffSummaryRead
    at_risk: list[AtRiskRead]
