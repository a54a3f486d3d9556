"""Stock recommendations from the database: demand and lead times in, METRIC levels out.

The network is the central warehouse and the regional depots (vans are an engineer's
kit, resupplied from their region's depots: their use counts as that region's demand).
Demand rates come from `inventory.demand_estimate` (history, open tickets, installed
base); the central warehouse's lead time is the part's supplier's; a regional depot's
is the mean transit of past transfers from the central warehouse, else a default.
Today's level of a stock row is its inventory position: on hand + in transit + on order.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import case, column, func, select, table
from sqlalchemy.orm import Session

from inventory.demand_estimate import (
    DemandParams,
    Key,
    blend_rates,
    installed_base_rates,
    spread_to_depots,
)
from inventory.errors import FieldError, NotFoundError, ValidationFailed
from inventory.metric import Metric, evaluate, problem_from_rows
from inventory.metric_allocate import allocate
from inventory.models import (
    Asset,
    Depot,
    DepotKind,
    LedgerEntry,
    LedgerKind,
    Part,
    PartFit,
    Region,
    Reservation,
    Shipment,
    StockLevel,
    Supplier,
)
from inventory.stock_levels import (
    Line,
    StockRecommendation,
    pooling_params,
    recommendation_lines,
    scenario_changes,
)

# Moved to the pure `inventory.stock_levels` (the scenarios package uses them); kept importable.
__all__ = [
    "OPEN_TICKET_STATUSES",
    "Line",
    "StockRecommendation",
    "recommend_stock",
    "scenario_changes",
]

# Dispatch's tables, by name only (inventory never imports dispatch).
_SITES = table("sites", column("id"), column("region_id"))
_TICKETS = table("tickets", column("id"), column("site_id"), column("status"))
_TICKET_PARTS = table("ticket_parts", column("ticket_id"), column("part_id"), column("quantity"))
# dispatch.lifecycle.OPEN_STATUSES (tests/inventory/test_stock_recommend.py keeps them equal).
OPEN_TICKET_STATUSES = ("new", "responded", "assigned", "en_route", "on_site")


@dataclass(frozen=True, slots=True)
class _Network:
    central: Depot
    regional: list[Depot]
    region_id: int | None  # the region asked for, None for all


def recommend_stock(
    *,
    session: Session,
    now: datetime,
    target: float,
    metric: Metric | str = Metric.FILL_RATE,
    region: str | None = None,
    params: DemandParams | None = None,
    central_fill: float | None = None,
) -> StockRecommendation:
    """Recommend base-stock levels for the central and regional depots (of one region).

    The central warehouse keeps the pooled demand's base stock at `central_fill` (default:
    the target): it resupplies the regional depots and ships what they lack.
    """
    try:
        allocation = pooling_params(target, metric, central_fill)
    except ValueError as exc:
        field = next((f for f in ("central_fill", "target") if f in str(exc)), "metric")
        raise ValidationFailed([FieldError(field, str(exc))]) from None
    params = params or DemandParams()
    net = _network(session, region)
    parts = session.execute(
        select(Part.id, Part.sku, Part.cost_price, Supplier.lead_time_hours)
        .outerjoin(Supplier, Part.supplier_id == Supplier.id)
        .order_by(Part.id)
    ).all()
    transfer = _transfer_days(session, net, params)
    history = _history_days(session, now, params)
    rates, used = _rates(session, net, now, params, history)
    code = {d.id: d.code for d in [net.central, *net.regional]}
    sku = {p.id: p.sku for p in parts}
    lead = params.supplier_lead_hours
    problem = problem_from_rows(
        central=net.central.code,
        depots=[(d.code, transfer[d.id]) for d in net.regional],
        parts=[(p.sku, p.cost_price, (p.lead_time_hours or lead) / 24) for p in parts],
        demand={(code[d], sku[p]): rate for (d, p), rate in rates.items()},
    )
    current = _current_levels(session, net, [p.id for p in parts])
    today = evaluate(problem, current[0], current[1:])
    result = allocate(problem, allocation)
    return StockRecommendation(
        recommendation_lines(result, current), today, result,
        history_days=history, min_history_days=params.min_history_days,
        currency=_currency(session), uses_recorded=used,
    )  # fmt: skip


def _history_days(session: Session, now: datetime, params: DemandParams) -> float:
    """Days of stock records behind `now` (the first ledger entry), at most the window."""
    first: datetime | None = session.scalar(select(func.min(LedgerEntry.at)))
    if first is None:
        return 0.0
    if first.tzinfo is None:  # SQLite hands aggregates back without the UTC type's help
        first = first.replace(tzinfo=now.tzinfo)
    days = (now - first).total_seconds() / 86_400
    return float(max(0.0, min(days, params.window_days)))


def _currency(session: Session) -> str:
    """The parts' currency ("mixed" when they are priced in several)."""
    found = list(session.scalars(select(Part.currency).distinct().limit(2)))
    return found[0] if len(found) == 1 else ("mixed" if found else "")


def _network(session: Session, region: str | None) -> _Network:
    central = session.scalars(
        select(Depot).where(Depot.kind == DepotKind.CENTRAL).order_by(Depot.id).limit(1)
    ).first()
    if central is None:
        raise NotFoundError("Depot", "central")
    stmt = select(Depot).where(Depot.kind == DepotKind.REGIONAL).order_by(Depot.id)
    region_id = None
    if region is not None:
        region_id = session.scalar(select(Region.id).where(Region.code == region))
        if region_id is None:
            reason = f"no region with code {region!r}"
            raise ValidationFailed([FieldError("region", reason, "reference_not_found")])
        stmt = stmt.where(Depot.region_id == region_id)
    return _Network(central, list(session.scalars(stmt)), region_id)


def _transfer_days(session: Session, net: _Network, params: DemandParams) -> dict[int, float]:
    """Mean transit of past central -> depot transfers, else the default, in days."""
    s = Shipment
    stmt = (
        select(s.to_depot_id, func.avg(s.transit_min))
        .where(s.from_depot_id == net.central.id, s.to_depot_id.is_not(None))
        .group_by(s.to_depot_id)
    )
    learned: dict[int | None, Any] = {d: minutes for d, minutes in session.execute(stmt)}
    default = params.transfer_hours * 60
    return {d.id: float(learned.get(d.id) or default) / 1440 for d in net.regional}


def _rates(
    session: Session, net: _Network, now: datetime, params: DemandParams, history_days: float
) -> tuple[dict[Key, float], int]:
    """Demands per day per modeled (depot, part): history and open tickets, with the prior.

    Also the units used in the window: none at all and every rate is the prior's.
    """
    depots_of: dict[int, list[int]] = defaultdict(list)
    for d in net.regional:
        if d.region_id is not None:
            depots_of[d.region_id].append(d.id)
    observed = _used(session, net, now - timedelta(days=params.window_days), depots_of)
    used = round(sum(observed.values()))
    by_region: dict[tuple[int, int], float] = defaultdict(float)
    for region_id, part_id, units in session.execute(_open_ticket_parts(net.region_id)):
        by_region[(region_id, part_id)] += float(units)
    for key, units in spread_to_depots(by_region, depots_of, net.central.id).items():
        observed[key] = observed.get(key, 0.0) + units
    assets = select(_SITES.c.region_id, Asset.product_model_id).join(
        _SITES, _SITES.c.id == Asset.site_id
    )
    if net.region_id is not None:
        assets = assets.where(_SITES.c.region_id == net.region_id)
    fits = select(PartFit.part_id, PartFit.product_model_id)
    base = installed_base_rates(
        ((r, m) for r, m in session.execute(assets)),
        ((p, m) for p, m in session.execute(fits)),
        params,
    )
    prior = spread_to_depots(base, depots_of, net.central.id)
    return blend_rates(observed, prior, params, history_days), used


def _open_ticket_parts(region_id: int | None) -> Any:
    t, tp, st = _TICKETS, _TICKET_PARTS, _SITES
    stmt = (
        select(st.c.region_id, tp.c.part_id, func.sum(tp.c.quantity))
        .join(t, t.c.id == tp.c.ticket_id)
        .join(st, st.c.id == t.c.site_id)
        .where(t.c.status.in_(OPEN_TICKET_STATUSES))
        .group_by(st.c.region_id, tp.c.part_id)
    )
    return stmt if region_id is None else stmt.where(st.c.region_id == region_id)


def _used(
    session: Session, net: _Network, since: datetime, depots_of: dict[int, list[int]]
) -> dict[Key, float]:
    """Units used on tickets since `since`, attributed to the modeled depot they count for.

    A regional depot's (or the central's) own use is its own; a van's is its region's.
    A use after a pick moved nothing itself: its units are the picked reservation's.
    """
    e, r = LedgerEntry, Reservation
    units = case((e.d_on_hand < 0, -e.d_on_hand), else_=func.coalesce(r.quantity, 0))
    stmt = (
        select(e.depot_id, Depot.kind, Depot.region_id, e.part_id, func.sum(units))
        .join(Depot, Depot.id == e.depot_id)
        .outerjoin(r, r.id == e.reservation_id)
        .where(e.kind == LedgerKind.USE, e.at >= since)
        .group_by(e.depot_id, Depot.kind, Depot.region_id, e.part_id)
    )
    modeled = {d.id for d in net.regional}
    by_region: dict[tuple[int, int], float] = defaultdict(float)
    observed: dict[Key, float] = defaultdict(float)
    for depot_id, kind, region_id, part_id, n in session.execute(stmt):
        if depot_id in modeled or (depot_id == net.central.id and net.region_id is None):
            observed[(depot_id, part_id)] += float(n)
        elif kind == DepotKind.VAN and net.region_id in (None, region_id):
            by_region[(region_id, part_id)] += float(n)
    for key, n in spread_to_depots(by_region, depots_of, net.central.id).items():
        observed[key] += n
    return dict(observed)


def _current_levels(session: Session, net: _Network, part_ids: list[int]) -> Any:
    """Inventory positions, rows: the central first, then the regional depots in order."""
    depots = [net.central.id, *(d.id for d in net.regional)]
    row = {d: i for i, d in enumerate(depots)}
    col = {p: j for j, p in enumerate(part_ids)}
    levels = np.zeros((len(depots), len(part_ids)), dtype=np.int64)
    s = StockLevel
    position = s.on_hand + s.in_transit + s.on_order
    stmt = select(s.depot_id, s.part_id, position).where(s.depot_id.in_(depots))
    for depot_id, part_id, level in session.execute(stmt):
        levels[row[depot_id], col[part_id]] = level
    return levels
