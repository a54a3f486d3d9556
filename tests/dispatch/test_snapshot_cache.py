"""The snapshot cache: reused while the world version holds and within its TTL."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.orm import Session

from dispatch.models import PromisePolicy, TicketType
from dispatch.snapshot import Snapshot, load_snapshot
from dispatch.snapshot_cache import SnapshotCache, world_version
from tests.dispatch.test_redispatch_overrun import _on_site
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


def test_an_engineer_who_overruns_is_read_again_within_the_ttl(session: Session) -> None:
    """No row changes when a job on site passes its planned end, yet its engineer is busy
    from then on: the cached snapshot reads him again then (`Snapshot.changes_at`), as a
    fresh snapshot would, and keeps the patched snapshot."""
    dw = make_dispatch_world(session, with_part=False)
    session.execute(update(TicketType).values(service_min=30))
    session.execute(update(PromisePolicy).values(plan_duration_pct=90, plan_min_jobs=5))
    for minutes in [1] * 17 + [30] + [270] * 2:  # planned 30 min; past it, 270 (see below)
        done = open_ticket(session, dw.base, severity="general")
        done.arrived_at = T0 - timedelta(days=1)
        done.fixed_at = done.arrived_at + timedelta(minutes=minutes)
    session.flush()
    _on_site(session, dw, T0)  # Haizhu on site since T0, planned until 08:30, a visit next
    cache = SnapshotCache(ttl=timedelta(minutes=10))
    first = cache.get(session, now=T0 + timedelta(minutes=25))
    row = first.world.engineer_row[dw.haizhu.id]

    def busy(snap: Snapshot) -> datetime | None:
        until = snap.world.engineers[row].busy_until
        return None if until is None else snap.at(until)

    assert first.changes_at[dw.haizhu.id] == first.offset(T0 + timedelta(minutes=30, seconds=1))
    assert cache.get(session, now=T0 + timedelta(minutes=30)) is first  # within his plan
    later = T0 + timedelta(minutes=31)
    patched = cache.get(session, now=later)
    assert patched is not first
    assert patched.epoch == first.epoch
    fresh = load_snapshot(session, now=later)
    assert busy(patched) == busy(fresh) > busy(first)  # busy until his overrun's end and on
    assert busy(patched) >= T0 + timedelta(minutes=270)
    assert patched.delays == fresh.delays  # his next visit is pushed as a fresh read has it
    assert cache.get(session, now=later + timedelta(minutes=1)) is patched  # kept
    assert (cache.hits, cache.misses, cache.patches) == (3, 1, 1)
    others = [e for e in patched.world.engineers if e.id != dw.haizhu.id]
    assert others == [e for e in first.world.engineers if e.id != dw.haizhu.id]
