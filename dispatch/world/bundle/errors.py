"""Structured errors of world bundles; no HTTP codes here (api/errors.py maps them).

Hierarchy (under dispatch.errors.DispatchError):
    BundleError
    ├── BundleInvalid(problems, total)    the bundle breaks the format or a rule
    ├── BundleConflict(problems, total)   the bundle's users clash with the database's
    └── BundleTooLarge(limit, what)       an upload or its unpacked files exceed a limit
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.errors import DispatchError


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a bundle, precise enough to fix without guessing.

    `row` is the 1-based data row of the CSV file (the header is row 0); None for a
    problem of the whole file (missing, unknown column) or of the manifest.
    `field` is the column (or manifest key), None when the problem is the whole row or file.
    """

    file: str
    row: int | None
    field: str | None
    reason: str

    def sort_key(self) -> tuple[int, str]:
        return (-1 if self.row is None else self.row, self.field or "")


class BundleError(DispatchError):
    """Base of every error raised while reading, writing or importing a world bundle."""


class _WithProblems(BundleError):
    def __init__(self, problems: Sequence[Problem], total: int | None, what: str) -> None:
        self.errors = list(problems)
        self.total = len(self.errors) if total is None else total
        shown = "" if self.total == len(self.errors) else f" (the first {len(self.errors)} shown)"
        super().__init__(f"{what}: {self.total} problem(s){shown}; nothing was written")


class BundleInvalid(_WithProblems):
    """The bundle breaks its format or a rule of the schema; `errors` lists every problem."""

    def __init__(self, problems: Sequence[Problem], total: int | None = None) -> None:
        super().__init__(problems, total, "the world bundle is invalid")


class BundleConflict(_WithProblems):
    """The bundle is valid, but its users clash with users the database already holds."""

    def __init__(self, problems: Sequence[Problem], total: int | None = None) -> None:
        super().__init__(problems, total, "the bundle's users clash with the database's")


class BundleTooLarge(BundleError):
    """An upload (or what it unpacks to) is larger than the configured limit."""

    def __init__(self, what: str, limit: int) -> None:
        self.what = what
        self.limit = limit
        super().__init__(f"{what} is larger than the limit of {limit:,} bytes")
