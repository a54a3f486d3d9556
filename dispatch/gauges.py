"""What the service's state looks like right now, in numbers a monitoring system can scrape.

Read at scrape time with a handful of aggregate queries (one pass over the open tickets for
the promise clocks, through the same reading the worklist and the board use: an assigned
visit's as now expected, `clocks.clocks_as_expected`), so no counter
in a process can drift from the database and every API process reports the same figures.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.jobs import Job, JobStatus
from dispatch.clocks import clocks_as_expected
from dispatch.durations import DurationLog
from dispatch.lifecycle import OPEN_STATUSES
from dispatch.models import Contract, Plan, PromisePolicy, Site, Ticket
from dispatch.planning import PLAN_JOB
from dispatch.promises import ClockState
from dispatch.replanning import REPLAN_JOB
from inventory.models import Depot, Reservation, ReservationStatus, StockLevel

PLAN_KINDS = (PLAN_JOB, REPLAN_JOB)


@dataclass(slots=True)
class Gauges:
    """One reading; every mapping is keyed by the labels the metric carries."""

    # (clock, state) -> open tickets whose clock is in that state (at_risk, breached, ...)
    clocks: Counter[tuple[str, str]] = field(default_factory=Counter)
    # (stage, quality) -> stored plans
    plans: Counter[tuple[str, str]] = field(default_factory=Counter)
    # job kind -> seconds the last finished plan or re-plan job ran
    last_plan_seconds: dict[str, float] = field(default_factory=dict)
    # live holds (reserved and not expired), their units, and expired holds not yet swept
    reservations_live: int = 0
    reserved_units: int = 0
    reservations_expired: int = 0
    # depot kind -> stock rows with nothing available (on hand minus reserved <= 0)
    stock_outs: Counter[str] = field(default_factory=Counter)
    # depot kind -> stock rows whose on hand is at or below their reorder point (> 0)
    below_reorder: Counter[str] = field(default_factory=Counter)
    # (kind, status) -> jobs queued or running; kind -> age in seconds of the oldest queued
    jobs: Counter[tuple[str, str]] = field(default_factory=Counter)
    oldest_queued_seconds: dict[str, float] = field(default_factory=dict)


def read_gauges(session: Session, *, now: datetime, durations: DurationLog | None = None) -> Gauges:
    """Count what a dispatcher, a planner and an operator watch, as of `now` (``durations``:
    the log of finished jobs when the caller has it, read only when some visit is assigned)."""
    g = Gauges()
    _clocks(session, now, g, durations)
    _plans(session, g)
    _stock(session, now, g)
    _jobs(session, now, g)
    return g


def _clocks(session: Session, now: datetime, g: Gauges, durations: DurationLog | None) -> None:
    stmt = (
        select(Ticket, PromisePolicy.at_risk_margin_min)
        .join(Site, Site.id == Ticket.site_id)
        .join(Contract, Contract.id == Site.contract_id)
        .join(PromisePolicy, PromisePolicy.id == Contract.policy_id)
        .where(Ticket.status.in_(OPEN_STATUSES))
    )
    rows = session.execute(stmt).all()
    margins = {t.id: timedelta(minutes=m) for t, m in rows}
    tickets = [t for t, _ in rows]
    read = clocks_as_expected(session, tickets, margins, now=now, durations=durations)
    for readings in read.values():
        for reading in readings:
            if reading.state is not ClockState.VOID:
                g.clocks[(reading.clock.value, reading.state.value)] += 1


def _plans(session: Session, g: Gauges) -> None:
    stmt = select(Plan.stage, Plan.quality, func.count()).group_by(Plan.stage, Plan.quality)
    for stage, quality, n in session.execute(stmt):
        g.plans[(stage.value, quality or "none")] = n
    for kind in PLAN_KINDS:
        last = session.execute(
            select(Job.started_at, Job.finished_at)
            .where(Job.kind == kind, Job.status == JobStatus.DONE)
            .order_by(Job.finished_at.desc(), Job.id.desc())
            .limit(1)
        ).first()
        if last is not None and last.started_at is not None and last.finished_at is not None:
            g.last_plan_seconds[kind] = (last.finished_at - last.started_at).total_seconds()


def _stock(session: Session, now: datetime, g: Gauges) -> None:
    live = Reservation.status == ReservationStatus.RESERVED
    holds, units = session.execute(
        select(func.count(), func.coalesce(func.sum(Reservation.quantity), 0)).where(
            live, Reservation.expires_at > now
        )
    ).one()
    g.reservations_live, g.reserved_units = int(holds), int(units)
    g.reservations_expired = session.execute(
        select(func.count()).select_from(Reservation).where(live, Reservation.expires_at <= now)
    ).scalar_one()
    by_kind = select(Depot.kind, func.count()).select_from(StockLevel).join(Depot)
    outs = by_kind.where(StockLevel.on_hand - StockLevel.reserved <= 0).group_by(Depot.kind)
    for kind, n in session.execute(outs):
        g.stock_outs[kind.value] = n
    low = by_kind.where(
        StockLevel.reorder_point > 0, StockLevel.on_hand <= StockLevel.reorder_point
    ).group_by(Depot.kind)
    for kind, n in session.execute(low):
        g.below_reorder[kind.value] = n


def _jobs(session: Session, now: datetime, g: Gauges) -> None:
    waiting = (JobStatus.QUEUED, JobStatus.RUNNING)
    stmt = (
        select(Job.kind, Job.status, func.count(), func.min(Job.created_at))
        .where(Job.status.in_(waiting))
        .group_by(Job.kind, Job.status)
    )
    for kind, status, n, oldest in session.execute(stmt):
        g.jobs[(kind, status.value)] = n
        if status is JobStatus.QUEUED and oldest is not None:
            g.oldest_queued_seconds[kind] = max(0.0, (now - oldest).total_seconds())
