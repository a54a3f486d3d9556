"""Wire schemas of route plans and background jobs.

A plan is stored as the solver's JSON (ISO timestamps with offset, minutes, km); these
models type it for clients and the OpenAPI document, and never add rules of their own.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, model_validator

from api.schemas.common import Id, Instant, Timestamp
from api.schemas.ticket import StrictModel
from dispatch.planning import (
    DEFAULT_TIME_LIMIT_S,
    MAX_TICKETS,
    MAX_TIME_LIMIT_S,
    SYNC_MAX_TICKETS,
    SYNC_MAX_TIME_LIMIT_S,
    PlanRequest,
)
from dispatch.replanning import MAX_CHANGE_BUDGET


class PlanCreate(StrictModel):
    __doc__ = (
        "What to plan: a region's open tickets or a list of tickets. Answered at once (201)"
        f" for at most {SYNC_MAX_TICKETS} tickets and a time limit of at most"
        f" {SYNC_MAX_TIME_LIMIT_S:g} s; otherwise 202 with a job to poll."
    )

    region_id: Id | None = Field(None, description="plan the region's open tickets")
    ticket_ids: list[Id] | None = Field(None, max_length=MAX_TICKETS, description="or these")
    as_of: Instant | None = Field(None, description="plan as of this time (default: now)")
    time_limit_s: float = Field(
        DEFAULT_TIME_LIMIT_S, ge=0, le=MAX_TIME_LIMIT_S,
        description="wall-clock limit of the search; 0: the greedy plan only",
    )  # fmt: skip
    solution_limit: int | None = Field(None, ge=1, le=100_000)
    failure_limit: int | None = Field(
        None, ge=1, le=1_000_000,
        description="stop after this many rejected moves instead of the wall clock"
        " (deterministic: the same request gives the same plan)",
    )  # fmt: skip
    seed: int = Field(0, ge=0, le=2**31 - 1)
    overtime_min: int | None = Field(
        None, ge=0, le=480,
        description="every engineer may work this long past a shift's end (a what-if);"
        " default: each engineer's labour rules",
    )  # fmt: skip

    @model_validator(mode="after")
    def _one_selection(self) -> PlanCreate:
        if (self.region_id is None) == (self.ticket_ids is None):
            raise ValueError("give either region_id or ticket_ids")
        return self

    def to_request(self) -> PlanRequest:
        deterministic = self.failure_limit is not None
        return PlanRequest(
            region_id=self.region_id,
            ticket_ids=None if self.ticket_ids is None else tuple(self.ticket_ids),
            as_of=self.as_of, time_limit_s=None if deterministic else self.time_limit_s,
            solution_limit=self.solution_limit, failure_limit=self.failure_limit,
            seed=self.seed, overtime_min=self.overtime_min,
        )  # fmt: skip


class PartUseRead(BaseModel):
    line_part_id: int
    part_id: int
    qty: int


class ShippedRead(BaseModel):
    parts: list[PartUseRead]
    depot_id: int | None
    supplier_id: int | None
    ships_at: Timestamp
    arrives_at: Timestamp


class StopRead(BaseModel):
    kind: str = Field(description="visit or pickup")
    ticket_id: int
    lat: float
    lon: float
    arrives_at: Timestamp
    starts_at: Timestamp
    departs_at: Timestamp
    depot_id: int | None
    parts: list[PartUseRead]
    shipped: list[ShippedRead]
    arrival_late_min: float | None = Field(description="0: kept; null: no such promise")
    fix_late_min: float | None
    load: int


class RouteRead(BaseModel):
    engineer_id: int
    departs_at: Timestamp
    returns_at: Timestamp
    travel_min: float
    distance_km: float
    overtime_min: float
    cost_minor: int
    stops: list[StopRead]


class DroppedRead(BaseModel):
    ticket_id: int
    reason: str = Field(description="no_qualified_engineer, deadline_out_of_reach, no_stock...")
    detail: str
    best_arrival: str | None
    deadline: str | None
    lead_min: float | None


class CalloutRead(BaseModel):
    """An on-call engineer woken for one ticket (not routed): his visit and what it costs."""

    ticket_id: int
    engineer_id: int
    departs_at: Timestamp
    arrives_at: Timestamp
    fixes_at: Timestamp
    travel_min: float
    distance_km: float
    overtime_min: float = Field(description="every hour of a call-out is overtime")
    callout_cost_minor: int = Field(description="his labour rules' call-out cost (fen)")
    cost_minor: int = Field(description="penalties, travel, overtime and the call-out (fen)")
    keeps_all_promises: bool
    parts: dict[str, Any]


class PromiseTallyRead(BaseModel):
    severity_rank: int = Field(description="0 is the most severe")
    kept: int
    total: int


class KpisRead(BaseModel):
    served: int
    dropped: int
    promises_kept: int
    promises: list[PromiseTallyRead]
    travel_min: float
    distance_km: float
    overtime_min: float
    lateness_min: float
    cost_minor: int


class PlanRead(BaseModel):
    id: int
    region_id: int | None
    stage: str
    as_of: Timestamp
    created_at: Timestamp
    job_id: int | None
    ticket_ids: list[int]
    quality: str | None = Field(
        description="optimal, improved, time_limited, fallback or nothing_placed (none routed)"
    )
    feasible: bool = Field(description="the independent validator found nothing wrong")
    violations: list[str]
    routes: list[RouteRead]
    dropped: list[DroppedRead]
    callouts: list[CalloutRead] = Field(
        default_factory=list, description="tickets an on-call engineer is woken for"
    )
    kpis: KpisRead
    params: dict[str, Any]
    stats: dict[str, Any]
    geojson: str = Field(description="the same plan as GeoJSON")

    @classmethod
    def of(cls, plan: Any) -> PlanRead:
        """From a `dispatch.models.Plan` row."""
        r = plan.result or {}
        return cls(
            id=plan.id, region_id=plan.region_id, stage=str(plan.stage), as_of=plan.as_of,
            created_at=plan.created_at, job_id=plan.job_id, ticket_ids=plan.ticket_ids,
            quality=plan.quality, feasible=r["feasible"], violations=r["violations"],
            routes=r["routes"], dropped=r["dropped"], callouts=r.get("callouts", []),
            kpis=r["kpis"], params=plan.params,
            stats=r["stats"], geojson=f"/v1/dispatch/plans/{plan.id}.geojson",
        )  # fmt: skip


class JobRead(BaseModel):
    id: int
    kind: str
    status: str = Field(description="queued, running, done, failed or cancelled")
    progress: float
    attempts: int
    cancel_requested: bool
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    error: str | None
    result: dict[str, Any] | None
    result_url: str | None = Field(description="where the job's product is, once done")
    url: str

    @classmethod
    def of(cls, job: Any) -> JobRead:
        """From a `db.jobs.Job` row."""
        result = job.result
        link = None
        if result is not None and "plan_id" in result:
            link = f"/v1/dispatch/plans/{result['plan_id']}"
        return cls(
            id=job.id, kind=job.kind, status=str(job.status), progress=job.progress,
            attempts=job.attempts, cancel_requested=job.cancel_requested,
            created_at=job.created_at, started_at=job.started_at,
            finished_at=job.finished_at, error=job.error, result=result, result_url=link,
            url=f"/v1/jobs/{job.id}",
        )  # fmt: skip


class InsertCreate(StrictModel):
    """An urgent ticket to insert into the published plan at once (a new draft)."""

    ticket_id: Id
    change_budget: int = Field(
        0, ge=0, le=MAX_CHANGE_BUDGET,
        description="how many announced visits may change engineer to make room",
    )  # fmt: skip
    allow_eta_moves: bool = Field(
        False, description="announced ETAs may move beyond the contracts' tolerance"
    )


class VisitChangeRead(BaseModel):
    ticket_id: int
    engineer_before: int
    engineer_after: int | None = Field(description="null: no longer served in the draft")
    moved: bool = Field(description="reassigned to another engineer")
    deferred: bool = Field(
        description="taken out of the draft to make room for more urgent work; the background "
        "re-plan places it again"
    )
    eta_before: Timestamp
    eta_after: Timestamp | None
    eta_delta_min: float | None


class InsertRead(BaseModel):
    """The draft made by the insertion, what it changes, and the queued improvement."""

    plan_id: int
    ticket_id: int
    promise: str = Field(description="kept, late, no_promise or dropped")
    engineer_id: int | None
    eta: Timestamp | None = Field(description="when the inserted visit starts")
    moved: int = Field(
        description="announced visits that change engineer or are deferred (what the change "
        "budget counts)"
    )
    feasible: bool
    changes: list[VisitChangeRead]
    job_id: int | None = Field(description='the background "replan" job, if one was queued')
