"""Advice over HTTP: an advice document in (docs/advise.md), a job's status and plan out."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from api.schemas.scenario import ReportJobRead, ScenarioRunCreate
from scenarios.advise import AdviceSpec


class AdviceRunCreate(AdviceSpec):
    """The advice file of `spares advise` as JSON, its scenario inline with a demo base.

    Over HTTP the scenario is the document itself (no file path to read) and its base a
    demo world, for the reason `ScenarioRunCreate` gives.
    """

    scenario: ScenarioRunCreate


class Interval(BaseModel):
    mean: float | None
    low: float | None = Field(description="95 % CI low end; null over one replication")
    high: float | None
    n: int = Field(description="replications")


class CostRead(BaseModel):
    """Over the scenario's horizon, in the advice's currency (decimal strings)."""

    staff: str
    overtime: str
    holding: str
    courier: str
    on_call: str = Field("0", description="standby hours x on_call_per_hour")
    callouts: str = Field("0", description="simulated call-outs at the labour rules' cost")
    unsocial: str = Field("0", description="shift hours in unsocial hours x the premium")
    total: str
    engineers: int


class FiguresRead(BaseModel):
    """One configuration measured on fresh ticket streams."""

    changes: list[dict[str, Any]] = Field(description="scenario changes (docs/scenarios.md)")
    holds: bool = Field(description="every target's CI low end >= share - tolerance")
    cost: CostRead
    attainment: dict[str, Interval | None] = Field(description="by target, 'kpi@scope'")


class TargetRead(BaseModel):
    kpi: str
    scope: str
    region: str | None = Field(description="the region the target binds in; null: all")
    share: float
    holds_today: bool
    holds_advised: bool
    bound_moves: list[str] = Field(description="the kept moves chosen while it failed")


class RegionRead(BaseModel):
    """One region: its costs, its share kept of each target clock, and what binds there."""

    region: str
    cost_today: dict[str, str | int] = Field(
        description="staff, overtime, on_call, callouts, unsocial, courier, total (decimal "
        "strings) and engineers; holding is not split (stock pools across regions)"
    )
    cost_advised: dict[str, str | int]
    attainment: dict[str, dict[str, float | None]] = Field(
        description="by target clock (kpi): the region's mean share kept, today and advised"
    )
    binds_today: list[str] = Field(
        description="targets ('kpi@scope') failing today that this region holds back"
    )
    binds_advised: list[str] = Field(description="the same with the advice")
    moves: list[str] = Field(description="the kept moves made in this region")


class StepRead(BaseModel):
    round: int
    move: str
    change: dict[str, Any]
    cost_delta: str
    binding: list[str] = Field(description="the failing targets ('kpi@scope') it was tried for")
    shortfall_before: float
    shortfall_after: float


class AdviceRunRead(ReportJobRead):
    name: str | None = Field(description="the advice document's name")
    log: list[str] | None = Field(description="what each round tried and kept (once done)")
    reached: bool | None = Field(description="the advice keeps every target (once done)")
    currency: str | None
    horizon_days: float | None
    plan: list[dict[str, Any]] | None = Field(
        description="the advised changes, as scenario changes (a variant's `changes`)"
    )
    cost_vs_today: str | None = Field(description="advised total cost less today's")
    saving_vs_uniform: str | None = Field(
        description="the advice's cost below the uniform rule's, a fraction of it"
    )
    targets: list[TargetRead] | None
    today: FiguresRead | None
    advised: FiguresRead | None
    uniform: FiguresRead | None
    steps: list[StepRead] | None
    dropped: list[str] | None = Field(description="kept moves the pruning removed again")
    regions: list[RegionRead] | None = Field(
        None, description="per region: costs, attainment, the targets that bind there"
    )

    @classmethod
    def of(cls, job: Any) -> AdviceRunRead:
        """From a `db.jobs.Job` row of kind "advice"."""
        r: dict[str, Any] = job.result or {}
        payload: dict[str, Any] = job.payload or {}
        return cls(
            **cls.job_fields(job, f"/v1/advice/runs/{job.id}"),
            name=payload.get("name"), log=r.get("log"), reached=r.get("reached"),
            currency=r.get("currency"), horizon_days=r.get("horizon_days"),
            plan=r.get("scenario_changes"), cost_vs_today=r.get("cost_vs_today"),
            saving_vs_uniform=r.get("saving_vs_uniform"), targets=r.get("targets"),
            today=r.get("today"), advised=r.get("advised"), uniform=r.get("uniform"),
            steps=r.get("steps"), dropped=r.get("dropped"), regions=r.get("regions"),
        )  # fmt: skip
