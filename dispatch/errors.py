"""Structured errors of the dispatch package; no HTTP codes here (api/errors.py maps them).

Hierarchy:
    DispatchError
    ├── NotFoundError(entity, key)
    └── WorldNotEmptyError
"""

from __future__ import annotations


class DispatchError(Exception):
    """Base of every error the dispatch package raises on purpose."""


class WorldNotEmptyError(DispatchError):
    """The demo world goes only into an empty database; `tables` already hold rows."""

    def __init__(self, tables: tuple[str, ...]) -> None:
        self.tables = tables
        super().__init__(
            "the database already holds data (in "
            + ", ".join(tables)
            + "): the demo world loads only into an empty database"
        )


class NotFoundError(DispatchError):
    """A row looked up by its key does not exist."""

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"{entity} {key!r} does not exist")
        self.entity = entity
        self.key = key
