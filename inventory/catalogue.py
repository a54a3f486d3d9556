"""Master-data services of inventory: depots, parts, and a depot's stock levels.

Every function checks all rules first and raises `ValidationFailed` listing each
broken one, so a refused change writes nothing; then it writes and only flushes
(the caller commits). Updates take the changed fields only and check the merged
result, so a PATCH of `list_price` alone still has to stay above the cost.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from decimal import Decimal
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from inventory import ledger
from inventory.checks import (
    FieldErrors,
    check_currency,
    check_money,
    check_unique,
    flush_or_conflict,
    reference,
)
from inventory.depot_times import DEFAULT_PICK_MIN
from inventory.errors import NotFoundError
from inventory.ledger import Delta, Posting
from inventory.models import (
    Depot,
    DepotKind,
    LedgerKind,
    Part,
    PartSubstitute,
    ProductLine,
    ProductModel,
    Region,
    StockLevel,
    Supplier,
)
from inventory.queries import get_depot


class DepotChanges(TypedDict, total=False):
    """The fields a depot update may change (absent means unchanged)."""

    code: str
    name: str
    kind: DepotKind
    region_id: int | None
    place: str | None
    lat: float | None
    lon: float | None
    opens_at: time | None
    closes_at: time | None
    pick_min: int


class PartChanges(TypedDict, total=False):
    """The fields a part update may change; `fits` and `substitutes` replace the lists."""

    sku: str
    name: str
    product_line_id: int
    cost_price: Decimal
    list_price: Decimal
    currency: str
    key_part: bool
    supplier_id: int | None
    fits: list[int]
    substitutes: list[int]


@dataclass(frozen=True, slots=True)
class StockTarget:
    """The wanted balance of one part at a depot (set by an administrator, not a movement)."""

    part_id: int
    on_hand: int
    reorder_point: int = 0


def _check_depot(session: Session, values: dict[str, Any], errors: FieldErrors) -> None:
    reference(session, errors, Region, values["region_id"], "region_id")
    lat, lon = values["lat"], values["lon"]
    if lat is not None and not -90 <= lat <= 90:
        errors.add("lat", "must be between -90 and 90")
    if lon is not None and not -180 <= lon <= 180:
        errors.add("lon", "must be between -180 and 180")
    if values["kind"] != DepotKind.VAN:
        for name in ("lat", "lon"):
            if values[name] is None:
                errors.add(name, "is required: only a van depot has no fixed location")
    elif (lat is None) != (lon is None):
        errors.add("lat" if lat is None else "lon", "give both lat and lon, or neither")
    opens, closes = values["opens_at"], values["closes_at"]
    if (opens is None) != (closes is None):
        field = "opens_at" if opens is None else "closes_at"
        errors.add(field, "give both opens_at and closes_at, or neither (open around the clock)")
    elif opens is not None and opens == closes:
        errors.add("closes_at", "must differ from opens_at; leave both out for around the clock")
    if values["pick_min"] < 0:
        errors.add("pick_min", "must be >= 0")


def create_depot(
    *,
    session: Session,
    code: str,
    name: str,
    kind: DepotKind,
    region_id: int | None = None,
    place: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    opens_at: time | None = None,
    closes_at: time | None = None,
    pick_min: int = DEFAULT_PICK_MIN,
) -> Depot:
    """Create a depot; a depot that is not a van needs a location."""
    values: dict[str, Any] = dict(
        code=code, name=name, kind=kind, region_id=region_id, place=place, lat=lat, lon=lon,
        opens_at=opens_at, closes_at=closes_at, pick_min=pick_min,
    )  # fmt: skip
    errors = FieldErrors()
    _check_depot(session, values, errors)
    errors.raise_if_any()
    check_unique(session, Depot.code, code, entity="depot")
    depot = Depot(**values)
    session.add(depot)
    flush_or_conflict(session, "depot")
    return depot


def update_depot(*, session: Session, depot_id: int, changes: DepotChanges) -> Depot:
    """Change the given fields of a depot; a van stays a van and a depot never becomes one."""
    depot = get_depot(session=session, depot_id=depot_id)
    values = {name: getattr(depot, name) for name in DepotChanges.__annotations__}
    values |= changes
    errors = FieldErrors()
    if (values["kind"] == DepotKind.VAN) != (depot.kind == DepotKind.VAN):
        errors.add("kind", "a van depot stays a van, and a fixed depot never becomes one")
    _check_depot(session, values, errors)
    errors.raise_if_any()
    if "code" in changes:
        check_unique(session, Depot.code, changes["code"], entity="depot", exclude_id=depot.id)
    for name, value in changes.items():
        setattr(depot, name, value)
    flush_or_conflict(session, "depot")
    return depot


def _check_models(
    session: Session, errors: FieldErrors, line_id: int | None, model_ids: Sequence[int]
) -> list[ProductModel]:
    """The product models a part fits: each exists once and is of the part's product line."""
    found = []
    for i, model_id in enumerate(model_ids):
        field = f"fits.{i}"
        model = reference(session, errors, ProductModel, model_id, field)
        if model_id in model_ids[:i]:
            errors.add(field, f"product model {model_id} is listed twice")
        elif model is not None and line_id is not None and model.product_line_id != line_id:
            errors.add(field, f"product model {model_id} is of another product line")
        if model is not None:
            found.append(model)
    return found


def _check_substitutes(
    session: Session,
    errors: FieldErrors,
    part_id: int | None,
    line_id: int | None,
    substitute_ids: Sequence[int],
) -> list[Part]:
    """Substitutes: other existing parts of the same product line, each once."""
    found = []
    for i, other_id in enumerate(substitute_ids):
        field = f"substitutes.{i}"
        if other_id == part_id:
            errors.add(field, "a part cannot substitute itself")
            continue
        other = reference(session, errors, Part, other_id, field)
        if other_id in substitute_ids[:i]:
            errors.add(field, f"part {other_id} is listed twice")
        elif other is not None and line_id is not None and other.product_line_id != line_id:
            errors.add(field, f"part {other_id} is of another product line")
        if other is not None:
            found.append(other)
    return found


def _check_part(session: Session, values: dict[str, Any], errors: FieldErrors) -> None:
    reference(session, errors, ProductLine, values["product_line_id"], "product_line_id")
    reference(session, errors, Supplier, values["supplier_id"], "supplier_id")
    check_money(errors, "cost_price", values["cost_price"])
    check_money(errors, "list_price", values["list_price"])
    check_currency(errors, "currency", values["currency"])
    money_ok = not (errors.has("cost_price") or errors.has("list_price"))
    if money_ok and values["list_price"] < values["cost_price"]:
        errors.add("list_price", "must not be below cost_price")


def create_part(
    *,
    session: Session,
    sku: str,
    name: str,
    product_line_id: int,
    cost_price: Decimal,
    list_price: Decimal,
    currency: str = "CNY",
    key_part: bool = False,
    supplier_id: int | None = None,
    fits: Sequence[int] = (),
    substitutes: Sequence[int] = (),
) -> Part:
    """Create a part with the product models it fits and its substitutes."""
    values: dict[str, Any] = dict(
        sku=sku, name=name, product_line_id=product_line_id, cost_price=cost_price,
        list_price=list_price, currency=currency, key_part=key_part, supplier_id=supplier_id,
    )  # fmt: skip
    errors = FieldErrors()
    _check_part(session, values, errors)
    models = _check_models(session, errors, product_line_id, list(fits))
    others = _check_substitutes(session, errors, None, product_line_id, list(substitutes))
    errors.raise_if_any()
    check_unique(session, Part.sku, sku, entity="part")
    part = Part(**values, fits=models, substitutes=others)
    session.add(part)
    flush_or_conflict(session, "part")
    return part


def _substituted_by_other_lines(session: Session, part_id: int, line_id: int) -> list[str]:
    """SKUs of parts of another line that list `part_id` as their substitute."""
    stmt = (
        select(Part.sku)
        .join(PartSubstitute, PartSubstitute.part_id == Part.id)
        .where(PartSubstitute.substitute_id == part_id, Part.product_line_id != line_id)
        .order_by(Part.sku)
    )
    return list(session.scalars(stmt))


def _load_part(session: Session, part_id: int) -> Part:
    """The part with its lists loaded afresh (an identity-map copy may lack them)."""
    stmt = (
        select(Part)
        .where(Part.id == part_id)
        .options(selectinload(Part.fits), selectinload(Part.substitutes))
        .execution_options(populate_existing=True)
    )
    part = session.scalars(stmt).one_or_none()
    if part is None:
        raise NotFoundError("Part", part_id)
    return part


def update_part(*, session: Session, part_id: int, changes: PartChanges) -> Part:
    """Change the given fields of a part; given `fits` or `substitutes` replace the lists."""
    part = _load_part(session, part_id)
    values: dict[str, Any] = {
        name: getattr(part, name) for name in PartChanges.__annotations__
    } | dict(changes)
    fit_ids = changes.get("fits", [m.id for m in part.fits])
    substitute_ids = changes.get("substitutes", [p.id for p in part.substitutes])
    errors = FieldErrors()
    _check_part(session, values, errors)
    line_id = values["product_line_id"]
    models = _check_models(session, errors, line_id, fit_ids)
    others = _check_substitutes(session, errors, part.id, line_id, substitute_ids)
    moved = line_id != part.product_line_id and not errors.has("product_line_id")
    if moved and (skus := _substituted_by_other_lines(session, part.id, line_id)):
        reason = f"parts {', '.join(skus)} of the old line list this part as a substitute"
        errors.add("product_line_id", reason)
    errors.raise_if_any()
    if "sku" in changes:
        check_unique(session, Part.sku, changes["sku"], entity="part", exclude_id=part.id)
    for name, value in changes.items():
        if name not in ("fits", "substitutes"):
            setattr(part, name, value)
    part.fits = models
    part.substitutes = others
    flush_or_conflict(session, "part")
    return part


def set_depot_stock(
    *,
    session: Session,
    depot_id: int,
    levels: Sequence[StockTarget],
    capacity: int | None = None,
    user_id: int | None = None,
    now: datetime | None = None,
) -> list[StockLevel]:
    """Replace a depot's stock with `levels` (an administrator's count, e.g. a van's load).

    Parts not listed leave the depot. Stock that is reserved, in transit, on order or
    in the returns bin cannot disappear this way: such a part must stay listed with at
    least its reserved quantity. `capacity` caps the total on hand (a van's). Every
    change of on hand is an adjustment in the stock ledger (by `user_id`, at `now`).
    Returns the levels, by part.
    """
    get_depot(session=session, depot_id=depot_id)  # 404 before any field error
    current = {
        row.part_id: row
        for row in session.scalars(
            select(StockLevel)
            .where(StockLevel.depot_id == depot_id)
            .order_by(StockLevel.id)
            .with_for_update()
        )
    }
    errors = FieldErrors()
    part_ids = [line.part_id for line in levels]
    for i, line in enumerate(levels):
        reference(session, errors, Part, line.part_id, f"levels.{i}.part_id")
        if line.part_id in part_ids[:i]:
            errors.add(f"levels.{i}.part_id", f"part {line.part_id} is listed twice")
        if line.on_hand < 0:
            errors.add(f"levels.{i}.on_hand", "must not be negative")
        if line.reorder_point < 0:
            errors.add(f"levels.{i}.reorder_point", "must not be negative")
        row = current.get(line.part_id)
        if row is not None and line.on_hand < row.reserved:
            errors.add(f"levels.{i}.on_hand", f"{row.reserved} are reserved: keep at least those")
    for part_id, row in current.items():
        if part_id not in part_ids and (
            row.reserved or row.in_transit or row.on_order or row.returns
        ):
            reason = (
                f"part {part_id} has stock reserved, in transit, on order or returned:"
                " keep it listed"
            )
            errors.add("levels", reason)
    total = sum(max(line.on_hand, 0) for line in levels)
    if capacity is not None and total > capacity:
        errors.add("levels", f"{total} units on hand exceed the capacity of {capacity}")
    errors.raise_if_any()
    _count_into_ledger(session, depot_id, current, levels, user_id, now or datetime.now(UTC))
    for part_id, row in current.items():
        if part_id not in part_ids:
            session.delete(row)
    for line in levels:
        row = current.get(line.part_id)
        if row is None:
            row = StockLevel(depot_id=depot_id, part_id=line.part_id)
            session.add(row)
        row.on_hand = line.on_hand
        row.reorder_point = line.reorder_point
    flush_or_conflict(session, "stock level")
    stmt = select(StockLevel).where(StockLevel.depot_id == depot_id).order_by(StockLevel.part_id)
    return list(session.scalars(stmt))


def _count_into_ledger(
    session: Session,
    depot_id: int,
    current: dict[int, StockLevel],
    levels: Sequence[StockTarget],
    user_id: int | None,
    now: datetime,
) -> None:
    """Record each change of on hand as an adjustment, so `inventory.verify` still holds."""
    wanted = {line.part_id: line.on_hand for line in levels}
    postings = []
    for part_id in sorted(current.keys() | wanted.keys()):
        before = current[part_id].on_hand if part_id in current else 0
        change = wanted.get(part_id, 0) - before
        if change:
            postings.append(
                Posting(LedgerKind.ADJUSTMENT, depot_id, part_id, Delta(on_hand=change),
                        user_id, now, "stock set by an administrator")
            )  # fmt: skip
    ledger.append(session, postings)
