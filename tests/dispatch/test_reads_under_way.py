"""A visit under way reads as now expected too (`dispatch.expected`, issue 16): en route, it
arrives its planned drive after he set off (not before now: past that without an arrival it
is arriving now, overdue) and is done its planned time on site later; on site, it ends when
his job's duration says (`dispatch.snapshot.on_site_ends`, past its planned end the
overrun rule). An engineer who set off 40 minutes late, or a job running past its planned
end, reads at risk on the board, the worklist, every ticket read and My day at once, not
once the deadline has passed; while the visit keeps its plan, every read is as before. The
visits after it are pushed behind the same end (one rule). A fixed number of queries."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import NamedTuple

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from db import Role
from dispatch.assign import confirm_assignment
from dispatch.board import Board, read_board
from dispatch.clocks import ClockReading, at_risk_worklist, read_clocks
from dispatch.durations import DurationLog
from dispatch.models import Assignment, AssignmentStatus, Ticket, TicketStatus
from dispatch.my_day import my_day
from dispatch.promises import Clock, ClockState
from dispatch.tickets import transition
from tests.builders import make_user
from tests.dispatch.overrun_world import (
    PAST,
    WITHIN,
    another_visit_behind,
    behind_an_overrun,
    every_read,
    statements,
)
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0, open_ticket

LOG = DurationLog()  # no finished job: each job planned at its type's standard


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session, with_part=False)


class Set(NamedTuple):
    """The visit he set off for (`visit`: its assignment), its ticket, when he left, and the
    visit confirmed behind it (`nxt`; None: none)."""

    visit: Assignment
    ticket: Ticket
    departed: datetime
    nxt: Assignment | None


def _active(session: Session, ticket_id: int) -> Assignment:
    return session.scalars(
        select(Assignment).where(
            Assignment.ticket_id == ticket_id, Assignment.status == AssignmentStatus.ACTIVE
        )
    ).one()


def set_off(
    session: Session, dw: DispatchWorld, *, late: timedelta, then_another: bool = False
) -> Set:
    """Haizhu confirmed at T0 to the world's urgent ticket (leave 08:00, arrive 08:15:42, on
    site 60 min; arrive by 10:00, margin 15 min), and with ``then_another`` a general one
    behind it, then set off ``late`` after his planned time."""
    confirm_assignment(
        session, ticket_id=dw.ticket.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher,
        now=T0, travel=opt.GeodesicTravelTimes(),
    )  # fmt: skip
    nxt = _active(session, another_visit_behind(session, dw).id) if then_another else None
    visit = _active(session, dw.ticket.id)
    departed = visit.departs_at + late
    transition(session, ticket_id=dw.ticket.id, target=TicketStatus.EN_ROUTE,
               user=dw.base.dispatcher, now=departed)  # fmt: skip
    return Set(visit, dw.ticket, departed, nxt)


def _row(board: Board, ticket_id: int) -> list[ClockReading]:
    (row,) = [t for t in board.tickets if t.ticket.id == ticket_id]
    return row.clocks


def _clock(clocks: list[ClockReading], clock: Clock) -> ClockReading:
    return next(c for c in clocks if c.clock is clock)


def _margin(board: Board, ticket_id: int) -> timedelta:
    (row,) = [t for t in board.tickets if t.ticket.id == ticket_id]
    return timedelta(minutes=row.ticket.at_risk_margin_min)


def test_set_off_late_the_arrival_reads_at_risk_before_the_deadline(
    session: Session, dw: DispatchWorld
) -> None:
    # 95 min late: leaves 09:35, expected 09:50:42 against "arrive by 10:00" (margin 15)
    went = set_off(session, dw, late=timedelta(minutes=95))
    visit, ticket = went.visit, went.ticket
    drive, on_site = visit.arrives_at - visit.departs_at, visit.fixes_at - visit.arrives_at
    now = went.departed + timedelta(minutes=1)
    board = read_board(session, region_id=dw.base.region.id, now=now, durations=LOG)
    seen = board.expected[ticket.id]
    assert (seen.assignment_id, seen.pushed_s, seen.pushed_min) == (visit.id, 0, 0)
    assert seen.departs_at == went.departed  # when he left, not when he planned to
    assert seen.arrives_at == went.departed + drive
    assert seen.fixes_at == went.departed + drive + on_site

    clocks = _row(board, ticket.id)
    plain = read_clocks(ticket, margin=_margin(board, ticket.id), now=now)
    assert _clock(plain, Clock.ARRIVE).state is ClockState.ON_TIME  # as planned: on time
    arrive = _clock(clocks, Clock.ARRIVE)
    assert ticket.arrive_by is not None
    assert ticket.fix_by is not None
    assert arrive.state is ClockState.AT_RISK
    assert arrive.slack_min == (ticket.arrive_by - seen.arrives_at).total_seconds() // 60
    fix = _clock(clocks, Clock.FIX)
    assert fix.slack_min == (ticket.fix_by - seen.fixes_at).total_seconds() // 60
    assert _clock(clocks, Clock.DEPART) == _clock(plain, Clock.DEPART)  # his departure's event

    # every read agrees with the board; the worklist has it now, by its arrival
    assert every_read(session, ticket.id, now, LOG) == [clocks] * 4
    (item,) = at_risk_worklist(session, now=now, durations=LOG)
    assert (item.ticket.id, item.clocks) == (ticket.id, clocks)


def test_past_its_expected_arrival_he_is_arriving_now(session: Session, dw: DispatchWorld) -> None:
    went = set_off(session, dw, late=timedelta(minutes=95))
    on_site = went.visit.fixes_at - went.visit.arrives_at
    now = went.departed + timedelta(minutes=20)  # 09:55: due 09:50:42, no arrival recorded
    board = read_board(session, region_id=dw.base.region.id, now=now, durations=LOG)
    seen = board.expected[went.ticket.id]
    assert (seen.arrives_at, seen.fixes_at) == (now, now + on_site)
    clocks = _row(board, went.ticket.id)
    arrive = _clock(clocks, Clock.ARRIVE)
    assert (arrive.state, arrive.slack_min) == (ClockState.AT_RISK, 5)  # 10:00 - 09:55
    fix = _clock(clocks, Clock.FIX)
    assert went.ticket.fix_by is not None
    assert fix.slack_min == (went.ticket.fix_by - now - on_site).total_seconds() // 60


def test_the_board_says_which_steps_and_clocks_are_overdue_at_its_now(
    session: Session, dw: DispatchWorld
) -> None:
    """The server's word, so the board page never compares times itself: the visit's
    arrival is overdue once his planned drive is past without an arrival, a clock once its
    deadline is past with its event pending (not a clock whose event came late)."""
    went = set_off(session, dw, late=timedelta(minutes=95))  # due 09:50:42; arrive by 10:00
    ticket = went.ticket
    assert ticket.arrive_by is not None
    assert ticket.depart_by is not None
    assert went.departed > ticket.depart_by  # left late: the depart clock met late

    def read(now: datetime) -> tuple[tuple[Clock, ...], set[Clock]]:
        board = read_board(session, region_id=dw.base.region.id, now=now, durations=LOG)
        late = {c.clock for c in _row(board, ticket.id) if c.overdue}
        return board.expected[ticket.id].overdue, late

    assert read(went.departed + timedelta(minutes=1)) == ((), set())  # driving, on time
    assert read(went.departed + timedelta(minutes=20)) == ((Clock.ARRIVE,), set())  # 09:55
    assert read(ticket.arrive_by + timedelta(minutes=1)) == ((Clock.ARRIVE,), {Clock.ARRIVE})
    board = read_board(session, region_id=dw.base.region.id, now=ticket.arrive_by, durations=LOG)
    depart = _clock(_row(board, ticket.id), Clock.DEPART)
    assert (depart.state, depart.overdue) == (ClockState.BREACHED, False)  # late, but done
    assert not _clock(_row(board, ticket.id), Clock.ARRIVE).overdue  # due now: not yet past


def test_a_visit_not_set_off_by_its_departure_is_overdue(
    session: Session, dw: DispatchWorld
) -> None:
    confirm_assignment(
        session, ticket_id=dw.ticket.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher,
        now=T0, travel=opt.GeodesicTravelTimes(),
    )  # fmt: skip
    visit = _active(session, dw.ticket.id)
    for after, overdue in ((timedelta(minutes=-1), ()), (timedelta(minutes=5), (Clock.DEPART,))):
        now = visit.departs_at + after
        board = read_board(session, region_id=dw.base.region.id, now=now, durations=LOG)
        assert board.expected[dw.ticket.id].overdue == overdue, after


def test_set_off_on_time_every_read_is_as_before(session: Session, dw: DispatchWorld) -> None:
    went = set_off(session, dw, late=timedelta(0))
    now = went.departed + timedelta(minutes=5)
    board = read_board(session, region_id=dw.base.region.id, now=now, durations=LOG)
    seen = board.expected[went.ticket.id]
    v = went.visit
    assert (seen.departs_at, seen.arrives_at, seen.fixes_at) == (
        v.departs_at, v.arrives_at, v.fixes_at,
    )  # fmt: skip
    plain = read_clocks(went.ticket, margin=_margin(board, went.ticket.id), now=now)
    assert _row(board, went.ticket.id) == plain
    assert every_read(session, went.ticket.id, now, LOG) == [plain] * 4


def test_the_visit_after_a_late_departure_is_pushed_behind_its_expected_end(
    session: Session, dw: DispatchWorld
) -> None:
    """One rule: his next visit departs when the one he is driving to is expected done."""
    went = set_off(session, dw, late=timedelta(minutes=95), then_another=True)
    nxt = went.nxt
    assert nxt is not None
    now = went.departed + timedelta(minutes=1)
    board = read_board(session, region_id=dw.base.region.id, now=now, durations=LOG)
    ahead, behind = board.expected[went.ticket.id], board.expected[nxt.ticket_id]
    assert nxt.departs_at < ahead.fixes_at  # planned to leave before that end
    assert behind.departs_at == ahead.fixes_at
    assert behind.pushed_s == (ahead.fixes_at - nxt.departs_at).total_seconds()


def test_a_job_on_site_past_its_planned_end_reads_its_fix_at_risk(
    session: Session, dw: DispatchWorld
) -> None:
    # on site since T0 at a job planned for 30 min; past it he is expected until T0 + 270 min
    behind = behind_an_overrun(session, dw)
    (first,) = session.scalars(select(Ticket).where(Ticket.status == TicketStatus.ON_SITE))
    first.fix_by = T0 + timedelta(hours=4)  # 12:00: the overrun's expected end misses it
    session.flush()
    region = dw.base.region.id

    # within its plan: expected done 30 min after he arrived, on time
    board = read_board(session, region_id=region, now=WITHIN, durations=behind.log)
    seen = board.expected[first.id]
    assert first.arrived_at == T0
    assert seen.arrives_at == T0
    assert seen.fixes_at == T0 + timedelta(minutes=30)
    fix = _clock(_row(board, first.id), Clock.FIX)
    assert fix.state is ClockState.ON_TIME

    # past it: done when the log says (270 min after he began), past the fix promise
    board = read_board(session, region_id=region, now=PAST, durations=behind.log)
    seen = board.expected[first.id]
    assert seen.fixes_at == T0 + timedelta(minutes=270)
    clocks = _row(board, first.id)
    plain = read_clocks(first, margin=_margin(board, first.id), now=PAST)
    assert _clock(plain, Clock.FIX).state is ClockState.ON_TIME
    fix = _clock(clocks, Clock.FIX)
    assert (fix.state, fix.slack_min) == (ClockState.AT_RISK, -30)
    for c in (Clock.RESPOND, Clock.DEPART, Clock.ARRIVE):  # events: as without a projection
        if any(p.clock is c for p in plain):
            assert _clock(clocks, c) == _clock(plain, c)
    assert every_read(session, first.id, PAST, behind.log) == [clocks] * 4
    assert first.id in {
        i.ticket.id for i in at_risk_worklist(session, now=PAST, durations=behind.log)
    }
    # the visit behind it departs at that same end
    assert board.expected[behind.ticket.id].departs_at == seen.fixes_at


def test_my_day_shows_the_board_expected_times_of_his_visit_under_way(
    session: Session, dw: DispatchWorld
) -> None:
    user = make_user(session, Role.ENGINEER, key=f"spk_test_haizhu_{dw.haizhu.id}")
    dw.haizhu.user_id = user.id
    went = set_off(session, dw, late=timedelta(minutes=95))
    now = went.departed + timedelta(minutes=1)
    board = read_board(session, region_id=dw.base.region.id, now=now, durations=LOG)
    seen = board.expected[went.ticket.id]
    (item,) = my_day(session, user=user, now=now, durations=LOG)
    v = item.visit
    assert v is not None
    assert (v.departs_at, v.arrives_at, v.fixes_at) == (
        went.visit.departs_at, went.visit.arrives_at, went.visit.fixes_at,
    )  # fmt: skip
    assert (v.expected_departs_at, v.expected_arrives_at, v.expected_fixes_at) == (
        seen.departs_at, seen.arrives_at, seen.fixes_at,
    )  # fmt: skip
    assert v.pushed_min == 0  # late because he left late, not pushed behind other work
    assert item.view.clocks == _row(board, went.ticket.id)


def test_more_visits_under_way_cost_no_more_queries(session: Session, dw: DispatchWorld) -> None:
    went = set_off(session, dw, late=timedelta(minutes=95))
    now = went.departed + timedelta(minutes=1)
    region = dw.base.region.id
    with statements(session) as one:
        read_board(session, region_id=region, now=now, durations=LOG)
    with statements(session) as listed_one:
        at_risk_worklist(session, now=now, durations=LOG)
    # Panyu on site at another ticket, set off late too
    other = open_ticket(session, dw.base, severity="general")
    confirm_assignment(
        session, ticket_id=other.id, engineer_id=dw.panyu.id, user=dw.base.dispatcher,
        now=T0, travel=opt.GeodesicTravelTimes(),
    )  # fmt: skip
    for step in (TicketStatus.EN_ROUTE, TicketStatus.ON_SITE):
        transition(session, ticket_id=other.id, target=step, user=dw.base.dispatcher, now=now)
    with statements(session) as two:
        board = read_board(session, region_id=region, now=now, durations=LOG)
    with statements(session) as listed_two:
        at_risk_worklist(session, now=now, durations=LOG)
    assert {went.ticket.id, other.id} <= set(board.expected)
    assert len(two) == len(one)
    assert len(listed_two) == len(listed_one)


def test_my_day_says_what_is_overdue_as_the_board_does(session: Session, dw: DispatchWorld) -> None:
    """His phone's page shows "not arrived yet" and "overdue" from the server's word, not by
    its own clock: the same steps and clocks the board reads at the same now."""
    user = make_user(session, Role.ENGINEER, key=f"spk_test_haizhu_{dw.haizhu.id}")
    dw.haizhu.user_id = user.id
    went = set_off(session, dw, late=timedelta(minutes=95))  # due 09:50:42; arrive by 10:00
    assert went.ticket.arrive_by is not None
    for now, steps in (
        (went.departed + timedelta(minutes=1), ()),
        (went.departed + timedelta(minutes=20), (Clock.ARRIVE,)),
        (went.ticket.arrive_by + timedelta(minutes=1), (Clock.ARRIVE,)),
    ):
        board = read_board(session, region_id=dw.base.region.id, now=now, durations=LOG)
        (item,) = my_day(session, user=user, now=now, durations=LOG)
        assert item.visit is not None
        assert item.visit.overdue == board.expected[went.ticket.id].overdue == steps, now
        late = {c.clock for c in item.view.clocks if c.overdue}
        assert late == {c.clock for c in _row(board, went.ticket.id) if c.overdue}, now
    assert late == {Clock.ARRIVE}  # past the arrive deadline without an arrival
