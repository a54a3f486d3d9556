"""The OpenAPI document and its interactive page, declared public like every other route.

Swagger UI comes from the package's vendored swagger-ui-dist (api/web/static/vendor), so
/docs works offline; FastAPI's default would load it from a CDN.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from api.deps import public
from api.openapi import problem_document
from api.web.pages import STATIC_PREFIX

router = APIRouter(include_in_schema=False)

OPENAPI_PATH = "/openapi.json"
SWAGGER = f"{STATIC_PREFIX}/vendor/swagger-ui-dist-5.35.0"


@router.get(OPENAPI_PATH, dependencies=[public()])
def openapi(request: Request) -> JSONResponse:
    """The OpenAPI document, every operation's errors declared (built once, then cached)."""
    return JSONResponse(problem_document(request.app))


@router.get("/docs", dependencies=[public()])
def docs() -> HTMLResponse:
    """Swagger UI over the OpenAPI document, from local assets (no validator badge call)."""
    return get_swagger_ui_html(
        openapi_url=OPENAPI_PATH,
        title="Spares API",
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url=f"{STATIC_PREFIX}/favicon.svg",
        swagger_ui_parameters={"validatorUrl": None},
    )
