"""The recommendation's answer is written directly (`RecommendationRead.json_of`): it must be
byte for byte what the validated model gives, for every kind of exclusion and every part of
the answer, in the request's display zone."""

from __future__ import annotations

from datetime import UTC
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import optimizer as opt
from api.schemas.common import DISPLAY_ZONE
from api.schemas.dispatch import RecommendationRead
from dispatch.recommend import TicketRecommendation, price_engineer
from dispatch.snapshot import Snapshot
from tests.optimizer.builders import (
    EPOCH,
    HOUR,
    grid,
    grid_travel,
    make_depot,
    make_engineer,
    make_ticket,
    make_world,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _found() -> TicketRecommendation:
    """A ticket with an option and every reason to leave an engineer out: a skill (two
    different texts), too far, busy past his shift (a `free_at` instant), off shift."""
    world = make_world(
        [
            make_engineer(1, (3, 2), skills={"server": 1}),
            make_engineer(2, (0, 0), skills={"storage": 3}),
            make_engineer(3, (9, 9)),
            make_engineer(4, busy_until=7 * HOUR + 1_800, busy_location=grid(3, 3)),
            make_engineer(5, shifts=((-HOUR, 1_800),)),
            make_engineer(6, (1, 1)),
        ],
        [make_depot(stock={10: 1})],
    )
    job = make_ticket(parts=[(10, 1)], dedicated_engineer=1)
    params = opt.RecommendParams(max_travel_s=10 * 60, zone=SHANGHAI)
    rec = opt.recommend(world, job, now=0, travel=grid_travel(), params=params)
    names = {1: 'Lǐ "Xiǎo" Míng', 2: "王伟", 3: "Chen\\Wei", 4: "Zhao", 5: "Sun", 6: "Zhou"}
    snap = Snapshot(EPOCH, world, names, {1: "Baiyun depot"}, {})
    return TicketRecommendation(snap, job, rec, SHANGHAI)


@pytest.mark.parametrize("explain", [True, False])
@pytest.mark.parametrize("asked", [None, 1, 4, 6])
@pytest.mark.parametrize("zone", [None, SHANGHAI, UTC])
def test_the_written_answer_is_the_models_byte_for_byte(
    explain: bool, asked: int | None, zone: Any
) -> None:
    found = _found()
    reasons = {x.reason for x in found.recommendation.excluded}
    assert reasons == {
        opt.ExclusionReason.SKILL,
        opt.ExclusionReason.TOO_FAR,
        opt.ExclusionReason.BUSY,
        opt.ExclusionReason.SHIFT,
    }
    priced = None if asked is None else price_engineer(found, asked)
    token = DISPLAY_ZONE.set(zone)
    try:
        model = RecommendationRead.build(found, as_of=EPOCH, explain=explain, asked=priced)
        written = RecommendationRead.json_of(found, as_of=EPOCH, explain=explain, asked=priced)
        assert written == model.model_dump_json().encode()  # what FastAPI would have sent
    finally:
        DISPLAY_ZONE.reset(token)
    assert RecommendationRead.model_validate_json(written).excluded == model.excluded
