"""Customers: contracts, sites on real places, installed assets and their key parts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt

from dispatch.world.catalogue import Catalogue
from dispatch.world.catalogue_data import LINES
from dispatch.world.geography import jitter, sample_places, site_radius
from dispatch.world.model import Row
from dispatch.world.names import company_names, site_labels
from dispatch.world.places import PREFECTURES, PlaceKind, Places
from dispatch.world.policies import POLICIES, RURAL_POLICY, URBAN_POLICY_SHARES, policy_index

SITES_PER_CONTRACT = 10
MIN_CONTRACTS = 20
RURAL_CONTRACT_SHARE = 0.12
RURAL_POLICY_AT_RURAL_SITE = 0.6  # a rural site's contract has the rural policy this often
HOME_REGION_SHARE = 0.85  # a site belongs to a contract of its own region this often
DEDICATED_SHARE = 0.1  # sites with a dedicated engineer (一对一服务)
ASSETS_PER_SITE_P = (0.5, 0.3, 0.2)  # 1, 2 or 3 assets
OLDEST_ASSET_DAYS = 7 * 365  # assets are 1 month to 7 years old: in and out of warranty
NO_ACCEPTANCE_SHARE = 0.1
NO_RECORD_SHARE = 0.08
REPLACED_KEY_PART_SHARE = 0.05


@dataclass(frozen=True, eq=False)
class Contracts:
    """Contract rows plus each contract's home region and short customer name."""

    rows: list[Row]
    region: list[int]
    short_name: list[str]


def contract_rows(
    count: int, region_weight: npt.NDArray[np.float64], reference: date, rng: np.random.Generator
) -> Contracts:
    """Contracts with a home region; the first ones cover every policy once."""
    regions = rng.choice(region_weight.size, size=count, p=region_weight / region_weight.sum())
    urban = list(URBAN_POLICY_SHARES)
    shares = np.array(list(URBAN_POLICY_SHARES.values()))
    picks = rng.choice(len(urban), size=count, p=shares / shares.sum()).tolist()
    rural = (rng.random(count) < RURAL_CONTRACT_SHARE).tolist()
    policy = [
        policy_index(RURAL_POLICY) if r else policy_index(urban[p])
        for r, p in zip(rural, picks, strict=True)
    ]
    policy[: len(POLICIES)] = range(len(POLICIES))[:count]
    age = rng.integers(30, 5 * 365, size=count).tolist()
    left = rng.integers(30, 3 * 365, size=count).tolist()
    open_ended = (rng.random(count) < 0.2).tolist()
    names = company_names([PREFECTURES[r].name for r in regions.tolist()], rng)
    rows = [
        {
            "id": i + 1,
            "code": f"C{i + 1:05d}",
            "customer_name": names[i][0],
            "policy_id": policy[i] + 1,
            "starts_on": reference - timedelta(days=age[i]),
            "ends_on": None if open_ended[i] else reference + timedelta(days=left[i]),
        }
        for i in range(count)
    ]
    return Contracts(rows, regions.tolist(), [n[1] for n in names])


def _pick_contracts(
    contracts: Contracts, site_region: list[int], site_rural: list[bool], rng: np.random.Generator
) -> list[int]:
    """Contract index per site: mostly its own region's, rural sites mostly rural-policy."""
    rural_policy = policy_index(RURAL_POLICY) + 1
    pools: dict[bool, list[int]] = {True: [], False: []}
    by_region: dict[tuple[int, bool], list[int]] = {}
    for i, (row, region) in enumerate(zip(contracts.rows, contracts.region, strict=True)):
        is_rural = row["policy_id"] == rural_policy
        pools[is_rural].append(i)
        by_region.setdefault((region, is_rural), []).append(i)
    u_pool, u_home, u_pick = rng.random((3, len(site_region))).tolist()
    chosen = []
    for s, (region, rural) in enumerate(zip(site_region, site_rural, strict=True)):
        want_rural = rural and u_pool[s] < RURAL_POLICY_AT_RURAL_SITE and bool(pools[True])
        pool = pools[want_rural] or pools[not want_rural]
        home = by_region.get((region, want_rural))
        if home and u_home[s] < HOME_REGION_SHARE:
            pool = home
        chosen.append(pool[int(u_pick[s] * len(pool))])
    return chosen


def site_rows(
    places: Places,
    weights: npt.NDArray[np.float64],
    count: int,
    contracts: Contracts,
    engineer_region: npt.NDArray[np.int64],
    rng: np.random.Generator,
    *,
    site_lines: dict[int, set[int]] | None = None,
    engineer_lines: dict[int, set[int]] | None = None,
) -> list[Row]:
    """Sites jittered around real places drawn by demand weight.

    A site's dedicated engineer (if it has one) is a colleague of its region who holds the
    product lines of the site's assets (`site_lines`: line ids by site id; `engineer_lines`:
    the lines each engineer id holds at a level that fixes faults): one who holds them all
    when there is one, else one who holds the most; nobody who holds none of them.
    """
    where = sample_places(weights, count, rng)
    lat, lon = jitter(places.lat[where], places.lon[where], site_radius(places, where), rng)
    region = places.prefecture[where].tolist()
    rural = [places.kind[p] == PlaceKind.RURAL for p in where.tolist()]
    contract = _pick_contracts(contracts, region, rural, rng)
    facility, street = site_labels(count, rng)
    team: dict[int, list[int]] = {}
    for engineer, r in enumerate(engineer_region.tolist()):
        team.setdefault(r, []).append(engineer + 1)
    u_dedicated, u_engineer = rng.random((2, count)).tolist()
    rows = []
    for i, place in enumerate(where.tolist()):
        mates = _able(team.get(region[i], []), i + 1, site_lines, engineer_lines)
        dedicated = None
        if mates and u_dedicated[i] < DEDICATED_SHARE:
            dedicated = mates[int(u_engineer[i] * len(mates))]
        rows.append(
            {
                "id": i + 1,
                "code": f"S{i + 1:06d}",
                "name": f"{contracts.short_name[contract[i]]} {facility[i]} ({places.name[place]})",
                "region_id": region[i] + 1,
                "contract_id": contract[i] + 1,
                "place": places.name[place],
                "address": f"{street[i]}, {places.name[place]}, {PREFECTURES[region[i]].name}",
                "lat": lat[i],
                "lon": lon[i],
                "rural": rural[i],
                "dedicated_engineer_id": dedicated,
            }
        )
    return rows


def _able(
    mates: list[int],
    site_id: int,
    site_lines: dict[int, set[int]] | None,
    engineer_lines: dict[int, set[int]] | None,
) -> list[int]:
    """The colleagues who can fix the site's assets: all its lines, else the most of them."""
    if site_lines is None or engineer_lines is None:
        return mates
    lines = site_lines.get(site_id, set())
    held = {m: len(lines & engineer_lines.get(m, set())) for m in mates}
    best = max(held.values(), default=0)
    return [m for m in mates if best and held[m] == best]


def asset_rows(
    sites: int, catalogue: Catalogue, reference: date, rng: np.random.Generator
) -> list[Row]:
    """1-3 assets per site, 1 month to 7 years old, some without acceptance or record."""
    per_site = rng.choice((1, 2, 3), size=sites, p=ASSETS_PER_SITE_P)
    site_of = np.repeat(np.arange(1, sites + 1), per_site).tolist()
    count = len(site_of)
    model = rng.integers(0, catalogue.model_line.size, size=count).tolist()
    age = rng.integers(30, OLDEST_ASSET_DAYS, size=count)
    lag = np.minimum(rng.integers(0, 46, size=count), age)  # accepted by the reference date
    ref = np.datetime64(reference, "D")
    installed = (ref - age.astype("timedelta64[D]")).tolist()
    accepted = (ref - (age - lag).astype("timedelta64[D]")).tolist()
    no_acceptance = (rng.random(count) < NO_ACCEPTANCE_SHARE).tolist()
    record = (rng.random(count) >= NO_RECORD_SHARE).tolist()
    rows = []
    for i in range(count):
        prefix = LINES[int(catalogue.model_line[model[i]])].prefix
        rows.append(
            {
                "id": i + 1,
                "serial": f"{prefix}{installed[i]:%y%m}-{i + 1:07d}",
                "product_model_id": model[i] + 1,
                "site_id": site_of[i],
                "installed_on": installed[i],
                "accepted_on": None if no_acceptance[i] else accepted[i],
                "has_warranty_record": record[i],
            }
        )
    return rows


def installed_part_rows(
    assets: list[Row], catalogue: Catalogue, reference: date, rng: np.random.Generator
) -> list[Row]:
    """The key parts of each asset's model; a few were replaced, restarting their warranty."""
    rows: list[Row] = []
    draws = rng.random((len(assets), 2)).tolist()
    for asset, (u_replace, u_when) in zip(assets, draws, strict=True):
        model = asset["product_model_id"] - 1
        installed: date = asset["installed_on"]
        age = (reference - installed).days
        for k, part in enumerate(catalogue.model_key_parts[model]):
            serial = f"{asset['serial']}-K{k + 1}"
            swapped = None
            if k == 0 and age > 60 and u_replace < REPLACED_KEY_PART_SHARE:
                swapped = installed + timedelta(days=30 + int(u_when * (age - 31)))
            rows.append(_part_row(len(rows) + 1, asset["id"], part, serial, installed, swapped))
            if swapped is not None:
                serial = f"{serial}-R"
                rows.append(_part_row(len(rows) + 1, asset["id"], part, serial, swapped, None))
                rows[-1]["warranty_starts_on"] = swapped  # fixed that day: a fresh warranty
    return rows


def _part_row(
    row_id: int, asset: int, part: int, serial: str, installed: date, removed: date | None
) -> Row:
    return {
        "id": row_id,
        "asset_id": asset,
        "part_id": part,
        "serial": serial,
        "installed_on": installed,
        "warranty_starts_on": None,
        "removed_on": removed,
    }
