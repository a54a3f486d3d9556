"""Build the deterministic demo world: a seed and a size in, every table's rows out."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from dispatch.world.catalogue import build_catalogue
from dispatch.world.customers import (
    MIN_CONTRACTS,
    SITES_PER_CONTRACT,
    asset_rows,
    contract_rows,
    installed_part_rows,
    site_rows,
)
from dispatch.world.geography import depot_rows, place_weights, region_rows, region_weights
from dispatch.world.model import (
    LOCAL_TIMEZONE,
    REFERENCE_DATE,
    SIZES,
    TABLE_ORDER,
    Row,
    World,
    WorldSize,
    reference_instant,
    rng_for,
)
from dispatch.world.people import COVER_LEVEL, build_staff
from dispatch.world.places import load_places
from dispatch.world.policies import labour_rule_rows, policy_rows
from dispatch.world.stock import stock_rows
from dispatch.world.tickets import ticket_tables


def generate_world(
    seed: int,
    size: WorldSize | str,
    *,
    reference_date: date = REFERENCE_DATE,
    as_of: datetime | None = None,
) -> World:
    """Generate the demo world of `size` for `seed`, as of `reference_date`.

    Pure and deterministic: no clock, no global random state, no database. Each part of
    the world draws from its own generator derived from the seed. `as_of` (an aware
    instant) replaces the reference date's 09:00 as the demo's "now": open tickets are
    reported shortly before it, so a live demo shows clocks that are still running.
    """
    if as_of is not None:
        if as_of.tzinfo is None:
            raise ValueError("as_of must carry a time zone")
        reference_date = as_of.astimezone(ZoneInfo(LOCAL_TIMEZONE)).date()
    now = as_of if as_of is not None else reference_instant(reference_date)
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    size = WorldSize(size)
    spec = SIZES[size]
    places = load_places()
    weights = place_weights(places)
    tables: dict[str, list[Row]] = {"regions": region_rows(places)}

    catalogue = build_catalogue(spec, places, rng_for(seed, "catalogue"))
    tables.update(catalogue.tables)
    depots = depot_rows(places, spec.depots, rng_for(seed, "depots"))
    staff = build_staff(
        places,
        weights,
        spec.engineers,
        len(depots) + 1,
        reference_date,
        now,
        rng_for(seed, "staff"),
    )
    tables.update(staff.tables)
    tables["depots"] = depots + staff.van_depots
    tables["promise_policies"], tables["policy_severities"] = policy_rows()
    tables["labour_rules"] = labour_rule_rows(tables["regions"])

    region_weight = region_weights(places, weights)
    n_contracts = max(MIN_CONTRACTS, spec.sites // SITES_PER_CONTRACT)
    contracts = contract_rows(n_contracts, region_weight, reference_date, rng_for(seed, "deals"))
    tables["contracts"] = contracts.rows
    tables["assets"] = asset_rows(spec.sites, catalogue, reference_date, rng_for(seed, "assets"))
    tables["sites"] = site_rows(
        places, weights, spec.sites, contracts, staff.engineer_region, rng_for(seed, "sites"),
        site_lines=_site_lines(tables["assets"], catalogue.model_line),
        engineer_lines=_engineer_lines(tables["engineer_skills"]),
    )  # fmt: skip
    tables["installed_parts"] = installed_part_rows(
        tables["assets"], catalogue, reference_date, rng_for(seed, "installed")
    )
    tables["stock_levels"] = stock_rows(
        depots, _van_lines(staff.van_depots, tables), catalogue, tables, rng_for(seed, "stock")
    )
    tables.update(ticket_tables(spec.tickets, tables, catalogue, now, rng_for(seed, "tickets")))
    ordered = {name: tables[name] for name in TABLE_ORDER}
    return World(
        seed=int(seed),
        size=size,
        reference_date=reference_date,
        tables=ordered,
        demo_keys=staff.demo_keys,
        counts={name: len(rows) for name, rows in ordered.items()},
    )


def _site_lines(assets: list[Row], model_line: npt.NDArray[np.int64]) -> dict[int, set[int]]:
    """Product line ids of each site's assets."""
    lines: dict[int, set[int]] = {}
    for asset in assets:
        line = int(model_line[asset["product_model_id"] - 1]) + 1
        lines.setdefault(asset["site_id"], set()).add(line)
    return lines


def _engineer_lines(skills: list[Row]) -> dict[int, set[int]]:
    """Product line ids each engineer holds at a level that fixes faults (level 2 or more)."""
    lines: dict[int, set[int]] = {}
    for skill in skills:
        if skill["level"] >= COVER_LEVEL:
            lines.setdefault(skill["engineer_id"], set()).add(skill["product_line_id"])
    return lines


def _van_lines(vans: list[Row], tables: dict[str, list[Row]]) -> list[tuple[int, list[int]]]:
    """(van depot id, product line ids of its engineer) for every van."""
    lines: dict[int, list[int]] = {}
    for skill in tables["engineer_skills"]:
        lines.setdefault(skill["engineer_id"], []).append(skill["product_line_id"])
    owner = {e["van_depot_id"]: e["id"] for e in tables["engineers"] if e["van_depot_id"]}
    return [(van["id"], lines[owner[van["id"]]]) for van in vans]
