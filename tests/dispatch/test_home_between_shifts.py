"""Issue 16: an engineer drives home when his shift ends; production's snapshot starts his
next shift from home, not from where he last reported (`optimizer.standing_at`, the rule
the simulator's live state uses too: tests/scenarios/test_home_between_shifts.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

import optimizer as opt
from dispatch.snapshot import load_snapshot
from tests.dispatch_world import make_dispatch_world
from tests.ticket_builders import T0

FAR_SITE = (23.55, 113.59)  # Conghua, far north of his home in Haizhu


def _location(session: Session, engineer_id: int, now: object) -> opt.Location:
    snap = load_snapshot(session, now=now)  # type: ignore[arg-type]
    return next(e.location for e in snap.world.engineers if e.id == engineer_id)


def test_on_shift_he_stands_where_he_reported(session: Session) -> None:
    dw = make_dispatch_world(session)
    e = dw.haizhu  # 08:00-20:00 Guangzhou time; T0 is 16:00 there
    e.current_lat, e.current_lon, e.position_at = *FAR_SITE, T0 - timedelta(hours=1)
    session.flush()
    assert _location(session, e.id, T0) == opt.Location(*FAR_SITE)


def test_the_next_shift_starts_from_home(session: Session) -> None:
    dw = make_dispatch_world(session)
    e = dw.haizhu
    e.current_lat, e.current_lon, e.position_at = *FAR_SITE, T0 - timedelta(hours=1)
    session.flush()
    home = opt.Location(e.home_lat, e.home_lon)
    assert home != opt.Location(*FAR_SITE)
    assert _location(session, e.id, T0 + timedelta(hours=5)) == home  # 21:00, off shift
    assert _location(session, e.id, T0 + timedelta(hours=18)) == home  # 10:00 next morning
