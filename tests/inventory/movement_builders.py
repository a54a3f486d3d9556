"""Rows the movement tests need from outside the stock builders (suppliers, sites)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from inventory.models import Supplier, SupplierKind
from tests.builders import _n, make_contract, make_policy, make_region, make_site


def make_supplier(session: Session, *, lead_time_hours: int = 24) -> int:
    n = _n()
    supplier = Supplier(code=f"SUP{n}", name=f"Supplier {n}", kind=SupplierKind.SUPPLIER,
                        lat=None, lon=None, lead_time_hours=lead_time_hours)  # fmt: skip
    session.add(supplier)
    session.flush()
    return supplier.id


def make_site_id(session: Session) -> int:
    region = make_region(session)
    contract = make_contract(session, make_policy(session))
    return make_site(session, region, contract).id
