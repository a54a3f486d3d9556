"""Urgent insertions into one published plan reuse what they read, until it changes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from dispatch.pinning import set_pinned
from dispatch.replanning import PublishedData, insert_ticket, insertion_summary
from dispatch.snapshot_cache import PlanCache
from tests.dispatch.test_replanning import TRAVEL, active, published, urgent
from tests.dispatch_world import DispatchWorld, make_dispatch_world
from tests.ticket_builders import T0


@pytest.fixture
def dw(session: Session) -> DispatchWorld:
    return make_dispatch_world(session)


def _insert(
    session: Session, dw: DispatchWorld, plan_id: int, ticket_id: int,
    cache: PlanCache[PublishedData] | None, now_s: int = 0,
) -> dict[str, object]:  # fmt: skip
    done = insert_ticket(
        session, plan_id=plan_id, ticket_id=ticket_id, change_budget=2,
        now=T0 + timedelta(seconds=now_s), travel=TRAVEL, user_id=dw.base.dispatcher.id,
        background=False, cache=cache,
    )  # fmt: skip
    out = insertion_summary(done)
    out.pop("plan_id")
    return out


class TestInsertionCache:
    def test_a_new_urgent_ticket_reuses_the_published_plans_data(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        plan_id = published(session, dw)
        cache: PlanCache[PublishedData] = PlanCache()
        first = urgent(session, dw)
        _insert(session, dw, plan_id, first.id, cache)
        second = urgent(session, dw)  # opening it writes a ticket and its log: not relevant
        cached = _insert(session, dw, plan_id, second.id, cache, now_s=10)
        assert (cache.hits, cache.misses) == (1, 1)
        assert cached == _insert(session, dw, plan_id, second.id, None, now_s=10)

    def test_a_step_of_an_assigned_ticket_reads_again(
        self, session: Session, dw: DispatchWorld
    ) -> None:
        plan_id = published(session, dw)
        cache: PlanCache[PublishedData] = PlanCache()
        new = urgent(session, dw)
        _insert(session, dw, plan_id, new.id, cache)
        a = active(session, dw.ticket.id)
        set_pinned(session, assignment_id=a.id, pinned=True, user=dw.base.dispatcher, now=T0)
        _insert(session, dw, plan_id, new.id, cache)
        assert (cache.hits, cache.misses) == (0, 2)

    def test_past_the_ttl_it_reads_again(self, session: Session, dw: DispatchWorld) -> None:
        plan_id = published(session, dw)
        cache: PlanCache[PublishedData] = PlanCache(ttl=timedelta(seconds=30))
        new = urgent(session, dw)
        _insert(session, dw, plan_id, new.id, cache)
        _insert(session, dw, plan_id, new.id, cache, now_s=31)
        assert (cache.hits, cache.misses) == (0, 2)
