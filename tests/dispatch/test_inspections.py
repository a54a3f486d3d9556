"""Preventive inspections: generated per site and period, once, with a wide window."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import db
from dispatch.clocks import at_risk_worklist
from dispatch.errors import InvalidTicketError
from dispatch.inspections import generate_inspections, period_of
from dispatch.models import InspectionFrequency, Ticket, TicketStatus, TicketType
from dispatch.planning import PlanRequest, prepare_plan
from dispatch.promises import Clock
from dispatch.snapshot import job_for, load_snapshot
from dispatch.tickets import change_severity
from tests.ticket_builders import (
    T0,
    TicketWorld,
    make_ticket_type,
    make_ticket_world,
    open_ticket,
)

NOVEMBER = date(2026, 11, 1)


@pytest.fixture
def w(session: Session) -> TicketWorld:
    world = make_ticket_world(session)
    world.policy.inspection_frequency = InspectionFrequency.MONTHLY
    make_ticket_type(session, world.line, fault_class="inspection", service_min=45)
    return world


def _run(session: Session, w: TicketWorld, month: date = NOVEMBER) -> tuple[int, ...]:
    return generate_inspections(session, month=month, user=w.dispatcher, now=T0).created


class TestPeriodOf:
    def test_monthly_every_month_quarterly_from_january(self) -> None:
        monthly = period_of(NOVEMBER, InspectionFrequency.MONTHLY)
        assert monthly is not None
        assert (monthly[0].date(), monthly[1].date()) == (NOVEMBER, date(2026, 12, 1))
        assert period_of(NOVEMBER, InspectionFrequency.QUARTERLY) is None  # Jan, Apr, Jul, Oct
        october = period_of(date(2026, 10, 1), InspectionFrequency.QUARTERLY)
        assert october is not None
        assert october[1].date() == date(2027, 1, 1)  # a quarter, across the year's end


class TestGenerateInspections:
    def test_opens_one_low_severity_ticket_with_a_seven_day_window(
        self, session: Session, w: TicketWorld
    ) -> None:
        (ticket_id,) = _run(session, w)
        t = session.get(Ticket, ticket_id)
        assert t is not None
        kind = session.get(TicketType, t.ticket_type_id)
        assert kind is not None
        assert kind.fault_class == "inspection"
        assert (t.site_id, t.status, t.severity) == (w.site.id, TicketStatus.NEW, "general")
        assert t.agreed_arrival_at == T0  # the period began already: the window opens now
        assert t.arrive_by == T0 + timedelta(days=7)
        assert t.fix_by == t.arrive_by + timedelta(minutes=45)

    def test_an_inspection_keeps_its_window_not_a_faults_clocks(
        self, session: Session, w: TicketWorld
    ) -> None:
        # preventive work: nobody called, nobody must answer in 2 h or leave at once
        (inspection_id,) = _run(session, w)
        t = session.get(Ticket, inspection_id)
        assert t is not None
        assert (t.respond_by, t.depart_by) == (None, None)
        fault = open_ticket(session, w, severity="general")  # respond by T0 + 2 h
        worklist = [i.ticket.id for i in at_risk_worklist(session, now=T0 + timedelta(hours=3))]
        assert fault.id in worklist
        assert inspection_id not in worklist  # not buried under inspections
        # near its window's end the inspection is at risk, on its own (arrival) clock
        assert t.arrive_by is not None
        late = at_risk_worklist(session, now=t.arrive_by - timedelta(minutes=5))
        (item,) = [i for i in late if i.ticket.id == inspection_id]
        assert item.urgent_clock.clock is Clock.ARRIVE

    def test_the_window_is_as_wide_as_the_policy_says(
        self, session: Session, w: TicketWorld
    ) -> None:
        w.policy.inspection_window_days = 3
        (ticket_id,) = _run(session, w)
        t = session.get(Ticket, ticket_id)
        assert t is not None
        assert t.arrive_by == T0 + timedelta(days=3)

    def test_idempotent_per_site_and_period(self, session: Session, w: TicketWorld) -> None:
        assert len(_run(session, w)) == 1
        again = generate_inspections(session, month=NOVEMBER, user=w.dispatcher, now=T0)
        assert again.created == ()
        assert again.existing == ((w.site.id, w.line.id),)

    def test_quarterly_only_in_its_months(self, session: Session, w: TicketWorld) -> None:
        w.policy.inspection_frequency = InspectionFrequency.QUARTERLY
        assert _run(session, w) == ()  # November is not a quarter's first month
        assert len(_run(session, w, date(2026, 10, 1))) == 1  # October's quarter runs to Jan

    def test_nothing_without_a_contract_or_a_catalogue_entry(
        self, session: Session, w: TicketWorld
    ) -> None:
        w.policy.inspection_frequency = InspectionFrequency.NONE
        assert _run(session, w) == ()
        w.policy.inspection_frequency = InspectionFrequency.MONTHLY
        for t in session.scalars(select(TicketType).where(TicketType.fault_class == "inspection")):
            t.fault_class = "other"
        assert _run(session, w) == ()

    def test_a_month_too_far_ahead_is_refused(self, session: Session, w: TicketWorld) -> None:
        with pytest.raises(InvalidTicketError, match="month"):
            _run(session, w, date(2027, 3, 1))

    def test_an_open_inspection_is_carried_into_the_next_plan(
        self, session: Session, w: TicketWorld
    ) -> None:
        (ticket_id,) = _run(session, w)
        # not planned (or dropped by a plan): it stays open, so the region's next plan has it
        prepared = prepare_plan(session, PlanRequest(region_id=w.region.id, time_limit_s=0))
        assert ticket_id in prepared.ticket_ids
        snap = load_snapshot(session, now=T0)
        job = job_for(session, snap, ticket_id)
        # the solver sees the window and the lowest rank (dropped first when the day is full)
        assert (job.not_before, job.arrive_by) == (0, 7 * 86_400)
        assert job.severity_rank == 2


def test_migration_0007_clears_the_fault_clocks_of_stored_inspections(tmp_path: Path) -> None:
    """Inspections stored before the fix lose their respond and depart deadlines; faults keep."""
    engine = db.make_engine(f"sqlite:///{tmp_path}/inspections.db")
    db.upgrade(engine)
    with Session(engine) as s, s.begin():
        w = make_ticket_world(s)
        kind = make_ticket_type(s, w.line, fault_class="inspection", service_min=45)
        old = open_ticket(s, w, ticket_type_id=kind.id, severity="general")
        fault = open_ticket(s, w, severity="general")
        assert old.respond_by is not None  # as generated before the fix
        ids = (old.id, fault.id)
    # foreign keys off while SQLite copies a table (0009 alters promise_policies)
    db.migrate.downgrade(engine, "0006")
    db.upgrade(engine)
    with Session(engine) as s:
        inspected, faulty = (s.get(Ticket, i) for i in ids)
        assert inspected is not None
        assert faulty is not None
        assert (inspected.respond_by, inspected.depart_by) == (None, None)
        assert inspected.arrive_by is not None
        assert faulty.respond_by == T0 + timedelta(hours=2)
    engine.dispose()


def test_a_severity_change_keeps_an_inspections_window(session: Session, w: TicketWorld) -> None:
    (inspection_id,) = _run(session, w)
    t = session.get(Ticket, inspection_id)
    assert t is not None
    window = (t.arrive_by, t.fix_by)
    change_severity(
        session, ticket_id=inspection_id, severity="serious", user=w.dispatcher, now=T0,
        reason="planned before the audit",
    )  # fmt: skip
    assert t.severity == "serious"  # it ranks higher in a plan ...
    assert (t.respond_by, t.depart_by) == (None, None)  # ... without a fault's clocks
    assert (t.arrive_by, t.fix_by) == window
