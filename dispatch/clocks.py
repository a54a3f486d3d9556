"""Reading a ticket's promise clocks at a moment, and the dispatcher's at-risk worklist."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.durations import DurationLog
from dispatch.errors import InvalidTicketError
from dispatch.expected import ExpectedVisit, expected_visits, projections_of
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
    negative means late. ``overdue``: pending (no event, not void) with its deadline past
    at the reading's ``now``, so that a page shows "late" by the server's clock, not its
    own (a breached clock may also be one whose event came late).
    """

    clock: Clock
    deadline: datetime
    event_at: datetime | None
    state: ClockState
    slack_min: int | None
    overdue: bool = False


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
        overdue = event_at is None and now > deadline  # `clock_state`'s breached by now
        readings.append(ClockReading(clock, deadline, event_at, state, slack, overdue))
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

    @property
    def at_risk(self) -> bool:
        """True when a clock is at risk or breached."""
        return any(c.state in (ClockState.AT_RISK, ClockState.BREACHED) for c in self.clocks)

    @property
    def key(self) -> tuple[datetime, int, int]:
        """The worklist's order (and paging cursor): urgent deadline, severity rank, id.

        A ticket off the worklist (calm, or closed since) keys on its earliest deadline, so
        a page that starts after it still finds its place in the order.
        """
        if self.at_risk:
            deadline = self.urgent_clock.deadline
        else:
            deadline = min((c.deadline for c in self.clocks), default=_NEVER)
        return (deadline, self.rank, self.ticket.id)


_NEVER = datetime.max.replace(tzinfo=UTC)


def at_risk_worklist(
    session: Session,
    *,
    now: datetime,
    region_id: int | None = None,
    limit: int = 100,
    after: int | None = None,
    where: WorklistFilter | None = None,
    durations: DurationLog | None = None,
) -> list[WorklistItem]:
    """Open tickets with a clock at risk or breached, most urgent first.

    Urgency: the earliest deadline among the ticket's at-risk or breached clocks, then the
    severity rank (1 = most urgent), then the ticket id for a stable order. `after` (a
    ticket id, the last one of the previous page) starts the list after that ticket's place
    in this order, so pages of `limit` walk the whole worklist (every ticket is read and
    filtered before the page is cut). An unknown `after` is an `InvalidTicketError`.
    `where` narrows the open tickets read (status, site, engineer) in the query.

    A committed visit's clocks (assigned, en route, on site) read it as now expected, as
    the board reads it (`dispatch.expected`): pushed behind its engineer's overrunning job,
    set off late or on site past its planned end, a visit that will miss its promise is on
    the worklist at once, ordered by that reading. ``durations``: the log of finished jobs
    when the caller has it (read only when some visit is committed).
    """
    found = _readings(session, now=now, region_id=region_id, where=where, durations=durations)
    items = [i for i in found if i.at_risk]
    items.sort(key=lambda i: i.key)
    if after is not None:
        cursor = next((i for i in items if i.ticket.id == after), None)
        if cursor is None:
            again = _readings(session, now=now, ticket_id=after, durations=durations)
            cursor = next(iter(again), None)
        if cursor is None:
            raise InvalidTicketError("after", f"ticket {after} does not exist")
        items = [i for i in items if i.key > cursor.key]
    return items[:limit]


@dataclass(frozen=True, slots=True)
class WorklistFilter:
    """Narrower worklists: one status (an open one), one site, one engineer."""

    status: S | None = None
    site_id: int | None = None
    engineer_id: int | None = None


def _readings(
    session: Session,
    *,
    now: datetime,
    region_id: int | None = None,
    ticket_id: int | None = None,
    where: WorklistFilter | None = None,
    durations: DurationLog | None = None,
) -> list[WorklistItem]:
    """Open tickets (or the one ticket `ticket_id`, whatever its status) with their clocks,
    a committed visit's as now expected (`dispatch.expected`)."""
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
    )
    if ticket_id is not None:
        stmt = stmt.where(Ticket.id == ticket_id)
    else:
        stmt = stmt.where(Ticket.status.in_(OPEN_STATUSES))
    if region_id is not None:
        stmt = stmt.where(Site.region_id == region_id)
    if where is not None and where.status is not None:
        stmt = stmt.where(Ticket.status == where.status)
    if where is not None and where.site_id is not None:
        stmt = stmt.where(Ticket.site_id == where.site_id)
    if where is not None and where.engineer_id is not None:
        stmt = stmt.where(Ticket.engineer_id == where.engineer_id)
    rows = session.execute(stmt).all()
    margins = {t.id: timedelta(minutes=m) for t, m, _ in rows}
    read = clocks_as_expected(
        session, [t for t, _, _ in rows], margins, now=now, durations=durations
    )
    return [WorklistItem(ticket, rank, read[ticket.id]) for ticket, _, rank in rows]


def clocks_as_expected(
    session: Session, tickets: Sequence[Ticket], margins: Mapping[int, timedelta], *,
    now: datetime, durations: DurationLog | None = None,
    expected: Mapping[int, ExpectedVisit] | None = None,
) -> dict[int, list[ClockReading]]:  # fmt: skip
    """Many tickets' clocks by ticket id, a committed visit's (assigned, en route, on site)
    as now expected, as the board reads it (`dispatch.expected`): the one reading of the
    worklist, the ticket list, the ticket page and the engineer's own tickets, so none
    disagrees with the board about a visit pushed behind an overrunning job, set off late or
    on site past its planned end; while the plan holds, `read_clocks` as is but for a clock
    the plan itself misses (`dispatch.expected.projections_of`). ``margins``: each ticket's
    at-risk margin. Queries: none without an assigned, en-route or on-site ticket,
    else `expected_visits`' fixed few (``durations``: the log when the caller has it;
    ``expected``: the visits when the caller has projected them, not projected again)."""
    if expected is None:
        expected = expected_visits(session, tickets, now=now, durations=durations)
    return {
        t.id: read_clocks(
            t,
            margin=margins[t.id],
            now=now,
            projections=projections_of(expected, t, margin=margins[t.id]),
        )  # fmt: skip
        for t in tickets
    }
