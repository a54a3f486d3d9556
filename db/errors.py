"""Structured errors of the identity model; HTTP codes are the API's business.

IdentityError
├── UserNotFoundError(entity, key)
├── DuplicateUserError(entity, field, value)
├── LastAdminError(user_id)
├── ScopeTargetNotFound(entity, key)
└── OutOfScope(scope, target, allowed)

`unique_clash` reads what a unique-constraint violation names, for any table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class IdentityError(Exception):
    """Base of every error the identity functions raise on purpose."""


class UserNotFoundError(IdentityError):
    """No user has this id."""

    def __init__(self, key: object) -> None:
        super().__init__(f"User {key!r} does not exist")
        self.entity = "User"
        self.key = key


class DuplicateUserError(IdentityError):
    """Another user has this name already (names identify people in every record)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"a user with name {name!r} exists already")
        self.entity = "user"
        self.field = "name"
        self.value = name


class LastAdminError(IdentityError):
    """The change would leave no active administrator, and nobody could manage users again."""

    def __init__(self, user_id: int) -> None:
        super().__init__(f"user {user_id} is the last active admin: make another user admin first")
        self.user_id = user_id


@dataclass(frozen=True, slots=True)
class UniqueClash:
    """What a unique-constraint violation names: the table, the column and (if told) the value."""

    table: str
    field: str
    value: str | None


_PG_KEY = re.compile(r"Key \((?P<field>[^)]+)\)=\((?P<value>.*)\) already exists")
_SQLITE_UNIQUE = re.compile(r"UNIQUE constraint failed: (?P<table>\w+)\.(?P<field>\w+)")


def unique_clash(exc: BaseException) -> UniqueClash | None:
    """The clash of a unique-constraint violation (a concurrent insert won), else None.

    PostgreSQL says the key and the value (SQLSTATE 23505); SQLite the table and column.
    Multi-column keys are named as written, e.g. ``user_id, key``.
    """
    orig = getattr(exc, "orig", None)
    if orig is None:
        return None
    if getattr(orig, "sqlstate", None) == "23505":
        diag = getattr(orig, "diag", None)
        found = _PG_KEY.search(str(getattr(diag, "message_detail", None) or ""))
        table = str(getattr(diag, "table_name", None) or "")
        if found is None:
            return UniqueClash(table, str(getattr(diag, "constraint_name", "")), None)
        return UniqueClash(table, found["field"], found["value"])
    sqlite = _SQLITE_UNIQUE.search(str(orig))
    if sqlite is not None:
        return UniqueClash(sqlite["table"], sqlite["field"], None)
    return None


class ScopeTargetNotFound(IdentityError):
    """A user was to be scoped to depots or regions that do not exist."""

    def __init__(self, kind: str, ids: list[int]) -> None:
        super().__init__(f"no {kind} with id {', '.join(map(str, ids))}")
        self.entity = kind
        self.key = ids


class OutOfScope(IdentityError):
    """The user is scoped to other depots or regions than the one the write touches."""

    def __init__(self, kind: str, target: int, allowed: frozenset[int]) -> None:
        super().__init__(
            f"this key may write at {kind}s {sorted(allowed)} only, not at {kind} {target}"
        )
        self.scope = kind
        self.target = target
        self.allowed = sorted(allowed)
