"""Read services over inventory's master data: regions, depots, the catalogue, assets.

Every list is a keyset page in id order; every `get_*` raises `NotFoundError` for
a missing id. Functions only read: the caller owns the transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from db import Base
from inventory.errors import NotFoundError
from inventory.models import (
    Asset,
    Depot,
    DepotKind,
    Part,
    ProductLine,
    ProductModel,
    Region,
)
from inventory.pagination import Page, fetch_page

ModelT = TypeVar("ModelT", bound=Base)

_PART_OPTIONS = (selectinload(Part.fits), selectinload(Part.substitutes))


def get_by_id(
    model: type[ModelT],
    key: int,
    *,
    session: Session,
    options: tuple[ORMOption, ...] = (),
    not_found: Callable[[str, object], Exception] = NotFoundError,
) -> ModelT:
    """Load one row by id, or raise `not_found(entity, key)` (each package has its own)."""
    row = session.get(model, key, options=options)
    if row is None:
        raise not_found(model.__name__, key)
    return row


def region_id_of(code: str) -> ColumnElement[Any]:
    """The id of the region with `code`, as a scalar subquery (no row when unknown)."""
    return select(Region.id).where(Region.code == code).scalar_subquery()


def product_line_id_of(code: str) -> ColumnElement[Any]:
    """The id of the product line with `code`, as a scalar subquery."""
    return select(ProductLine.id).where(ProductLine.code == code).scalar_subquery()


def eq(column: Any, value: object) -> ColumnElement[bool] | None:
    """`column == value`, or no condition when the filter is not set (None)."""
    return None if value is None else column == value


def where(stmt: Select[Any], *conditions: ColumnElement[bool] | None) -> Select[Any]:
    """Add the conditions that are set; a filter left as None does not filter."""
    return stmt.where(*(c for c in conditions if c is not None))


def list_regions(*, session: Session, after: int | None, limit: int) -> Page[Region]:
    """List regions in id order."""
    return fetch_page(select(Region), Region.id, session=session, after=after, limit=limit)


def get_region(*, session: Session, region_id: int) -> Region:
    """Get one region."""
    return get_by_id(Region, region_id, session=session)


def list_depots(
    *,
    session: Session,
    after: int | None,
    limit: int,
    region_id: int | None = None,
    region_code: str | None = None,
    kind: DepotKind | None = None,
) -> Page[Depot]:
    """List depots, optionally of one region (by id or code) and of one kind."""
    stmt = where(
        select(Depot),
        eq(Depot.region_id, region_id),
        eq(Depot.region_id, region_id_of(region_code)) if region_code is not None else None,
        eq(Depot.kind, kind),
    )
    return fetch_page(stmt, Depot.id, session=session, after=after, limit=limit)


def get_depot(*, session: Session, depot_id: int) -> Depot:
    """Get one depot."""
    return get_by_id(Depot, depot_id, session=session)


def list_product_lines(*, session: Session, after: int | None, limit: int) -> Page[ProductLine]:
    """List product lines in id order."""
    stmt = select(ProductLine)
    return fetch_page(stmt, ProductLine.id, session=session, after=after, limit=limit)


def get_product_line(*, session: Session, product_line_id: int) -> ProductLine:
    """Get one product line."""
    return get_by_id(ProductLine, product_line_id, session=session)


def list_product_models(
    *,
    session: Session,
    after: int | None,
    limit: int,
    product_line_id: int | None = None,
    product_line_code: str | None = None,
) -> Page[ProductModel]:
    """List product models, optionally of one product line (by id or code)."""
    line_id = ProductModel.product_line_id
    stmt = where(
        select(ProductModel),
        eq(line_id, product_line_id),
        eq(line_id, product_line_id_of(product_line_code))
        if product_line_code is not None
        else None,
    )
    return fetch_page(stmt, ProductModel.id, session=session, after=after, limit=limit)


def get_product_model(*, session: Session, product_model_id: int) -> ProductModel:
    """Get one product model."""
    return get_by_id(ProductModel, product_model_id, session=session)


def list_parts(
    *,
    session: Session,
    after: int | None,
    limit: int,
    product_line_id: int | None = None,
    product_line_code: str | None = None,
    key_part: bool | None = None,
    q: str | None = None,
    fits_model_id: int | None = None,
    fits_model_code: str | None = None,
) -> Page[Part]:
    """List parts with the models they fit and their substitutes.

    `q` matches a SKU prefix or a part of the name, ignoring case; `fits_*` keeps
    the parts that fit one product model.
    """
    line_id = Part.product_line_id
    stmt = where(
        select(Part).options(*_PART_OPTIONS),
        eq(line_id, product_line_id),
        eq(line_id, product_line_id_of(product_line_code))
        if product_line_code is not None
        else None,
        Part.key_part.is_(key_part) if key_part is not None else None,
        (
            Part.sku.istartswith(q, autoescape=True) | Part.name.icontains(q, autoescape=True)
            if q is not None
            else None
        ),
        Part.fits.any(ProductModel.id == fits_model_id) if fits_model_id is not None else None,
        Part.fits.any(ProductModel.code == fits_model_code)
        if fits_model_code is not None
        else None,
    )
    return fetch_page(stmt, Part.id, session=session, after=after, limit=limit)


def get_part(*, session: Session, part_id: int) -> Part:
    """Get one part with the models it fits and its substitutes."""
    return get_by_id(Part, part_id, session=session, options=_PART_OPTIONS)


def list_assets(
    *,
    session: Session,
    after: int | None,
    limit: int,
    site_id: int | None = None,
    product_model_id: int | None = None,
    product_model_code: str | None = None,
    serial: str | None = None,
) -> Page[Asset]:
    """List installed assets, optionally at one site, of one model, or with one serial."""
    model_id = Asset.product_model_id
    model_by_code = select(ProductModel.id).where(ProductModel.code == product_model_code)
    stmt = where(
        select(Asset),
        eq(Asset.site_id, site_id),
        eq(model_id, product_model_id),
        eq(model_id, model_by_code.scalar_subquery()) if product_model_code is not None else None,
        eq(Asset.serial, serial),
    )
    return fetch_page(stmt, Asset.id, session=session, after=after, limit=limit)


def get_asset(*, session: Session, asset_id: int) -> Asset:
    """Get one asset."""
    return get_by_id(Asset, asset_id, session=session)
