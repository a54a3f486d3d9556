"""Page routes: the login page, each role's pages, and the package's static files.

The HTML is public (it carries no data); what a page shows comes from /v1 with the key
the user typed at login, so a page a role may not use only gets 403s from the API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from api.deps import public

HERE = Path(__file__).parent
STATIC = (HERE / "static").resolve()
STATIC_PREFIX = "/static"
templates = Jinja2Templates(directory=HERE / "templates")

# What each role sees in the navigation (the API still decides what it may do).
PAGES: dict[str, tuple[str, str]] = {
    "board": ("/board", "Dispatch board"),
    "warehouse": ("/warehouse", "Warehouse"),
    "planner": ("/planner", "Planner"),
    "my-day": ("/my-day", "My day"),
}
ROLE_PAGES: dict[str, tuple[str, ...]] = {
    "dispatcher": ("board",),
    "warehouse": ("warehouse",),
    "planner": ("planner",),
    "engineer": ("my-day",),
    "admin": ("board", "warehouse", "planner"),
}

router = APIRouter(include_in_schema=False)


def _page(request: Request, name: str, title: str) -> HTMLResponse:
    context = {"title": title, "page": name, "pages": PAGES, "static": STATIC_PREFIX}
    return templates.TemplateResponse(request, f"{name}.html", context)


@router.get("/", dependencies=[public()])
def login(request: Request) -> HTMLResponse:
    """The login page: an API key, kept in the tab's sessionStorage only."""
    return _page(request, "login", "Sign in")


@router.get("/board", dependencies=[public()])
def board(request: Request) -> HTMLResponse:
    """The dispatcher's board: map, lanes, worklist, ticket panel, plans."""
    return _page(request, "board", "Dispatch board")


@router.get("/warehouse", dependencies=[public()])
def warehouse(request: Request) -> HTMLResponse:
    """Stock, reservations, pick list, shipments due, stock moves."""
    return _page(request, "warehouse", "Warehouse")


@router.get("/planner", dependencies=[public()])
def planner(request: Request) -> HTMLResponse:
    """Scenario runs and their KPIs and charts."""
    return _page(request, "planner", "Planner")


@router.get("/my-day", dependencies=[public()])
def my_day(request: Request) -> HTMLResponse:
    """The engineer's own day, for a phone."""
    return _page(request, "my-day", "My day")


@router.get(STATIC_PREFIX + "/{path:path}", dependencies=[public()])
def static(path: Annotated[str, PathParam(max_length=300)]) -> FileResponse:
    """A file of the package's static folder; nothing outside it (404)."""
    target = (STATIC / path).resolve()
    if not target.is_relative_to(STATIC) or not target.is_file():
        raise HTTPException(404, f"no static file {path!r}")
    # Vendored files carry their version in the folder name: cache them for long.
    immutable = target.is_relative_to(STATIC / "vendor")
    cache = "public, max-age=31536000, immutable" if immutable else "no-cache"
    return FileResponse(target, headers={"Cache-Control": cache})
