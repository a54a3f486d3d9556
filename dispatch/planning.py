"""Whole-region route planning: open tickets -> snapshot -> `optimizer.plan` -> a stored draft.

A request names a region (its open tickets) or a list of tickets, and the solver's limits.
Small requests are planned at once; larger ones become a background job of kind "plan"
that `spares worker` runs (`run_plan_job`). The threshold is `SYNC_MAX_TICKETS` tickets and
a time limit of at most `SYNC_MAX_TIME_LIMIT_S` seconds: beyond either, an HTTP request
would wait too long, so it gets a job to poll.

Planning is split in three steps so that the caller can keep the long solve out of any
write transaction: `prepare_plan` (validate, choose the tickets), `compute_plan` (reads
and solves) and `store_plan` (one insert, flush only).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from db.jobs import Job, JobCancelledError, JobContext, enqueue
from db.transactions import run_in_transaction
from dispatch.errors import InvalidPlanRequest, NotFoundError
from dispatch.models import Assignment, AssignmentStatus, Plan, PlanStage, Site, Ticket
from dispatch.models import TicketStatus as S
from dispatch.request_defaults import DEFAULT_TIME_LIMIT_S as DEFAULT_TIME_LIMIT_S
from dispatch.snapshot import Snapshot, job_for, load_snapshot
from inventory.models import Region

SYNC_MAX_TICKETS = 60  # at most this many tickets ...
SYNC_MAX_TIME_LIMIT_S = 5.0  # ... and at most this time limit: answered at once
MAX_TIME_LIMIT_S = 120.0  # the longest search a request may ask for
MAX_TICKETS = 2_000
PLAN_JOB = "plan"
# Tickets a plan may (re)place: not yet started. An assigned one stays out when pinned.
PLANNABLE = frozenset({S.NEW, S.RESPONDED, S.ASSIGNED})


@dataclass(frozen=True, slots=True)
class PlanRequest:
    """What to plan (a region's open tickets, or a list) and how long to search.

    ``failure_limit`` without ``time_limit_s`` (None) stops the search deterministically
    (tests, reproducible runs); ``time_limit_s=0`` returns the greedy plan.
    """

    region_id: int | None = None
    ticket_ids: tuple[int, ...] | None = None
    as_of: datetime | None = None
    time_limit_s: float | None = DEFAULT_TIME_LIMIT_S
    solution_limit: int | None = None
    failure_limit: int | None = None
    seed: int = 0
    overtime_min: int | None = None  # a what-if for every engineer; None: his labour rules

    def params(self) -> opt.PlanParams:
        """The solver's parameters; a bad combination is an `InvalidPlanRequest`."""
        limit = None if self.time_limit_s is None else round(self.time_limit_s * 1_000)
        try:
            return opt.PlanParams(
                time_limit_ms=limit, solution_limit=self.solution_limit,
                failure_limit=self.failure_limit, seed=self.seed,
                overtime_s=None if self.overtime_min is None else self.overtime_min * 60,
            )  # fmt: skip
        except ValueError as exc:
            name, _, reason = str(exc).partition(": ")
            raise InvalidPlanRequest(name, reason or str(exc)) from exc

    def to_payload(self) -> dict[str, Any]:
        """JSON for a job's payload."""
        out = asdict(self)
        out["ticket_ids"] = None if self.ticket_ids is None else list(self.ticket_ids)
        out["as_of"] = None if self.as_of is None else self.as_of.isoformat()
        return out

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> PlanRequest:
        """Back from a job's payload."""
        data = dict(payload)
        ids, as_of = data.pop("ticket_ids", None), data.pop("as_of", None)
        return cls(
            ticket_ids=None if ids is None else tuple(ids),
            as_of=None if as_of is None else datetime.fromisoformat(as_of),
            **data,
        )


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated request: the tickets it covers and whether to answer at once."""

    request: PlanRequest
    region_id: int | None
    ticket_ids: tuple[int, ...]
    run_now: bool


@dataclass(frozen=True, eq=False)
class Computed:
    """A solved plan with the snapshot and tickets it was solved on."""

    prepared: Prepared
    as_of: datetime
    plan: opt.Plan
    snapshot: Snapshot
    tickets: tuple[opt.Ticket, ...]
    codes: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (code, severity)


def find_region(session: Session, code: str) -> int:
    """The id of the region with this code, or `InvalidPlanRequest`."""
    region_id = session.scalar(select(Region.id).where(Region.code == code))
    if region_id is None:
        raise InvalidPlanRequest("region", f"no region has the code {code!r}")
    return region_id


def prepare_plan(session: Session, request: PlanRequest, *, strict: bool = True) -> Prepared:
    """Check the request and choose its tickets; `strict=False` skips tickets closed since."""
    request.params()  # the limits make sense together
    limit = request.time_limit_s
    if limit is not None and not 0 <= limit <= MAX_TIME_LIMIT_S:
        raise InvalidPlanRequest("time_limit_s", f"must be within 0..{MAX_TIME_LIMIT_S:g} s")
    if (request.region_id is None) == (request.ticket_ids is None):
        raise InvalidPlanRequest("region_id", "give either a region or a list of tickets")
    if request.region_id is not None:
        if session.get(Region, request.region_id) is None:
            raise InvalidPlanRequest("region_id", f"region {request.region_id} does not exist")
        ids = _open_tickets(session, request.region_id)
    else:
        ids = _listed_tickets(session, request.ticket_ids or (), strict=strict)
    if len(ids) > MAX_TICKETS:
        raise InvalidPlanRequest("ticket_ids", f"at most {MAX_TICKETS} tickets per plan")
    small = len(ids) <= SYNC_MAX_TICKETS and (limit or 0) <= SYNC_MAX_TIME_LIMIT_S
    return Prepared(request, request.region_id, ids, run_now=small)


def _unpinned_assigned() -> Any:
    pinned = select(Assignment.ticket_id).where(
        Assignment.status == AssignmentStatus.ACTIVE, Assignment.pinned.is_(True)
    )
    return Ticket.status.in_([S.NEW, S.RESPONDED]) | (
        (Ticket.status == S.ASSIGNED) & Ticket.id.not_in(pinned)
    )


def _open_tickets(session: Session, region_id: int) -> tuple[int, ...]:
    stmt = (
        select(Ticket.id)
        .join(Site, Site.id == Ticket.site_id)
        .where(Site.region_id == region_id, _unpinned_assigned())
        .order_by(Ticket.id)
    )
    return tuple(session.scalars(stmt))


def _listed_tickets(session: Session, ids: tuple[int, ...], *, strict: bool) -> tuple[int, ...]:
    if not ids:
        raise InvalidPlanRequest("ticket_ids", "give at least one ticket")
    unique = sorted(set(ids))
    known = set(session.scalars(select(Ticket.id).where(Ticket.id.in_(unique))))
    missing = [i for i in unique if i not in known]
    if missing:
        raise InvalidPlanRequest("ticket_ids", "these tickets do not exist", missing)
    plannable = set(
        session.scalars(select(Ticket.id).where(Ticket.id.in_(unique), _unpinned_assigned()))
    )
    closed = [i for i in unique if i not in plannable]
    if closed and strict:
        reason = "these tickets are not open and waiting (new, responded, assigned unpinned)"
        raise InvalidPlanRequest("ticket_ids", reason, closed)
    return tuple(i for i in unique if i in plannable)


def compute_plan(
    session: Session, prepared: Prepared, *, now: datetime, travel: opt.TravelTimes
) -> Computed:
    """Read the world at `now` (or the request's as_of) and solve; nothing is written."""
    as_of = prepared.request.as_of or now
    ids = prepared.ticket_ids
    rows = session.execute(
        select(Ticket.id, Ticket.code, Ticket.severity, Site.region_id)
        .join(Site, Site.id == Ticket.site_id)
        .where(Ticket.id.in_(ids))
    ).all()
    regions = {r.region_id for r in rows}
    if prepared.region_id is not None:
        regions.add(prepared.region_id)
    snap = load_snapshot(session, now=as_of, region_ids=regions, pinned_only=True)
    tickets = tuple(job_for(session, snap, i) for i in ids)
    params = prepared.request.params()
    solved = opt.plan(snap.world, tickets, now=snap.offset(as_of), travel=travel, params=params)
    codes = {r.id: (r.code, r.severity) for r in rows}
    return Computed(prepared, as_of, solved, snap, tickets, codes)


def store_plan(
    session: Session, computed: Computed, *, user_id: int | None, job_id: int | None,
    now: datetime,
) -> Plan:  # fmt: skip
    """Store the plan as a draft: the solver's result (violations included) and its context."""
    prepared, solved = computed.prepared, computed.plan
    params = prepared.request.to_payload() | {"solver": asdict(prepared.request.params())}
    row = Plan(
        region_id=prepared.region_id, stage=PlanStage.DRAFT, as_of=computed.as_of,
        ticket_ids=list(prepared.ticket_ids), params=params,
        result=solved.to_dict() | _context(computed), quality=solved.quality.value,
        job_id=job_id, created_at=now, created_by_id=user_id,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


def _context(computed: Computed) -> dict[str, Any]:
    """What a map or a summary needs beyond the solver's dict: where routes start and end,
    where each ticket is (dropped ones too), names and codes."""
    snap = computed.snapshot
    by_id = {e.id: e for e in snap.world.engineers}
    engineers = []
    for route in computed.plan.routes:
        e = by_id[route.engineer_id]
        start = e.busy_location if e.busy_until is not None and e.busy_location else e.location
        end = e.home or e.location
        if route.fills_gap and e.gap is not None:  # before a committed visit, back to its site
            start, end = e.gap.origin or e.location, e.gap.back_to
        engineers.append({
            "id": e.id, "name": snap.engineer_names.get(e.id, ""),
            "start": {"lat": start.lat, "lon": start.lon},
            "end": {"lat": end.lat, "lon": end.lon},
        })  # fmt: skip
    tickets = [
        {
            "id": t.id,
            "code": computed.codes.get(t.id, ("", ""))[0],
            "severity": computed.codes.get(t.id, ("", ""))[1],
            "severity_rank": t.severity_rank,
            "site_id": t.site_id,
            "lat": t.site.lat,
            "lon": t.site.lon,
        }  # fmt: skip
        for t in computed.tickets
    ]
    # visits after another job with less slack than their policy wants (an overrun before
    # them would break a promise): said, not refused
    slack = opt.short_of_slack(snap.world, computed.tickets, computed.plan)
    return {"engineers": engineers, "tickets": tickets, "short_of_slack": slack}


def plan_region(
    session: Session, *, request: PlanRequest, now: datetime, travel: opt.TravelTimes,
    user_id: int | None = None,
) -> Plan:  # fmt: skip
    """Prepare, solve and store in one go (the caller's transaction; the CLI, tests)."""
    prepared = prepare_plan(session, request)
    computed = compute_plan(session, prepared, now=now, travel=travel)
    return store_plan(session, computed, user_id=user_id, job_id=None, now=now)


def enqueue_plan(
    session: Session, prepared: Prepared, *, user_id: int | None, now: datetime
) -> Job:
    """Queue the plan as a background job (`spares worker` runs `run_plan_job`)."""
    request = prepared.request
    if request.region_id is None:  # plan exactly the tickets that were checked
        request = PlanRequest(**(asdict(request) | {"ticket_ids": prepared.ticket_ids}))
    return enqueue(session, kind=PLAN_JOB, payload=request.to_payload(), user_id=user_id, now=now)


def plan_of_job(session: Session, job_id: int) -> Plan | None:
    """The draft a job stored already, if any.

    A worker killed after storing the draft but before recording the job done leaves the
    job to be claimed again; the next attempt returns this draft instead of a second one.
    """
    return session.scalars(select(Plan).where(Plan.job_id == job_id).limit(1)).first()


def job_result(plan: Plan) -> dict[str, Any]:
    """What a plan or re-plan job records as its result: the draft and its quality."""
    return {"plan_id": plan.id, "quality": plan.quality}


def run_plan_job(ctx: JobContext, *, travel: opt.TravelTimes) -> dict[str, Any]:
    """The "plan" job handler: solve outside any write transaction, then store the draft."""
    request = PlanRequest.from_payload(ctx.payload)
    with ctx.factory() as session:
        if (earlier := plan_of_job(session, ctx.job_id)) is not None:
            return job_result(earlier)
        prepared = prepare_plan(session, request, strict=False)
        ctx.progress(0.05)
        computed = compute_plan(session, prepared, now=ctx.clock(), travel=travel)
    if ctx.cancelled():
        raise JobCancelledError(ctx.job_id)
    ctx.progress(0.95)

    def store(session: Session) -> int:
        if (earlier := plan_of_job(session, ctx.job_id)) is not None:  # a taken-over attempt
            return earlier.id
        row = store_plan(session, computed, user_id=ctx.user_id, job_id=ctx.job_id, now=ctx.clock())
        return row.id

    plan_id = run_in_transaction(ctx.factory, store)
    return {"plan_id": plan_id, "quality": computed.plan.quality.value}


def get_plan(session: Session, plan_id: int) -> Plan:
    """The stored plan with this id, or `NotFoundError`."""
    row = session.get(Plan, plan_id)
    if row is None:
        raise NotFoundError("plan", plan_id)
    return row
