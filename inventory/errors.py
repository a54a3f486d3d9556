"""Structured errors of the inventory package; HTTP codes are the API's business.

InventoryError
└── NotFoundError(entity, key)
"""

from __future__ import annotations


class InventoryError(Exception):
    """Base of every error inventory raises on purpose."""


class NotFoundError(InventoryError):
    """A row looked up by its key does not exist."""

    def __init__(self, entity: str, key: object) -> None:
        super().__init__(f"{entity} {key!r} does not exist")
        self.entity = entity
        self.key = key
