"""Who holds this key: name, role and the pages the role sees (the login page asks)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.deps import CurrentUser, requires
from api.web.pages import PAGES, ROLE_PAGES
from db import Role

router = APIRouter(tags=["users"])


class PageLink(BaseModel):
    name: str
    href: str
    title: str


class WhoAmIRead(BaseModel):
    id: int
    name: str
    role: Role
    pages: list[PageLink]


@router.get("/whoami", dependencies=[requires(*Role)])
def whoami(user: CurrentUser) -> WhoAmIRead:
    """The key's user and the pages of his role (each page's data is still checked per call)."""
    names = ROLE_PAGES.get(user.role.value, ())
    pages = [PageLink(name=n, href=PAGES[n][0], title=PAGES[n][1]) for n in names]
    return WhoAmIRead(id=user.id, name=user.name, role=user.role, pages=pages)
