"""Users and their API keys: a key is shown once, when issued, and stored only as a hash."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import PageDep, SessionDep, requires
from api.schemas.admin import (
    ScopeRead,
    ScopeUpdate,
    UserCreate,
    UserKeyRead,
    UserRead,
    UserUpdate,
)
from api.schemas.common import IdPath, PageRead
from db import identity
from db.identity import Role

router = APIRouter(prefix="/users", tags=["users"])
ADMIN = [requires(Role.ADMIN)]


@router.get("", dependencies=ADMIN)
def list_users(session: SessionDep, page: PageDep) -> PageRead[UserRead]:
    """List users in id order (never their keys)."""
    found = identity.list_users(session=session, after=page.after, limit=page.limit)
    return PageRead[UserRead].model_validate(found)


@router.get("/{user_id}", dependencies=ADMIN)
def get_user(session: SessionDep, user_id: IdPath) -> UserRead:
    """One user."""
    return UserRead.model_validate(identity.get_user(session=session, user_id=user_id))


@router.post("", dependencies=ADMIN, status_code=status.HTTP_201_CREATED)
def create_user(session: SessionDep, body: UserCreate) -> UserKeyRead:
    """Create a user and issue a key: the response is the only time the key is shown."""
    return UserKeyRead.issued(identity.add_user(session=session, **body.fields()))


@router.patch("/{user_id}", dependencies=ADMIN)
def update_user(session: SessionDep, user_id: IdPath, body: UserUpdate) -> UserRead:
    """Rename, change the role, deactivate or reactivate; the last active admin stays one."""
    user = identity.update_user(session=session, user_id=user_id, changes=body.fields())
    return UserRead.model_validate(user)


@router.post("/{user_id}/rotate-key", dependencies=ADMIN)
def rotate_key(session: SessionDep, user_id: IdPath) -> UserKeyRead:
    """Issue a new key (shown once); the old key stops working at once."""
    return UserKeyRead.issued(identity.rotate_api_key(session=session, user_id=user_id))


@router.get("/{user_id}/scope", dependencies=ADMIN)
def get_scope(session: SessionDep, user_id: IdPath) -> ScopeRead:
    """The depots and regions the user may write at (null: not restricted by that kind)."""
    identity.get_user(session=session, user_id=user_id)
    return ScopeRead.of(identity.get_scope(session, user_id))


@router.patch("/{user_id}/scope", dependencies=ADMIN)
def set_scope(session: SessionDep, user_id: IdPath, body: ScopeUpdate) -> ScopeRead:
    """Scope warehouse staff to depots, dispatchers to regions; writes elsewhere are 403."""
    scope = identity.set_scope(session, user_id=user_id, **body.fields())
    return ScopeRead.of(scope)
