"""The README tour's urgent ticket at site 1 gets a qualified engineer in time, at any hour.

Issue 17: loaded at 13:05 local, the tour's region (Shenzhen) had 3 engineers, none of them
holding the server skill on shift, so the rack server's urgent ticket got an engineer from
1.5 h away. The demo world is loaded as of the hour `spares serve --demo` starts; here at
night, in the morning and in the afternoon (Asia/Shanghai), on a weekday and a weekend day,
as the README's ticket is taken in: an urgent hardware fault on asset 1 with part 89.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from db import Role, User
from dispatch.intake import PartNeed, TicketIntake, create_ticket
from dispatch.models import Channel, EngineerSkill
from dispatch.recommend import recommend_ticket
from dispatch.world import WorldSize, generate_world, load_world
from optimizer import GUANGDONG_RUSH_HOURS, GeodesicTravelTimes, TimedTravelTimes

LOCAL = ZoneInfo("Asia/Shanghai")
TRAVEL = TimedTravelTimes(GeodesicTravelTimes(), GUANGDONG_RUSH_HOURS)  # the API's default
THURSDAY, SATURDAY = date(2026, 12, 3), date(2026, 12, 5)
HOURS = {"night": time(3), "morning": time(8), "afternoon": time(15)}
SERVER_HARDWARE = 26  # the README's ticket type: needs the server line at level 2


@pytest.mark.parametrize("day", [THURSDAY, SATURDAY], ids=["weekday", "weekend"])
@pytest.mark.parametrize("hour", list(HOURS.values()), ids=list(HOURS))
def test_the_tours_urgent_ticket_gets_a_qualified_engineer_within_2_hours(
    session: Session, day: date, hour: time
) -> None:
    now = datetime.combine(day, hour, tzinfo=LOCAL)
    world = generate_world(7, WorldSize.SMALL, as_of=now)
    load_world(session, world)
    dispatcher = session.get(User, next(u["id"] for u in world.rows("users")
                                        if u["role"] == Role.DISPATCHER))  # fmt: skip
    assert dispatcher is not None
    ticket = create_ticket(
        session,
        TicketIntake(
            site_id=1,
            asset_id=1,
            ticket_type_id=SERVER_HARDWARE,
            severity="urgent",
            channel=Channel.PHONE,
            parts=(PartNeed(part_id=89),),
        ),  # fmt: skip
        user=dispatcher,
        now=now,
    )
    assert ticket.arrive_by == now + timedelta(hours=2)
    found = recommend_ticket(session, ticket_id=ticket.id, now=now, travel=TRAVEL)
    options = found.recommendation.options
    assert options, found.recommendation.excluded
    first = options[0]
    arrives = found.snapshot.world.at(first.arrives_at)
    assert arrives <= ticket.arrive_by, (first.engineer_id, arrives.astimezone(LOCAL))
    skill = session.get(EngineerSkill, (first.engineer_id, 5))  # the server line
    assert skill is not None
    assert skill.level >= 2
    region = {e["id"]: e["region_id"] for e in world.rows("engineers")}
    assert region[first.engineer_id] == 3  # a Shenzhen engineer, near the site
