"""The generated demo world as optimizer data: one builder for benchmarks and experiments.

`generate_world` gives database rows; the solver wants a `DispatchWorld` and tickets. The
benchmarks of route planning (`spares bench scaling`, ``benchmarks/test_plan.py``,
``test_replan.py``) and of recommendations (``benchmarks/test_recommend.py``) once had a copy
each of this conversion, and the copies drifted apart; `solver_view` and `demo_tickets`
are the one version, with parameters for what the benchmarks really need differently.
Pure: rows in, optimizer values out, no database (the live path is `dispatch.snapshot`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

import numpy as np

from dispatch.labour import LabourRules, rules_for, solver_fields
from dispatch.world.model import REFERENCE_DATE, Row, local_datetime, reference_instant
from inventory.depot_times import pick_s, transit_s
from optimizer import Depot, DispatchWorld, Engineer, Location, PartLine, Supplier, Ticket

Tables = dict[str, list[Row]]
Window = tuple[int, int]

DAY_S = 86_400
SERVICE_S = 3_600  # standard on-site service of a demo ticket
ARRIVE_H = (2, 2, 4)  # arrival promise (hours) by severity rank; the fix is promised 2 h later


@dataclass(frozen=True, slots=True)
class SolverView:
    """The planner's world, and the sites and tables that tickets are drawn from.

    ``sites`` are the sites of the chosen engineers' regions, in table order: tickets there
    can be reached by somebody, so a benchmark measures planning rather than rejections.
    """

    world: DispatchWorld
    sites: list[Row]
    tables: Tables


def solver_view(
    tables: Tables,
    *,
    epoch: datetime | None = None,
    days: Sequence[date] = (REFERENCE_DATE,),
    engineers: int | None = None,
    on_shift_only: bool = False,
    supplier_qty: int | None = None,
) -> SolverView:
    """The demo world's ``tables`` (``generate_world(seed, size).tables``) as solver data.

    Parameters
    ----------
    tables
        The generated world's rows.
    epoch
        Time zero of the solver's axis; default 09:00 local on the reference date.
    days
        The dates whose weekly shifts become shift windows (a night shift ends the next
        morning; windows that touch or overlap are merged).
    engineers
        Take only the first this many engineers (table order); ``None``: all of them.
    on_shift_only
        Skip engineers without a shift on ``days`` (before counting ``engineers``).
    supplier_qty
        Units of each of its parts every supplier can ship; ``None``: no suppliers.

    Returns
    -------
    SolverView
        Engineers with skills, merged shifts, home, their labour rules (region's or group's;
        the documented defaults without), van stock (on hand less
        reserved), dedicated sites, van capacity and costs (fen); the non-van depots with
        their available stock; the suppliers when asked for.
    """
    epoch = epoch or reference_instant(REFERENCE_DATE)
    stock: dict[int, dict[int, int]] = defaultdict(dict)
    for row in tables["stock_levels"]:
        if row["on_hand"] - row["reserved"] > 0:
            stock[row["depot_id"]][row["part_id"]] = row["on_hand"] - row["reserved"]
    depots = tuple(
        Depot(d["id"], Location(d["lat"], d["lon"]), stock.get(d["id"], {}), pick_s=pick_s(d))
        for d in tables["depots"]
        if d["kind"] != "van"
    )
    chosen = _engineers(tables, stock, _shifts(tables, epoch, days), on_shift_only)
    chosen = chosen if engineers is None else chosen[:engineers]
    suppliers = () if supplier_qty is None else _suppliers(tables, supplier_qty)
    ids = {e.id for e in chosen}
    regions = {e["region_id"] for e in tables["engineers"] if e["id"] in ids}
    sites = [s for s in tables["sites"] if s["region_id"] in regions]
    return SolverView(DispatchWorld(epoch, tuple(chosen), depots, suppliers), sites, tables)


def _shifts(tables: Tables, epoch: datetime, days: Sequence[date]) -> dict[int, list[Window]]:
    """Each engineer's shift windows on ``days`` as offsets from ``epoch``, merged."""

    def offset(day: date, clock: time) -> int:
        return int((local_datetime(day, clock) - epoch).total_seconds())

    windows: dict[int, list[Window]] = defaultdict(list)
    for row in tables["shifts"]:
        if row.get("on_call"):
            continue  # on call is not working time
        for day in days:
            if row["weekday"] == day.weekday():
                start, end = offset(day, row["starts_at"]), offset(day, row["ends_at"])
                end += DAY_S if end <= start else 0  # a night shift ends the next morning
                windows[row["engineer_id"]].append((start, end))
    return {engineer: _merged(w) for engineer, w in windows.items()}


def _merged(windows: list[Window]) -> list[Window]:
    """Sorted windows, those that touch or overlap joined (the solver wants them disjoint)."""
    out: list[Window] = []
    for start, end in sorted(windows):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _engineers(
    tables: Tables,
    stock: dict[int, dict[int, int]],
    shifts: dict[int, list[Window]],
    on_shift_only: bool,
) -> list[Engineer]:
    lines = {row["id"]: row["code"] for row in tables["product_lines"]}
    skills: dict[int, dict[str, int]] = defaultdict(dict)
    for row in tables["engineer_skills"]:
        skills[row["engineer_id"]][lines[row["product_line_id"]]] = row["level"]
    dedicated: dict[int, set[int]] = defaultdict(set)
    for site in tables["sites"]:
        if site["dedicated_engineer_id"] is not None:
            dedicated[site["dedicated_engineer_id"]].add(site["id"])
    rules = tables.get("labour_rules", [])
    by_id = {r["id"]: LabourRules.of(r) for r in rules}
    by_region = {r["region_id"]: by_id[r["id"]] for r in rules if r.get("region_id") is not None}

    def labour(e: Row) -> dict[str, Any]:
        found = rules_for(
            own_rule_id=e.get("labour_rule_id"), region_id=e["region_id"], by_id=by_id,
            by_region=by_region,
        )  # fmt: skip
        return solver_fields(found)

    return [
        Engineer(
            e["id"], Location(e["current_lat"], e["current_lon"]), skills[e["id"]],
            tuple(shifts.get(e["id"], ())), home=Location(e["home_lat"], e["home_lon"]),
            van_stock=stock.get(e["van_depot_id"], {}),
            dedicated_sites=frozenset(dedicated[e["id"]]), capacity=e["van_capacity"],
            cost_per_hour=int(e["cost_per_hour"] * 100), cost_per_km=int(e["cost_per_km"] * 100),
            **labour(e),
        )
        for e in tables["engineers"]
        if shifts.get(e["id"]) or not on_shift_only
    ]  # fmt: skip


def _suppliers(tables: Tables, qty: int) -> tuple[Supplier, ...]:
    parts: dict[int, dict[int, int]] = defaultdict(dict)
    for part in tables["parts"]:
        parts[part["supplier_id"]][part["id"]] = qty
    return tuple(
        Supplier(s["id"], parts[s["id"]], s["lead_time_hours"] * 3_600, transit_s(s))
        for s in tables["suppliers"]
    )


def demo_tickets(
    view: SolverView,
    n: int,
    *,
    seed: int,
    distinct_sites: bool = False,
    catalogue_lines: bool = False,
    max_level: int = 1,
    severities: Sequence[float] | None = None,
    substitutes: bool = False,
    part_share: float = 0.33,
) -> list[Ticket]:
    """``n`` seeded tickets at ``view.sites``: one product line each, a part in a share.

    Each ticket needs 1 h of service, arrival within 2 h (4 h for severity rank 2) and the
    fix 2 h after that. The flags choose the mix; each one that is off draws nothing, so a
    seed keeps giving the same tickets as long as the flags stay.

    Parameters
    ----------
    view
        Where the tickets are (its sites) and what they need (its tables' catalogue).
    n
        How many; ids ``0 .. n - 1``.
    seed
        The random stream's seed.
    distinct_sites
        ``n`` different sites drawn up front; otherwise one site per ticket, maybe repeated.
    catalogue_lines
        The product line from the whole catalogue (table order); otherwise from the lines
        the view's engineers hold (sorted), so somebody can do every job.
    max_level
        The skill level needed is drawn from ``1 .. max_level``; always 1 when 1.
    severities
        Probabilities of severity ranks 0, 1 and 2; ``None``: every ticket rank 0.
    substitutes
        Attach the catalogue's substitutes of the needed part.
    part_share
        The share of tickets that need one part of their product line.
    """
    rng = np.random.default_rng(seed)
    t = view.tables
    codes = [row["code"] for row in t["product_lines"]]
    if catalogue_lines:
        lines = codes
    else:
        lines = sorted({line for e in view.world.engineers for line in e.skills})
    parts_of: dict[str, list[int]] = defaultdict(list)
    for part in t["parts"]:
        parts_of[codes[part["product_line_id"] - 1]].append(part["id"])
    subs: dict[int, tuple[int, ...]] = defaultdict(tuple)
    if substitutes:
        for row in t["part_substitutes"]:
            subs[row["part_id"]] += (row["substitute_id"],)
    drawn = rng.choice(len(view.sites), n, replace=False) if distinct_sites else None
    out = []
    for i in range(n):
        at = drawn[i] if drawn is not None else rng.integers(len(view.sites))
        site: dict[str, Any] = view.sites[int(at)]
        line = lines[int(rng.integers(len(lines)))]
        need = (PartLine(int(rng.choice(parts_of[line]))),) if rng.random() < part_share else ()
        level = int(rng.integers(1, max_level + 1)) if max_level > 1 else 1
        rank = int(rng.choice(3, p=list(severities))) if severities is not None else 0
        arrive = ARRIVE_H[rank] * 3_600
        out.append(
            Ticket(
                i, Location(site["lat"], site["lon"]), site["id"], {line: level}, SERVICE_S,
                arrive_by=arrive, fix_by=arrive + 2 * 3_600, parts=need, severity_rank=rank,
                substitutes={p.part_id: subs[p.part_id] for p in need} if substitutes else {},
            )
        )  # fmt: skip
    return out
