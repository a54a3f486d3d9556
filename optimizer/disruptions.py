"""Disruptions as pure transforms, and the re-plan that lists the promises they put at risk.

Each transform returns a `Disrupted`: the new world, tickets and baseline, and the tickets
it affects. Affected visits lose their announced ETA (the commitment cannot hold: they are
re-planned as new work under the same locks and tolerance for everyone else); pins are kept,
except an absent engineer's, which cannot hold either.

- `engineer_absent`: he is away from ``now`` to the end of his last shift;
- `visit_overruns`: a visit takes ``extra_s`` longer; his later unlocked visits are affected.
  A visit that is planned lengthens its ticket's service time; one in progress that the
  caller keeps out of ``tickets`` (its engineer is ``busy_until`` the end of it) keeps
  its engineer busy ``extra_s`` longer;
- `part_runs_out`: a depot has no more of a part; the visits planned to pick it up (or to
  have it shipped from there) in the published plan are affected.

`replan_disrupted` re-plans and compares promise states with the published plan: the
tickets whose state gets worse (kept -> late, served -> dropped) are at risk. The published
plan may be a `Plan` or its `Plan.to_dict` data (what a database keeps).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from optimizer.commitments import Baseline
from optimizer.diff import PlanDiff, diff
from optimizer.model import Ticket, Window
from optimizer.params import PlanParams
from optimizer.plan_result import Plan, StopKind
from optimizer.replan import replan
from optimizer.travel import TravelTimes
from optimizer.world import DispatchWorld


@dataclass(frozen=True)
class Disrupted:
    """The inputs of a re-plan after a disruption, and the tickets it affects."""

    world: DispatchWorld
    tickets: tuple[Ticket, ...]
    baseline: Baseline
    affected: tuple[int, ...]


@dataclass(frozen=True)
class DisruptionResult:
    """The re-plan, its diff against the published plan, and the tickets at risk."""

    plan: Plan
    diff: PlanDiff
    at_risk: tuple[int, ...]


def _released(baseline: Baseline, affected: Sequence[int], *, keep_pins: bool) -> Baseline:
    by_id = baseline.by_ticket()
    return baseline.without(
        t for t in affected if t in by_id and not (keep_pins and by_id[t].pinned)
    )


def engineer_absent(
    world: DispatchWorld, tickets: Sequence[Ticket], baseline: Baseline, engineer_id: int, *,
    now: int,
) -> Disrupted:  # fmt: skip
    """Return the world in which ``engineer_id`` is absent from ``now`` on.

    Parameters
    ----------
    world, tickets, baseline
        Before the disruption.
    engineer_id
        Who drops out.
    now
        From when.

    Returns
    -------
    Disrupted
        His announced visits are affected (released, pins included).
    """
    row = world.engineer_row[engineer_id]
    e = world.engineers[row]
    until = max([now + 1, *(end + e.overtime_s + 1 for _, end in e.shifts)])
    before: list[Window] = [(s, min(x, now)) for s, x in e.absences if s < now]
    absences = tuple(w for w in before if w[0] < w[1])
    if absences and absences[-1][1] >= now:
        absences = (*absences[:-1], (absences[-1][0], until))
    else:
        absences = (*absences, (now, until))
    engineers = tuple(
        replace(x, absences=absences) if i == row else x for i, x in enumerate(world.engineers)
    )
    affected = tuple(c.ticket_id for c in baseline.commitments if c.engineer_id == engineer_id)
    return Disrupted(
        DispatchWorld(world.epoch, engineers, world.depots, world.suppliers, world.on_call),
        tuple(tickets),
        _released(baseline, affected, keep_pins=False),
        affected,
    )


def visit_overruns(
    world: DispatchWorld, tickets: Sequence[Ticket], baseline: Baseline, ticket_id: int,
    extra_s: int, *, now: int,
) -> Disrupted:  # fmt: skip
    """Return the inputs in which the visit of ``ticket_id`` takes ``extra_s`` longer.

    Parameters
    ----------
    world, tickets, baseline
        Before the disruption.
    ticket_id
        The visit that overruns (usually the one in progress).
    extra_s
        How much longer it takes (seconds, > 0).
    now
        The moment of the re-plan (decides which later visits are locked).

    Returns
    -------
    Disrupted
        The engineer's later visits that are not locked are affected.
    """
    if extra_s <= 0:
        raise ValueError(f"extra_s: must be > 0, got {extra_s}")
    longer = tuple(
        replace(t, service_s=t.service_s + extra_s) if t.id == ticket_id else t for t in tickets
    )
    own = baseline.by_ticket().get(ticket_id)
    if own is not None and own.in_progress and all(t.id != ticket_id for t in tickets):
        world = _busy_longer(world, own.engineer_id, extra_s, now=now)
    affected = (
        ()
        if own is None
        else tuple(
            c.ticket_id
            for c in baseline.commitments
            if c.engineer_id == own.engineer_id
            and c.eta > own.eta
            and not baseline.is_locked(c, now)
        )
    )
    return Disrupted(world, longer, _released(baseline, affected, keep_pins=True), affected)


def _busy_longer(
    world: DispatchWorld, engineer_id: int, extra_s: int, *, now: int
) -> DispatchWorld:
    """His job in progress ends ``extra_s`` later (from now, if it should have ended already)."""
    if engineer_id not in world.engineer_row:
        return world
    row = world.engineer_row[engineer_id]
    e = world.engineers[row]
    until = max(now if e.busy_until is None else e.busy_until, now) + extra_s
    longer = replace(e, busy_until=until, busy_location=e.busy_location or e.location)
    engineers = tuple(longer if i == row else x for i, x in enumerate(world.engineers))
    return DispatchWorld(world.epoch, engineers, world.depots, world.suppliers, world.on_call)


def _as_dict(plan: Plan | Mapping[str, Any]) -> Mapping[str, Any]:
    return plan.to_dict() if isinstance(plan, Plan) else plan


def part_runs_out(
    world: DispatchWorld, tickets: Sequence[Ticket], baseline: Baseline,
    published: Plan | Mapping[str, Any], depot_id: int, part_id: int,
) -> Disrupted:  # fmt: skip
    """Return the world in which depot ``depot_id`` has no more units of ``part_id``.

    Parameters
    ----------
    world, tickets, baseline
        Before the disruption.
    published
        The published plan, or its `Plan.to_dict` data (which visits counted on that stock).
    depot_id, part_id
        The depot and the part.

    Returns
    -------
    Disrupted
        The visits whose parts came from that depot are affected.
    """
    depots = tuple(
        replace(d, stock={**d.stock, part_id: 0}) if d.id == depot_id else d for d in world.depots
    )
    affected: set[int] = set()
    for r in _as_dict(published)["routes"]:
        for s in r["stops"]:
            picked = s["kind"] == StopKind.PICKUP.value and s["depot_id"] == depot_id
            uses = list(s["parts"]) if picked else []
            uses += [u for sh in s["shipped"] if sh["depot_id"] == depot_id for u in sh["parts"]]
            if any(int(u["part_id"]) == part_id for u in uses):
                affected.add(int(s["ticket_id"]))
    found = tuple(sorted(affected))
    return Disrupted(
        DispatchWorld(world.epoch, world.engineers, depots, world.suppliers, world.on_call),
        tuple(tickets),
        _released(baseline, found, keep_pins=True),
        found,
    )


def replan_disrupted(
    published: Plan | Mapping[str, Any], disrupted: Disrupted, *, now: int, travel: TravelTimes,
    params: PlanParams | None = None,
) -> DisruptionResult:  # fmt: skip
    """Re-plan after a disruption and list the tickets whose promises become at risk.

    Parameters
    ----------
    published
        The plan in force before the disruption (or its `Plan.to_dict` data).
    disrupted
        What a transform of this module returned.
    now, travel, params
        As in `optimizer.replan.replan`.

    Returns
    -------
    DisruptionResult
        The new plan, its diff against ``published``, and the at-risk ticket ids.
    """
    new = replan(
        disrupted.world, disrupted.tickets, disrupted.baseline, now=now, travel=travel,
        params=params,
    )  # fmt: skip
    changes = diff(published, new)
    return DisruptionResult(new, changes, changes.at_risk)
