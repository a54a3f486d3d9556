"""A visit behind an overrun, as the re-dispatch, board and worklist tests arrange it:
Haizhu on site since `T0` at a job planned for 30 min (the 90 % quantile of `overrun_log`),
his next visit confirmed behind it; within 30 min the plan holds, past it he is expected
on site until T0 + 270 min, which pushes the next visit past its arrival promise."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.assign import confirm_assignment
from dispatch.clocks import ClockReading
from dispatch.durations import DurationLog
from dispatch.models import Assignment, PromisePolicy, Ticket, TicketType
from dispatch.ticket_views import TicketFilter, clocks_of, list_tickets, view_ticket, view_tickets
from tests.dispatch.test_redispatch_overrun import _on_site
from tests.dispatch_world import DispatchWorld
from tests.ticket_builders import T0, open_ticket

MIN = 60
WITHIN = T0 + timedelta(minutes=25)  # his job within its plan (30 min)
PAST = T0 + timedelta(minutes=40)  # 10 min past it: expected on site until T0 + 270 min


def overrun_log(session: Session) -> DurationLog:
    """At the 90 % quantile, 17 jobs of 1 min, one of 30 and two of 270: planned 30 min, as
    the type's standard (the mean is 29.35 min); one past that has only the two 270-minute
    jobs longer, so it is expected to end 270 min after it began."""
    type_id = session.scalars(select(TicketType.id)).one()
    minutes = [1] * 17 + [30] + [270] * 2
    return DurationLog.of((type_id, 30 * MIN, m * MIN) for m in minutes)


class Behind(NamedTuple):
    """The next visit (`nxt`), its ticket (with an arrival promise) and the log to plan by."""

    nxt: Assignment
    ticket: Ticket
    log: DurationLog


def behind_an_overrun(session: Session, dw: DispatchWorld) -> Behind:
    """Haizhu on site since `T0` (30-minute jobs, planned at the 90 % quantile of at least 5
    jobs) with his next visit confirmed behind it."""
    session.execute(update(TicketType).values(service_min=30))
    session.execute(update(PromisePolicy).values(plan_duration_pct=90, plan_min_jobs=5))
    _, nxt = _on_site(session, dw, T0)
    ticket = session.get(Ticket, nxt.ticket_id)
    assert ticket is not None
    assert ticket.arrive_by is not None
    return Behind(nxt, ticket, overrun_log(session))


def another_visit_behind(session: Session, dw: DispatchWorld) -> Ticket:
    """A second (general) ticket confirmed to Haizhu behind the same overrun: pushed too."""
    later = open_ticket(session, dw.base, severity="general")
    confirm_assignment(
        session, ticket_id=later.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher,
        now=T0, travel=opt.GeodesicTravelTimes(),
    )  # fmt: skip
    return later


def every_read(
    session: Session, ticket_id: int, now: datetime, log: DurationLog
) -> list[list[ClockReading]]:
    """The ticket's clocks as each read of tickets shows them at `now`: the ticket list, the
    ticket page, the engineer's own tickets' views and `clocks_of`."""
    page = list_tickets(
        session, filters=TicketFilter(), now=now, after=None, limit=50, durations=log
    )
    (listed,) = [v for v in page.items if v.id == ticket_id]
    ticket = view_ticket(session, ticket_id=ticket_id, now=now, durations=log)
    (own,) = view_tickets(session, [ticket.ticket], now=now, durations=log)
    only = clocks_of(session, [ticket.ticket], now=now, durations=log)[ticket_id]
    return [listed.clocks, ticket.clocks, own.clocks, only]


@contextmanager
def statements(session: Session) -> Iterator[list[str]]:
    """The SQL statements run on the session's connection while the block runs (what was
    pending written before, so that only the reads count)."""
    session.flush()
    seen: list[str] = []
    connection = session.connection()

    def note(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(connection, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(connection, "before_cursor_execute", note)
