"""Disruptions of the published plan: an absence, an overrun, a part out; drafts and risks."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.disruptions import (
    DEFAULT_ABSENCE_REASON,
    Disrupted,
    Disruption,
    DisruptionConflict,
    EngineerAbsent,
    PartOut,
    VisitOverrun,
    disruption_summary,
    report_disruption,
)
from dispatch.errors import InvalidPlanRequest, NotFoundError
from dispatch.models import (
    Absence,
    Assignment,
    AssignmentStatus,
    Engineer,
    Plan,
    PlanStage,
    TicketStatus,
)
from dispatch.pinning import set_pinned
from dispatch.planning import PlanRequest, plan_region
from dispatch.publish import publish_plan
from dispatch.replanning import baseline_of
from dispatch.snapshot import HORIZON, load_snapshot
from tests.builders import make_engineer, make_region
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0, open_ticket

TRAVEL = opt.GeodesicTravelTimes()
LIMITS = PlanRequest(time_limit_s=None, failure_limit=50)
NOW = T0 + timedelta(minutes=5)


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session)


def published(session: Session, dw: DispatchWorld) -> Plan:
    """Plan and publish the world's one ticket as a region plan (deterministic limits)."""
    request = PlanRequest(ticket_ids=(dw.ticket.id,), time_limit_s=None, failure_limit=50)
    plan = plan_region(
        session, request=request, now=T0, travel=TRAVEL, user_id=dw.base.dispatcher.id
    )
    plan.region_id = dw.base.region.id
    publish_plan(session, plan_id=plan.id, user=dw.base.dispatcher, now=T0)
    return plan


def active(session: Session, ticket_id: int) -> Assignment:
    return session.scalars(
        select(Assignment).where(
            Assignment.ticket_id == ticket_id, Assignment.status == AssignmentStatus.ACTIVE
        )
    ).one()


def visit_length(result: dict[str, Any]) -> timedelta:
    """How long the one visit of a stored plan takes (start to departure)."""
    (visit,) = [s for r in result["routes"] for s in r["stops"] if s["kind"] == "visit"]
    return datetime.fromisoformat(visit["departs_at"]) - datetime.fromisoformat(visit["starts_at"])


def report(session: Session, dw: DispatchWorld, plan_id: int, what: Disruption) -> Disrupted:
    return report_disruption(
        session, plan_id=plan_id, disruption=what, now=NOW, travel=TRAVEL,
        user=dw.base.dispatcher, request=LIMITS,
    )  # fmt: skip


class TestEngineerAbsent:
    def test_records_the_absence_and_replans_his_visits_as_a_draft(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        plan = published(session, dw)
        gone = active(session, dw.ticket.id).engineer_id
        done = report(session, dw, plan.id, EngineerAbsent(gone))
        assert done.plan.stage is PlanStage.DRAFT
        assert done.affected == (dw.ticket.id,)
        absence = session.get(Absence, done.absence_id)
        assert absence is not None
        assert (absence.engineer_id, absence.reason) == (gone, DEFAULT_ABSENCE_REASON)
        assert (absence.starts_at, absence.ends_at) == (NOW, NOW + HORIZON)
        assert done.plan.result is not None
        engineers = {r["engineer_id"] for r in done.plan.result["routes"] if r["stops"]}
        assert gone not in engineers  # someone else goes, or nobody
        stored = done.plan.params["disruption"]
        assert (stored["kind"], stored["published_plan_id"]) == ("engineer_absent", plan.id)
        assert stored["affected"] == [dw.ticket.id]

    def test_the_at_risk_list_is_the_optimizers(self, session: Session, dw: DispatchWorld) -> None:
        plan = published(session, dw)
        gone = active(session, dw.ticket.id).engineer_id
        # Everyone else is away too: the ticket cannot be served, its promise is at risk.
        for e in (dw.haizhu, dw.panyu, dw.liwan):
            if e.id != gone:
                session.add(Absence(engineer_id=e.id, starts_at=T0, ends_at=T0 + HORIZON,
                                    reason="training"))  # fmt: skip
        session.flush()
        done = report(session, dw, plan.id, EngineerAbsent(gone))
        assert plan.result is not None
        assert done.plan.result is not None
        expected = opt.diff(plan.result, done.plan.result).at_risk
        assert tuple(r.ticket_id for r in done.at_risk) == expected == (dw.ticket.id,)
        (risk,) = done.at_risk
        assert (risk.promise_before, risk.promise_after) in {("kept", "dropped"),
                                                            ("late", "dropped")}  # fmt: skip
        assert risk.affected
        who = session.get(Engineer, gone)
        assert who is not None
        assert risk.why.startswith(f"engineer {who.name} ({who.code}) is absent")  # issue 17
        assert "dropped" in risk.why
        summary = disruption_summary(done)
        assert summary["at_risk"][0]["ticket_id"] == dw.ticket.id
        assert summary["diff"]["newly_dropped"] == 1

    @pytest.mark.parametrize("step", [TicketStatus.EN_ROUTE, TicketStatus.ON_SITE])
    def test_his_visit_under_way_is_handed_back_and_replanned(
        self, session: Session, dw: DispatchWorld, step: TicketStatus
    ) -> None:
        plan = published(session, dw)
        a = active(session, dw.ticket.id)
        gone = a.engineer_id
        dw.ticket.status = step  # he set off (or arrived), then dropped out
        session.flush()
        done = report(session, dw, plan.id, EngineerAbsent(gone))
        assert done.handed_back == (dw.ticket.id,)
        assert done.affected == (dw.ticket.id,)
        assert (a.status, dw.ticket.status, dw.ticket.engineer_id) == (
            AssignmentStatus.WITHDRAWN, TicketStatus.RESPONDED, None,
        )  # fmt: skip
        assert dw.ticket.id in done.plan.ticket_ids  # re-planned with the rest
        assert done.plan.result is not None
        engineers = {r["engineer_id"] for r in done.plan.result["routes"] if r["stops"]}
        assert gone not in engineers
        assert disruption_summary(done)["handed_back"] == [dw.ticket.id]
        assert done.plan.params["disruption"]["handed_back"] == [dw.ticket.id]
        later = NOW + timedelta(minutes=1)
        out = publish_plan(session, plan_id=done.plan.id, user=dw.base.dispatcher, now=later)
        if dw.ticket.id in out.assigned:  # someone else goes
            assert active(session, dw.ticket.id).engineer_id != gone

    def test_his_pins_are_released(self, session: Session, dw: DispatchWorld) -> None:
        plan = published(session, dw)
        a = active(session, dw.ticket.id)
        set_pinned(session, assignment_id=a.id, pinned=True, user=dw.base.dispatcher, now=T0)
        done = report(session, dw, plan.id, EngineerAbsent(a.engineer_id))
        assert done.unpinned == (dw.ticket.id,)
        assert not a.pinned
        assert dw.ticket.id in done.plan.ticket_ids  # re-planned, not left with him

    def test_an_absence_already_stored_stands(self, session: Session, dw: DispatchWorld) -> None:
        plan = published(session, dw)
        gone = active(session, dw.ticket.id).engineer_id
        sick = Absence(engineer_id=gone, starts_at=T0, ends_at=T0 + timedelta(hours=3),
                       reason="sick")  # fmt: skip
        session.add(sick)
        session.flush()
        done = report(session, dw, plan.id, EngineerAbsent(gone))
        assert done.absence_id == sick.id
        assert session.scalars(select(Absence).where(Absence.engineer_id == gone)).all() == [sick]

    def test_unknown_or_foreign_engineers_are_refused(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        plan = published(session, dw)
        with pytest.raises(NotFoundError):
            report(session, dw, plan.id, EngineerAbsent(999_999))
        elsewhere = make_engineer(session, make_region(session))
        with pytest.raises(InvalidPlanRequest) as caught:
            report(session, dw, plan.id, EngineerAbsent(elsewhere.id))
        assert caught.value.field == "engineer_id"


class TestVisitOverrun:
    def test_a_planned_visit_that_takes_longer(self, session: Session, dw: DispatchWorld) -> None:
        plan = published(session, dw)
        done = report(session, dw, plan.id, VisitOverrun(dw.ticket.id, 90))
        assert done.kind == "visit_overrun"
        assert done.affected == ()  # nobody after him
        assert plan.result is not None
        assert done.plan.result is not None
        before, after = visit_length(plan.result), visit_length(done.plan.result)
        assert after - before == timedelta(minutes=90)

    def test_a_visit_in_progress_keeps_its_engineer_busy_longer(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        plan = published(session, dw)
        engineer_id = active(session, dw.ticket.id).engineer_id
        dw.ticket.status, dw.ticket.arrived_at = TicketStatus.ON_SITE, T0
        dw.ticket.engineer_id = engineer_id
        session.flush()
        snap = load_snapshot(session, now=NOW, pinned_only=True)
        baseline, _ = baseline_of(session, snap, [dw.ticket.id])
        before = snap.world.engineers[snap.world.engineer_row[engineer_id]].busy_until
        assert before is not None
        hit = opt.visit_overruns(snap.world, (), baseline, dw.ticket.id, 1_800, now=0)
        after = hit.world.engineers[hit.world.engineer_row[engineer_id]].busy_until
        assert after == before + 1_800
        done = report(session, dw, plan.id, VisitOverrun(dw.ticket.id, 30))
        assert done.plan.stage is PlanStage.DRAFT

    def test_refusals(self, session: Session, dw: DispatchWorld) -> None:
        plan = published(session, dw)
        with pytest.raises(NotFoundError):
            report(session, dw, plan.id, VisitOverrun(999_999, 10))
        stray = open_ticket(session, dw.base, parts=[])
        with pytest.raises(InvalidPlanRequest) as caught:
            report(session, dw, plan.id, VisitOverrun(stray.id, 10))
        assert caught.value.field == "ticket_id"
        a = active(session, dw.ticket.id)
        set_pinned(session, assignment_id=a.id, pinned=True, user=dw.base.dispatcher, now=T0)
        with pytest.raises(DisruptionConflict, match="pinned"):
            report(session, dw, plan.id, VisitOverrun(dw.ticket.id, 10))


class TestPartOut:
    def test_visits_counting_on_that_stock_are_replanned(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        plan = published(session, dw)
        assert plan.result is not None
        counted = any(
            s["depot_id"] == dw.depot.id
            for r in plan.result["routes"]
            for s in r["stops"]
            if s["kind"] == "pickup"
        )
        done = report(session, dw, plan.id, PartOut(dw.depot.id, dw.part.id))
        assert done.affected == ((dw.ticket.id,) if counted else ())
        assert done.plan.result is not None
        for r in done.plan.result["routes"]:
            for s in r["stops"]:
                if s["kind"] == "pickup":
                    assert s["depot_id"] != dw.depot.id  # its units are not counted on
        assert done.plan.params["disruption"]["cause"] == (
            f"depot {dw.depot.code} ({dw.depot.name}) has no more of part"
            f" {dw.part.sku} ({dw.part.name})"
        )

    def test_a_visit_under_way_to_that_depot_is_listed_for_the_dispatcher(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        plan = published(session, dw)
        assert plan.result is not None
        picks = [
            s for r in plan.result["routes"] for s in r["stops"]
            if s["kind"] == "pickup" and s["depot_id"] == dw.depot.id
        ]  # fmt: skip
        assert picks, "the world's plan picks the part up at its depot"
        dw.ticket.status = TicketStatus.EN_ROUTE  # on his way to the depot
        session.flush()
        done = report(session, dw, plan.id, PartOut(dw.depot.id, dw.part.id))
        assert done.affected == (dw.ticket.id,)
        (risk,) = done.at_risk
        assert risk.ticket_id == dw.ticket.id
        assert risk.engineer_before == active(session, dw.ticket.id).engineer_id
        assert "under way" in risk.why
        assert "hand the ticket over" in risk.why

    def test_unknown_depot_or_part(self, session: Session, dw: DispatchWorld) -> None:
        plan = published(session, dw)
        with pytest.raises(NotFoundError):
            report(session, dw, plan.id, PartOut(999_999, dw.part.id))
        with pytest.raises(NotFoundError):
            report(session, dw, plan.id, PartOut(dw.depot.id, 999_999))


class TestAgainstWhichPlan:
    def test_unknown_and_draft_plans_are_refused(self, session: Session, dw: DispatchWorld) -> None:
        with pytest.raises(NotFoundError):
            report(session, dw, 999_999, PartOut(dw.depot.id, dw.part.id))
        draft = plan_region(
            session, request=PlanRequest(ticket_ids=(dw.ticket.id,), time_limit_s=0), now=T0,
            travel=TRAVEL,
        )  # fmt: skip
        with pytest.raises(DisruptionConflict, match="draft"):
            report(session, dw, draft.id, PartOut(dw.depot.id, dw.part.id))

    def test_the_eta_tolerance_is_the_policys(self, session: Session, dw: DispatchWorld) -> None:
        plan = published(session, dw)
        dw.base.policy.eta_tolerance_min = 45
        session.flush()
        done = report(session, dw, plan.id, PartOut(dw.depot.id, dw.part.id))
        assert done.plan.params["disruption"]["eta_tolerance_min"] == 45
        assert not done.plan.params["disruption"]["allow_eta_moves"]

    def test_the_draft_publishes(self, session: Session, dw: DispatchWorld) -> None:
        plan = published(session, dw)
        gone = active(session, dw.ticket.id).engineer_id
        done = report(session, dw, plan.id, EngineerAbsent(gone))
        assert done.plan.result is not None
        assert done.plan.result["feasible"]
        later = NOW + timedelta(minutes=1)
        out = publish_plan(session, plan_id=done.plan.id, user=dw.base.dispatcher, now=later)
        assert out.superseded == plan.id
        assert active(session, dw.ticket.id).engineer_id != gone
