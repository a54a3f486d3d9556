"""An assigned visit as now expected, and what the clocks read of it: the one rule every
read of tickets' clocks (the board; through `clocks.clocks_as_expected` the at-risk
worklist, the ticket list and page and the engineer's own tickets) projects a visit
through, so that none disagrees with the board about a visit pushed behind its
engineer's overrunning job, or planned past its promise (issue 16)."""

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
from dispatch.snapshot import duration_log, projected_visit, pushed_visits


class _Open(Protocol):
    """What is read of a ticket: a `Ticket` or a plain row of its columns."""

    @property
    def id(self) -> int: ...
    @property
    def status(self) -> TicketStatus: ...


@dataclass(frozen=True, slots=True)
class ExpectedVisit:
    """An assigned ticket's committed visit (not set off) as now expected: departs at its
    planned time pushed behind the work before it, not before now, drive and time on site
    as planned (`dispatch.snapshot.projected_visit`, the re-dispatch review's rule, on
    `dispatch.snapshot.pushed_visits`, its snapshot's `Snapshot.delay`)."""

    assignment_id: int
    departs_at: datetime
    arrives_at: datetime
    fixes_at: datetime
    pushed_s: int  # how far behind the work before it (0: as planned)
    late_s: int  # how much later than planned it departs (pushed, or its departure past)

    @property
    def pushed_min(self) -> int:
        """``pushed_s`` in whole minutes, rounded up: a push of 10 s still reads "+1 min"."""
        return -(-self.pushed_s // 60)

    @property
    def projections(self) -> dict[Clock, datetime] | None:
        """What `read_clocks` projects the pending clocks at: the expected times once they
        are later than planned; None while the plan holds (then `projections_of` projects
        only the clocks the plan itself misses, at the planned times)."""
        if self.late_s <= 0:
            return None
        return {Clock.DEPART: self.departs_at, Clock.ARRIVE: self.arrives_at,
                Clock.FIX: self.fixes_at}  # fmt: skip


def expected_visits(
    session: Session, tickets: Iterable[_Open], *, now: datetime,
    durations: DurationLog | None = None, assignments: Sequence[Any] | None = None,
) -> dict[int, ExpectedVisit]:  # fmt: skip
    """Each assigned ticket's visit as now expected (`ExpectedVisit`), by ticket id.

    A fixed number of queries however many tickets: their active assignments (unless the
    caller has read them: ``assignments``, rows with `Assignment`'s columns), and only when
    some visit has a schedule, the log of finished jobs (``durations`` when the caller has
    it) and the pushes of their engineers' work (`pushed_visits`).
    """
    waiting = {t.id for t in tickets if t.status is TicketStatus.ASSIGNED}
    if not waiting:
        return {}
    if assignments is None:
        assignments = session.execute(
            select(Assignment.id, Assignment.ticket_id, Assignment.engineer_id,
                   Assignment.departs_at, Assignment.arrives_at, Assignment.fixes_at)
            .where(Assignment.status == AssignmentStatus.ACTIVE,
                   Assignment.ticket_id.in_(sorted(waiting)))
            .order_by(Assignment.engineer_id, Assignment.arrives_at, Assignment.id)
        ).all()  # fmt: skip
    visits = [a for a in assignments if a.ticket_id in waiting and a.fixes_at is not None]
    if not visits:
        return {}
    log = duration_log(session) if durations is None else durations
    pushes = pushed_visits(
        session, now=now, engineer_ids={a.engineer_id for a in visits}, durations=log
    )
    epoch = now.replace(microsecond=0)  # the snapshot's own, as the review reads it

    def offset(at: datetime) -> int:
        return int((at - epoch).total_seconds())

    out = {}
    for a in visits:
        pushed = pushes.get(a.engineer_id, {}).get(a.ticket_id, 0)
        leaves, arrives, ends = projected_visit(
            offset(a.departs_at), offset(a.arrives_at), offset(a.fixes_at), pushed=pushed,
            now=offset(now),
        )  # fmt: skip
        at = [epoch + timedelta(seconds=x) for x in (leaves, arrives, ends)]
        late = leaves - offset(a.departs_at)
        out[a.ticket_id] = ExpectedVisit(a.id, at[0], at[1], at[2], pushed, late)
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

    A visit later than planned projects every pending clock at its expected times. While
    the plan holds, only the clocks the plan itself misses, or keeps within the at-risk
    ``margin``, are projected (at the planned times): a plan that arrives after its promise
    reads at risk now, not once the deadline has passed; the others read as before."""
    visit = expected.get(ticket.id)
    if visit is None:
        return None
    if visit.projections is not None:
        return visit.projections
    planned = {Clock.DEPART: (visit.departs_at, ticket.depart_by),
               Clock.ARRIVE: (visit.arrives_at, ticket.arrive_by),
               Clock.FIX: (visit.fixes_at, ticket.fix_by)}  # fmt: skip
    missed = {c: at for c, (at, by) in planned.items() if by is not None and at > by - margin}
    return missed or None
