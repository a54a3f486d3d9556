"""Reading a ticket's promise clocks at a moment, and the dispatcher's at-risk worklist."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.lifecycle import OPEN_STATUSES
from dispatch.models import Contract, PolicySeverity, PromisePolicy, Site, Ticket
from dispatch.models import TicketStatus as S
from dispatch.promises import Clock, ClockState, clock_state

_EVENT_OF: dict[Clock, str] = {
    Clock.RESPOND: "responded_at",
    Clock.DEPART: "departed_at",
    Clock.ARRIVE: "arrived_at",
    Clock.FIX: "fixed_at",
}
_NO_VISIT = frozenset({Clock.DEPART, Clock.ARRIVE})
# Statuses after the work is done: a visit that has not happened by then never will.
_DONE = frozenset({S.FIXED, S.RESOLVED_REMOTELY, S.CLOSED, S.CALLBACK_DONE})


@dataclass(frozen=True, slots=True)
class ClockReading:
    """One clock of one ticket: deadline, event, state and slack in whole minutes.

    Slack is deadline minus the event (or, while pending, minus max(projection, now)):
    negative means late.
    """

    clock: Clock
    deadline: datetime
    event_at: datetime | None
    state: ClockState
    slack_min: int | None


def read_clocks(
    ticket: Ticket,
    *,
    margin: timedelta,
    now: datetime,
    projections: Mapping[Clock, datetime] | None = None,
) -> list[ClockReading]:
    """Every clock of `ticket` that has a deadline, in clock order."""
    readings = []
    for clock in Clock:
        deadline: datetime | None = getattr(ticket, f"{clock.value}_by")
        if deadline is None:
            continue
        event_at: datetime | None = getattr(ticket, _EVENT_OF[clock])
        projected = (projections or {}).get(clock)
        if event_at is None and _void(ticket, clock):
            readings.append(ClockReading(clock, deadline, None, ClockState.VOID, None))
            continue
        state = clock_state(
            deadline, now=now, margin=margin, event_at=event_at, projected_at=projected
        )
        basis = event_at or max(projected or now, now)
        slack = int((deadline - basis).total_seconds() // 60)
        readings.append(ClockReading(clock, deadline, event_at, state, slack))
    return readings


def _void(ticket: Ticket, clock: Clock) -> bool:
    """True when the clock's event will never happen.

    A ticket solved without a visit (remotely) keeps its visit clocks void after it is
    closed and called back too: the fix is recorded and nobody arrived, so the status that
    follows `resolved_remotely` must not wake them up as breached.
    """
    if ticket.status is S.CANCELLED:
        return True
    return clock in _NO_VISIT and ticket.status in _DONE and ticket.arrived_at is None


@dataclass(frozen=True, slots=True)
class WorklistItem:
    ticket: Ticket
    rank: int
    clocks: list[ClockReading]

    @property
    def urgent_clock(self) -> ClockReading:
        """The pending clock that runs out first (the one the dispatcher must act on)."""
        pending = [c for c in self.clocks if c.state in (ClockState.AT_RISK, ClockState.BREACHED)]
        return min(pending, key=lambda c: c.deadline)


def at_risk_worklist(
    session: Session, *, now: datetime, region_id: int | None = None, limit: int = 100
) -> list[WorklistItem]:
    """Open tickets with a clock at risk or breached, most urgent first.

    Urgency: the earliest deadline among the ticket's at-risk or breached clocks, then the
    severity rank (1 = most urgent), then the ticket id for a stable order.
    """
    stmt = (
        select(Ticket, PromisePolicy.at_risk_margin_min, PolicySeverity.rank)
        .join(Site, Site.id == Ticket.site_id)
        .join(Contract, Contract.id == Site.contract_id)
        .join(PromisePolicy, PromisePolicy.id == Contract.policy_id)
        .join(
            PolicySeverity,
            (PolicySeverity.policy_id == PromisePolicy.id)
            & (PolicySeverity.code == Ticket.severity),
        )
        .where(Ticket.status.in_(OPEN_STATUSES))
    )
    if region_id is not None:
        stmt = stmt.where(Site.region_id == region_id)
    items = []
    for ticket, margin_min, rank in session.execute(stmt):
        clocks = read_clocks(ticket, margin=timedelta(minutes=margin_min), now=now)
        if any(c.state in (ClockState.AT_RISK, ClockState.BREACHED) for c in clocks):
            items.append(WorklistItem(ticket=ticket, rank=rank, clocks=clocks))
    items.sort(key=lambda i: (i.urgent_clock.deadline, i.rank, i.ticket.id))
    return items[:limit]
