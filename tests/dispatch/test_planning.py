"""Route planning from the database: ticket choice, the stored draft, its GeoJSON, refusals."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch import planning
from dispatch.assign import confirm_assignment
from dispatch.errors import InvalidPlanRequest
from dispatch.geojson import plan_geojson
from dispatch.models import AssignmentStatus, PlanStage, PolicySeverity, TicketStatus
from dispatch.planning import PlanRequest, plan_region, prepare_plan
from dispatch.snapshot import load_snapshot
from tests.builders import make_region
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0, open_ticket

TRAVEL = opt.GeodesicTravelTimes()


def _request(**kw: object) -> PlanRequest:
    """Deterministic: stop on failures, never on the clock."""
    fields: dict[str, object] = {"time_limit_s": None, "failure_limit": 200, "as_of": T0}
    return PlanRequest(**(fields | kw))  # type: ignore[arg-type]


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session)


class TestSnapshotForPlanning:
    def test_engineers_carry_capacity_rates_and_absences(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        from decimal import Decimal

        from dispatch.models import Absence

        dw.haizhu.van_capacity, dw.haizhu.cost_per_hour = 12, Decimal("85.50")
        session.add(Absence(engineer_id=dw.haizhu.id, starts_at=T0 + timedelta(hours=1),
                            ends_at=T0 + timedelta(hours=2), reason="training"))  # fmt: skip
        session.flush()
        snap = load_snapshot(session, now=T0, region_id=dw.base.region.id)
        e = next(x for x in snap.world.engineers if x.id == dw.haizhu.id)
        assert (e.capacity, e.cost_per_hour) == (12, 8_550)
        assert e.absences == ((3_600, 7_200),)


class TestPlanRegion:
    def test_a_region_plan_serves_its_open_ticket_and_is_stored_as_a_draft(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        row = plan_region(
            session, request=_request(region_id=dw.base.region.id), now=T0, travel=TRAVEL
        )
        assert row.stage is PlanStage.DRAFT
        assert row.ticket_ids == [dw.ticket.id]
        assert row.result is not None
        assert row.result["feasible"] is True
        assert row.result["violations"] == []
        (route,) = row.result["routes"]
        visits = [s for s in route["stops"] if s["kind"] == "visit"]
        assert [s["ticket_id"] for s in visits] == [dw.ticket.id]
        assert any(s["kind"] == "pickup" and s["depot_id"] == dw.depot.id for s in route["stops"])
        assert row.quality == row.result["quality"]
        assert row.params["failure_limit"] == 200
        assert {e["id"] for e in row.result["engineers"]} == {route["engineer_id"]}

    def test_the_same_request_gives_the_same_plan(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        request = _request(ticket_ids=(dw.ticket.id,))
        a = plan_region(session, request=request, now=T0, travel=TRAVEL).result
        b = plan_region(session, request=request, now=T0, travel=TRAVEL).result
        assert a is not None
        assert b is not None
        assert a["routes"] == b["routes"]

    def test_a_tiny_wall_clock_limit_still_returns_a_validated_plan(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        request = PlanRequest(ticket_ids=(dw.ticket.id,), as_of=T0, time_limit_s=0.05)
        row = plan_region(session, request=request, now=T0, travel=TRAVEL)
        assert row.result is not None
        assert row.result["feasible"] is True
        assert row.quality in {q.value for q in opt.PlanQuality}

    def test_closed_tickets_and_other_regions_stay_out(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        done = open_ticket(session, dw.base)
        done.status, done.cancel_reason = TicketStatus.CANCELLED, "duplicate"
        session.flush()
        prepared = prepare_plan(session, _request(region_id=dw.base.region.id))
        assert prepared.ticket_ids == (dw.ticket.id,)
        elsewhere = make_region(session)
        assert prepare_plan(session, _request(region_id=elsewhere.id)).ticket_ids == ()


class TestThreshold:
    def test_small_and_short_is_answered_at_once(self, session: Session, dw: DispatchWorld) -> None:
        request = PlanRequest(ticket_ids=(dw.ticket.id,), time_limit_s=5)
        assert prepare_plan(session, request).run_now

    def test_a_long_time_limit_becomes_a_job(self, session: Session, dw: DispatchWorld) -> None:
        request = PlanRequest(ticket_ids=(dw.ticket.id,), time_limit_s=10)
        prepared = prepare_plan(session, request)
        assert not prepared.run_now
        job = planning.enqueue_plan(session, prepared, user_id=None, now=T0)
        assert job.kind == "plan"
        assert PlanRequest.from_payload(job.payload) == request

    def test_many_tickets_become_a_job(self, session: Session, dw: DispatchWorld) -> None:
        ids = [dw.ticket.id] + [
            open_ticket(session, dw.base).id for _ in range(planning.SYNC_MAX_TICKETS)
        ]
        prepared = prepare_plan(session, PlanRequest(ticket_ids=tuple(ids), time_limit_s=1))
        assert not prepared.run_now


class TestRefusals:
    @pytest.mark.parametrize(
        ("kw", "field"),
        [
            ({"region_id": 987_654}, "region_id"),
            ({"ticket_ids": ()}, "ticket_ids"),
            ({"ticket_ids": (987_654,)}, "ticket_ids"),
            ({"region_id": None}, "region_id"),
            ({"ticket_ids": (1,), "time_limit_s": 10_000}, "time_limit_s"),
            ({"ticket_ids": (1,), "time_limit_s": None, "failure_limit": None}, "failure_limit"),
        ],
    )
    def test_bad_requests_name_the_field(
        self, session: Session, dw: DispatchWorld, kw: dict[str, object], field: str
    ) -> None:
        with pytest.raises(InvalidPlanRequest) as caught:
            prepare_plan(session, PlanRequest(**kw))  # type: ignore[arg-type]
        assert caught.value.field == field

    def test_tickets_that_are_not_open_are_listed(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        dw.ticket.status = TicketStatus.RESOLVED_REMOTELY
        session.flush()
        with pytest.raises(InvalidPlanRequest) as caught:
            prepare_plan(session, PlanRequest(ticket_ids=(dw.ticket.id,)))
        assert caught.value.ticket_ids == [dw.ticket.id]
        assert prepare_plan(session, PlanRequest(ticket_ids=(dw.ticket.id,)), strict=False)


class TestGeoJson:
    def test_routes_are_lines_from_start_to_end_and_every_stop_is_a_point(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        row = plan_region(session, request=_request(ticket_ids=(dw.ticket.id,)), now=T0,
                          travel=TRAVEL)  # fmt: skip
        assert row.result is not None
        fc = plan_geojson(row.result, plan_id=row.id)
        assert fc["type"] == "FeatureCollection"
        lines = [f for f in fc["features"] if f["geometry"]["type"] == "LineString"]
        stops = [f for f in fc["features"] if f["properties"]["feature"] == "stop"]
        (route,) = row.result["routes"]
        (line,) = lines
        assert len(line["geometry"]["coordinates"]) == len(route["stops"]) + 2
        haizhu_or_panyu = {dw.haizhu.id: dw.haizhu, dw.panyu.id: dw.panyu}[route["engineer_id"]]
        assert line["geometry"]["coordinates"][0] == [
            haizhu_or_panyu.current_lon,
            haizhu_or_panyu.current_lat,
        ]  # [lon, lat]: RFC 7946 order
        assert len(stops) == len(route["stops"])
        for feature, stop in zip(stops, route["stops"], strict=True):
            lon, lat = feature["geometry"]["coordinates"]
            assert (lat, lon) == (stop["lat"], stop["lon"])
            assert 113 < lon < 114  # Guangzhou, not swapped
            assert 22 < lat < 24
            assert feature["properties"]["eta"] == stop["arrives_at"]
        visit = next(f for f in stops if f["properties"]["kind"] == "visit")
        assert visit["properties"]["arrival_promise"] in {"kept", "late", "none"}
        assert visit["properties"]["ticket_id"] == dw.ticket.id

    def test_dropped_tickets_are_points_with_their_reason(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        for e in (dw.haizhu, dw.panyu, dw.liwan):
            e.active = False  # nobody qualified is left
        session.flush()
        row = plan_region(session, request=_request(ticket_ids=(dw.ticket.id,)), now=T0,
                          travel=TRAVEL)  # fmt: skip
        assert row.result is not None
        fc = plan_geojson(row.result)
        dropped = [f for f in fc["features"] if f["properties"]["feature"] == "dropped"]
        assert len(dropped) == 1
        assert [f["properties"]["ticket_id"] for f in dropped] == [
            d["ticket_id"] for d in row.result["dropped"]
        ]
        assert all(f["properties"]["reason"] for f in dropped)

    def test_a_dropped_tickets_reason_states_local_time(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        # Issue 17 (README tour): "deadline out of reach: best arrival 2026-12-03 00:42 vs
        # deadline 2026-12-02 18:11" was UTC without saying so, read as Shenzhen time.
        for level in session.scalars(
            select(PolicySeverity).where(PolicySeverity.policy_id == dw.base.policy.id)
        ):
            level.arrive_hard = True  # as the demo's urgent level: out of reach is dropped
        late = open_ticket(session, dw.base, reported_at=T0 - timedelta(hours=5))
        row = plan_region(session, request=_request(ticket_ids=(late.id,)), now=T0,
                          travel=TRAVEL)  # fmt: skip
        assert row.result is not None
        (dropped,) = row.result["dropped"]
        assert dropped["reason"] == "deadline_out_of_reach"
        assert late.arrive_by is not None
        deadline = late.arrive_by.astimezone(ZoneInfo("Asia/Shanghai"))
        assert f"vs deadline {deadline:%Y-%m-%d %H:%M} Asia/Shanghai" in dropped["detail"]


class TestHandAssignments:
    """A ticket the dispatcher just assigned by hand stays with his engineer in a plan."""

    def test_the_next_region_plan_keeps_it_with_its_engineer(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        confirmed = confirm_assignment(
            session, ticket_id=dw.ticket.id, engineer_id=dw.panyu.id, user=dw.base.dispatcher,
            now=T0, travel=TRAVEL,
        )  # fmt: skip
        assert confirmed.assignment.pinned
        other = open_ticket(session, dw.base, parts=[])
        row = plan_region(
            session, request=_request(region_id=dw.base.region.id), now=T0, travel=TRAVEL
        )
        assert row.result is not None
        assert dw.ticket.id not in row.ticket_ids  # not re-planned ...
        assert dw.ticket.id not in [d["ticket_id"] for d in row.result["dropped"]]  # nor dropped
        assert row.ticket_ids == [other.id]
        session.refresh(confirmed.assignment)
        assert confirmed.assignment.engineer_id == dw.panyu.id  # ... but kept with Panyu
        assert confirmed.assignment.status is AssignmentStatus.ACTIVE
        # Panyu's time is his: the other ticket is not planned on top of it
        panyu = [r for r in row.result["routes"] if r["engineer_id"] == dw.panyu.id]
        for route in panyu:
            assert route["departs_at"] >= confirmed.assignment.fixes_at.isoformat()

    def test_an_unpinned_hand_assignment_may_be_replanned(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        confirm_assignment(
            session, ticket_id=dw.ticket.id, engineer_id=dw.panyu.id, user=dw.base.dispatcher,
            now=T0, travel=TRAVEL, pinned=False,
        )  # fmt: skip
        prepared = prepare_plan(session, _request(region_id=dw.base.region.id))
        assert prepared.ticket_ids == (dw.ticket.id,)
