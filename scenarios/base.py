"""Base world -> `SimWorld`: from the demo generator, a bundle folder, or a database export.

The live database is read through a bundle too: the CLI exports it with
`dispatch.world.bundle.export_world` into a scratch folder and passes that folder here, so
scenarios never open a database connection themselves.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from dispatch.calendar import WeeklyShift
from dispatch.durations import duration_policy
from dispatch.labour import LabourRules, rules_for
from dispatch.penalties import clock_penalties
from dispatch.promises import SeverityOffsets
from dispatch.world import World, generate_world
from dispatch.world.bundle import read_bundle
from inventory.depot_times import pick_s, transit_s
from optimizer import DIVERT_ENGINEERS, MAKE_ROOM_ENGINEERS, Location
from scenarios.demand import history_profiles
from scenarios.model import (
    SimAsset,
    SimDepot,
    SimEngineer,
    SimPart,
    SimPolicy,
    SimSeverity,
    SimSite,
    SimWorld,
    StockKey,
    TicketType,
)
from scenarios.spec import BaseWorld

Rows = dict[str, list[dict[str, Any]]]
TIMEZONE = "Asia/Shanghai"


def load_world_rows(base: BaseWorld, *, exported: Path | None = None) -> World:
    """The base world's rows; a database base needs the folder the CLI exported it to."""
    if base.kind == "demo":
        return generate_world(base.seed, base.size)
    if base.kind == "bundle":
        assert base.path is not None  # checked by the spec
        return read_bundle(base.path)
    if exported is None:
        raise ValueError("base: a database base must be exported first (spares scenario run)")
    return read_bundle(exported)


def epoch_of(start: date, timezone: str = TIMEZONE) -> datetime:
    """Offset 0 of the simulation: 00:00 local on the start date."""
    return datetime.combine(start, time(0), tzinfo=ZoneInfo(timezone))


def build_sim_world(world: World, start: date) -> SimWorld:
    """Turn a world's rows into the simulation's frozen world."""
    t: Rows = world.tables
    lines = {row["id"]: row["code"] for row in t["product_lines"]}
    stock = {(r["depot_id"], r["part_id"]): int(r["on_hand"]) for r in t["stock_levels"]}
    reorder = {(r["depot_id"], r["part_id"]): int(r["reorder_point"]) for r in t["stock_levels"]}
    return SimWorld(
        epoch=epoch_of(start),
        timezone=TIMEZONE,
        regions={r["id"]: r["code"] for r in t["regions"]},
        engineers=_engineers(t, lines),
        depots=tuple(_depot(d) for d in t["depots"]),
        stock=stock,
        reorder_points=_reorder_points(reorder, stock),
        parts={p["id"]: _part(p, lines) for p in t["parts"]},
        part_fits=_grouped(t["part_fits"], "product_model_id", "part_id"),
        substitutes=_grouped(t["part_substitutes"], "part_id", "substitute_id"),
        supplier_lead_s={s["id"]: int(s["lead_time_hours"]) * 3_600 for s in t["suppliers"]},
        supplier_transit_s={s["id"]: transit_s(s) for s in t["suppliers"]},
        sites=_sites(t),
        assets_by_site=_assets(t, lines),
        policies=_policies(t),
        ticket_types=tuple(
            TicketType(r["id"], lines[r["product_line_id"]], r["service_min"], r["required_level"])
            for r in t["ticket_types"]
        ),
        learnt_arrivals=history_profiles(t, TIMEZONE),
        duration_history=_duration_history(t),
    )


def _duration_history(t: Rows) -> tuple[tuple[int, int, int], ...]:
    """Finished jobs of the log, oldest fix first as production reads them:
    (ticket type id, standard s, arrival to fix s)."""
    standard = {r["id"]: int(r["service_min"]) * 60 for r in t["ticket_types"]}
    out = []
    for row in t.get("tickets", []):
        arrived, fixed = row.get("arrived_at"), row.get("fixed_at")
        if arrived is not None and fixed is not None and row["ticket_type_id"] in standard:
            type_id = row["ticket_type_id"]
            seconds = int((fixed - arrived).total_seconds())
            out.append((fixed, row["id"], (type_id, standard[type_id], seconds)))
    return tuple(job for _, _, job in sorted(out, key=lambda x: (x[0], x[1])))


def _reorder_points(
    reorder: dict[StockKey, int], stock: dict[StockKey, int]
) -> dict[StockKey, int]:
    # A row without a reorder point still refills when it runs dry: at least 1.
    return {key: max(1, reorder.get(key, 0)) for key in stock}


def _grouped(rows: list[dict[str, Any]], key: str, value: str) -> dict[int, tuple[int, ...]]:
    out: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        out[row[key]].append(row[value])
    return {k: tuple(sorted(v)) for k, v in out.items()}


def _engineers(t: Rows, lines: dict[int, str]) -> tuple[SimEngineer, ...]:
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for row in t["engineer_skills"]:
        skills[row["engineer_id"]][lines[row["product_line_id"]]] = int(row["level"])
    shifts: dict[int, list[WeeklyShift]] = defaultdict(list)
    on_call: dict[int, list[WeeklyShift]] = defaultdict(list)
    for row in t["shifts"]:
        # On call is not working time: he may be called out (`optimizer.OnCall`).
        (on_call if row.get("on_call") else shifts)[row["engineer_id"]].append(
            WeeklyShift(row["weekday"], row["starts_at"], row["ends_at"])
        )
    rules = t.get("labour_rules", [])
    by_id = {r["id"]: LabourRules.of(r) for r in rules}
    by_region = {r["region_id"]: by_id[r["id"]] for r in rules if r.get("region_id") is not None}
    return tuple(
        SimEngineer(
            e["id"],
            e["region_id"],
            Location(e["home_lat"], e["home_lon"]),
            skills[e["id"]],
            tuple(shifts[e["id"]]),
            e.get("van_depot_id"),
            Decimal(e.get("cost_per_hour") or 0),
            Decimal(e.get("cost_per_km") or 0),
            rules_for(
                own_rule_id=e.get("labour_rule_id"),
                region_id=e["region_id"],
                by_id=by_id,
                by_region=by_region,
            ),
            tuple(on_call[e["id"]]),
        )  # fmt: skip
        for e in t["engineers"]
        if e.get("active", True)
    )


def _depot(d: dict[str, Any]) -> SimDepot:
    where = None if d["lat"] is None else Location(d["lat"], d["lon"])
    return SimDepot(d["id"], d["code"], d["region_id"], where, str(d["kind"]), pick_s(d))


def _part(p: dict[str, Any], lines: dict[int, str]) -> SimPart:
    return SimPart(
        p["id"], p["sku"], lines[p["product_line_id"]], Decimal(p["cost_price"]),
        bool(p["key_part"]), p["supplier_id"],
    )  # fmt: skip


def _sites(t: Rows) -> tuple[SimSite, ...]:
    policy_of = {c["id"]: c["policy_id"] for c in t["contracts"]}
    return tuple(
        SimSite(
            s["id"],
            s["region_id"],
            Location(s["lat"], s["lon"]),
            policy_of[s["contract_id"]],
            s.get("dedicated_engineer_id"),
            bool(s.get("rural", False)),
        )  # fmt: skip
        for s in t["sites"]
    )


def _assets(t: Rows, lines: dict[int, str]) -> dict[int, tuple[SimAsset, ...]]:
    line_of_model = {m["id"]: lines[m["product_line_id"]] for m in t["product_models"]}
    out: dict[int, list[SimAsset]] = defaultdict(list)
    for a in t["assets"]:
        out[a["site_id"]].append(
            SimAsset(
                a["id"],
                a["site_id"],
                a["product_model_id"],
                line_of_model[a["product_model_id"]],
                a["installed_on"],
                a.get("accepted_on"),
                bool(a.get("has_warranty_record", True)),
            )  # fmt: skip
        )
    return {site: tuple(assets) for site, assets in out.items()}


def _policies(t: Rows) -> dict[int, SimPolicy]:
    severities: dict[int, list[SimSeverity]] = defaultdict(list)
    policy_rows = {p["id"]: p for p in t["promise_policies"]}
    for row in sorted(t["policy_severities"], key=lambda r: (r["policy_id"], r["rank"])):
        offsets = SeverityOffsets(
            row["respond_min"], row["depart_min"], row["arrive_min"], row["fix_min"]
        )
        penalties = clock_penalties(row, policy_rows[row["policy_id"]])
        severities[row["policy_id"]].append(
            SimSeverity(row["code"], row["rank"], offsets, penalties)
        )
    return {
        p["id"]: SimPolicy(
            p["id"],
            p["code"],
            int(p["warranty_years"]),
            p["currency"],
            int(p["ship_within_min"]),
            int(p["swap_within_min"]),
            tuple(severities[p["id"]]),
            duration_policy(p),
            int(p.get("make_room_engineers", MAKE_ROOM_ENGINEERS)),  # older bundles: default
            int(p.get("divert_engineers", DIVERT_ENGINEERS)),  # older bundles: default
        )  # fmt: skip
        for p in t["promise_policies"]
    }
