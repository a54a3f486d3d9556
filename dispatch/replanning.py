"""Re-planning against the published plan: urgent insertion (fast path) and a full re-plan.

The published plan's promises are rebuilt from the assignments that realise it, not from
its stored JSON: an assignment is what the engineer and the customer were told, and it
may have been pinned (or the ticket started) since the plan was published. So a
`Baseline` has one `Commitment` per active assignment: its engineer, its announced start
(``arrives_at``, the visit's start as publishing stores it), whether it is pinned, and
whether the ticket is under way (en route, on site). The frozen horizon is the longest
``frozen_horizon_min`` among the contracts involved: the strictest promise wins.

Pinned and under-way visits are kept out of the tickets handed to the solver: the
snapshot (``pinned_only=True``) already blocks their engineer's time, exactly as a region
plan does, and a draft holding them could not be published (they are not assignable).
Their commitments stay in the baseline, where the optimizer ignores unlisted tickets.

`insert_ticket` answers at once with `optimizer.insert_prepared` (no search) and queues a
"replan" job that `run_replan_job` runs: the same locks, frozen horizon and tolerance,
with `optimizer.replan`'s search. Both store drafts for the dispatcher to diff and publish.
The change budget counts announced visits moved to another engineer and those deferred
(taken out of the draft, less severe than the urgent ticket; see `optimizer.urgent`).

Reading the published plan (snapshot, commitments, one solver ticket per announced visit)
costs far more than the insertion itself, so `insert_ticket` takes an optional
`PlanCache`: the data is reused while `dispatch.snapshot_cache.plan_version` is unchanged
(no stock movement, reservation, assignment, master-data change, nor any step of an
assigned ticket) and for at most its TTL; a new urgent ticket does not invalidate it. The
optimizer's prepared insertion is exact for one moment, so it is rebuilt per ``now``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from db.jobs import Job, JobCancelledError, JobContext, enqueue
from db.transactions import run_in_transaction
from dispatch.errors import InvalidPlanRequest, NotFoundError, PublishConflict
from dispatch.models import (
    Assignment,
    AssignmentStatus,
    Contract,
    Plan,
    PlanStage,
    PromisePolicy,
    Site,
    Ticket,
)
from dispatch.models import TicketStatus as S
from dispatch.planning import (
    DEFAULT_TIME_LIMIT_S,
    Computed,
    PlanRequest,
    Prepared,
    job_result,
    plan_of_job,
    prepare_plan,
    store_plan,
)
from dispatch.snapshot import Snapshot, job_for, load_snapshot
from dispatch.snapshot_cache import PlanCache

REPLAN_JOB = "replan"
MAX_CHANGE_BUDGET = 5
UNDER_WAY = frozenset({S.EN_ROUTE, S.ON_SITE})
INSERTABLE = frozenset({S.NEW, S.RESPONDED})


@dataclass(frozen=True, eq=False)
class Inserted:
    """The stored draft, what the insertion changes, and the queued improvement (if any)."""

    plan: Plan
    insertion: opt.Insertion
    snapshot: Snapshot
    ticket_id: int
    job: Job | None


def published_plan(session: Session, plan_id: int) -> Plan:
    """The published plan with this id: `NotFoundError`, or `PublishConflict` if not published."""
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFoundError("plan", plan_id)
    if plan.stage is not PlanStage.PUBLISHED:
        raise PublishConflict(plan_id, [f"the plan is {plan.stage}: insert into a published one"])
    return plan


def _active(session: Session, ticket_ids: list[int]) -> list[tuple[Assignment, S]]:
    stmt = (
        select(Assignment, Ticket.status)
        .join(Ticket, Ticket.id == Assignment.ticket_id)
        .where(Assignment.ticket_id.in_(ticket_ids), Assignment.status == AssignmentStatus.ACTIVE)
        .order_by(Assignment.ticket_id)
    )
    return [(a, status) for a, status in session.execute(stmt)]


def _stability_s(session: Session, ticket_ids: list[int]) -> tuple[int, int]:
    """Frozen horizon and ETA tolerance of the tickets' contracts (seconds).

    The longest frozen horizon and the smallest tolerance win: the strictest promise among
    the announced visits sets the rule. With no ticket, nothing is committed: nothing to
    freeze and no announced time to keep (0, 0), so no number stands in for a policy's.
    """
    stmt = (
        select(PromisePolicy.frozen_horizon_min, PromisePolicy.eta_tolerance_min)
        .join(Contract, Contract.policy_id == PromisePolicy.id)
        .join(Site, Site.contract_id == Contract.id)
        .join(Ticket, Ticket.site_id == Site.id)
        .where(Ticket.id.in_(ticket_ids))
        .distinct()
    )
    found = session.execute(stmt).all()
    frozen = max((f for f, _ in found), default=0)
    tolerance = min((t for _, t in found), default=0)
    return frozen * 60, tolerance * 60


def baseline_of(
    session: Session, snapshot: Snapshot, ticket_ids: list[int]
) -> tuple[opt.Baseline, tuple[int, ...]]:
    """The commitments of the tickets' active assignments, and which of them may be re-planned.

    Returns the baseline and the ids of the assigned, unpinned tickets (see the module's
    docstring for why pinned and under-way ones stay out of the solver's tickets).
    """
    commitments, plannable = [], []
    for a, status in _active(session, ticket_ids):
        commitments.append(
            opt.Commitment(
                a.ticket_id,
                a.engineer_id,
                snapshot.offset(a.arrives_at),
                a.pinned,
                status in UNDER_WAY,
            )  # fmt: skip
        )
        if status is S.ASSIGNED and not a.pinned:
            plannable.append(a.ticket_id)
    frozen, tolerance = _stability_s(session, [c.ticket_id for c in commitments])
    baseline = opt.Baseline(tuple(commitments), frozen_horizon_s=frozen, eta_tolerance_s=tolerance)
    return baseline, tuple(plannable)


def regions_of(session: Session, ticket_ids: list[int], region_id: int | None) -> set[int]:
    """The regions of the tickets' sites, plus the plan's own: what a snapshot must cover."""
    stmt = select(Site.region_id).join(Ticket, Ticket.site_id == Site.id)
    found = set(session.scalars(stmt.where(Ticket.id.in_(ticket_ids))))
    return found | ({region_id} if region_id is not None else set())


def ticket_codes(session: Session, ids: list[int]) -> dict[int, tuple[str, str]]:
    """Ticket id -> (code, severity), for stored plans and the dispatcher's lists."""
    stmt = select(Ticket.id, Ticket.code, Ticket.severity).where(Ticket.id.in_(ids))
    return {i: (code, severity) for i, code, severity in session.execute(stmt)}


def _store(
    session: Session, *, region_id: int | None, ids: tuple[int, ...], as_of: datetime,
    found: opt.Plan, snap: Snapshot, tickets: tuple[opt.Ticket, ...], request: PlanRequest,
    user_id: int | None, job_id: int | None, extra: dict[str, Any],
) -> Plan:  # fmt: skip
    """Store as a draft through `planning.store_plan` (same result and context shape)."""
    prepared = Prepared(request, region_id, ids, run_now=True)
    computed = Computed(prepared, as_of, found, snap, tickets, ticket_codes(session, list(ids)))
    row = store_plan(session, computed, user_id=user_id, job_id=job_id, now=as_of)
    row.params = dict(row.params) | extra
    session.flush()
    return row


@dataclass(frozen=True, eq=False)
class PublishedData:
    """What every insertion into one published plan reads: reused by `PlanCache`.

    ``prepared`` keeps the optimizer's `PreparedInsertion` per (planning moment, travel
    model, params): exact for that moment only (departures and the frozen horizon move
    with ``now``), so a later request re-prepares from the same data (~35 ms, no reads).
    """

    snap: Snapshot
    baseline: opt.Baseline
    plannable: tuple[int, ...]
    tickets: tuple[opt.Ticket, ...]
    prepared: dict[tuple[int, int, opt.PlanParams, bool], opt.PreparedInsertion] = field(
        default_factory=dict
    )

    def prepare(
        self, now: datetime, travel: opt.TravelTimes, params: opt.PlanParams, *,
        allow_eta_moves: bool = False,
    ) -> opt.PreparedInsertion:  # fmt: skip
        """The prepared insertion at ``now`` (built once per moment, model, params and rule).

        ``allow_eta_moves``: the dispatcher lets announced ETAs move beyond the tolerance.
        """
        at = self.snap.offset(now)
        key = (at, id(travel), params, allow_eta_moves)
        found = self.prepared.get(key)
        if found is None or found.travel is not travel:
            baseline = replace(self.baseline, allow_eta_moves=allow_eta_moves)
            found = opt.prepare_insertion(
                self.snap.world, self.tickets, baseline, now=at, travel=travel, params=params
            )
            self.prepared.clear()  # one moment at a time: the next request is later
            self.prepared[key] = found
        return found


def _published_data(
    session: Session, published: Plan, regions: set[int], now: datetime, ticket_id: int
) -> PublishedData:
    announced = [i for i in published.ticket_ids if i != ticket_id]
    snap = load_snapshot(session, now=now, region_ids=regions, pinned_only=True)
    baseline, plannable = baseline_of(session, snap, announced)
    tickets = tuple(job_for(session, snap, i) for i in plannable)
    return PublishedData(snap, baseline, plannable, tickets)


def insert_ticket(
    session: Session, *, plan_id: int, ticket_id: int, change_budget: int, now: datetime,
    travel: opt.TravelTimes, user_id: int | None, background: bool = True,
    cache: PlanCache[PublishedData] | None = None, allow_eta_moves: bool = False,
) -> Inserted:  # fmt: skip
    """Insert an urgent ticket into the published plan at once; store the draft; flush only.

    ``change_budget`` (0..5) is how many announced visits may change to make room: moved
    to another engineer, or deferred when less severe than the new ticket (see
    `optimizer.urgent`). With ``background``, a "replan" job of the plan's region is queued
    to improve on it. ``cache`` reuses what the published plan's insertions share (its
    snapshot, commitments and tickets) while `plan_version` and the TTL allow. With
    ``allow_eta_moves`` the dispatcher lets announced ETAs move beyond the policies'
    tolerance for this insertion (its background re-plan keeps the same leave).
    """
    if not 0 <= change_budget <= MAX_CHANGE_BUDGET:
        raise InvalidPlanRequest("change_budget", f"must be within 0..{MAX_CHANGE_BUDGET}")
    published = published_plan(session, plan_id)
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise InvalidPlanRequest("ticket_id", f"ticket {ticket_id} does not exist", [ticket_id])
    if ticket.status not in INSERTABLE:
        reason = f"the ticket is {ticket.status}: only new or responded tickets are inserted"
        raise InvalidPlanRequest("ticket_id", reason, [ticket_id])
    regions = regions_of(session, [*published.ticket_ids, ticket_id], published.region_id)

    def load() -> PublishedData:
        return _published_data(session, published, regions, now, ticket_id)

    # a ticket of the published plan itself (its assignment withdrawn) changes what is read
    cached = cache is not None and ticket_id not in published.ticket_ids
    key = (plan_id, frozenset(regions))
    data = cache.get(session, key=key, now=now, load=load) if cache and cached else load()
    new = job_for(session, data.snap, ticket_id)
    request = PlanRequest(ticket_ids=(*data.plannable, ticket_id), time_limit_s=0)
    prep = data.prepare(now, travel, request.params(), allow_eta_moves=allow_eta_moves)
    found = opt.insert_prepared(prep, new, change_budget=change_budget)
    extra = {"insert": {"into_plan_id": plan_id, "ticket_id": ticket_id,
                        "change_budget": change_budget,
                        "allow_eta_moves": allow_eta_moves}}  # fmt: skip
    row = _store(
        session, region_id=published.region_id, ids=(*data.plannable, ticket_id), as_of=now,
        found=found.plan, snap=data.snap, tickets=(*data.tickets, new), request=request,
        user_id=user_id, job_id=None, extra=extra,
    )  # fmt: skip
    job = None
    if background and published.region_id is not None:
        payload = {"region_id": published.region_id, "after_plan_id": row.id,
                   "time_limit_s": DEFAULT_TIME_LIMIT_S, "failure_limit": None,
                   "allow_eta_moves": allow_eta_moves}  # fmt: skip
        job = enqueue(session, kind=REPLAN_JOB, payload=payload, user_id=user_id, now=now)
    return Inserted(row, found, data.snap, ticket_id, job)


def insertion_summary(done: Inserted) -> dict[str, Any]:
    """The insertion as JSON-friendly data: ETAs as instants, deltas in minutes."""
    ins, at = done.insertion, done.snapshot.at
    return {
        "plan_id": done.plan.id,
        "ticket_id": done.ticket_id,
        "promise": ins.promise.value,
        "engineer_id": ins.engineer_id,
        "eta": None if ins.eta is None else at(ins.eta),
        "moved": ins.moved,
        "feasible": ins.plan.is_feasible(),
        "changes": [
            {
                "ticket_id": c.ticket_id,
                "engineer_before": c.engineer_before,
                "engineer_after": c.engineer_after,
                "moved": c.moved,
                "deferred": c.deferred,
                "eta_before": at(c.eta_before),
                "eta_after": None if c.eta_after is None else at(c.eta_after),
                "eta_delta_min": None if c.eta_delta_s is None else round(c.eta_delta_s / 60, 1),
            }
            for c in ins.changes
        ],
        "job_id": None if done.job is None else done.job.id,
    }


@dataclass(frozen=True, eq=False)
class Replanned:
    """A re-plan solved but not stored: what `store_replan` writes."""

    region_id: int
    ticket_ids: tuple[int, ...]
    as_of: datetime
    request: PlanRequest
    plan: opt.Plan
    snapshot: Snapshot
    tickets: tuple[opt.Ticket, ...]
    commitments: int
    allow_eta_moves: bool = False


def compute_replan(
    session: Session, *, region_id: int, now: datetime, travel: opt.TravelTimes,
    request: PlanRequest | None = None, allow_eta_moves: bool = False,
) -> Replanned:  # fmt: skip
    """Re-plan the region's open tickets keeping its assignments' commitments; reads only.

    ``request`` carries the search limits (its region and tickets are replaced). With
    ``allow_eta_moves`` the dispatcher lets announced ETAs move beyond the policies'
    tolerance (pins, visits under way and the frozen horizon still hold).
    """
    wanted = replace(request or PlanRequest(), region_id=region_id, ticket_ids=None)
    prepared = prepare_plan(session, wanted, strict=False)
    ids = list(prepared.ticket_ids)
    snap = load_snapshot(session, now=now, region_ids={region_id}, pinned_only=True)
    baseline, _ = baseline_of(session, snap, ids)
    baseline = replace(baseline, allow_eta_moves=allow_eta_moves)
    tickets = tuple(job_for(session, snap, i) for i in ids)
    found = opt.replan(
        snap.world, tickets, baseline, now=snap.offset(now), travel=travel,
        params=wanted.params(),
    )  # fmt: skip
    return Replanned(
        region_id, tuple(ids), now, wanted, found, snap, tickets, len(baseline.commitments),
        allow_eta_moves,
    )  # fmt: skip


def store_replan(
    session: Session, done: Replanned, *, user_id: int | None, job_id: int | None = None
) -> Plan:
    """Store a computed re-plan as a draft; flush only."""
    return _store(
        session, region_id=done.region_id, ids=done.ticket_ids, as_of=done.as_of,
        found=done.plan, snap=done.snapshot, tickets=done.tickets, request=done.request,
        user_id=user_id, job_id=job_id,
        extra={"replan": {"commitments": done.commitments,
                          "allow_eta_moves": done.allow_eta_moves}},
    )  # fmt: skip


def replan_region(
    session: Session, *, region_id: int, now: datetime, travel: opt.TravelTimes,
    user_id: int | None, request: PlanRequest | None = None,
) -> Plan:  # fmt: skip
    """Compute and store in one go (the caller's transaction: the CLI, tests)."""
    done = compute_replan(session, region_id=region_id, now=now, travel=travel, request=request)
    return store_replan(session, done, user_id=user_id)


def run_replan_job(ctx: JobContext, *, travel: opt.TravelTimes) -> dict[str, Any]:
    """The "replan" job: the background improvement after an urgent insertion.

    Solves outside any write transaction, then stores the draft; the region is re-planned
    against whatever is published (and open) when the job runs.
    """
    region_id = int(ctx.payload["region_id"])
    limits = PlanRequest(
        time_limit_s=ctx.payload.get("time_limit_s", DEFAULT_TIME_LIMIT_S),
        failure_limit=ctx.payload.get("failure_limit"),
    )
    with ctx.factory() as session:
        if (earlier := plan_of_job(session, ctx.job_id)) is not None:
            return job_result(earlier)  # an earlier attempt stored it; its worker died
        ctx.progress(0.05)
        done = compute_replan(
            session, region_id=region_id, now=ctx.clock(), travel=travel, request=limits,
            allow_eta_moves=bool(ctx.payload.get("allow_eta_moves", False)),
        )  # fmt: skip
    if ctx.cancelled():
        raise JobCancelledError(ctx.job_id)
    ctx.progress(0.95)

    def store(session: Session) -> int:
        if (earlier := plan_of_job(session, ctx.job_id)) is not None:  # a taken-over attempt
            return earlier.id
        return store_replan(session, done, user_id=ctx.user_id, job_id=ctx.job_id).id

    plan_id = run_in_transaction(ctx.factory, store)
    return {"plan_id": plan_id, "quality": done.plan.quality.value}
