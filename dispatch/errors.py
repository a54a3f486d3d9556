"""Structured errors of the dispatch package; HTTP codes are the API's business.

    DispatchError
    └── NotFoundError(entity, key)
"""

from __future__ import annotations


class DispatchError(Exception):
    """Base of every error dispatch raises on purpose."""


class NotFoundError(DispatchError):
    """A row looked up by its key does not exist."""

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"{entity} {key!r} does not exist")
        self.entity = entity
        self.key = key
