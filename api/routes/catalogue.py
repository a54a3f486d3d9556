"""The parts catalogue: product lines, product models and spare parts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import FIELD_READERS, PageDep, SessionDep, requires
from api.schemas.common import (
    IdPath,
    PageRead,
    PartFilter,
    PartRead,
    ProductLineRead,
    ProductModelFilter,
    ProductModelRead,
)
from inventory import queries

router = APIRouter(tags=["catalogue"])


@router.get("/product-lines", dependencies=[requires(*FIELD_READERS)])
def list_product_lines(session: SessionDep, page: PageDep) -> PageRead[ProductLineRead]:
    """List product lines (engineers' skills are per product line)."""
    found = queries.list_product_lines(session=session, after=page.after, limit=page.limit)
    return PageRead[ProductLineRead].model_validate(found)


@router.get("/product-lines/{product_line_id}", dependencies=[requires(*FIELD_READERS)])
def get_product_line(session: SessionDep, product_line_id: IdPath) -> ProductLineRead:
    """One product line."""
    found = queries.get_product_line(session=session, product_line_id=product_line_id)
    return ProductLineRead.model_validate(found)


@router.get("/product-models", dependencies=[requires(*FIELD_READERS)])
def list_product_models(
    session: SessionDep, page: PageDep, filters: Annotated[ProductModelFilter, Query()]
) -> PageRead[ProductModelRead]:
    """List product models, optionally of one product line."""
    found = queries.list_product_models(
        session=session, after=page.after, limit=page.limit, **filters.model_dump()
    )
    return PageRead[ProductModelRead].model_validate(found)


@router.get("/product-models/{product_model_id}", dependencies=[requires(*FIELD_READERS)])
def get_product_model(session: SessionDep, product_model_id: IdPath) -> ProductModelRead:
    """One product model."""
    found = queries.get_product_model(session=session, product_model_id=product_model_id)
    return ProductModelRead.model_validate(found)


@router.get("/parts", dependencies=[requires(*FIELD_READERS)])
def list_parts(
    session: SessionDep, page: PageDep, filters: Annotated[PartFilter, Query()]
) -> PageRead[PartRead]:
    """List parts with the models they fit and their substitutes; `q` searches SKU and name."""
    found = queries.list_parts(
        session=session, after=page.after, limit=page.limit, **filters.model_dump()
    )
    return PageRead[PartRead].model_validate(found)


@router.get("/parts/{part_id}", dependencies=[requires(*FIELD_READERS)])
def get_part(session: SessionDep, part_id: IdPath) -> PartRead:
    """One part with the models it fits and its substitutes."""
    return PartRead.model_validate(queries.get_part(session=session, part_id=part_id))
