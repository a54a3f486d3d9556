"""Many assigned tickets asked again share one snapshot of the whole world (issue 16's
re-dispatch tick): each reads it without its own booking (`dispatch.snapshot.asked_view`),
exactly as a snapshot built for it alone (`load_snapshot(asked=...)`) would be, and a tick
of N visits builds one snapshot, not N."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

import dispatch.recommend
import dispatch.redispatch
import dispatch.snapshot
import optimizer as opt
from db import Role
from dispatch.assign import confirm_assignment
from dispatch.models import Assignment, Ticket
from dispatch.redispatch import review
from dispatch.snapshot import Snapshot, asked_view, load_snapshot
from dispatch.tickets import PartNeed
from inventory.models import DepotKind
from inventory.stock import Who, receive
from tests.builders import make_depot, make_user
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0, open_ticket

TRAVEL = opt.GeodesicTravelTimes()


def _plain(value: Any) -> Any:
    """A comparable form of a solver object (the optimizer's dataclasses compare by id)."""
    if hasattr(value, "__dataclass_fields__"):
        return (
            type(value).__name__,
            {f.name: _plain(getattr(value, f.name)) for f in fields(value)},
        )
    if isinstance(value, Mapping):
        return sorted((k, _plain(v)) for k, v in value.items())
    if isinstance(value, (tuple, list, frozenset, set)):
        items = [_plain(v) for v in value]
        return sorted(items, key=repr) if isinstance(value, (set, frozenset)) else items
    return value


def _world(snap: Snapshot) -> Any:
    w = snap.world
    return _plain((w.engineers, w.depots, w.suppliers, w.on_call, w.zone, w.epoch))


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    """Three assigned visits: one holding a depot's part, one a part in the engineer's van."""
    dw = make_dispatch_world(session)
    van = make_depot(session, None, kind=DepotKind.VAN, lat=None, lon=None)
    dw.panyu.van_depot_id = van.id
    keeper = make_user(session, Role.WAREHOUSE, key="spk_test_wh_van")
    receive(
        session=session, depot_id=van.id, part_id=dw.part.id, quantity=1, who=Who(keeper.id, T0)
    )
    session.flush()
    van_ticket = open_ticket(session, dw.base, parts=[PartNeed(dw.part.id)])
    plain = open_ticket(session, dw.base, severity="general")
    for ticket, engineer in ((dw.ticket, dw.haizhu), (van_ticket, dw.panyu), (plain, dw.liwan)):
        confirm_assignment(
            session, ticket_id=ticket.id, engineer_id=engineer.id, user=dw.base.dispatcher,
            now=T0, travel=TRAVEL,
        )  # fmt: skip
    return dw


def test_each_assigned_ticket_reads_the_shared_snapshot_as_its_own(
    session: Session, dw: DispatchWorld
) -> None:
    base = load_snapshot(session, now=T0)
    assigned = list(session.scalars(select(Assignment.ticket_id).order_by(Assignment.id)))
    assert len(assigned) == 3
    for ticket_id in assigned:
        view = asked_view(session, base, ticket_id, now=T0)
        assert _world(view) == _world(load_snapshot(session, now=T0, asked=ticket_id))
        assert _world(view) != _world(base)  # its booking or its part counts again
    # the shared snapshot itself is untouched
    assert _world(base) == _world(load_snapshot(session, now=T0))


def test_a_review_of_n_visits_builds_one_snapshot(
    session: Session, dw: DispatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the plans run late: each visit is asked, some get a move
    for row in session.scalars(select(Assignment)):
        row.departs_at += timedelta(hours=6)
        row.arrives_at += timedelta(hours=6)
        row.fixes_at += timedelta(hours=6)
    session.flush()
    alone = {
        a.assignment_id: a.move
        for a in (
            review(session, now=T0, travel=TRAVEL, assignment_ids=[aid])[0]
            for aid in session.scalars(select(Assignment.id))
        )
    }
    built = []
    real = dispatch.snapshot.load_snapshot

    def counted(*args: Any, **kwargs: Any) -> Snapshot:
        built.append(kwargs.get("asked"))
        return real(*args, **kwargs)

    for module in (dispatch.redispatch, dispatch.recommend):
        monkeypatch.setattr(module, "load_snapshot", counted)
    asked = review(session, now=T0, travel=TRAVEL)
    assert len(asked) == 3
    assert built == [None]  # one snapshot of the whole world, for all three
    assert {a.assignment_id: a.move for a in asked} == alone  # the same answers
    assert any(a.move is not None for a in asked)


def test_an_open_tickets_recommendation_ignores_the_asked_view(
    session: Session, dw: DispatchWorld
) -> None:
    fresh = open_ticket(session, dw.base, severity="general")
    base = load_snapshot(session, now=T0)
    rec = dispatch.recommend.recommend_ticket(
        session, ticket_id=fresh.id, now=T0, travel=TRAVEL, snapshot=base
    )
    assert rec.snapshot is base
    ticket = session.get(Ticket, dw.ticket.id)
    assert ticket is not None
    assigned = dispatch.recommend.recommend_ticket(
        session, ticket_id=ticket.id, now=T0, travel=TRAVEL, snapshot=base
    )
    assert assigned.snapshot is not base  # read without its own booking
