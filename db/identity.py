"""Named users with one role each; every recorded change points to one of them."""

from __future__ import annotations

import enum
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import ForeignKey, String, column, func, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from db.audit import Audited
from db.base import Base, IdMixin
from db.errors import (
    DuplicateUserError,
    LastAdminError,
    OutOfScope,
    ScopeTargetNotFound,
    UserNotFoundError,
    unique_clash,
)
from db.types import UTCDateTime, enum_column

API_KEY_PREFIX = "spk_"


class Role(enum.StrEnum):
    """What a user may do; each route of the API declares the roles it admits."""

    DISPATCHER = "dispatcher"
    WAREHOUSE = "warehouse"
    PLANNER = "planner"
    ENGINEER = "engineer"
    ADMIN = "admin"


class User(Audited, IdMixin, Base):
    """A person (or system) holding one API key and one role."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    # Only a hash is stored: the key itself is shown once, when it is issued.
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


class UserDepot(Audited, Base):
    """A depot whose stock the user may move: warehouse staff are scoped to their depots."""

    __tablename__ = "user_depots"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    depot_id: Mapped[int] = mapped_column(
        ForeignKey("depots.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class UserRegion(Audited, Base):
    """A region whose tickets the user may dispatch: dispatchers scoped to their regions."""

    __tablename__ = "user_regions"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    region_id: Mapped[int] = mapped_column(
        ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True, index=True
    )


@dataclass(frozen=True, slots=True)
class Scope:
    """Where a user may write: depot and region ids, or None for no restriction of that kind.

    A user with no rows of a kind is not restricted by it (the default: scoping is set up
    per user by an admin); one with rows may write only there.
    """

    depot_ids: frozenset[int] | None
    region_ids: frozenset[int] | None

    def require_depot(self, depot_id: int | None) -> None:
        """`OutOfScope` unless the user may write at this depot (None: nothing to check)."""
        if depot_id is not None and self.depot_ids is not None and depot_id not in self.depot_ids:
            raise OutOfScope("depot", depot_id, self.depot_ids)

    def require_region(self, region_id: int | None) -> None:
        """`OutOfScope` unless the user may write in this region (None: nothing to check)."""
        allowed = self.region_ids
        if region_id is not None and allowed is not None and region_id not in allowed:
            raise OutOfScope("region", region_id, allowed)


UNSCOPED = Scope(None, None)


def get_scope(session: Session, user_id: int) -> Scope:
    """The depots and regions a user is scoped to (None: not restricted)."""
    depots = frozenset(
        session.scalars(select(UserDepot.depot_id).where(UserDepot.user_id == user_id))
    )
    regions = frozenset(
        session.scalars(select(UserRegion.region_id).where(UserRegion.user_id == user_id))
    )
    return Scope(depots or None, regions or None)


_DEPOTS = table("depots", column("id"))
_REGIONS = table("regions", column("id"))


def set_scope(
    session: Session,
    *,
    user_id: int,
    depot_ids: Sequence[int] | None = None,
    region_ids: Sequence[int] | None = None,
) -> Scope:
    """Replace a user's depots and/or regions (None: leave that kind as it is; []: clear it).

    Unknown ids are a `ScopeTargetNotFound`; every row added or removed is audited.
    """
    get_user(session=session, user_id=user_id)
    for ids, rows, kind in ((depot_ids, _DEPOTS, "depot"), (region_ids, _REGIONS, "region")):
        if ids:
            known = set(session.scalars(select(rows.c.id).where(rows.c.id.in_(set(ids)))))
            missing = sorted(set(ids) - known)
            if missing:
                raise ScopeTargetNotFound(kind, missing)
    if depot_ids is not None:
        _replace(session, UserDepot, UserDepot.depot_id, user_id, set(depot_ids))
    if region_ids is not None:
        _replace(session, UserRegion, UserRegion.region_id, user_id, set(region_ids))
    session.flush()
    return get_scope(session, user_id)


def _replace(
    session: Session,
    model: type[UserDepot] | type[UserRegion],
    target: Any,
    user_id: int,
    wanted: set[int],
) -> None:
    rows = {
        getattr(r, target.key): r
        for r in session.scalars(select(model).where(model.user_id == user_id))
    }
    for gone in set(rows) - wanted:
        session.delete(rows[gone])
    for new in sorted(wanted - set(rows)):
        session.add(model(**{"user_id": user_id, target.key: new}))


def new_api_key() -> str:
    """Issue a random key (256 bits); store only `hash_api_key(key)`."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """Hash a key for storage and lookup.

    Keys are long random strings, not passwords, so a fast unsalted SHA-256 is
    the right tool: it allows an indexed lookup and brute force is hopeless.
    """
    return hashlib.sha256(key.encode()).hexdigest()


def create_user(
    session: Session, *, name: str, role: Role, active: bool = True
) -> tuple[User, str]:
    """Create a user and issue a key; the key is returned once and never stored in clear."""
    key = new_api_key()
    user = User(name=name, role=role, api_key_hash=hash_api_key(key), active=active)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # a concurrent request took the name after our check
        clash = unique_clash(exc)
        if clash is not None and clash.field == "name":
            raise DuplicateUserError(name) from exc
        raise
    return user, key


def find_active_user(*, session: Session, api_key: str) -> User | None:
    """The active user holding `api_key`, or None; only the key's hash is compared."""
    return find_active_user_by_hash(session=session, key_hash=hash_api_key(api_key))


def find_active_user_by_hash(*, session: Session, key_hash: str) -> User | None:
    """The active user whose key hashes to `key_hash` (`hash_api_key`), or None."""
    stmt = select(User).where(User.api_key_hash == key_hash, User.active.is_(True))
    return session.scalars(stmt).one_or_none()


class UserChanges(TypedDict, total=False):
    """What an administrator may change about a user (absent means unchanged)."""

    name: str
    role: Role
    active: bool


@dataclass(frozen=True, slots=True)
class UserPage:
    """One keyset page of users in id order; `next_after` is None on the last page."""

    items: Sequence[User]
    next_after: int | None


def _check_name_free(session: Session, name: str, exclude_id: int | None = None) -> None:
    stmt = select(User.id).where(User.name == name)
    if exclude_id is not None:
        stmt = stmt.where(User.id != exclude_id)
    if session.scalars(stmt.limit(1)).first() is not None:
        raise DuplicateUserError(name)


def get_user(*, session: Session, user_id: int) -> User:
    """One user, or `UserNotFoundError`."""
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFoundError(user_id)
    return user


def list_users(*, session: Session, after: int | None, limit: int) -> UserPage:
    """Users in id order, one keyset page (db sits below inventory's pagination helper)."""
    if limit < 1:
        raise ValueError(f"limit must be at least 1, got {limit}")
    stmt = select(User).order_by(User.id).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(User.id > after)
    rows = list(session.scalars(stmt))
    items = rows[:limit]
    return UserPage(items=items, next_after=items[-1].id if len(rows) > limit else None)


def add_user(*, session: Session, name: str, role: Role, active: bool = True) -> tuple[User, str]:
    """`create_user` with the name checked first: a taken name is a `DuplicateUserError`.

    A user may be created inactive (prepared ahead, activated later).
    """
    _check_name_free(session, name)
    return create_user(session, name=name, role=role, active=active)


def update_user(*, session: Session, user_id: int, changes: UserChanges) -> User:
    """Rename, change the role of, deactivate or reactivate a user.

    The last active admin can be neither demoted nor deactivated: nobody could
    manage users afterwards. The key stays the same (see `rotate_api_key`).
    """
    user = get_user(session=session, user_id=user_id)
    if "name" in changes:
        _check_name_free(session, changes["name"], exclude_id=user.id)
    stays_admin = changes.get("role", user.role) == Role.ADMIN and changes.get(
        "active", user.active
    )
    if user.role == Role.ADMIN and user.active and not stays_admin:
        # Lock the active admins (in id order): two concurrent demotions cannot both pass.
        admins = select(User.id).where(User.role == Role.ADMIN, User.active.is_(True))
        locked = session.scalars(admins.order_by(User.id).with_for_update()).all()
        if not [other for other in locked if other != user.id]:
            raise LastAdminError(user.id)
    for name, value in changes.items():
        setattr(user, name, value)
    session.flush()
    return user


def rotate_api_key(*, session: Session, user_id: int) -> tuple[User, str]:
    """Issue a new key for a user; the old one stops working. The key is returned once."""
    user = get_user(session=session, user_id=user_id)
    key = new_api_key()
    user.api_key_hash = hash_api_key(key)
    session.flush()
    return user, key
