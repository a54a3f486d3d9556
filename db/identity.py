"""Named users with one role each; every recorded change points to one of them."""

from __future__ import annotations

import enum
import hashlib
import secrets
from datetime import datetime

from sqlalchemy import String, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from db.base import Base, IdMixin
from db.types import UTCDateTime, enum_column

API_KEY_PREFIX = "spk_"


class Role(enum.StrEnum):
    """What a user may do; each route of the API declares the roles it admits."""

    DISPATCHER = "dispatcher"
    WAREHOUSE = "warehouse"
    PLANNER = "planner"
    ENGINEER = "engineer"
    ADMIN = "admin"


class User(IdMixin, Base):
    """A person (or system) holding one API key and one role."""

    __tablename__ = "users"

    name: Mapped[str] = mapped_column(String(120), unique=True)
    role: Mapped[Role] = mapped_column(enum_column(Role, "role"))
    # Only a hash is stored: the key itself is shown once, when it is issued.
    api_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())


def new_api_key() -> str:
    """Issue a random key (256 bits); store only `hash_api_key(key)`."""
    return API_KEY_PREFIX + secrets.token_urlsafe(32)


def hash_api_key(key: str) -> str:
    """Hash a key for storage and lookup.

    Keys are long random strings, not passwords, so a fast unsalted SHA-256 is
    the right tool: it allows an indexed lookup and brute force is hopeless.
    """
    return hashlib.sha256(key.encode()).hexdigest()


def create_user(session: Session, *, name: str, role: Role) -> tuple[User, str]:
    """Create a user and issue a key; the key is returned once and never stored in clear."""
    key = new_api_key()
    user = User(name=name, role=role, api_key_hash=hash_api_key(key), active=True)
    session.add(user)
    session.flush()
    return user, key


def find_active_user(*, session: Session, api_key: str) -> User | None:
    """The active user holding `api_key`, or None; only the key's hash is compared."""
    stmt = select(User).where(User.api_key_hash == hash_api_key(api_key), User.active.is_(True))
    return session.scalars(stmt).one_or_none()
