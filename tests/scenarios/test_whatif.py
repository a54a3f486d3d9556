"""Each what-if transform returns a new world and leaves the base untouched."""

from __future__ import annotations

import pytest

from scenarios import spec, whatif
from scenarios.model import SimWorld


def _apply(world: SimWorld, change: dict[str, object]) -> SimWorld:
    variant = spec.Variant.model_validate({"name": "v", "changes": [change]})
    return whatif.apply_changes(world, variant.changes)


def test_add_depot_copies_stock(small: SimWorld) -> None:
    new = _apply(small, {"kind": "add_depot", "code": "NEW", "region": "shenzhen",
                         "lat": 22.6, "lon": 114.0, "stock_like": "CW-GUANGZHOU"})  # fmt: skip
    depot = new.depot("NEW")
    model = small.depot("CW-GUANGZHOU").id
    assert sum(q for (d, _), q in new.stock.items() if d == depot.id) == sum(
        q for (d, _), q in small.stock.items() if d == model
    )
    with pytest.raises(ValueError, match="NEW"):
        small.depot("NEW")


def test_remove_and_move_depot(small: SimWorld) -> None:
    gone = _apply(small, {"kind": "remove_depot", "depot": "CW-GUANGZHOU"})
    assert all(d.code != "CW-GUANGZHOU" for d in gone.depots)
    assert all(k[0] != small.depot("CW-GUANGZHOU").id for k in gone.stock)
    moved = _apply(small, {"kind": "move_depot", "depot": "CW-GUANGZHOU", "lat": 23, "lon": 113})
    location = moved.depot("CW-GUANGZHOU").location
    assert location is not None
    assert (location.lat, location.lon) == (23, 113)


def test_engineers_plus_and_minus(small: SimWorld) -> None:
    more = _apply(small, {"kind": "engineers", "delta": 3, "region": "guangzhou"})
    assert len(more.engineers) == len(small.engineers) + 3
    assert len({e.id for e in more.engineers}) == len(more.engineers)
    fewer = _apply(small, {"kind": "engineers", "delta": -1, "region": "guangzhou"})
    assert len(fewer.engineers) == len(small.engineers) - 1


def test_shift_pattern_and_travel_speed(small: SimWorld) -> None:
    night = _apply(small, {"kind": "shift_pattern", "start": "20:00", "end": "08:00"})
    assert all(len(e.shifts) == 5 for e in night.engineers)
    assert _apply(small, {"kind": "travel_speed", "factor": 0.5}).travel_speed == 0.5


def test_stock_level_factor_and_quantity(small: SimWorld) -> None:
    double = _apply(small, {"kind": "stock_level", "factor": 2})
    central = small.depot("CW-GUANGZHOU").id
    key = next(k for k in small.stock if k[0] == central)
    assert double.stock[key] == 2 * small.stock[key]
    zero = _apply(small, {"kind": "stock_level", "depot": "CW-GUANGZHOU", "quantity": 0})
    assert zero.stock[key] == 0


def test_promise_policy(small: SimWorld) -> None:
    new = _apply(small, {"kind": "promise_policy", "severity": "urgent", "arrive_min": 90})
    assert new.policies[1].by_rank(1).offsets.arrive_min == 90
    assert small.policies[1].by_rank(1).offsets.arrive_min == 120


def test_surge_strike_outage(small: SimWorld) -> None:
    new = _apply(small, {"kind": "demand_surge", "region": "shenzhen", "factor": 2, "days": 1})
    assert new.surges[0].period.end_s == 86_400
    struck = _apply(small, {"kind": "strike", "share": 0.5, "start_day": 1, "days": 2})
    assert len(struck.strikes) == len(small.engineers) // 2
    out = _apply(small, {"kind": "depot_outage", "depot": "CW-GUANGZHOU", "days": 1})
    assert out.outages[small.depot("CW-GUANGZHOU").id][0].covers(0)


def test_unknown_region_is_an_error(small: SimWorld) -> None:
    with pytest.raises(ValueError, match="atlantis"):
        _apply(small, {"kind": "demand_surge", "region": "atlantis", "factor": 2})


def test_engineers_copies_can_work_another_pattern(small: SimWorld) -> None:
    late = _apply(small, {"kind": "engineers", "delta": 2, "region": "guangzhou",
                          "start": "17:30", "end": "08:30", "weekdays": [5, 6]})  # fmt: skip
    added = late.engineers[len(small.engineers) :]
    assert len(added) == 2
    assert all([(s.weekday, s.starts_at.hour) for s in e.shifts] == [(5, 17), (6, 17)]
               for e in added)  # fmt: skip
    weekdays = _apply(small, {"kind": "engineers", "delta": 1, "start": "08:00", "end": "16:00"})
    assert [s.weekday for s in weekdays.engineers[-1].shifts] == [0, 1, 2, 3, 4]


def test_an_engineers_pattern_needs_start_and_end() -> None:
    for bad in ({"start": "08:00"}, {"weekdays": [1]}, {"start": "08:00", "end": "08:00"}):
        with pytest.raises(ValueError, match="start|end|weekdays"):
            spec.Engineers.model_validate({"kind": "engineers", "delta": 1, **bad})
