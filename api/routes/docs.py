"""The OpenAPI document and its interactive page, declared public like every other route."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import public

router = APIRouter(include_in_schema=False)

OPENAPI_PATH = "/openapi.json"


@router.get(OPENAPI_PATH, dependencies=[public()])
def openapi(request: Request) -> JSONResponse:
    """The OpenAPI document (FastAPI builds it once and caches it)."""
    return JSONResponse(request.app.openapi())


@router.get("/docs", dependencies=[public()])
def docs() -> HTMLResponse:
    """Swagger UI over the OpenAPI document."""
    return get_swagger_ui_html(openapi_url=OPENAPI_PATH, title="Spares API")
