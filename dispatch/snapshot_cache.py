"""Reuse one snapshot across recommendations while the world has not changed.

Building a snapshot of a large world (2,000 engineers, their shifts, every depot's
available stock) takes far longer than the recommendation itself (about 0.6 s against
0.4 ms), so the API keeps the last one and reuses it while both hold:

- the **world version** is unchanged: the highest id of the append-only tables every
  relevant write goes through (stock ledger, reservations, tickets, the service log that
  every ticket step writes, assignments, and the audit trail of master data: engineers'
  positions, shifts, absences, skills). One cheap query of six indexed maxima;
- it is at most `ttl` old (default 30 s, the API's `snapshot_ttl_s` setting), and the
  request's time is not before it. What changes without a write is bounded by the TTL: a
  reservation expiring (the cached snapshot still counts the hold: it errs on the safe
  side), a shift starting.

A job on site passing its planned end (or its overrun's end moving on) changes no row
either, yet its engineer is busy from then on: the snapshot knows for each engineer the
instant his job on site first reads another end (`Snapshot.changes_at`,
`optimizer.overrun_changes_at`; so does a visit en route reaching its expected arrival
without one, `dispatch.snapshot.en_route_visit`), and once the request's time passes it,
those engineers alone are read again at that time (`dispatch.snapshot.patched`) and the
patched snapshot kept: an engineer who just overran never shows free.

A snapshot's offsets work for any later `now` within its horizon (48 h), so reusing it
for a request a few seconds later is exact apart from the two effects above.

`DurationCache` keeps the log of finished jobs (`dispatch.snapshot.duration_log`) for the
worker, which asks it every round while someone is on site: re-read only after a new
ticket or service-log line (every fix writes one) or a wider policy window.

`PlanCache` does the same for what urgent insertions into one published plan share (its
snapshot, commitments and solver tickets; see `dispatch.replanning`), with `plan_version`,
which new tickets do not change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.audit import AuditEntry
from dispatch.durations import DurationLog
from dispatch.models import Assignment, PromisePolicy, ServiceLogEntry, Ticket
from dispatch.snapshot import Snapshot, duration_log, load_snapshot, patched
from inventory.models import LedgerEntry, Reservation

DEFAULT_TTL = timedelta(seconds=30)
_VERSIONED = (LedgerEntry, Reservation, Ticket, ServiceLogEntry, Assignment, AuditEntry)
_PLAN_VERSIONED = (LedgerEntry, Reservation, Assignment, AuditEntry)
T = TypeVar("T")

Version = tuple[int, ...]


def world_version(session: Session) -> Version:
    """The highest id of each table whose new rows can change a recommendation."""
    row = session.execute(
        select(*(select(func.max(m.id)).scalar_subquery() for m in _VERSIONED))
    ).one()
    return tuple(v or 0 for v in row)


class SnapshotCache:
    """The last snapshot (whole world) and the version it was built on; thread-safe."""

    def __init__(
        self, ttl: timedelta = DEFAULT_TTL, on_load: Callable[[], None] | None = None
    ) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entry: tuple[Version, Snapshot] | None = None
        self.on_load = on_load  # called after a fresh snapshot is kept (the app's GC tuning)
        self.hits = self.misses = self.patches = 0

    def get(self, session: Session, *, now: datetime) -> Snapshot:
        """A snapshot valid at `now`: the cached one if still current, else a fresh one."""
        version = world_version(session)
        with self._lock:
            entry = self._entry
        if entry is not None:
            cached_version, snap = entry
            if cached_version == version and snap.epoch <= now <= snap.epoch + self.ttl:
                self.hits += 1
                fresh = patched(session, snap, now=now)
                if fresh is not snap:  # someone's job on site reads another end now
                    self.patches += 1
                    with self._lock:
                        if self._entry is entry:
                            self._entry = (version, fresh)
                return fresh
        self.misses += 1
        fresh = load_snapshot(session, now=now)
        with self._lock:
            self._entry = (version, fresh)
        if self.on_load is not None:
            self.on_load()
        return fresh

    def clear(self) -> None:
        """Forget the cached snapshot."""
        with self._lock:
            self._entry = None


def log_version(session: Session) -> Version:
    """What the log of finished jobs is read from: the newest ticket, the newest service-log
    line (a fix, or a correction of its times, writes one) and the widest window."""
    maxima = (
        func.max(Ticket.id),
        func.max(ServiceLogEntry.id),
        func.max(PromisePolicy.plan_log_jobs),
    )
    row = session.execute(select(*(select(m).scalar_subquery() for m in maxima))).one()
    return tuple(v or 0 for v in row)


class DurationCache:
    """The last log of finished jobs and the `log_version` it was read at; thread-safe.
    `get` has `duration_log`'s signature, so it is a drop-in `dispatch.moves.DurationSource`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[Version, DurationLog] | None = None
        self.hits = self.misses = 0

    def get(self, session: Session) -> DurationLog:
        """The cached log while nothing it is read from changed, else a fresh one."""
        version = log_version(session)
        with self._lock:
            entry = self._entry
        if entry is not None and entry[0] == version:
            self.hits += 1
            return entry[1]
        self.misses += 1
        fresh = duration_log(session)
        with self._lock:
            self._entry = (version, fresh)
        return fresh


def plan_version(session: Session) -> Version:
    """What can change a published plan's insertion data, and not what a new ticket writes.

    The stock ledger, reservations, assignments and the master-data audit trail as in
    `world_version`, but the service log only of tickets that have (or had) an assignment:
    opening and answering an urgent ticket must not throw away the published plan's data,
    while every step of an assigned ticket (withdrawn, pinned, started, fixed) does.
    """
    assigned = select(Assignment.ticket_id)
    logged = select(func.max(ServiceLogEntry.id)).where(ServiceLogEntry.ticket_id.in_(assigned))
    maxima = [select(func.max(m.id)).scalar_subquery() for m in _PLAN_VERSIONED]
    row = session.execute(select(*maxima, logged.scalar_subquery())).one()
    return tuple(v or 0 for v in row)


class PlanCache(Generic[T]):
    """The last data read for one key (a published plan), reused while `plan_version` holds.

    Like `SnapshotCache`: at most `ttl` old and not after the request's time; what changes
    without a write (a reservation expiring, a shift starting) is bounded by the TTL.
    """

    def __init__(self, ttl: timedelta = DEFAULT_TTL) -> None:
        self.ttl = ttl
        self._lock = threading.Lock()
        self._entry: tuple[Hashable, Version, datetime, T] | None = None
        self.hits = self.misses = 0

    def get(self, session: Session, *, key: Hashable, now: datetime, load: Callable[[], T]) -> T:
        """The cached value of ``key`` if still current at ``now``, else ``load()``."""
        version = plan_version(session)
        with self._lock:
            entry = self._entry
        if entry is not None:
            cached_key, cached_version, at, value = entry
            if (cached_key, cached_version) == (key, version) and at <= now <= at + self.ttl:
                self.hits += 1
                return value
        self.misses += 1
        fresh = load()
        with self._lock:
            self._entry = (key, version, now, fresh)
        return fresh

    def clear(self) -> None:
        """Forget the cached value."""
        with self._lock:
            self._entry = None
