"""Whether a planned visit that has not departed yet should move to another engineer.

A recommendation is made once, when the ticket comes in; the day then moves on. A job
overruns and the next visit's engineer leaves later than planned, or an engineer nearer
to a waiting ticket comes free. A dispatcher then asks again: is there an engineer who
keeps promises the current plan breaks, by more than the move costs?

Two rules, both over the recommendation made now (`optimizer.recommend`'s ranking):

- `better_elsewhere` (a plan that breaks a clock, and someone came free): `planned_cost`
  prices the plan's clocks (depart, arrive, fix) at their projected times with the one
  clock rule (`optimizer.penalties.clock_cost`); the best-ranked option of another engineer
  whose whole cost (its clocks, parts promises, travel and overtime) is below that wins: a
  move must pay for its own driving.
- `keeps_what_was_planned` (the engineer overruns the job before it, so nobody knows when
  he will leave): the best-ranked option of another engineer that keeps every depart and
  arrival clock the plan kept. An overrun's end is unknown, so the rule protects the
  promises rather than betting on a projection.

When to ask: `overrun_past` says when a job on site counts as overrunning (its planned end
plus ``REDISPATCH_AFTER_MIN``); visits not departed are asked again every
``REDISPATCH_EVERY_MIN``. Both are the documented defaults of policy data: the scenario
file's `redispatch_after_min` and `retry_every_min`, production's promise policies'
`redispatch_after_min` and `redispatch_every_min`.
"""

from __future__ import annotations

from optimizer.model import Ticket
from optimizer.penalties import clock_cost
from optimizer.result import Option, Promise, Recommendation

REDISPATCH_AFTER_MIN = 15  # a job this long past its planned end moves the next visit
REDISPATCH_EVERY_MIN = 15  # visits not departed yet are asked the rule again this often


def overrun_past(*, started_at: int, planned_s: int, after_s: int, now: int) -> bool:
    """Whether a job begun at ``started_at`` and planned to take ``planned_s`` has run
    more than ``after_s`` past its planned end at ``now``; e.g. begun 10:00, planned
    60 min, threshold 15 min: overrunning from 11:15 on (strictly after)."""
    return now > started_at + planned_s + after_s


def planned_cost(
    ticket: Ticket, *, departs_at: int, arrives_at: int, fixes_at: int | None = None
) -> int:
    """The penalties (fen) of the ticket's depart, arrive and fix clocks for a plan that
    departs, arrives and fixes at the given times (fix: arrival + service when not given)."""
    p = ticket.prices
    fixes = arrives_at + ticket.service_s if fixes_at is None else fixes_at
    return (
        clock_cost(p.depart, ticket.depart_by, departs_at, p)
        + clock_cost(p.arrive, ticket.arrive_by, arrives_at, p)
        + clock_cost(p.fix, ticket.fix_by, fixes, p)
    )


def better_elsewhere(
    recommendation: Recommendation,
    ticket: Ticket,
    *,
    engineer_id: int,
    departs_at: int,
    arrives_at: int,
    fixes_at: int | None = None,
) -> Option | None:
    """The best-ranked option of another engineer that costs less than keeping the plan.

    ``engineer_id`` holds the visit now; ``departs_at``/``arrives_at`` are its projected
    times (e.g. "when his overrunning job ends"). None: keep the plan (nobody else keeps
    more of the promises than his drive costs).
    """
    keep = planned_cost(ticket, departs_at=departs_at, arrives_at=arrives_at, fixes_at=fixes_at)
    for option in recommendation.options:  # best first
        if option.engineer_id != engineer_id and option.cost < keep:
            return option
    return None


def keeps_what_was_planned(
    recommendation: Recommendation,
    ticket: Ticket,
    *,
    engineer_id: int,
    departs_at: int,
    arrives_at: int,
) -> Option | None:
    """The best-ranked option of another engineer keeping every depart and arrival clock
    that the plan (departing and arriving at the given times) keeps, and the ship promise;
    None: nobody does."""
    depart_kept = ticket.depart_by is not None and departs_at <= ticket.depart_by
    arrive_kept = ticket.arrive_by is not None and arrives_at <= ticket.arrive_by
    if not (depart_kept or arrive_kept):
        return None
    for option in recommendation.options:  # best first
        if option.engineer_id == engineer_id:
            continue
        if depart_kept and ticket.depart_by is not None and option.departs_at > ticket.depart_by:
            continue
        if arrive_kept and ticket.arrive_by is not None and option.arrives_at > ticket.arrive_by:
            continue
        if any(c.promise is Promise.SHIP and not c.kept for c in option.promises):
            continue  # a shipment the move would make late: keep the plan's
        return option
    return None


__all__ = [
    "REDISPATCH_AFTER_MIN",
    "REDISPATCH_EVERY_MIN",
    "better_elsewhere",
    "keeps_what_was_planned",
    "overrun_past",
    "planned_cost",
]
