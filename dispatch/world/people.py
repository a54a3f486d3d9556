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

# Demo only, NOT secret: fixed, documented keys so anyone can drive a demo by hand.
# A real deployment issues random keys (db.identity.new_api_key) and never loads these.
DEMO_USERS: dict[Role, tuple[str, str]] = {
    role: (f"Demo {role.value}", f"spk_demo_{role.value}") for role in Role
}
DEMO_KEYS: dict[Role, str] = {role: key for role, (_name, key) in DEMO_USERS.items()}

VAN_SHARE = 0.6  # engineers who carry van stock
SKILL_LINES_P = (0.45, 0.35, 0.2)  # an engineer knows 1, 2 or 3 product lines
SKILL_LEVEL_P = (0.4, 0.4, 0.2)  # basic, advanced, expert
ABSENCE_SHARE = 0.1
ABSENCE_REASONS = ("annual leave", "sick leave", "training", "family leave")

# Weekly shift patterns by an engineer's rank in its region: the first five already give
# the region 7x24 cover (day, on-call night, weekend day, day, on-call night).
DAY = "day"
NIGHT = "night"
WEEKEND = "weekend"
ROTA = (DAY, NIGHT, WEEKEND, DAY, NIGHT, DAY, DAY, WEEKEND, DAY, NIGHT)
DAY_HOURS = (time(8, 30), time(17, 30))
NIGHT_HOURS = (time(17, 30), time(8, 30))  # ends the next morning
WEEKDAYS = (0, 1, 2, 3, 4)
WEEKEND_DAYS = (2, 3, 4, 5, 6)  # Wednesday to Sunday
# Consecutive on-call nights: the k-th night engineer of region r starts on day 4k + 3r
# (mod 7), so two night engineers cover a region's week, and regions with one stagger
# their nights so the province is covered every night.
NIGHTS_ON = 4
NIGHT_REGION_STEP = 3


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


def engineer_homes(
    places: Places, weights: npt.NDArray[np.float64], count: int, rng: np.random.Generator
) -> npt.NDArray[np.int64]:
    """Home places grouped by region: at least one per region (at its seat), the rest by demand."""
    regions = len(PREFECTURES)
    region_weight = region_weights(places, weights)
    order = np.argsort(-region_weight, kind="stable")
    quota = np.zeros(regions, dtype=np.int64)
    quota[order[: min(count, regions)]] = 1
    spare = count - int(quota.sum())
    if spare > 0:
        share = spare * region_weight / region_weight.sum()
        quota += np.floor(share).astype(np.int64)
        left = spare - int(np.floor(share).sum())
        quota[np.argsort(-(share - np.floor(share)), kind="stable")[:left]] += 1
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
    tables = {
        "users": users,
        "engineers": engineers,
        "engineer_skills": _skills(count, rng),
        "shifts": _shifts(region_of),
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
    }


def _skills(count: int, rng: np.random.Generator) -> list[Row]:
    """1-3 product lines per engineer, each at level 1-3."""
    rows = []
    n_lines = rng.choice((1, 2, 3), size=count, p=SKILL_LINES_P).tolist()
    for engineer in range(count):
        lines = sorted(rng.choice(len(LINES), size=n_lines[engineer], replace=False).tolist())
        levels = rng.choice((1, 2, 3), size=len(lines), p=SKILL_LEVEL_P).tolist()
        for line, level in zip(lines, levels, strict=True):
            rows.append({"engineer_id": engineer + 1, "product_line_id": line + 1, "level": level})
    return rows


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
            days = tuple(
                (NIGHTS_ON * k + NIGHT_REGION_STEP * region + d) % 7 for d in range(NIGHTS_ON)
            )
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
