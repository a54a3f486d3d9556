"""Disruptions of the published plan: re-planned as a draft, the promises put at risk listed.

An engineer's absence from now on, a visit that overruns, a depot that runs out of a part:
each is applied by a pure transform of `optimizer.disruptions` to the published plan's
world, tickets and baseline, built as `dispatch.replanning` builds them (the active
assignments' commitments, the frozen horizon; pinned and under-way visits stay out of the
solver's tickets), re-planned under the same rules and stored as a draft. The dispatcher
reads its diff (``GET /v1/dispatch/plans/{id}/diff``) and publishes it like any other
draft. The answer lists the tickets whose promise state gets worse, each with why.

The ETA tolerance is policy data: the smallest ``eta_tolerance_min`` among the contracts of
the announced visits (the strictest promise wins); the dispatcher may allow larger moves
for one re-plan (``allow_eta_moves``).

An absence is a fact, not a what-if: it is recorded in the engineer's calendar (from now
for the planning horizon, or until a given time; a stored absence that already covers now
is kept as it is) and his pinned, not yet started assignments are unpinned (a pin cannot
hold while he is away), in the same transaction as the draft. A visit he already started
(en route, on site) is handed back to dispatch (`dispatch.pinning.withdraw_assignment`: the
ticket waits again, his holds are released) and re-planned with the rest.

A part that runs out is not written to stock (the warehouse records its count with an
adjustment): the re-plan only stops counting on that depot's units.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from db import User
from dispatch.errors import DispatchError, InvalidPlanRequest, NotFoundError
from dispatch.models import (
    Absence,
    Assignment,
    AssignmentStatus,
    Engineer,
    Plan,
    PlanStage,
    Ticket,
)
from dispatch.models import TicketStatus as S
from dispatch.pinning import set_pinned, withdraw_assignment
from dispatch.planning import Computed, PlanRequest, Prepared, prepare_plan, store_plan
from dispatch.replanning import baseline_of, regions_of, ticket_codes
from dispatch.request_defaults import DEFAULT_ABSENCE_REASON as DEFAULT_ABSENCE_REASON
from dispatch.snapshot import HORIZON, Snapshot, job_for, load_snapshot
from inventory.models import Depot, Part

UNDER_WAY = frozenset({S.EN_ROUTE, S.ON_SITE})


class DisruptionConflict(DispatchError):
    """The disruption cannot be applied to this plan as it stands; nothing was changed."""

    def __init__(self, plan_id: int, reason: str) -> None:
        super().__init__(f"plan {plan_id}: {reason}")
        self.plan_id = plan_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class EngineerAbsent:
    """The engineer is away from now (until ``until``, default: the planning horizon)."""

    engineer_id: int
    until: datetime | None = None
    reason: str = DEFAULT_ABSENCE_REASON


@dataclass(frozen=True, slots=True)
class VisitOverrun:
    """The visit of ``ticket_id`` takes ``extra_min`` minutes longer than planned."""

    ticket_id: int
    extra_min: int


@dataclass(frozen=True, slots=True)
class PartOut:
    """Depot ``depot_id`` has no more units of ``part_id``."""

    depot_id: int
    part_id: int


Disruption = EngineerAbsent | VisitOverrun | PartOut


@dataclass(frozen=True, slots=True)
class AtRisk:
    """A ticket whose promise state gets worse in the draft, and why."""

    ticket_id: int
    code: str
    severity: str
    promise_before: str | None
    promise_after: str | None
    engineer_before: int | None
    engineer_after: int | None
    affected: bool  # its announced visit was released by the disruption itself
    why: str


@dataclass(frozen=True, eq=False)
class Disrupted:
    """The stored draft, what it changes against the published plan, and who is at risk."""

    plan: Plan
    published_id: int
    kind: str
    cause: str
    affected: tuple[int, ...]
    at_risk: tuple[AtRisk, ...]
    diff: opt.PlanDiff
    absence_id: int | None
    unpinned: tuple[int, ...]
    handed_back: tuple[int, ...] = ()  # his visits under way, taken back from him


def kind_of(disruption: Disruption) -> str:
    """The wire name of a disruption: engineer_absent, visit_overrun or part_out."""
    if isinstance(disruption, EngineerAbsent):
        return "engineer_absent"
    return "visit_overrun" if isinstance(disruption, VisitOverrun) else "part_out"


def report_disruption(
    session: Session, *, plan_id: int, disruption: Disruption, now: datetime,
    travel: opt.TravelTimes, user: User, allow_eta_moves: bool = False,
    request: PlanRequest | None = None,
) -> Disrupted:  # fmt: skip
    """Apply a disruption to the published plan, re-plan, store the draft; flush only.

    ``request`` carries the search limits (its region and tickets are the plan's).
    Raises `NotFoundError` (plan, engineer, ticket, depot, part), `DisruptionConflict`
    (the plan is not published; a visit that cannot overrun) or `InvalidPlanRequest`.
    """
    published = _published(session, plan_id)
    absence_id, unpinned, handed_back = _record(session, published, disruption, now=now, user=user)
    wanted = request or PlanRequest()
    if published.region_id is not None:
        wanted = replace(wanted, region_id=published.region_id, ticket_ids=None)
    else:
        wanted = replace(wanted, region_id=None, ticket_ids=tuple(published.ticket_ids))
    ids = prepare_plan(session, wanted, strict=False).ticket_ids
    committed = sorted(set(ids) | set(published.ticket_ids))
    snap = load_snapshot(
        session, now=now, region_ids=regions_of(session, committed, published.region_id),
        pinned_only=True,
    )  # fmt: skip
    baseline, _ = baseline_of(session, snap, committed)
    baseline = replace(baseline, allow_eta_moves=allow_eta_moves)
    tickets = tuple(job_for(session, snap, i) for i in ids)
    hit = _apply(published, disruption, snap, tickets, baseline, now=snap.offset(now))
    if handed_back:  # no longer commitments, but the disruption's own victims
        hit = replace(hit, affected=tuple(sorted({*hit.affected, *handed_back})))
    found = opt.replan_disrupted(
        published.result or {"routes": [], "dropped": []}, hit, now=snap.offset(now),
        travel=travel, params=wanted.params(),
    )  # fmt: skip
    codes = ticket_codes(session, sorted(set(committed) | set(found.at_risk)))
    kind, cause = kind_of(disruption), _cause(session, disruption)
    at_risk = tuple(_at_risk(found, i, codes, set(hit.affected), cause) for i in found.at_risk)
    planned = {t.id for t in tickets}
    stranded = [i for i in hit.affected if i not in planned and i not in found.at_risk]
    at_risk += tuple(_under_way(i, codes, baseline, cause) for i in stranded)
    extra = {
        "disruption": {
            "kind": kind, "cause": cause, "published_plan_id": published.id,
            "affected": list(hit.affected), "at_risk": list(found.at_risk),
            "allow_eta_moves": allow_eta_moves,
            "eta_tolerance_min": baseline.eta_tolerance_s // 60, "absence_id": absence_id,
            "unpinned": list(unpinned), "handed_back": list(handed_back),
        }
    }  # fmt: skip
    row = _store(session, published, wanted, ids, snap, tickets, found.plan, codes, now, user)
    row.params = dict(row.params) | extra
    session.flush()
    return Disrupted(
        row, published.id, kind, cause, hit.affected, at_risk, found.diff, absence_id, unpinned,
        handed_back,
    )  # fmt: skip


def _published(session: Session, plan_id: int) -> Plan:
    # Locked (PostgreSQL): disruptions of one plan are applied one after the other.
    plan = session.get(Plan, plan_id, with_for_update=True, populate_existing=True)
    if plan is None:
        raise NotFoundError("plan", plan_id)
    if plan.stage is not PlanStage.PUBLISHED:
        reason = f"the plan is {plan.stage}: report disruptions against the published plan"
        raise DisruptionConflict(plan_id, reason)
    return plan


def _record(
    session: Session, plan: Plan, disruption: Disruption, *, now: datetime, user: User
) -> tuple[int | None, tuple[int, ...], tuple[int, ...]]:
    """Check the disruption against the database; an absence is recorded, his pins released.

    Returns the absence's id, the tickets unpinned and the tickets handed back.
    """
    if isinstance(disruption, VisitOverrun):
        _check_overrun(session, plan, disruption)
        return None, (), ()
    if isinstance(disruption, PartOut):
        if session.get(Depot, disruption.depot_id) is None:
            raise NotFoundError("depot", disruption.depot_id)
        if session.get(Part, disruption.part_id) is None:
            raise NotFoundError("part", disruption.part_id)
        return None, (), ()
    engineer = session.get(Engineer, disruption.engineer_id)
    if engineer is None:
        raise NotFoundError("engineer", disruption.engineer_id)
    regions = regions_of(session, list(plan.ticket_ids), plan.region_id)
    if not engineer.active or engineer.region_id not in regions:
        reason = (
            f"engineer {engineer.name} ({engineer.code}, id {engineer.id}) is not an active"
            f" engineer of plan {plan.id}'s regions"
        )
        raise InvalidPlanRequest("engineer_id", reason)
    until = disruption.until or now + HORIZON
    if until <= now:
        raise InvalidPlanRequest("until", "must be later than now")
    absence_id = _absence(session, engineer.id, now, until, disruption.reason)
    unpinned = _unpin(session, engineer.id, user=user, now=now)
    return absence_id, unpinned, _hand_back(session, engineer.id, user=user, now=now)


def _check_overrun(session: Session, plan: Plan, overrun: VisitOverrun) -> None:
    ticket = session.get(Ticket, overrun.ticket_id)
    if ticket is None:
        raise NotFoundError("ticket", overrun.ticket_id)
    if ticket.id not in plan.ticket_ids:
        raise InvalidPlanRequest("ticket_id", f"ticket {ticket.id} is not in plan {plan.id}")
    active = session.scalars(
        select(Assignment).where(
            Assignment.ticket_id == ticket.id, Assignment.status == AssignmentStatus.ACTIVE
        )
    ).one_or_none()
    if active is None or ticket.status not in {S.ASSIGNED, *UNDER_WAY}:
        reason = f"ticket {ticket.id} is {ticket.status}: it has no announced visit to overrun"
        raise DisruptionConflict(plan.id, reason)
    if active.pinned and ticket.status is S.ASSIGNED:
        reason = (
            f"ticket {ticket.id}'s visit is pinned and not started: its time is blocked as"
            " pinned; unpin it to re-plan around a longer visit"
        )
        raise DisruptionConflict(plan.id, reason)


def _absence(
    session: Session, engineer_id: int, now: datetime, until: datetime, reason: str
) -> int:
    """Record [now, until) in his calendar, cut short by a stored absence that begins later."""
    overlapping = select(Absence).where(
        Absence.engineer_id == engineer_id, Absence.starts_at < until, Absence.ends_at > now
    )
    stored = list(session.scalars(overlapping.order_by(Absence.starts_at, Absence.id)))
    if stored and stored[0].starts_at <= now:
        return stored[0].id  # already away now: that record stands
    ends = stored[0].starts_at if stored else until
    absence = Absence(engineer_id=engineer_id, starts_at=now, ends_at=ends, reason=reason[:200])
    session.add(absence)
    session.flush()
    return absence.id


def _his_active(session: Session, engineer_id: int, *where: Any) -> list[tuple[int, int]]:
    """(assignment id, ticket id) of his active assignments that also match ``where``."""
    stmt = (
        select(Assignment.id, Assignment.ticket_id)
        .join(Ticket, Ticket.id == Assignment.ticket_id)
        .where(
            Assignment.engineer_id == engineer_id,
            Assignment.status == AssignmentStatus.ACTIVE,
            *where,
        )
        .order_by(Assignment.ticket_id)
    )
    return [(a, t) for a, t in session.execute(stmt)]


def _hand_back(session: Session, engineer_id: int, *, user: User, now: datetime) -> tuple[int, ...]:
    """Withdraw his visits under way: nobody is on them now, the re-plan sends someone."""
    rows = _his_active(session, engineer_id, Ticket.status.in_(UNDER_WAY))
    for assignment_id, _ in rows:
        withdraw_assignment(
            session, assignment_id=assignment_id, user=user, now=now,
            reason="absent (reported as a disruption) while the visit was under way",
        )  # fmt: skip
    return tuple(ticket_id for _, ticket_id in rows)


def _unpin(session: Session, engineer_id: int, *, user: User, now: datetime) -> tuple[int, ...]:
    """Unpin his pinned visits not yet started (logged decisions): they must be re-planned."""
    rows = _his_active(
        session, engineer_id, Assignment.pinned.is_(True), Ticket.status == S.ASSIGNED
    )
    for assignment_id, _ in rows:
        set_pinned(session, assignment_id=assignment_id, pinned=False, user=user, now=now)
    return tuple(ticket_id for _, ticket_id in rows)


def _apply(
    published: Plan, disruption: Disruption, snap: Snapshot, tickets: tuple[opt.Ticket, ...],
    baseline: opt.Baseline, *, now: int,
) -> opt.Disrupted:  # fmt: skip
    world = snap.world
    if isinstance(disruption, EngineerAbsent):
        return opt.engineer_absent(world, tickets, baseline, disruption.engineer_id, now=now)
    if isinstance(disruption, VisitOverrun):
        extra_s = disruption.extra_min * 60
        return opt.visit_overruns(world, tickets, baseline, disruption.ticket_id, extra_s, now=now)
    if all(d.id != disruption.depot_id for d in world.depots):
        reason = f"depot {disruption.depot_id} is not one plans draw from (a van, or unlocated)"
        raise InvalidPlanRequest("depot_id", reason)
    result = published.result or {"routes": [], "dropped": []}
    return opt.part_runs_out(
        world, tickets, baseline, result, disruption.depot_id, disruption.part_id
    )


def _cause(session: Session, disruption: Disruption) -> str:
    """What happened, in the names a dispatcher reads (issue 17): name and code, not an id."""
    if isinstance(disruption, EngineerAbsent):
        engineer = session.get(Engineer, disruption.engineer_id)
        assert engineer is not None  # checked by _record
        return f"engineer {engineer.name} ({engineer.code}) is absent"
    if isinstance(disruption, VisitOverrun):
        ticket = session.get(Ticket, disruption.ticket_id)
        assert ticket is not None  # checked by _check_overrun
        return f"the visit of ticket {ticket.code} runs {disruption.extra_min} min over"
    depot = session.get(Depot, disruption.depot_id)
    part = session.get(Part, disruption.part_id)
    assert depot is not None  # checked by _record
    assert part is not None
    return f"depot {depot.code} ({depot.name}) has no more of part {part.sku} ({part.name})"


def _at_risk(
    found: opt.DisruptionResult, ticket_id: int, codes: dict[int, tuple[str, str]],
    affected: set[int], cause: str,
) -> AtRisk:  # fmt: skip
    change = next(t for t in found.diff.tickets if t.ticket_id == ticket_id)
    code, severity = codes.get(ticket_id, ("", ""))
    before = None if change.promise_before is None else change.promise_before.value
    after = None if change.promise_after is None else change.promise_after.value
    return AtRisk(
        ticket_id, code, severity, before, after, change.engineer_before, change.engineer_after,
        ticket_id in affected, _why(found.plan, ticket_id, cause, ticket_id in affected),
    )  # fmt: skip


def _under_way(
    ticket_id: int, codes: dict[int, tuple[str, str]], baseline: opt.Baseline, cause: str
) -> AtRisk:
    """A visit already under way (en route, on site) that the disruption stops.

    The draft cannot re-plan it: a ticket under way is its engineer's until he reports the
    next step, so the dispatcher must hand it over (or cancel it) by hand.
    """
    code, severity = codes.get(ticket_id, ("", ""))
    engineer = next((c.engineer_id for c in baseline.commitments if c.ticket_id == ticket_id), None)
    why = (
        f"{cause} while the visit is under way: the draft cannot re-plan it; hand the "
        "ticket over to another engineer or cancel it"
    )
    return AtRisk(ticket_id, code, severity, None, None, engineer, None, True, why)


def _why(plan: opt.Plan, ticket_id: int, cause: str, affected: bool) -> str:
    """In words: what the disruption did to it, then what the draft can still do."""
    head = f"{cause}: its visit is re-planned" if affected else f"{cause}: other visits moved"
    dropped = next((d for d in plan.dropped if d.ticket_id == ticket_id), None)
    if dropped is not None:
        return f"{head}; dropped ({dropped.reason.value}): {dropped.detail}"
    late = []
    for r in plan.routes:
        for s in r.visits:
            if s.ticket_id == ticket_id:
                if s.arrival_late_s:
                    late.append(f"arrives {round(s.arrival_late_s / 60)} min late")
                if s.fix_late_s:
                    late.append(f"fixed {round(s.fix_late_s / 60)} min late")
    return f"{head}; " + (", ".join(late) or "its promise gets worse")


def _store(
    session: Session, published: Plan, request: PlanRequest, ids: tuple[int, ...],
    snap: Snapshot, tickets: tuple[opt.Ticket, ...], found: opt.Plan,
    codes: dict[int, tuple[str, str]], now: datetime, user: User,
) -> Plan:  # fmt: skip
    """Store as a draft through `planning.store_plan` (same result and context shape)."""
    prepared = Prepared(request, published.region_id, ids, run_now=True)
    computed = Computed(prepared, now, found, snap, tickets, codes)
    return store_plan(session, computed, user_id=user.id, job_id=None, now=now)


def disruption_summary(done: Disrupted) -> dict[str, Any]:
    """The outcome as JSON-friendly data: the draft, a diff summary, the tickets at risk."""
    d = done.diff
    return {
        "plan_id": done.plan.id,
        "published_plan_id": done.published_id,
        "kind": done.kind,
        "cause": done.cause,
        "feasible": bool((done.plan.result or {}).get("feasible", False)),
        "affected": list(done.affected),
        "absence_id": done.absence_id,
        "unpinned": list(done.unpinned),
        "handed_back": list(done.handed_back),
        "diff": {
            "tickets_changed": len(d.tickets),
            "moved": sum(1 for t in d.tickets if t.moved),
            "newly_dropped": sum(1 for t in d.tickets if t.newly_dropped),
            "newly_served": sum(1 for t in d.tickets if t.newly_served),
            "routes_changed": len(d.routes),
            "reservations_changed": len(d.reservations),
        },
        "at_risk": [
            {
                "ticket_id": r.ticket_id,
                "code": r.code,
                "severity": r.severity,
                "promise_before": r.promise_before,
                "promise_after": r.promise_after,
                "engineer_before": r.engineer_before,
                "engineer_after": r.engineer_after,
                "affected": r.affected,
                "why": r.why,
            }  # fmt: skip
            for r in done.at_risk
        ],
    }
