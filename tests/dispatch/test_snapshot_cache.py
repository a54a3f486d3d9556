"""The snapshot cache: reused while the world version holds and within its TTL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from dispatch.snapshot_cache import SnapshotCache, world_version
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0, open_ticket


def test_reused_until_a_write_changes_the_world(session: Session) -> None:
    dw = make_dispatch_world(session)
    cache = SnapshotCache(ttl=timedelta(seconds=30))
    first = cache.get(session, now=T0)
    assert cache.get(session, now=T0 + timedelta(seconds=10)) is first
    before = world_version(session)
    open_ticket(session, dw.base)  # a new ticket and its log entry
    assert world_version(session) != before
    assert cache.get(session, now=T0 + timedelta(seconds=10)) is not first
    assert (cache.hits, cache.misses) == (1, 2)


def test_not_reused_past_the_ttl_or_for_an_earlier_time(session: Session) -> None:
    make_dispatch_world(session)
    cache = SnapshotCache(ttl=timedelta(seconds=30))
    first = cache.get(session, now=T0)
    assert cache.get(session, now=T0 - timedelta(seconds=1)) is not first
    second = cache.get(session, now=T0 + timedelta(minutes=5))
    assert second.epoch == T0 + timedelta(minutes=5)
    cache.clear()
    assert cache.get(session, now=T0 + timedelta(minutes=5)) is not second
