"""Scenario runs over HTTP: the scenario document in, a job's status and KPIs out."""

from __future__ import annotations

from datetime import date
from pathlib import PurePath
from typing import Any

from pydantic import BaseModel, Field, field_validator, model_validator

from api.schemas.common import Timestamp, within_years
from scenarios.spec import Scenario


class ScenarioRunCreate(Scenario):
    """The scenario document (docs/scenarios.md), with a demo base only.

    A bundle path or a database URL would let a caller make the worker read files or
    connect to servers of the caller's choosing, so over HTTP the base is a demo world.
    """

    @field_validator("start")
    @classmethod
    def _sane_start(cls, value: date) -> date:
        return within_years(value)

    @model_validator(mode="after")
    def _demo_only(self) -> ScenarioRunCreate:
        if self.base.kind != "demo":
            raise ValueError("base.kind: only 'demo' over the API (bundles: use the CLI)")
        return self


class ReportJobRead(BaseModel):
    """A job that writes a report folder on the worker (a scenario run, an advice)."""

    id: int
    status: str = Field(description="queued, running, done, failed or cancelled")
    progress: float
    attempts: int
    cancel_requested: bool
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    error: str | None
    report: str | None = Field(
        description="the report folder's name on the worker (never a path of the server)"
    )
    charts: list[str] = Field(description="chart file names in the report folder")
    chart_urls: list[str] = Field(description="each chart as a PNG served by this API")
    url: str

    @staticmethod
    def job_fields(job: Any, url: str) -> dict[str, Any]:
        """The fields every report job answers, from a `db.jobs.Job` row and its URL."""
        result: dict[str, Any] = job.result or {}
        charts = [f for f in result.get("files", []) if f.endswith(".png")]
        folder = result.get("report")
        return {
            "id": job.id, "status": str(job.status), "progress": job.progress,
            "attempts": job.attempts, "cancel_requested": job.cancel_requested,
            "created_at": job.created_at, "started_at": job.started_at,
            "finished_at": job.finished_at, "error": job.error,
            "report": None if folder is None else PurePath(folder).name, "charts": charts,
            "chart_urls": [f"{url}/charts/{name}" for name in charts], "url": url,
        }  # fmt: skip


class ScenarioRunRead(ReportJobRead):
    partial: bool | None = Field(description="an interrupted run's KPIs (once done)")
    kpis: list[dict[str, Any]] | None = Field(description="docs/scenarios.md, once done")
    precision: str | None = Field(
        default=None,
        description="with `precision:` in the document: how precise the headline KPIs ended",
    )

    @classmethod
    def of(cls, job: Any) -> ScenarioRunRead:
        """From a `db.jobs.Job` row of kind "scenario"."""
        result: dict[str, Any] = job.result or {}
        return cls(
            **cls.job_fields(job, f"/v1/scenarios/runs/{job.id}"),
            partial=result.get("partial"), kpis=result.get("kpis"),
            precision=result.get("precision"),
        )  # fmt: skip


class ExampleRead(BaseModel):
    file: str
    name: str
    description: str
    document: dict[str, Any] = Field(description="what POST /v1/scenarios/runs takes")
