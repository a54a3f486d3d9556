"""Read services over dispatch's master data: engineers, sites, contracts and their policies.

Every list is a keyset page in id order; every `get_*` raises `NotFoundError` for
a missing id. Functions only read: the caller owns the transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, selectinload

from db.audit import AuditEntry, audit_query
from dispatch.errors import NotFoundError
from dispatch.models import Contract, Engineer, EngineerSkill, PromisePolicy, Site, TicketType
from inventory.pagination import Page, fetch_page
from inventory.queries import eq, get_by_id, product_line_id_of, region_id_of, where

ModelT = TypeVar("ModelT", Engineer, Site, Contract, PromisePolicy)

_ENGINEER_OPTIONS = (selectinload(Engineer.skills),)


@dataclass(frozen=True, slots=True)
class ContractDetail:
    """A contract with its promise policy, whose severities are loaded."""

    contract: Contract
    policy: PromisePolicy


def _get(
    model: type[ModelT], key: int, *, session: Session, options: tuple[Any, ...] = ()
) -> ModelT:
    return get_by_id(model, key, session=session, options=options, not_found=NotFoundError)


def _skill_condition(
    product_line_id: int | None, product_line_code: str | None, min_level: int | None
) -> ColumnElement[bool] | None:
    """Engineers with one skill meeting every set part: product line and minimum level."""
    parts = [
        eq(EngineerSkill.product_line_id, product_line_id),
        (
            eq(EngineerSkill.product_line_id, product_line_id_of(product_line_code))
            if product_line_code is not None
            else None
        ),
        EngineerSkill.level >= min_level if min_level is not None else None,
    ]
    conditions = [c for c in parts if c is not None]
    return Engineer.skills.any(and_(*conditions)) if conditions else None


def list_engineers(
    *,
    session: Session,
    after: int | None,
    limit: int,
    region_id: int | None = None,
    region_code: str | None = None,
    product_line_id: int | None = None,
    product_line_code: str | None = None,
    min_level: int | None = None,
    active: bool | None = None,
) -> Page[Engineer]:
    """List engineers with their skills, filtered by region, skill (at a minimum level), active.

    Without a product line, `min_level` keeps engineers with any skill at that level or above.
    """
    stmt = where(
        select(Engineer).options(*_ENGINEER_OPTIONS),
        eq(Engineer.region_id, region_id),
        eq(Engineer.region_id, region_id_of(region_code)) if region_code is not None else None,
        _skill_condition(product_line_id, product_line_code, min_level),
        Engineer.active.is_(active) if active is not None else None,
    )
    return fetch_page(stmt, Engineer.id, session=session, after=after, limit=limit)


def get_engineer(*, session: Session, engineer_id: int) -> Engineer:
    """Get one engineer with skills."""
    return _get(Engineer, engineer_id, session=session, options=_ENGINEER_OPTIONS)


def list_sites(
    *,
    session: Session,
    after: int | None,
    limit: int,
    region_id: int | None = None,
    region_code: str | None = None,
    contract_id: int | None = None,
    contract_code: str | None = None,
    rural: bool | None = None,
    dedicated_engineer_id: int | None = None,
) -> Page[Site]:
    """List customer sites, filtered by region, contract, rurality or dedicated engineer."""
    contract_by_code = select(Contract.id).where(Contract.code == contract_code).scalar_subquery()
    stmt = where(
        select(Site),
        eq(Site.region_id, region_id),
        eq(Site.region_id, region_id_of(region_code)) if region_code is not None else None,
        eq(Site.contract_id, contract_id),
        eq(Site.contract_id, contract_by_code) if contract_code is not None else None,
        Site.rural.is_(rural) if rural is not None else None,
        eq(Site.dedicated_engineer_id, dedicated_engineer_id),
    )
    return fetch_page(stmt, Site.id, session=session, after=after, limit=limit)


def get_site(*, session: Session, site_id: int) -> Site:
    """Get one site."""
    return _get(Site, site_id, session=session)


def list_contracts(
    *,
    session: Session,
    after: int | None,
    limit: int,
    policy_id: int | None = None,
    policy_code: str | None = None,
) -> Page[Contract]:
    """List contracts, optionally under one promise policy (by id or code)."""
    policy_by_code = select(PromisePolicy.id).where(PromisePolicy.code == policy_code)
    stmt = where(
        select(Contract),
        eq(Contract.policy_id, policy_id),
        eq(Contract.policy_id, policy_by_code.scalar_subquery())
        if policy_code is not None
        else None,
    )
    return fetch_page(stmt, Contract.id, session=session, after=after, limit=limit)


def get_contract(*, session: Session, contract_id: int) -> ContractDetail:
    """Get one contract with its policy and the policy's severities."""
    contract = _get(Contract, contract_id, session=session)
    # Contract has no `policy` relationship, so the policy is a second, keyed load.
    policy = _get(
        PromisePolicy,
        contract.policy_id,
        session=session,
        options=(selectinload(PromisePolicy.severities),),
    )
    return ContractDetail(contract=contract, policy=policy)


_POLICY_OPTIONS = (selectinload(PromisePolicy.severities),)


def list_policies(*, session: Session, after: int | None, limit: int) -> Page[PromisePolicy]:
    """List promise policies with their severities, in id order."""
    stmt = select(PromisePolicy).options(*_POLICY_OPTIONS)
    return fetch_page(stmt, PromisePolicy.id, session=session, after=after, limit=limit)


def get_policy(*, session: Session, policy_id: int) -> PromisePolicy:
    """Get one promise policy with its severities."""
    return _get(PromisePolicy, policy_id, session=session, options=_POLICY_OPTIONS)


def list_ticket_types(
    *,
    session: Session,
    after: int | None,
    limit: int,
    product_line_id: int | None = None,
    product_line_code: str | None = None,
) -> Page[TicketType]:
    """List ticket types (product line x fault class, with service minutes)."""
    stmt = where(
        select(TicketType),
        eq(TicketType.product_line_id, product_line_id),
        (
            eq(TicketType.product_line_id, product_line_id_of(product_line_code))
            if product_line_code is not None
            else None
        ),
    )
    return fetch_page(stmt, TicketType.id, session=session, after=after, limit=limit)


def get_ticket_type(*, session: Session, ticket_type_id: int) -> TicketType:
    """Get one ticket type."""
    return get_by_id(TicketType, ticket_type_id, session=session, not_found=NotFoundError)


def list_audit(
    *,
    session: Session,
    after: int | None,
    limit: int,
    entity: str | None = None,
    entity_key: str | None = None,
    user_id: int | None = None,
) -> Page[AuditEntry]:
    """The audit trail of master data, oldest first, filtered by entity, row or user."""
    stmt = audit_query(entity=entity, entity_key=entity_key, user_id=user_id)
    return fetch_page(stmt, AuditEntry.id, session=session, after=after, limit=limit)
