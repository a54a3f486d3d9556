"""Liveness and readiness probes: public, outside the versioned API."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.exc import SQLAlchemyError

from api.deps import EngineDep, public
from api.errors import NotReady
from api.schemas.common import HealthRead
from db.migrate import is_up_to_date

router = APIRouter(tags=["health"])


@router.get("/healthz", dependencies=[public()])
def healthz() -> HealthRead:
    """Liveness: the process answers; it says nothing about the database on purpose."""
    return HealthRead(status="ok")


@router.get("/readyz", dependencies=[public()], responses={503: {"description": "not ready"}})
def readyz(engine: EngineDep) -> HealthRead:
    """Readiness: the database answers and is migrated to the code's head revision."""
    try:
        migrated = is_up_to_date(engine)
    except SQLAlchemyError as exc:
        raise NotReady("database-unreachable", "the database does not answer") from exc
    if not migrated:
        detail = "the database is not migrated to head; run `spares db upgrade`"
        raise NotReady("not-migrated", detail)
    return HealthRead(status="ready")
