"""A small dispatch world on real Guangzhou coordinates, for snapshot and recommendation tests.

Monday 2026-11-02 08:00 UTC is 16:00 in Guangzhou. The site is in Tianhe; Haizhu and Panyu
engineers are qualified and on shift, a Yuexiu engineer lacks the skill, a Liwan engineer
works nights. The Baiyun depot holds the part the ticket needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from sqlalchemy.orm import Session

from db import Role
from dispatch.models import Engineer, Shift, Ticket
from dispatch.tickets import PartNeed
from inventory.models import Depot, Part, Supplier
from inventory.stock import Who, receive
from tests.builders import make_depot, make_engineer, make_part, make_product_line, make_user
from tests.ticket_builders import T0, TicketWorld, make_ticket_world, open_ticket

TIANHE = (23.1291, 113.3218)
HAIZHU = (23.0833, 113.3170)
PANYU = (22.9375, 113.3840)
YUEXIU = (23.1290, 113.2640)
LIWAN = (23.1259, 113.2441)
BAIYUN = (23.1570, 113.2730)


@dataclass
class DispatchWorld:
    base: TicketWorld
    haizhu: Engineer
    panyu: Engineer
    yuexiu: Engineer
    liwan: Engineer
    depot: Depot
    part: Part
    supplier: Supplier
    ticket: Ticket


def _on_shift(session: Session, engineer: Engineer, start: time, end: time) -> None:
    for weekday in range(7):
        session.add(Shift(engineer_id=engineer.id, weekday=weekday, starts_at=start, ends_at=end))
    session.flush()


def _engineer(session: Session, w: TicketWorld, at: tuple[float, float], **kw: object) -> Engineer:
    lat, lon = at
    return make_engineer(
        session, w.region, home_lat=lat, home_lon=lon, current_lat=lat, current_lon=lon, **kw
    )  # type: ignore[arg-type]


def make_dispatch_world(session: Session, *, with_part: bool = True) -> DispatchWorld:
    w = make_ticket_world(session)
    w.site.lat, w.site.lon = TIANHE
    supplier = Supplier(
        code=f"SUP-{w.site.id}", name="Huawei partner", kind="partner", lead_time_hours=4
    )
    session.add(supplier)
    session.flush()
    part = make_part(session, w.line, supplier_id=supplier.id)
    haizhu = _engineer(session, w, HAIZHU, skills={w.line: 2})
    panyu = _engineer(session, w, PANYU, skills={w.line: 3})
    yuexiu = _engineer(session, w, YUEXIU, skills={make_product_line(session): 3})
    liwan = _engineer(session, w, LIWAN, skills={w.line: 3})
    for day in (haizhu, panyu, yuexiu):
        _on_shift(session, day, time(8), time(20))
    _on_shift(session, liwan, time(22), time(6))
    depot = make_depot(session, w.region, lat=BAIYUN[0], lon=BAIYUN[1], name="Baiyun depot")
    warehouse = make_user(session, Role.WAREHOUSE, key=f"spk_test_wh_{w.site.id}")
    receive(
        session=session, depot_id=depot.id, part_id=part.id, quantity=2, who=Who(warehouse.id, T0)
    )
    parts = [PartNeed(part.id)] if with_part else []
    ticket = open_ticket(session, w, parts=parts)
    return DispatchWorld(w, haizhu, panyu, yuexiu, liwan, depot, part, supplier, ticket)


def add_crowd(session: Session, dw: DispatchWorld, count: int = 60) -> list[int]:
    """Qualified day-shift engineers from 33 km north of the site on, 1 km apart.

    Driving straight, the farther ones arrive after the nearer ones' pickups: with few
    options asked for, the best-first search stops before them (unreached, unpriced).
    """
    out = []
    for i in range(count):
        engineer = _engineer(session, dw.base, (TIANHE[0] + 0.3 + 0.01 * i, TIANHE[1]),
                             skills={dw.base.line: 3})  # fmt: skip
        _on_shift(session, engineer, time(8), time(20))
        out.append(engineer.id)
    return out
