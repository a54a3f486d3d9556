"""Plain `make_*` builders for test data: valid defaults, any field overridable.

Each builder adds its row to the session and flushes, so the returned object has
its id. Codes come from one counter, so rows never collide on unique columns.
"""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from db.identity import Role, User, hash_api_key
from dispatch.models import Contract, Engineer, EngineerSkill, PolicySeverity, PromisePolicy, Site
from inventory.models import (
    Asset,
    Depot,
    DepotKind,
    Part,
    PartFit,
    PartSubstitute,
    ProductLine,
    ProductModel,
    Region,
)

_seq = itertools.count(1)


def _n() -> int:
    return next(_seq)


def _add(session: Session, row: Any) -> Any:
    session.add(row)
    session.flush()
    return row


def key_for(role: Role) -> str:
    """The known API key of the builders' user for `role`."""
    return f"spk_test_{role.value}"


def make_user(session: Session, role: Role, *, key: str | None = None, **kw: Any) -> User:
    n = _n()
    fields = {"name": f"{role.value}-{n}", "role": role, "active": True}
    fields["api_key_hash"] = hash_api_key(key or key_for(role))
    return _add(session, User(**(fields | kw)))


def make_region(session: Session, **kw: Any) -> Region:
    n = _n()
    fields = {"code": f"RG{n}", "name": f"Region {n}", "lat": 23.1, "lon": 113.3}
    return _add(session, Region(**(fields | kw)))


def make_product_line(session: Session, **kw: Any) -> ProductLine:
    n = _n()
    return _add(session, ProductLine(**({"code": f"PL{n}", "name": f"Line {n}"} | kw)))


def make_product_model(session: Session, product_line: ProductLine, **kw: Any) -> ProductModel:
    n = _n()
    fields = {"code": f"PM{n}", "name": f"Model {n}", "product_line_id": product_line.id}
    return _add(session, ProductModel(**(fields | kw)))


def make_part(
    session: Session,
    product_line: ProductLine,
    *,
    fits: tuple[ProductModel, ...] = (),
    substitutes: tuple[Part, ...] = (),
    **kw: Any,
) -> Part:
    n = _n()
    fields = {
        "sku": f"SKU-{n:05d}",
        "name": f"Part {n}",
        "product_line_id": product_line.id,
        "cost_price": Decimal("100.00"),
        "list_price": Decimal("150.00"),
    }
    part = _add(session, Part(**(fields | kw)))
    for model in fits:
        _add(session, PartFit(part_id=part.id, product_model_id=model.id))
    for other in substitutes:
        _add(session, PartSubstitute(part_id=part.id, substitute_id=other.id))
    return part


def make_depot(session: Session, region: Region | None, **kw: Any) -> Depot:
    n = _n()
    fields = {
        "code": f"DP{n}",
        "name": f"Depot {n}",
        "kind": DepotKind.REGIONAL,
        "region_id": region.id if region else None,
        "lat": 23.1,
        "lon": 113.3,
    }
    return _add(session, Depot(**(fields | kw)))


def make_policy(session: Session, *, severities: int = 3, **kw: Any) -> PromisePolicy:
    """A policy with `severities` levels (rank 1 most urgent), offsets like the default one."""
    n = _n()
    policy = _add(session, PromisePolicy(**({"code": f"POL{n}", "name": f"Policy {n}"} | kw)))
    for rank in range(1, severities + 1):
        severity = PolicySeverity(
            policy_id=policy.id,
            code=f"S{rank}",
            label=f"Severity {rank}",
            rank=rank,
            respond_min=10 * rank,
            depart_min=None if rank == severities else 15 * rank,
            arrive_min=120,
            fix_min=240 * rank,
        )
        _add(session, severity)
    return policy


def make_contract(session: Session, policy: PromisePolicy, **kw: Any) -> Contract:
    n = _n()
    fields = {
        "code": f"CT{n}",
        "customer_name": f"Customer {n}",
        "policy_id": policy.id,
        "starts_on": date(2024, 1, 1),
    }
    return _add(session, Contract(**(fields | kw)))


def make_engineer(
    session: Session, region: Region, *, skills: dict[ProductLine, int] | None = None, **kw: Any
) -> Engineer:
    """An engineer of `region` with skills as {product line: level}."""
    n = _n()
    fields = {
        "code": f"EN{n}",
        "name": f"Engineer {n}",
        "region_id": region.id,
        "home_lat": region.lat,
        "home_lon": region.lon,
    }
    engineer = _add(session, Engineer(**(fields | kw)))
    for line, level in (skills or {}).items():
        _add(session, EngineerSkill(engineer_id=engineer.id, product_line_id=line.id, level=level))
    return engineer


def make_site(session: Session, region: Region, contract: Contract, **kw: Any) -> Site:
    n = _n()
    fields = {
        "code": f"ST{n}",
        "name": f"Site {n}",
        "region_id": region.id,
        "contract_id": contract.id,
        "lat": region.lat,
        "lon": region.lon,
    }
    return _add(session, Site(**(fields | kw)))


def make_asset(session: Session, site: Site, model: ProductModel, **kw: Any) -> Asset:
    n = _n()
    fields = {
        "serial": f"SN{n:06d}",
        "product_model_id": model.id,
        "site_id": site.id,
        "installed_on": date(2023, 5, 1),
        "accepted_on": date(2023, 5, 2),
    }
    return _add(session, Asset(**(fields | kw)))
