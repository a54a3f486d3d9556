"""Prometheus metrics: request latency per route template and status, and the domain's gauges.

prometheus-client (the reference client) with one registry per app, so apps built side by
side (tests) never share series. Latency is observed by the operational layer
(api.operations); the domain figures (`dispatch.gauges`) are read from the database when
Prometheus scrapes, so every API process reports the same numbers and nothing is counted
twice. Who may scrape is a setting: `SPARES_METRICS_PUBLIC` (default off: an admin or
planner key in `X-API-Key`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Scope

from api.deps import public, requires
from api.logs import route_template
from api.settings import Settings
from db.identity import Role
from dispatch.gauges import Gauges, read_gauges

logger = logging.getLogger(__name__)

METRICS_PATH = "/metrics"
METRICS_READERS = (Role.ADMIN, Role.PLANNER)
UNMATCHED = "unmatched"  # 404s and refused requests: one series, not one per made-up path
_CHILDREN_KEPT = 1024


class Latency:
    """Observes each HTTP request's duration by method, route and status (api.operations
    calls `observe` once per request, whatever answered it)."""

    def __init__(self, histogram: Histogram) -> None:
        self.histogram = histogram
        # Each series' child, found once: `labels()` checks and locks on every call.
        self.children: dict[tuple[str, str, str], Any] = {}

    def observe(self, scope: Scope, status: int, started: float) -> None:
        key = (scope["method"], route_template(scope) or UNMATCHED, str(status))
        child = self.children.get(key)
        if child is None:
            child = self.histogram.labels(*key)
            if len(self.children) < _CHILDREN_KEPT:  # made-up methods: not all kept
                self.children[key] = child
        child.observe(time.perf_counter() - started)


class DomainCollector(Collector):
    """Reads `dispatch.gauges` at scrape time through the app's session factory."""

    def __init__(self, app: FastAPI, clock: Callable[[], datetime]) -> None:
        self.app = app
        self.clock = clock

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "spares_domain_metrics_up", "1 when the domain figures below could be read"
        )
        factory: sessionmaker[Session] | None = getattr(self.app.state, "sessionmaker", None)
        if factory is None:
            up.add_metric([], 0)
            yield up
            return
        try:
            with factory() as session:
                gauges = read_gauges(session, now=self.clock())
        except SQLAlchemyError:
            logger.warning("domain metrics unreadable: the database does not answer")
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _families(gauges)


def _families(g: Gauges) -> Iterator[Metric]:
    clocks = GaugeMetricFamily(
        "spares_open_ticket_clocks",
        "open tickets by promise clock and its state (on_time, at_risk, breached, met, missed)",
        labels=["clock", "state"],
    )
    for (clock, state), n in sorted(g.clocks.items()):
        clocks.add_metric([clock, state], n)
    yield clocks
    plans = GaugeMetricFamily(
        "spares_plans",
        "stored route plans by stage and solver quality",
        labels=["stage", "quality"],
    )
    for (stage, quality), n in sorted(g.plans.items()):
        plans.add_metric([stage, quality], n)
    yield plans
    run = GaugeMetricFamily(
        "spares_plan_last_run_seconds",
        "how long the last finished plan or re-plan job ran",
        labels=["kind"],
    )
    for kind, seconds in sorted(g.last_plan_seconds.items()):
        run.add_metric([kind], seconds)
    yield run
    yield GaugeMetricFamily(
        "spares_reservations_live",
        "stock holds reserved and not expired",
        value=g.reservations_live,
    )
    yield GaugeMetricFamily(
        "spares_reserved_units", "units held by live reservations", value=g.reserved_units
    )
    yield GaugeMetricFamily(
        "spares_reservations_expired_unswept",
        "holds past their expiry that the worker's sweeper has not released yet",
        value=g.reservations_expired,
    )
    for name, doc, counts in (
        ("spares_stock_outs", "stock rows with nothing available, by depot kind", g.stock_outs),
        (
            "spares_stock_below_reorder_point",
            "stock rows at or below their reorder point, by depot kind",
            g.below_reorder,
        ),
    ):
        family = GaugeMetricFamily(name, doc, labels=["depot_kind"])
        for kind, n in sorted(counts.items()):
            family.add_metric([kind], n)
        yield family
    jobs = GaugeMetricFamily(
        "spares_jobs", "background jobs waiting or running, by kind", labels=["kind", "status"]
    )
    for (kind, status), n in sorted(g.jobs.items()):
        jobs.add_metric([kind, status], n)
    yield jobs
    age = GaugeMetricFamily(
        "spares_job_oldest_queued_seconds", "age of the oldest queued job, by kind", labels=["kind"]
    )
    for kind, seconds in sorted(g.oldest_queued_seconds.items()):
        age.add_metric([kind], seconds)
    yield age


def install_metrics(app: FastAPI, settings: Settings) -> Latency:
    """A registry for this app and the `/metrics` route; the request latency's observer."""
    registry = CollectorRegistry()
    histogram = Histogram(
        "spares_http_request_duration_seconds",
        "HTTP request duration by method, route template and status",
        ["method", "route", "status"],
        registry=registry,
    )

    def now() -> datetime:  # the app's clock, which tests replace (as `api.deps.get_now`)
        clock: Callable[[], datetime] | None = getattr(app.state, "clock", None)
        return clock() if clock is not None else datetime.now(UTC)

    registry.register(DomainCollector(app, now))
    app.state.metrics_registry = registry
    access = public() if settings.metrics_public else requires(*METRICS_READERS)
    router = APIRouter(tags=["health"])

    @router.get(METRICS_PATH, dependencies=[access], response_class=Response)
    def metrics(request: Request) -> Response:
        """Prometheus text exposition: request latency and the domain's gauges."""
        scraped: CollectorRegistry = request.app.state.metrics_registry
        return Response(generate_latest(scraped), media_type=CONTENT_TYPE_LATEST)

    app.include_router(router)
    return Latency(histogram)
