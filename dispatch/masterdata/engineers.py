"""Engineers: who they are, their skills, their van (shifts and absences: availability.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from db.identity import Role, User
from dispatch.errors import InUseError, NoVanError
from dispatch.masterdata.common import (
    check_coordinates,
    check_money,
    check_unique,
    engineer_row,
    field_errors,
    flush_or_conflict,
    reference,
)
from dispatch.models import Engineer, EngineerSkill, LabourRule, Site
from inventory.catalogue import StockTarget, create_depot, set_depot_stock
from inventory.checks import FieldErrors
from inventory.models import Depot, DepotKind, ProductLine, Region, StockLevel


@dataclass(frozen=True, slots=True)
class SkillLevel:
    """A product line the engineer can service, at level 1 basic, 2 advanced or 3 expert."""

    product_line_id: int
    level: int


class EngineerChanges(TypedDict, total=False):
    """What an engineer update may change; `create_van` gives them a new van depot."""

    code: str
    name: str
    region_id: int
    home_place: str | None
    home_lat: float
    home_lon: float
    van_capacity: int | None
    cost_per_hour: Decimal
    cost_per_km: Decimal
    user_id: int | None
    active: bool
    van_depot_id: int | None
    labour_rule_id: int | None  # his group's labour rules (None: his region's, or defaults)
    create_van: bool


def _load(session: Session, engineer_id: int) -> Engineer:
    """The engineer with skills loaded afresh (they may just have changed)."""
    stmt = (
        select(Engineer)
        .where(Engineer.id == engineer_id)
        .options(selectinload(Engineer.skills))
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).one()


def _check_skills(session: Session, errors: FieldErrors, skills: Sequence[SkillLevel]) -> None:
    lines = [s.product_line_id for s in skills]
    for i, skill in enumerate(skills):
        field = f"skills.{i}"
        reference(session, errors, ProductLine, skill.product_line_id, f"{field}.product_line_id")
        if skill.product_line_id in lines[:i]:
            reason = f"product line {skill.product_line_id} is listed twice"
            errors.add(f"{field}.product_line_id", reason)
        if not 1 <= skill.level <= 3:
            errors.add(f"{field}.level", "must be 1 (basic), 2 (advanced) or 3 (expert)")


def _check_user(
    session: Session, errors: FieldErrors, user_id: int | None, own: int | None
) -> None:
    """The engineer's login: an existing user of role engineer, nobody else's."""
    user = reference(session, errors, User, user_id, "user_id")
    if user is None:
        return
    if user.role != Role.ENGINEER:
        errors.add("user_id", f"user {user_id} has role {user.role.value}, not engineer")
    taken = select(Engineer.id).where(Engineer.user_id == user_id, Engineer.id != (own or 0))
    if session.scalars(taken).first() is not None:
        errors.add("user_id", f"user {user_id} belongs to another engineer")


def _check_van(
    session: Session, errors: FieldErrors, depot_id: int | None, own: int | None
) -> None:
    """An existing van depot that no other engineer drives."""
    depot = reference(session, errors, Depot, depot_id, "van_depot_id")
    if depot is None:
        return
    if depot.kind != DepotKind.VAN:
        errors.add("van_depot_id", f"depot {depot_id} is a {depot.kind.value} depot, not a van")
    taken = select(Engineer.id).where(Engineer.van_depot_id == depot_id, Engineer.id != (own or 0))
    if session.scalars(taken).first() is not None:
        errors.add("van_depot_id", f"van {depot_id} belongs to another engineer")


def _check_engineer(
    session: Session, errors: FieldErrors, values: EngineerChanges, own: int | None
) -> None:
    """The rules on the fields present in `values` (all of them on create)."""
    if "region_id" in values:
        reference(session, errors, Region, values["region_id"], "region_id")
    reference(session, errors, LabourRule, values.get("labour_rule_id"), "labour_rule_id")
    if "home_lat" in values or "home_lon" in values:
        check_coordinates(errors, "home_lat", values["home_lat"], values["home_lon"])
    check_money(errors, "cost_per_hour", values.get("cost_per_hour"))
    check_money(errors, "cost_per_km", values.get("cost_per_km"))
    capacity = values.get("van_capacity")
    if capacity is not None and capacity < 0:
        errors.add("van_capacity", "must not be negative")
    if "user_id" in values:
        _check_user(session, errors, values["user_id"], own)
    if values.get("create_van") and values.get("van_depot_id") is not None:
        errors.add("create_van", "give either create_van or van_depot_id, not both")
    elif values.get("van_depot_id") is not None:
        _check_van(session, errors, values["van_depot_id"], own)


def _new_van(session: Session, engineer: Engineer) -> None:
    van = create_depot(
        session=session,
        code=f"VAN-{engineer.code}",
        name=f"Van of {engineer.name}",
        kind=DepotKind.VAN,
        region_id=engineer.region_id,
    )
    engineer.van_depot_id = van.id


def create_engineer(
    *,
    session: Session,
    code: str,
    name: str,
    region_id: int,
    home_lat: float,
    home_lon: float,
    home_place: str | None = None,
    van_capacity: int | None = None,
    cost_per_hour: Decimal = Decimal("0"),
    cost_per_km: Decimal = Decimal("0"),
    user_id: int | None = None,
    active: bool = True,
    van_depot_id: int | None = None,
    labour_rule_id: int | None = None,
    create_van: bool = False,
    skills: Sequence[SkillLevel] = (),
) -> Engineer:
    """Create an engineer with skills; `create_van` also creates their van depot."""
    values = EngineerChanges(
        code=code, name=name, region_id=region_id, home_lat=home_lat, home_lon=home_lon,
        home_place=home_place, van_capacity=van_capacity, cost_per_hour=cost_per_hour,
        cost_per_km=cost_per_km, user_id=user_id, active=active, van_depot_id=van_depot_id,
        labour_rule_id=labour_rule_id,
    )  # fmt: skip
    errors = field_errors()
    _check_engineer(session, errors, values | {"create_van": create_van}, None)
    _check_skills(session, errors, skills)
    errors.raise_if_any()
    check_unique(session, Engineer.code, code, entity="engineer")
    engineer = Engineer(**values)
    session.add(engineer)
    flush_or_conflict(session, "engineer")
    if create_van:
        _new_van(session, engineer)
    for skill in skills:
        session.add(EngineerSkill(engineer_id=engineer.id, **_skill_fields(skill)))
    flush_or_conflict(session, "engineer")
    return _load(session, engineer.id)


def _skill_fields(skill: SkillLevel) -> dict[str, int]:
    return {"product_line_id": skill.product_line_id, "level": skill.level}


def _dedicated_sites(session: Session, engineer_id: int) -> list[str]:
    stmt = select(Site.code).where(Site.dedicated_engineer_id == engineer_id).order_by(Site.code)
    return list(session.scalars(stmt))


def _van_load(session: Session, depot_id: int) -> int:
    stmt = select(func.coalesce(func.sum(StockLevel.on_hand), 0)).where(
        StockLevel.depot_id == depot_id
    )
    return int(session.scalar(stmt) or 0)


def update_engineer(*, session: Session, engineer_id: int, changes: EngineerChanges) -> Engineer:
    """Change the given fields; a dedicated engineer cannot be deactivated before their sites
    are handed over, and a van's capacity cannot drop below what it carries."""
    engineer = engineer_row(session, engineer_id)
    merged = changes.copy()
    if "home_lat" in changes or "home_lon" in changes:
        merged.setdefault("home_lat", engineer.home_lat)
        merged.setdefault("home_lon", engineer.home_lon)
    errors = field_errors()
    _check_engineer(session, errors, merged, engineer.id)
    if merged.get("create_van") and engineer.van_depot_id is not None:
        errors.add("create_van", f"the engineer has a van already (depot {engineer.van_depot_id})")
    capacity = changes.get("van_capacity")
    van_id = changes.get("van_depot_id", engineer.van_depot_id)
    if capacity is not None and van_id is not None and _van_load(session, van_id) > capacity:
        errors.add("van_capacity", f"the van carries {_van_load(session, van_id)} units already")
    errors.raise_if_any()
    if "code" in changes:
        check_unique(
            session, Engineer.code, changes["code"], entity="engineer", exclude_id=engineer.id
        )
    deactivated = changes.get("active") is False and engineer.active
    if deactivated and (sites := _dedicated_sites(session, engineer.id)):
        detail = f"dedicated engineer of sites {', '.join(sites)}; hand them over first"
        raise InUseError("Engineer", engineer.id, detail)
    for name, value in changes.items():
        if name != "create_van":
            setattr(engineer, name, value)
    flush_or_conflict(session, "engineer")
    if changes.get("create_van"):
        _new_van(session, engineer)
        flush_or_conflict(session, "engineer")
    return _load(session, engineer.id)


def replace_skills(*, session: Session, engineer_id: int, skills: Sequence[SkillLevel]) -> Engineer:
    """Make `skills` the engineer's whole skill set (an empty list removes every skill)."""
    engineer = engineer_row(session, engineer_id)
    errors = field_errors()
    _check_skills(session, errors, skills)
    errors.raise_if_any()
    stmt = select(EngineerSkill).where(EngineerSkill.engineer_id == engineer.id)
    current = {row.product_line_id: row for row in session.scalars(stmt)}
    wanted = {s.product_line_id: s.level for s in skills}
    # A diff, not delete-and-insert: the rows' primary key is (engineer, product line).
    for line_id, row in current.items():
        if line_id not in wanted:
            session.delete(row)
        else:
            row.level = wanted[line_id]
    for line_id, level in wanted.items():
        if line_id not in current:
            session.add(
                EngineerSkill(engineer_id=engineer.id, product_line_id=line_id, level=level)
            )
    flush_or_conflict(session, "engineer skill")
    return _load(session, engineer.id)


def set_van_stock(
    *,
    session: Session,
    engineer_id: int,
    levels: Sequence[StockTarget],
    user_id: int | None = None,
    now: datetime | None = None,
) -> list[StockLevel]:
    """Replace what the engineer's van carries (an administrator's count), within capacity."""
    engineer = engineer_row(session, engineer_id)
    if engineer.van_depot_id is None:
        raise NoVanError(engineer.id)
    return set_depot_stock(
        session=session,
        depot_id=engineer.van_depot_id,
        levels=levels,
        capacity=engineer.van_capacity,
        user_id=user_id,
        now=now,
    )
