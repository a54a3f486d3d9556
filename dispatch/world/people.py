"""Demo users and the engineers: homes, vans, skills, weekly shifts and absences."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from db.identity import Role, hash_api_key
from dispatch.world.catalogue_data import LINES
from dispatch.world.geography import ENGINEER_RADIUS_KM, jitter, region_weights
from dispatch.world.model import Row, local_datetime
from dispatch.world.names import person_names
from dispatch.world.places import PREFECTURES, Places
from inventory.depot_times import DEFAULT_PICK_MIN

# Demo only, NOT secret: fixed, documented keys so anyone can drive a demo by hand.
# A real deployment issues random keys (db.identity.new_api_key) and never loads these.
DEMO_USERS: dict[Role, tuple[str, str]] = {
    role: (f"Demo {role.value}", f"spk_demo_{role.value}") for role in Role
}
DEMO_KEYS: dict[Role, str] = {role: key for role, (_name, key) in DEMO_USERS.items()}

VAN_SHARE = 0.6  # engineers who carry van stock
SKILL_LINES_P = (0.45, 0.35, 0.2)  # an engineer knows 1, 2 or 3 product lines...
MAX_LINES = 3  # ... but one whose shift would leave a line uncovered learns up to this many
SKILL_LEVEL_P = (0.4, 0.4, 0.2)  # basic, advanced, expert
COVER_LEVEL = 2  # a line learnt to fill the rota's gap is held at least at this level
ABSENCE_SHARE = 0.1
ABSENCE_REASONS = ("annual leave", "sick leave", "training", "family leave")

# Weekly shift patterns by an engineer's rank in its region: the first five already give
# the region 7x24 cover (day, on-call night, weekend day, day, on-call night); the first
# eight put two engineers on every hour of the week, which (with the skills chosen to fill
# the rota's gaps, `_skills`) covers every product line at every hour.
DAY = "day"
NIGHT = "night"
WEEKEND = "weekend"
ROTA = (DAY, NIGHT, WEEKEND, DAY, NIGHT, WEEKEND, NIGHT, NIGHT, DAY, DAY)
DAY_HOURS = (time(8, 30), time(17, 30))
NIGHT_HOURS = (time(17, 30), time(8, 30))  # ends the next morning
WEEKDAYS = (0, 1, 2, 3, 4)
WEEKEND_DAYS = (2, 3, 4, 5, 6)  # Wednesday to Sunday
# Consecutive on-call nights: the k-th night engineer of region r starts on day
# 4 (k mod 2) + 3r (mod 7), so two night engineers cover a region's week (the third and
# fourth pair up with the first and second), and regions with one stagger their nights so
# the province is covered every night.
NIGHTS_ON = 4
# A small on-call roster (issue 16: call-outs show in the demo): each region's first engineer
# (rank 0, a weekday day shift) is on call the nights after his shifts, 20:00 to 08:00 local.
# On call is not working time: a severe ticket may wake him at his labour rules' call-out
# cost (README "Labour rules"). docs/world-format.md, `shifts.on_call`.
ON_CALL_RANKS = (0,)
ON_CALL_HOURS = (time(20, 0), time(8, 0))
NIGHT_REGION_STEP = 3
NIGHT_TEAMS = 2
HALF_HOURS = 7 * 48  # the week in half hours, from Monday 00:00


@dataclass(frozen=True, eq=False)
class Staff:
    """Rows of the people tables, plus engineer lookups for sites and tickets."""

    tables: dict[str, list[Row]]
    van_depots: list[Row]
    engineer_region: npt.NDArray[np.int64]  # region index of each engineer (id - 1)
    demo_keys: dict[Role, str]


def user_rows(now: datetime) -> tuple[list[Row], dict[Role, str]]:
    """One demo user per role (ids in Role order) and their demo keys."""
    created = now - timedelta(days=30)
    rows, keys = [], {}
    for i, (role, (name, key)) in enumerate(DEMO_USERS.items(), start=1):
        rows.append(
            {
                "id": i,
                "name": name,
                "role": role,
                "api_key_hash": hash_api_key(key),
                "active": True,
                "created_at": created,
            }
        )
        keys[role] = key
    return rows, keys


def region_quotas(region_weight: npt.NDArray[np.float64], count: int) -> npt.NDArray[np.int64]:
    """Engineers per region: its share of demand, at least one (largest remainder).

    Regions whose share is below one engineer get one; the rest is shared by demand among
    the others, so the busiest region gets a crew in proportion (a floor of one for every
    region first, then the rest by share, left Shenzhen's 23 % of the sites with 6 of 30).
    Fewer engineers than regions: the busiest regions get one each.
    """
    regions = region_weight.size
    quota = np.zeros(regions, dtype=np.int64)
    if count <= regions:
        quota[np.argsort(-region_weight, kind="stable")[:count]] = 1
        return quota
    floor = np.zeros(regions, dtype=bool)
    while True:
        free = ~floor
        share = (count - int(floor.sum())) * region_weight * free / region_weight[free].sum()
        below = free & (share < 1)
        if not below.any():
            break
        floor |= below
    quota = np.where(floor, 1, np.floor(share)).astype(np.int64)
    remainder = np.where(floor, -1.0, share - np.floor(share))
    quota[np.argsort(-remainder, kind="stable")[: count - int(quota.sum())]] += 1
    return quota


def engineer_homes(
    places: Places, weights: npt.NDArray[np.float64], count: int, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """Home places grouped by region: the first at its seat, the rest drawn by demand."""
    regions = len(PREFECTURES)
    quota = region_quotas(region_weights(places, weights), count)
    homes: list[int] = []
    for region in range(regions):
        if quota[region] == 0:
            continue
        inside = np.flatnonzero(places.prefecture == region)
        p = weights[inside] / weights[inside].sum()
        homes.append(places.seat(region))
        homes += rng.choice(inside, size=int(quota[region]) - 1, p=p).tolist()
    return np.array(homes, dtype=np.int64)


def build_staff(
    places: Places,
    weights: npt.NDArray[np.float64],
    count: int,
    first_van_depot_id: int,
    reference_date: date,
    now: datetime,
    rng: np.random.Generator,
) -> Staff:
    """Users, engineers (with van depots), skills, shifts and absences, as of `now`."""
    users, keys = user_rows(now)
    homes = engineer_homes(places, weights, count, rng)
    engineer_user = next(u["id"] for u in users if u["role"] == Role.ENGINEER)
    engineers, vans = _engineer_rows(places, homes, first_van_depot_id, now, rng)
    engineers[0]["user_id"] = engineer_user  # the demo engineer logs in as this one
    region_of = places.prefecture[homes]
    shifts = _shifts(region_of)
    tables = {
        "users": users,
        "engineers": engineers,
        "engineer_skills": _skills(region_of, shifts, rng),
        "shifts": shifts + _on_call(region_of, len(shifts)),
        "absences": _absences(count, reference_date, rng),
    }
    return Staff(tables=tables, van_depots=vans, engineer_region=region_of, demo_keys=keys)


def _engineer_rows(
    places: Places,
    homes: npt.NDArray[np.int64],
    first_van_depot_id: int,
    at: datetime,
    rng: np.random.Generator,
) -> tuple[list[Row], list[Row]]:
    """Engineers at home (the current position on the reference instant) and their vans."""
    count = homes.size
    lat, lon = jitter(places.lat[homes], places.lon[homes], ENGINEER_RADIUS_KM, rng)
    names = person_names(count, rng)
    has_van = rng.random(count) < VAN_SHARE
    has_van[0] = True  # the demo engineer carries van stock
    costs = rng.uniform(80.0, 180.0, count).tolist()
    per_km = rng.uniform(1.2, 2.5, count).tolist()
    capacity = rng.integers(30, 61, count).tolist()
    engineers: list[Row] = []
    vans: list[Row] = []
    for i, place in enumerate(homes.tolist()):
        region = int(places.prefecture[place])
        van_id = first_van_depot_id + len(vans) if has_van[i] else None
        code = f"E{i + 1:05d}"
        if van_id is not None:
            vans.append(_van_row(van_id, code, names[i], region, places.name[place]))
        engineers.append(
            {
                "id": i + 1,
                "code": code,
                "name": names[i],
                "region_id": region + 1,
                "home_place": places.name[place],
                "home_lat": lat[i],
                "home_lon": lon[i],
                "current_lat": lat[i],
                "current_lon": lon[i],
                "position_at": at,
                "van_depot_id": van_id,
                "van_capacity": capacity[i] if van_id is not None else None,
                "cost_per_hour": Decimal(f"{costs[i]:.2f}"),
                "cost_per_km": Decimal(f"{per_km[i]:.2f}"),
                "user_id": None,
                "active": True,
                "labour_rule_id": None,  # his region's rules
            }
        )
    return engineers, vans


def _van_row(depot_id: int, engineer_code: str, name: str, region: int, place: str) -> Row:
    return {
        "id": depot_id,
        "code": f"VAN-{engineer_code}",
        "name": f"Van of {name} ({engineer_code})",
        "kind": "van",
        "region_id": region + 1,
        "place": place,
        "lat": None,  # a van moves with its engineer
        "lon": None,
        "opens_at": None,
        "closes_at": None,
        "pick_min": DEFAULT_PICK_MIN,  # unused: a van's parts ride with him
    }


def _skills(
    region_of: npt.NDArray[np.int64], shifts: list[Row], rng: np.random.Generator
) -> list[Row]:
    """1-3 product lines per engineer, each at level 1-3, chosen to fill the rota's gaps.

    A planner hires for cover: an engineer learns first the lines that nobody of his region
    holds (at level 2 or more) during his shift hours, most uncovered half hours first
    (ties at random), at level 2 or more, and as many as his shift lacks (up to 3); lines
    beyond that are drawn as before. So a region whose rota puts two engineers on every
    hour covers every line at every hour (7x24), and a lone engineer is a generalist.
    """
    count = region_of.size
    hours = np.zeros((count, HALF_HOURS), dtype=bool)
    for shift in shifts:
        hours[shift["engineer_id"] - 1, _half_hours(shift)] = True
    covered = np.zeros((int(region_of.max(initial=0)) + 1, len(LINES), HALF_HOURS), dtype=bool)
    n_lines = rng.choice((1, 2, 3), size=count, p=SKILL_LINES_P).tolist()
    levels = rng.choice((1, 2, 3), size=(count, MAX_LINES), p=SKILL_LEVEL_P).tolist()
    ties = rng.random((count, len(LINES)))
    rows = []
    for engineer, region in enumerate(region_of.tolist()):
        gaps = (~covered[region] & hours[engineer]).sum(axis=1)
        short = int(np.count_nonzero(gaps))
        take = max(n_lines[engineer], min(MAX_LINES, short))
        lines = np.lexsort((ties[engineer], -gaps))[:take].tolist()
        for line, level in zip(sorted(lines), levels[engineer], strict=False):
            if gaps[line]:
                level = max(level, COVER_LEVEL)
            if level >= COVER_LEVEL:
                covered[region, line] |= hours[engineer]
            rows.append({"engineer_id": engineer + 1, "product_line_id": line + 1, "level": level})
    return rows


def _half_hours(shift: Row) -> npt.NDArray[np.int64]:
    """The half hours of the week (from Monday 00:00) a weekly shift covers."""
    start, end = shift["starts_at"], shift["ends_at"]
    first = shift["weekday"] * 48 + start.hour * 2 + start.minute // 30
    last = shift["weekday"] * 48 + end.hour * 2 + end.minute // 30
    last += 48 if end <= start else 0  # ends the next day
    return np.arange(first, last) % HALF_HOURS


def _shifts(region_of: npt.NDArray[np.int64]) -> list[Row]:
    """Weekly shifts from the rota, by each engineer's rank within its region."""
    rows: list[Row] = []
    seen: dict[int, int] = {}
    nights: dict[int, int] = {}
    for engineer, region in enumerate(region_of.tolist()):
        rank = seen.get(region, 0)
        seen[region] = rank + 1
        pattern = ROTA[rank % len(ROTA)]
        if pattern == NIGHT:
            k = nights.get(region, 0)
            nights[region] = k + 1
            first = NIGHTS_ON * (k % NIGHT_TEAMS) + NIGHT_REGION_STEP * region
            days = tuple((first + d) % 7 for d in range(NIGHTS_ON))
            hours = NIGHT_HOURS
        else:
            days = WEEKDAYS if pattern == DAY else WEEKEND_DAYS
            hours = DAY_HOURS
        for day in sorted(days):
            rows.append(
                {
                    "id": len(rows) + 1,
                    "engineer_id": engineer + 1,
                    "weekday": day,
                    "starts_at": hours[0],
                    "ends_at": hours[1],
                    "on_call": False,
                }
            )
    return rows


def _on_call(region_of: npt.NDArray[np.int64], first_id: int) -> list[Row]:
    """The on-call roster (`ON_CALL_RANKS`, `ON_CALL_HOURS`), after the working shifts (so
    their ids and the skills chosen to fill the rota's gaps are those of before)."""
    rows: list[Row] = []
    seen: dict[int, int] = {}
    for engineer, region in enumerate(region_of.tolist()):
        rank = seen.get(region, 0)
        seen[region] = rank + 1
        if rank not in ON_CALL_RANKS:
            continue
        days = WEEKDAYS if ROTA[rank % len(ROTA)] == DAY else ()
        for day in days:
            rows.append(
                {
                    "id": first_id + len(rows) + 1,
                    "engineer_id": engineer + 1,
                    "weekday": day,
                    "starts_at": ON_CALL_HOURS[0],
                    "ends_at": ON_CALL_HOURS[1],
                    "on_call": True,
                }
            )
    return rows


def _absences(count: int, reference_date: date, rng: np.random.Generator) -> list[Row]:
    """Leave around the reference date; engineer 2 is always away on it (a known case)."""
    away = rng.random(count) < ABSENCE_SHARE
    starts = rng.integers(-5, 11, count).tolist()
    lengths = rng.integers(1, 8, count).tolist()
    reasons = rng.integers(0, len(ABSENCE_REASONS), count).tolist()
    if count > 1:
        away[1], starts[1], lengths[1] = True, -1, 4
    rows: list[Row] = []
    for engineer in np.flatnonzero(away).tolist():
        first = reference_date + timedelta(days=starts[engineer])
        rows.append(
            {
                "id": len(rows) + 1,
                "engineer_id": engineer + 1,
                "starts_at": local_datetime(first, time(0)),
                "ends_at": local_datetime(first + timedelta(days=lengths[engineer]), time(0)),
                "reason": ABSENCE_REASONS[reasons[engineer]],
            }
        )
    return rows
