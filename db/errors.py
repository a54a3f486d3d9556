"""Structured errors of the identity model; HTTP codes are the API's business.

IdentityError
├── UserNotFoundError(entity, key)
├── DuplicateUserError(entity, field, value)
└── LastAdminError(user_id)
"""

from __future__ import annotations


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
