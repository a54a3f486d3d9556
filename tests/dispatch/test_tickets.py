"""Ticket intake, the lifecycle (every step allowed and refused) and the service log."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from dispatch.errors import IllegalTransitionError, InvalidTicketError, NotFoundError
from dispatch.lifecycle import TRANSITIONS, allowed_next
from dispatch.models import LogKind, TicketStatus
from dispatch.tickets import (
    PartNeed,
    SkillNeed,
    change_severity,
    service_log,
    transition,
)
from tests.ticket_builders import T0, TicketWorld, make_ticket_world, open_ticket


@pytest.fixture
def world(session: Session) -> TicketWorld:
    return make_ticket_world(session)


class TestIntake:
    def test_urgent_deadlines_follow_the_default_policy(
        self, session: Session, world: TicketWorld
    ) -> None:
        ticket = open_ticket(session, world)
        assert ticket.status is TicketStatus.NEW
        assert ticket.respond_by == T0 + timedelta(minutes=10)
        assert ticket.depart_by == T0 + timedelta(minutes=15)
        assert ticket.arrive_by == T0 + timedelta(hours=2)
        assert ticket.fix_by == T0 + timedelta(hours=4)

    def test_general_has_no_depart_deadline(self, session: Session, world: TicketWorld) -> None:
        ticket = open_ticket(session, world, severity="general")
        assert ticket.depart_by is None
        assert ticket.fix_by == T0 + timedelta(hours=8)

    def test_reported_at_defaults_to_now(self, session: Session, world: TicketWorld) -> None:
        ticket = open_ticket(session, world, reported_at=None)
        assert ticket.reported_at == T0

    def test_skills_default_to_the_ticket_type(self, session: Session, world: TicketWorld) -> None:
        from sqlalchemy import select

        from dispatch.models import TicketSkill

        ticket = open_ticket(session, world)
        skills = session.scalars(select(TicketSkill).where(TicketSkill.ticket_id == ticket.id))
        assert [(s.product_line_id, s.min_level) for s in skills] == [
            (world.line.id, world.ticket_type.required_level)
        ]

    def test_explicit_skills_and_parts_are_stored(
        self, session: Session, world: TicketWorld
    ) -> None:
        from sqlalchemy import select

        from dispatch.models import TicketPart, TicketSkill

        ticket = open_ticket(
            session,
            world,
            skills=[SkillNeed(world.line.id, 3)],
            parts=[PartNeed(world.part.id, 2)],
        )
        skill = session.scalars(select(TicketSkill).where(TicketSkill.ticket_id == ticket.id))
        part = session.scalars(select(TicketPart).where(TicketPart.ticket_id == ticket.id))
        assert [s.min_level for s in skill] == [3]
        assert [(p.part_id, p.quantity) for p in part] == [(world.part.id, 2)]

    def test_intake_is_logged(self, session: Session, world: TicketWorld) -> None:
        ticket = open_ticket(session, world)
        [entry] = service_log(session, ticket.id)
        assert entry.kind is LogKind.CREATED
        assert entry.user_id == world.dispatcher.id
        assert entry.to_status == "new"

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"site_id": 10**9}, "site_id", "does not exist"),
            ({"ticket_type_id": 10**9}, "ticket_type_id", "does not exist"),
            ({"severity": "P1"}, "severity", "one of: urgent, serious, general"),
            ({"asset_id": 10**9}, "asset_id", "does not exist"),
            ({"reported_at": T0 + timedelta(minutes=6)}, "reported_at", "in the future"),
            ({"skills": [SkillNeed(10**9)]}, "skills", "does not exist"),
            ({"skills": [SkillNeed(-1, 4)]}, "skills", "does not exist"),
            ({"parts": [PartNeed(10**9)]}, "parts", "does not exist"),
        ],
    )
    def test_bad_intake_names_the_field(
        self,
        session: Session,
        world: TicketWorld,
        changes: dict[str, object],
        field: str,
        message: str,
    ) -> None:
        with pytest.raises(InvalidTicketError, match=message) as caught:
            open_ticket(session, world, **changes)
        assert caught.value.field == field

    def test_level_out_of_range_is_refused(self, session: Session, world: TicketWorld) -> None:
        with pytest.raises(InvalidTicketError, match="min_level 4"):
            open_ticket(session, world, skills=[SkillNeed(world.line.id, 4)])

    def test_zero_quantity_is_refused(self, session: Session, world: TicketWorld) -> None:
        with pytest.raises(InvalidTicketError, match="quantity 0"):
            open_ticket(session, world, parts=[PartNeed(world.part.id, 0)])

    def test_asset_of_another_site_is_refused(self, session: Session, world: TicketWorld) -> None:
        from tests.builders import make_site

        other = make_site(session, world.region, world.contract)
        with pytest.raises(InvalidTicketError, match="installed at site") as caught:
            open_ticket(session, world, site_id=other.id)
        assert caught.value.field == "asset_id"

    def test_contract_that_ended_is_refused(self, session: Session, world: TicketWorld) -> None:
        world.contract.ends_on = (T0 - timedelta(days=1)).date()
        session.flush()
        with pytest.raises(InvalidTicketError, match="does not run on 2026-11-02"):
            open_ticket(session, world)


ALL = list(TicketStatus)
PAIRS = list(itertools.product(ALL, ALL))


def _put_in(session: Session, world: TicketWorld, status: TicketStatus) -> int:
    ticket = open_ticket(session, world)
    ticket.status = status
    if status is TicketStatus.CANCELLED:
        ticket.cancel_reason = "test"
    session.flush()
    return int(ticket.id)


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_every_transition_is_allowed_or_refused_by_the_table(
    session: Session, world: TicketWorld, current: TicketStatus, target: TicketStatus
) -> None:
    ticket_id = _put_in(session, world, current)
    kwargs = {"reason": "customer withdrew", "satisfaction": 4}
    if target in allowed_next(current):
        ticket = transition(
            session, ticket_id=ticket_id, target=target, user=world.dispatcher, now=T0, **kwargs
        )
        assert ticket.status is target
        assert service_log(session, ticket_id)[-1].to_status == target.value
    else:
        with pytest.raises(IllegalTransitionError) as caught:
            transition(
                session, ticket_id=ticket_id, target=target, user=world.dispatcher, now=T0, **kwargs
            )
        assert caught.value.allowed == sorted(s.value for s in allowed_next(current))
        assert caught.value.current == current.value


class TestTransitionRules:
    def test_assigned_only_through_dispatch(self, session: Session, world: TicketWorld) -> None:
        ticket_id = _put_in(session, world, TicketStatus.RESPONDED)
        with pytest.raises(IllegalTransitionError, match="cannot become assigned"):
            transition(
                session,
                ticket_id=ticket_id,
                target=TicketStatus.ASSIGNED,
                user=world.dispatcher,
                now=T0,
            )
        ticket = transition(
            session,
            ticket_id=ticket_id,
            target=TicketStatus.ASSIGNED,
            user=world.dispatcher,
            now=T0,
            via_dispatch=True,
        )
        assert ticket.status is TicketStatus.ASSIGNED

    def test_table_has_every_status(self) -> None:
        assert set(TRANSITIONS) == set(TicketStatus)

    def test_cancel_needs_a_reason(self, session: Session, world: TicketWorld) -> None:
        ticket = open_ticket(session, world)
        with pytest.raises(InvalidTicketError, match="needs a reason"):
            transition(
                session,
                ticket_id=ticket.id,
                target=TicketStatus.CANCELLED,
                user=world.dispatcher,
                now=T0,
                reason="  ",
            )

    @pytest.mark.parametrize("satisfaction", [None, 0, 6])
    def test_callback_needs_satisfaction_1_to_5(
        self, session: Session, world: TicketWorld, satisfaction: int | None
    ) -> None:
        ticket_id = _put_in(session, world, TicketStatus.CLOSED)
        with pytest.raises(InvalidTicketError, match="satisfaction of 1-5"):
            transition(
                session,
                ticket_id=ticket_id,
                target=TicketStatus.CALLBACK_DONE,
                user=world.dispatcher,
                now=T0,
                satisfaction=satisfaction,
            )

    def test_callback_records_satisfaction_and_comment(
        self, session: Session, world: TicketWorld
    ) -> None:
        ticket_id = _put_in(session, world, TicketStatus.CLOSED)
        ticket = transition(
            session,
            ticket_id=ticket_id,
            target=TicketStatus.CALLBACK_DONE,
            user=world.dispatcher,
            now=T0,
            satisfaction=5,
            comment="fast and friendly",
        )
        assert (ticket.satisfaction, ticket.callback_comment) == (5, "fast and friendly")

    def test_event_times_are_recorded(self, session: Session, world: TicketWorld) -> None:
        ticket = open_ticket(session, world)
        steps = [
            (TicketStatus.RESPONDED, "responded_at", False),
            (TicketStatus.ASSIGNED, None, True),
            (TicketStatus.EN_ROUTE, "departed_at", False),
            (TicketStatus.ON_SITE, "arrived_at", False),
            (TicketStatus.FIXED, "fixed_at", False),
            (TicketStatus.CLOSED, "closed_at", False),
        ]
        for minutes, (target, field, via_dispatch) in enumerate(steps, start=1):
            at = T0 + timedelta(minutes=minutes)
            transition(
                session,
                ticket_id=ticket.id,
                target=target,
                user=world.dispatcher,
                now=at,
                via_dispatch=via_dispatch,
            )
            if field:
                assert getattr(ticket, field) == at
        assert [e.to_status for e in service_log(session, ticket.id)] == [
            "new",
            "responded",
            "assigned",
            "en_route",
            "on_site",
            "fixed",
            "closed",
        ]

    def test_remote_resolution_counts_as_response_and_fix(
        self, session: Session, world: TicketWorld
    ) -> None:
        ticket = open_ticket(session, world)
        transition(
            session,
            ticket_id=ticket.id,
            target=TicketStatus.RESOLVED_REMOTELY,
            user=world.dispatcher,
            now=T0 + timedelta(minutes=5),
        )
        assert ticket.responded_at == ticket.fixed_at == T0 + timedelta(minutes=5)

    def test_unknown_ticket(self, session: Session, world: TicketWorld) -> None:
        with pytest.raises(NotFoundError):
            transition(
                session,
                ticket_id=10**9,
                target=TicketStatus.RESPONDED,
                user=world.dispatcher,
                now=T0,
            )


class TestSeverityChange:
    def test_recomputes_every_deadline_from_reported_at(
        self, session: Session, world: TicketWorld
    ) -> None:
        ticket = open_ticket(session, world, severity="general")
        later = T0 + timedelta(minutes=30)
        change_severity(
            session,
            ticket_id=ticket.id,
            severity="urgent",
            user=world.dispatcher,
            now=later,
            reason="whole floor down",
        )
        assert ticket.severity == "urgent"
        assert ticket.depart_by == T0 + timedelta(minutes=15)
        assert ticket.fix_by == T0 + timedelta(hours=4)
        entry = service_log(session, ticket.id)[-1]
        assert entry.kind is LogKind.CHANGE
        assert entry.reason == "whole floor down"
        assert entry.details is not None
        assert entry.details["severity"] == ["general", "urgent"]

    def test_unknown_level_is_refused(self, session: Session, world: TicketWorld) -> None:
        ticket = open_ticket(session, world)
        with pytest.raises(InvalidTicketError, match="not a level"):
            change_severity(
                session, ticket_id=ticket.id, severity="P9", user=world.dispatcher, now=T0
            )

    def test_same_severity_logs_nothing(self, session: Session, world: TicketWorld) -> None:
        ticket = open_ticket(session, world)
        change_severity(
            session, ticket_id=ticket.id, severity="urgent", user=world.dispatcher, now=T0
        )
        assert len(service_log(session, ticket.id)) == 1
