"""The snapshot bridge and recommendations on stored data (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.assign import confirm_assignment
from dispatch.errors import InvalidTicketError, NotFoundError
from dispatch.models import Absence, Assignment, TicketStatus
from dispatch.pinning import set_pinned
from dispatch.recommend import recommend_ticket
from dispatch.snapshot import job_for, load_snapshot, reused_job
from dispatch.tickets import change_severity, transition
from inventory.reservations import ReserveLine, reserve
from tests.builders import make_site
from tests.dispatch_world import HAIZHU, DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0, make_ticket_type, open_ticket

TRAVEL = opt.GeodesicTravelTimes()


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session)


class TestSnapshot:
    def test_shifts_become_windows_around_now(self, session: Session, dw: DispatchWorld) -> None:
        snap = load_snapshot(session, now=T0)
        by_id = {e.id: e for e in snap.world.engineers}
        # 08:00-20:00 local; now is 16:00 local: the current window ends in 4 h
        assert any(s <= 0 < e == 4 * 3600 for s, e in by_id[dw.haizhu.id].shifts)
        # the night engineer's next window starts at 22:00 local, 6 h from now
        assert min(s for s, _ in by_id[dw.liwan.id].shifts if s > 0) == 6 * 3600

    def test_absence_is_cut_out(self, session: Session, dw: DispatchWorld) -> None:
        session.add(
            Absence(
                engineer_id=dw.haizhu.id,
                starts_at=T0 - timedelta(hours=1),
                ends_at=T0 + timedelta(hours=2),
                reason="sick",
            )
        )
        session.flush()
        shifts = next(
            e.shifts for e in load_snapshot(session, now=T0).world.engineers if e.id == dw.haizhu.id
        )
        assert not any(s <= 0 < e for s, e in shifts)
        assert any(s == 2 * 3600 for s, _ in shifts)

    def test_pick_time_and_courier_transit_are_the_rows_data(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        world = load_snapshot(session, now=T0).world
        depot = next(d for d in world.depots if d.id == dw.depot.id)
        supplier = next(s for s in world.suppliers if s.id == dw.supplier.id)
        # the documented defaults (`inventory.depot_times`): 10 min at the counter, 24 h courier
        assert (depot.pick_s, supplier.transit_s) == (600, 24 * 3600)
        dw.depot.pick_min, dw.supplier.transit_hours = 25, 48
        session.flush()
        world = load_snapshot(session, now=T0).world
        depot = next(d for d in world.depots if d.id == dw.depot.id)
        supplier = next(s for s in world.suppliers if s.id == dw.supplier.id)
        assert (depot.pick_s, supplier.transit_s) == (25 * 60, 48 * 3600)

    def test_depot_stock_is_available_stock(self, session: Session, dw: DispatchWorld) -> None:
        depot = next(d for d in load_snapshot(session, now=T0).world.depots if d.id == dw.depot.id)
        assert depot.stock == {dw.part.id: 2}

    def test_expired_hold_does_not_block(self, session: Session, dw: DispatchWorld) -> None:
        reserve(
            session=session,
            depot_id=dw.depot.id,
            lines=[ReserveLine(dw.part.id, 2)],
            user_id=None,
            now=T0 - timedelta(hours=5),
            lifetime_min=60,
        )
        depot = next(d for d in load_snapshot(session, now=T0).world.depots if d.id == dw.depot.id)
        assert depot.stock == {dw.part.id: 2}
        live = load_snapshot(session, now=T0 - timedelta(hours=4, minutes=30))
        assert next(d for d in live.world.depots if d.id == dw.depot.id).stock == {}

    def test_engineer_on_site_is_busy_there(self, session: Session, dw: DispatchWorld) -> None:
        other = dw.ticket
        other.engineer_id, other.status = dw.panyu.id, TicketStatus.ON_SITE
        other.arrived_at = T0 - timedelta(minutes=10)
        session.flush()
        panyu = next(
            e for e in load_snapshot(session, now=T0).world.engineers if e.id == dw.panyu.id
        )
        assert panyu.busy_until == 50 * 60  # 60 min service, 10 min done
        assert panyu.busy_location == opt.Location(dw.base.site.lat, dw.base.site.lon)

    def test_job_carries_deadlines_parts_and_severity(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        snap = load_snapshot(session, now=T0)
        job = job_for(session, snap, dw.ticket.id)
        assert job.depart_by == 15 * 60  # urgent: depart within 15 min
        assert job.arrive_by == 2 * 3600
        assert job.fix_by == 4 * 3600
        assert job.parts == (opt.PartLine(dw.part.id, 1),)
        assert job.severity_rank == 0
        assert job.skills == {dw.base.line.code: 1}

    def test_general_job_has_no_depart_deadline(self, session: Session, dw: DispatchWorld) -> None:
        general = open_ticket(session, dw.base, severity="general")
        job = job_for(session, load_snapshot(session, now=T0), general.id)
        assert job.depart_by is None
        assert job.arrive_by == 2 * 3600

    def test_a_reused_job_is_job_for_and_follows_the_tickets_changes(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        """`reused_job` keeps the answer on the (shared) snapshot by the ticket's version: a
        change of the ticket is seen at once, flushed or not."""
        snap = load_snapshot(session, now=T0)
        first = reused_job(session, snap, dw.ticket.id)
        assert vars(first) == vars(job_for(session, snap, dw.ticket.id))
        assert vars(reused_job(session, snap, dw.ticket.id)) == vars(first)
        assert first.depart_by == 15 * 60  # urgent
        change_severity(
            session, ticket_id=dw.ticket.id, severity="general", user=dw.base.dispatcher, now=T0
        )
        assert reused_job(session, snap, dw.ticket.id).depart_by is None
        session.flush()  # the version moves on: a new key
        again = reused_job(session, snap, dw.ticket.id)
        assert again.depart_by is None
        assert vars(again) == vars(job_for(session, snap, dw.ticket.id))


class TestRecommend:
    def test_an_assigned_ticket_still_offers_its_own_engineer(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        # Issue 17 (README tour, `spares dispatch recommend` on the tour's assigned ticket):
        # the ticket's own assignment blocked its engineer's time, so he was left out
        # ("shift") or ranked as if busy elsewhere, for the very visit he is booked for.
        confirm_assignment(
            session, ticket_id=dw.ticket.id, engineer_id=dw.haizhu.id,
            user=dw.base.dispatcher, now=T0, travel=TRAVEL,
        )  # fmt: skip
        rec = recommend_ticket(
            session, ticket_id=dw.ticket.id, now=T0, travel=TRAVEL
        ).recommendation
        assert rec.best is not None
        assert rec.best.engineer_id == dw.haizhu.id
        assert rec.best.keeps_all

    def test_nearest_qualified_on_shift_goes_first(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        rec = recommend_ticket(
            session, ticket_id=dw.ticket.id, now=T0, travel=TRAVEL
        ).recommendation
        assert rec.best is not None
        assert rec.best.engineer_id == dw.haizhu.id
        assert rec.best.parts.source == opt.PartsSource.PICKUP
        assert rec.best.parts.depot_id == dw.depot.id
        keepers = {o.engineer_id for o in rec.options if o.keeps_all}
        assert keepers == {dw.haizhu.id}
        # Panyu arrives in time, but the part from stock is swapped after the 2 h swap promise
        panyu = next(o for o in rec.options if o.engineer_id == dw.panyu.id)
        assert {str(c.promise) for c in panyu.promises if not c.kept} == {"swap"}
        # the night engineer can only start at 22:00 local: an option, but a late one, which
        # breaks the urgent ticket's depart promise (15 min) as well as its arrival
        night = next(o for o in rec.options if o.engineer_id == dw.liwan.id)
        assert not night.keeps_all
        assert night.departs_at >= 6 * 3600
        broken = {str(c.promise) for c in night.promises if not c.kept}
        assert {"depart", "arrival"} <= broken
        reasons = {x.engineer_id: x.reason for x in rec.excluded}
        assert reasons[dw.yuexiu.id] == opt.ExclusionReason.SKILL

    def test_a_slower_counter_delays_the_pickup_by_its_pick_time(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        def haizhu() -> opt.Option:
            rec = recommend_ticket(
                session, ticket_id=dw.ticket.id, now=T0, travel=TRAVEL
            ).recommendation
            return next(o for o in rec.options if o.engineer_id == dw.haizhu.id)

        before = haizhu()
        dw.depot.pick_min = 30  # 20 min more than the default 10 at this depot's counter
        session.flush()
        after = haizhu()
        assert after.parts.source == before.parts.source == opt.PartsSource.PICKUP
        assert after.arrives_at - before.arrives_at == 20 * 60

    def test_without_stock_the_part_is_shipped(self, session: Session, dw: DispatchWorld) -> None:
        reserve(
            session=session,
            depot_id=dw.depot.id,
            lines=[ReserveLine(dw.part.id, 2)],
            user_id=None,
            now=T0,
        )
        rec = recommend_ticket(
            session, ticket_id=dw.ticket.id, now=T0, travel=TRAVEL
        ).recommendation
        assert rec.best is not None
        assert rec.best.parts.source == opt.PartsSource.SHIPMENT
        assert rec.best.parts.supplier_id == dw.supplier.id

    def test_closed_ticket_gets_no_options(self, session: Session, dw: DispatchWorld) -> None:
        transition(
            session,
            ticket_id=dw.ticket.id,
            target=TicketStatus.CANCELLED,
            user=dw.base.dispatcher,
            now=T0,
            reason="duplicate",
        )
        with pytest.raises(InvalidTicketError, match="only open tickets"):
            recommend_ticket(session, ticket_id=dw.ticket.id, now=T0, travel=TRAVEL)

    def test_unknown_ticket(self, session: Session, dw: DispatchWorld) -> None:
        with pytest.raises(NotFoundError):
            recommend_ticket(session, ticket_id=10**9, now=T0, travel=TRAVEL)

    def test_limit_is_bounded(self, session: Session, dw: DispatchWorld) -> None:
        with pytest.raises(InvalidTicketError, match="limit"):
            recommend_ticket(session, ticket_id=dw.ticket.id, now=T0, travel=TRAVEL, limit=0)


class TestCommittedWork:
    """A busy engineer is ranked from the end of the work already committed to him."""

    # Dongguan (Songshan Lake), about 100 minutes' drive from Haizhu.
    FAR = (22.80, 113.95)

    @pytest.fixture
    def far(self, session: Session, dw: DispatchWorld) -> tuple[int, opt.Option]:
        """Haizhu confirmed on a short job 100 min away, leaving at once: (ticket, option)."""
        self.short = make_ticket_type(session, dw.base.line, service_min=15)
        far_site = make_site(
            session, dw.base.region, dw.base.contract, lat=self.FAR[0], lon=self.FAR[1]
        )
        far = open_ticket(
            session, dw.base, site_id=far_site.id, asset_id=None, severity="general",
            ticket_type_id=self.short.id,
        )  # fmt: skip
        confirmed = confirm_assignment(
            session, ticket_id=far.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher,
            now=T0, travel=TRAVEL,
        )  # fmt: skip
        assert confirmed.option.travel_s > 95 * 60
        return far.id, confirmed.option

    def test_next_drive_starts_at_the_committed_site_after_its_end(
        self, session: Session, dw: DispatchWorld, far: tuple[int, opt.Option]
    ) -> None:
        _, job = far
        # A general ticket where Haizhu stands now: 0 min from his recorded position, but
        # he will be 100 min away, at the far site, when that job ends (about +115 min).
        here = make_site(session, dw.base.region, dw.base.contract, lat=HAIZHU[0], lon=HAIZHU[1])
        near = open_ticket(
            session, dw.base, site_id=here.id, asset_id=None, severity="general",
            ticket_type_id=self.short.id,
        )  # fmt: skip
        rec = recommend_ticket(session, ticket_id=near.id, now=T0, travel=TRAVEL).recommendation
        mine = next(o for o in rec.options if o.engineer_id == dw.haizhu.id)
        assert mine.departs_at >= job.fixes_at
        assert mine.travel_s > 95 * 60  # the drive back from the far site, not 0.1 min
        assert mine.arrives_at >= job.fixes_at + 95 * 60
        assert not mine.keeps_all  # arrival by +120 min is out of his reach
        assert rec.best is not None
        assert rec.best.engineer_id != dw.haizhu.id

    def test_snapshot_keeps_him_busy_at_the_committed_site(
        self, session: Session, dw: DispatchWorld, far: tuple[int, opt.Option]
    ) -> None:
        _, job = far
        snap = load_snapshot(session, now=T0)
        haizhu = next(e for e in snap.world.engineers if e.id == dw.haizhu.id)
        assert haizhu.busy_until == job.fixes_at
        assert haizhu.busy_location == opt.Location(*self.FAR)

    def test_en_route_he_is_busy_until_the_planned_fix_not_now_plus_service(
        self, session: Session, dw: DispatchWorld, far: tuple[int, opt.Option]
    ) -> None:
        ticket_id, job = far
        transition(
            session, ticket_id=ticket_id, target=TicketStatus.EN_ROUTE,
            user=dw.base.dispatcher, now=T0,
        )  # fmt: skip
        snap = load_snapshot(session, now=T0)
        haizhu = next(e for e in snap.world.engineers if e.id == dw.haizhu.id)
        assert haizhu.busy_until == job.fixes_at  # the drive ahead counts too
        assert haizhu.busy_location == opt.Location(*self.FAR)

    def test_a_region_plan_keeps_only_pinned_work_as_committed(
        self, session: Session, dw: DispatchWorld, far: tuple[int, opt.Option]
    ) -> None:
        ticket_id, job = far  # confirmed by hand: pinned, so a plan plans around it

        def haizhu() -> opt.Engineer:
            snap = load_snapshot(session, now=T0, pinned_only=True)
            return next(e for e in snap.world.engineers if e.id == dw.haizhu.id)

        assert haizhu().busy_until == job.fixes_at
        assignment = session.scalars(
            select(Assignment).where(Assignment.ticket_id == ticket_id)
        ).one()
        set_pinned(
            session, assignment_id=assignment.id, pinned=False, user=dw.base.dispatcher, now=T0
        )
        assert haizhu().busy_until is None  # the plan re-plans an unpinned one itself


class TestGapBeforeCommittedWork:
    """Issue 16: a visit committed for later leaves the time before it free (the
    simulator's rule, `optimizer.free_gap`): a job that fits there, drive back included,
    is offered now; one that would make the committed visit late comes after it."""

    FAR = TestCommittedWork.FAR

    def _later(
        self, session: Session, dw: DispatchWorld, leaves_in: timedelta
    ) -> tuple[tuple[int, int], int]:
        """Haizhu committed to the far job, moved to leave ``leaves_in`` from now; a
        15-minute ticket where he stands. Returns (the far job's arrival and fix offsets,
        the ticket)."""
        short = make_ticket_type(session, dw.base.line, service_min=15)
        far_site = make_site(
            session, dw.base.region, dw.base.contract, lat=self.FAR[0], lon=self.FAR[1]
        )
        far = open_ticket(
            session, dw.base, site_id=far_site.id, asset_id=None, severity="general",
            ticket_type_id=short.id,
        )  # fmt: skip
        confirm_assignment(
            session, ticket_id=far.id, engineer_id=dw.haizhu.id, user=dw.base.dispatcher,
            now=T0, travel=TRAVEL,
        )  # fmt: skip
        row = session.scalars(select(Assignment).where(Assignment.ticket_id == far.id)).one()
        row.departs_at += leaves_in
        row.arrives_at += leaves_in
        row.fixes_at += leaves_in
        session.flush()
        here = make_site(session, dw.base.region, dw.base.contract, lat=HAIZHU[0], lon=HAIZHU[1])
        near = open_ticket(
            session, dw.base, site_id=here.id, asset_id=None, severity="general",
            ticket_type_id=short.id,
        )  # fmt: skip
        arrives, fixes = ((at - T0).total_seconds() for at in (row.arrives_at, row.fixes_at))
        return (int(arrives), int(fixes)), near.id

    def _haizhu(self, session: Session, dw: DispatchWorld, ticket_id: int) -> opt.Option:
        rec = recommend_ticket(session, ticket_id=ticket_id, now=T0, travel=TRAVEL).recommendation
        return next(o for o in rec.options if o.engineer_id == dw.haizhu.id)

    def test_a_job_that_fits_before_a_later_visit_is_offered_now(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        (arrives, fixes), ticket_id = self._later(session, dw, timedelta(hours=2))
        snap = load_snapshot(session, now=T0)
        haizhu = next(e for e in snap.world.engineers if e.id == dw.haizhu.id)
        assert haizhu.busy_until == fixes  # a job not fitting the gap comes after
        assert haizhu.gap is not None
        assert (haizhu.gap.ready, haizhu.gap.back_by) == (0, arrives)
        assert haizhu.gap.back_to == opt.Location(*self.FAR)
        mine = self._haizhu(session, dw, ticket_id)
        assert mine.departs_at == 0
        assert mine.fixes_at <= 20 * 60
        assert mine.keeps_all

    def test_a_job_that_would_make_the_later_visit_late_comes_after_it(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        (_, fixes), ticket_id = self._later(session, dw, timedelta(minutes=10))
        mine = self._haizhu(session, dw, ticket_id)
        assert mine.departs_at >= fixes

    def test_a_later_visit_does_not_keep_him_at_his_last_site_overnight(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        """He went home when his shift ended, though a visit is committed for tomorrow
        (`optimizer.standing_at`): the gap before it starts from home, as in the simulator."""
        self._later(session, dw, timedelta(hours=20))  # leaves tomorrow at noon
        e = dw.haizhu  # 08:00-20:00 Guangzhou time; T0 is 16:00 there
        e.current_lat, e.current_lon, e.position_at = *self.FAR, T0 - timedelta(hours=1)
        session.flush()
        home = opt.Location(e.home_lat, e.home_lon)

        def haizhu(now: timedelta) -> opt.Engineer:
            snap = load_snapshot(session, now=T0 + now)
            return next(x for x in snap.world.engineers if x.id == e.id)

        assert haizhu(timedelta(0)).location == opt.Location(*self.FAR)  # on shift: there
        morning = haizhu(timedelta(hours=17))  # 09:00 next day, the visit still ahead
        assert morning.gap is not None
        assert morning.gap.origin is None  # from where he is
        assert morning.location == home
