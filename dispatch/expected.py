"""A committed visit as now expected, and what the clocks read of it: the one rule every
read of tickets' clocks (the board; through `clocks.clocks_as_expected` the at-risk
worklist, the ticket list and page and the engineer's own tickets) projects a visit
through, so that none disagrees with the board about a visit pushed behind its
engineer's overrunning job, planned past its promise, set off late or running past its
planned end on site (issue 16)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.durations import DurationLog
from dispatch.models import Assignment, AssignmentStatus, TicketStatus
from dispatch.promises import Clock
from dispatch.snapshot import duration_log, projected_visit, work_as_expected

# The visits read: assigned (not set off: pushed behind the work before it) and under way.
_VISITING = frozenset({TicketStatus.ASSIGNED, TicketStatus.EN_ROUTE, TicketStatus.ON_SITE})


class _Open(Protocol):
    """What is read of a ticket: a `Ticket` or a plain row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> TicketStatus: ...


@dataclass(frozen=True, slots=True)
class ExpectedVisit:
    """A ticket's committed visit as now expected, with its planned times.

    Not set off (assigned): departs at its planned time pushed behind the work before it,
    not before now, drive and time on site as planned (`dispatch.snapshot.projected_visit`,
    the re-dispatch review's rule, on its snapshot's pushes, `Snapshot.delay`). En route:
    departed when he set off, arrives his planned drive later, not before now, and is done
    his planned time on site after that (`dispatch.snapshot.en_route_visit`). On site:
    arrived when he did, done when his job's duration says, past its planned end the overrun
    rule (`dispatch.snapshot.on_site_ends`). The times under way are those the snapshot
    pushes his next visits behind (`dispatch.snapshot.work_as_expected`).

    ``overdue``: the steps due by now that have not happened, which the times above read
    as happening now: DEPART, not set off past its (pushed) departure; ARRIVE, en route
    past his planned drive without an arrival. The board shows them as the server read
    them instead of comparing times itself."""

    assignment_id: int
    departs_at: datetime  # once set off: when he did
    arrives_at: datetime  # once on site: when he did
    fixes_at: datetime
    pushed_s: int  # how far behind the work before it (0: as planned, or set off)
    late_s: int  # how much later than planned it departs (or departed, once set off)
    planned: tuple[datetime, datetime, datetime]  # the assignment's departs, arrives, fixes
    overdue: tuple[Clock, ...] = ()

    @property
    def pushed_min(self) -> int:
        """``pushed_s`` in whole minutes, rounded up: a push of 10 s still reads "+1 min"."""
        return -(-self.pushed_s // 60)

    def times(self) -> dict[Clock, tuple[datetime, datetime]]:
        """Each visit clock's expected and planned time (a clock whose event is recorded
        reads its event: `read_clocks`)."""
        seen = (self.departs_at, self.arrives_at, self.fixes_at)
        clocks = (Clock.DEPART, Clock.ARRIVE, Clock.FIX)
        return {c: (at, plan) for c, at, plan in zip(clocks, seen, self.planned, strict=True)}


def expected_visits(
    session: Session, tickets: Iterable[_Open], *, now: datetime,
    durations: DurationLog | None = None, assignments: Sequence[Any] | None = None,
) -> dict[int, ExpectedVisit]:  # fmt: skip
    """Each assigned, en-route or on-site ticket's visit as now expected (`ExpectedVisit`),
    by ticket id (a visit under way whose departure or arrival is not recorded: none).

    A fixed number of queries however many tickets: their active assignments (unless the
    caller has read them: ``assignments``, rows with `Assignment`'s columns), and only when
    some visit has a schedule, the log of finished jobs (``durations`` when the caller has
    it) and their engineers' committed work as the snapshot reads it (`work_as_expected`).
    """
    status = {t.id: t.status for t in tickets if t.status in _VISITING}
    if not status:
        return {}
    if assignments is None:
        assignments = session.execute(
            select(Assignment.id, Assignment.ticket_id, Assignment.engineer_id,
                   Assignment.departs_at, Assignment.arrives_at, Assignment.fixes_at)
            .where(Assignment.status == AssignmentStatus.ACTIVE,
                   Assignment.ticket_id.in_(sorted(status)))
            .order_by(Assignment.engineer_id, Assignment.arrives_at, Assignment.id)
        ).all()  # fmt: skip
    visits = [a for a in assignments if a.ticket_id in status and a.fixes_at is not None]
    if not visits:
        return {}
    log = duration_log(session) if durations is None else durations
    work = work_as_expected(
        session, now=now, engineer_ids={a.engineer_id for a in visits}, durations=log
    )
    epoch = now.replace(microsecond=0)  # the snapshot's own, as the review reads it

    def offset(at: datetime) -> int:
        return int((at - epoch).total_seconds())

    def at(offset: int) -> datetime:
        return epoch + timedelta(seconds=offset)

    out = {}
    for a in visits:
        planned = (a.departs_at, a.arrives_at, a.fixes_at)
        overdue: tuple[Clock, ...] = ()
        if status[a.ticket_id] is TicketStatus.ASSIGNED:
            pushed = work.delays.get(a.engineer_id, {}).get(a.ticket_id, 0)
            leaves, arrives, ends = projected_visit(
                offset(a.departs_at), offset(a.arrives_at), offset(a.fixes_at), pushed=pushed,
                now=offset(now),
            )  # fmt: skip
            if offset(a.departs_at) + pushed < offset(now):
                overdue = (Clock.DEPART,)
        else:
            going = work.under_way.get(a.ticket_id)
            if going is None:  # his departure or arrival not recorded: nothing to read
                continue
            pushed, arrives, ends = 0, going.arrives, going.ends
            leaves = offset(a.departs_at) if going.departed is None else going.departed
            drive = offset(a.arrives_at) - offset(a.departs_at)
            if status[a.ticket_id] is TicketStatus.EN_ROUTE and leaves + drive < offset(now):
                overdue = (Clock.ARRIVE,)
        late = leaves - offset(a.departs_at)
        out[a.ticket_id] = ExpectedVisit(
            a.id, at(leaves), at(arrives), at(ends), pushed, late, planned, overdue
        )
    return out


class _Deadlines(Protocol):
    """A ticket's id and its clocks' deadlines (a `Ticket` or a row of its columns)."""

    @property
    def id(self) -> int: ...
    @property
    def depart_by(self) -> datetime | None: ...
    @property
    def arrive_by(self) -> datetime | None: ...
    @property
    def fix_by(self) -> datetime | None: ...


def projections_of(
    expected: Mapping[int, ExpectedVisit], ticket: _Deadlines, *, margin: timedelta
) -> dict[Clock, datetime] | None:
    """What `read_clocks` projects a ticket's clocks at (None: as without a projection).

    Each clock of the visit is projected at its expected time once that is later than
    planned (pushed behind his overrunning job, set off late, on site past its planned
    end), or, on time, when it misses its promise or keeps it only within the at-risk
    ``margin``: a plan that arrives after its promise reads at risk now, not once the
    deadline has passed; the others read as before."""
    visit = expected.get(ticket.id)
    if visit is None:
        return None
    deadline = {Clock.DEPART: ticket.depart_by, Clock.ARRIVE: ticket.arrive_by,
                Clock.FIX: ticket.fix_by}  # fmt: skip
    out = {}
    for clock, (at, planned) in visit.times().items():
        by = deadline[clock]
        if at > planned or (by is not None and at > by - margin):
            out[clock] = at
    return out or None
