"""Customer sites and their contracts."""

from __future__ import annotations

from datetime import date
from typing import Any, TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatch.errors import InUseError, NotFoundError
from dispatch.masterdata.common import (
    check_coordinates,
    check_unique,
    field_errors,
    flush_or_conflict,
    reference,
    severity_codes_in_use,
    sorted_codes,
)
from dispatch.models import Contract, Engineer, PolicySeverity, PromisePolicy, Site
from inventory.checks import FieldErrors
from inventory.models import Region


class SiteChanges(TypedDict, total=False):
    """The fields a site update may change (absent means unchanged)."""

    code: str
    name: str
    region_id: int
    contract_id: int
    place: str | None
    address: str | None
    lat: float
    lon: float
    rural: bool
    dedicated_engineer_id: int | None


class ContractChanges(TypedDict, total=False):
    """The fields a contract update may change (absent means unchanged)."""

    code: str
    customer_name: str
    policy_id: int
    starts_on: date
    ends_on: date | None


def _get(session: Session, model: type[Any], key: int) -> Any:
    row = session.get(model, key)
    if row is None:
        raise NotFoundError(model.__name__, key)
    return row


def _check_dedicated(session: Session, errors: FieldErrors, engineer_id: int | None) -> None:
    engineer = reference(session, errors, Engineer, engineer_id, "dedicated_engineer_id")
    if engineer is not None and not engineer.active:
        errors.add("dedicated_engineer_id", f"engineer {engineer_id} is not active")


def _policy_codes(session: Session, policy_id: int) -> set[str]:
    stmt = select(PolicySeverity.code).where(PolicySeverity.policy_id == policy_id)
    return set(session.scalars(stmt))


def _check_codes_kept(
    session: Session, entity: str, key: int, used: set[str], policy_id: int
) -> None:
    """Tickets keep their severity codes: the new policy must know each code in use."""
    missing = used - _policy_codes(session, policy_id)
    if missing:
        detail = f"tickets use severities {sorted_codes(missing)}, which policy {policy_id} lacks"
        raise InUseError(entity, key, detail)


def create_site(
    *,
    session: Session,
    code: str,
    name: str,
    region_id: int,
    contract_id: int,
    lat: float,
    lon: float,
    place: str | None = None,
    address: str | None = None,
    rural: bool = False,
    dedicated_engineer_id: int | None = None,
) -> Site:
    """Create a site; its region and contract must exist, its dedicated engineer be active."""
    errors = field_errors()
    reference(session, errors, Region, region_id, "region_id")
    reference(session, errors, Contract, contract_id, "contract_id")
    check_coordinates(errors, "lat", lat, lon)
    _check_dedicated(session, errors, dedicated_engineer_id)
    errors.raise_if_any()
    check_unique(session, Site.code, code, entity="site")
    site = Site(
        code=code, name=name, region_id=region_id, contract_id=contract_id, lat=lat, lon=lon,
        place=place, address=address, rural=rural, dedicated_engineer_id=dedicated_engineer_id,
    )  # fmt: skip
    session.add(site)
    flush_or_conflict(session, "site")
    return site


def update_site(*, session: Session, site_id: int, changes: SiteChanges) -> Site:
    """Change the given fields of a site; a new contract must know its tickets' severities."""
    site: Site = _get(session, Site, site_id)
    errors = field_errors()
    if "region_id" in changes:
        reference(session, errors, Region, changes["region_id"], "region_id")
    contract = None
    if "contract_id" in changes:
        contract = reference(session, errors, Contract, changes["contract_id"], "contract_id")
    check_coordinates(errors, "lat", changes.get("lat", site.lat), changes.get("lon", site.lon))
    if "dedicated_engineer_id" in changes:
        _check_dedicated(session, errors, changes["dedicated_engineer_id"])
    errors.raise_if_any()
    if "code" in changes:
        check_unique(session, Site.code, changes["code"], entity="site", exclude_id=site.id)
    if contract is not None and contract.id != site.contract_id:
        used = severity_codes_in_use(session, column=Site.id, key=site.id)
        _check_codes_kept(session, "Site", site.id, used, contract.policy_id)
    for name, value in changes.items():
        setattr(site, name, value)
    flush_or_conflict(session, "site")
    return site


def _check_period(errors: FieldErrors, starts_on: date, ends_on: date | None) -> None:
    if ends_on is not None and ends_on <= starts_on:
        errors.add("ends_on", "must be after starts_on")


def create_contract(
    *,
    session: Session,
    code: str,
    customer_name: str,
    policy_id: int,
    starts_on: date,
    ends_on: date | None = None,
) -> Contract:
    """Create a contract under an existing promise policy."""
    errors = field_errors()
    reference(session, errors, PromisePolicy, policy_id, "policy_id")
    _check_period(errors, starts_on, ends_on)
    errors.raise_if_any()
    check_unique(session, Contract.code, code, entity="contract")
    contract = Contract(
        code=code, customer_name=customer_name, policy_id=policy_id, starts_on=starts_on,
        ends_on=ends_on,
    )  # fmt: skip
    session.add(contract)
    flush_or_conflict(session, "contract")
    return contract


def update_contract(*, session: Session, contract_id: int, changes: ContractChanges) -> Contract:
    """Change the given fields of a contract; a new policy must know its tickets' severities."""
    contract: Contract = _get(session, Contract, contract_id)
    errors = field_errors()
    if "policy_id" in changes:
        reference(session, errors, PromisePolicy, changes["policy_id"], "policy_id")
    starts_on = changes.get("starts_on", contract.starts_on)
    _check_period(errors, starts_on, changes.get("ends_on", contract.ends_on))
    errors.raise_if_any()
    if "code" in changes:
        check_unique(
            session, Contract.code, changes["code"], entity="contract", exclude_id=contract.id
        )
    new_policy = changes.get("policy_id", contract.policy_id)
    if new_policy != contract.policy_id:
        used = severity_codes_in_use(session, column=Contract.id, key=contract.id)
        _check_codes_kept(session, "Contract", contract.id, used, new_policy)
    for name, value in changes.items():
        setattr(contract, name, value)
    flush_or_conflict(session, "contract")
    return contract
