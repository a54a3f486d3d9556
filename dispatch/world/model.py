"""The demo world's value types: its sizes, the `World` result and the seeded randomness."""

from __future__ import annotations

import enum
import zlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from db.identity import Role

Row = dict[str, Any]

# The demo's "today": a fixed date, never date.today(), so a seed always gives the same world.
REFERENCE_DATE = date(2026, 11, 2)  # a Monday
# The moment the demo's open tickets are looked at: 09:00 local time on the reference date.
REFERENCE_HOUR = 9
LOCAL_TIMEZONE = "Asia/Shanghai"

# Foreign-key order: every table comes after the tables it points to.
TABLE_ORDER: tuple[str, ...] = (
    "users",
    "regions",
    "product_lines",
    "product_models",
    "suppliers",
    "parts",
    "part_fits",
    "part_substitutes",
    "depots",
    "stock_levels",
    "promise_policies",
    "policy_severities",
    "contracts",
    "labour_rules",
    "engineers",
    "engineer_skills",
    "shifts",
    "absences",
    "sites",
    "assets",
    "installed_parts",
    "ticket_types",
    "tickets",
    "ticket_skills",
    "ticket_parts",
    "service_log",
)


class WorldSize(enum.StrEnum):
    """How big a world to build: small for tests, large for benchmarks."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@dataclass(frozen=True, slots=True)
class SizeSpec:
    """The counts a size stands for; everything else scales from these."""

    depots: int  # central + regional (vans come on top, one per van-driving engineer)
    engineers: int
    sites: int
    parts: int
    models_per_line: int
    tickets: int

    def __post_init__(self) -> None:
        for name in ("depots", "engineers", "sites", "parts", "models_per_line"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.tickets < 0:
            raise ValueError(f"tickets must be >= 0, got {self.tickets}")


SIZES: dict[WorldSize, SizeSpec] = {
    WorldSize.SMALL: SizeSpec(
        depots=5, engineers=40, sites=300, parts=120, models_per_line=4, tickets=8
    ),
    WorldSize.MEDIUM: SizeSpec(
        depots=20, engineers=300, sites=3_000, parts=400, models_per_line=6, tickets=24
    ),
    WorldSize.LARGE: SizeSpec(
        depots=60, engineers=2_000, sites=20_000, parts=1_000, models_per_line=10, tickets=60
    ),
}


@dataclass(frozen=True)
class World:
    """Rows of every table, in foreign-key order, with explicit integer ids.

    Rows are plain dicts keyed by column name, ready for a Core bulk insert; values are
    Python types (int, float, str, bool, Decimal, date, time, aware UTC datetime, None).
    A world read from a bundle (`spares world import`) has no seed, size or reference
    date: None there.
    """

    seed: int | None
    size: WorldSize | None
    reference_date: date | None
    tables: dict[str, list[Row]]
    # Demo only, NOT secret: fixed keys so a demo can be driven by hand (see people.py).
    demo_keys: dict[Role, str]
    counts: dict[str, int]

    def rows(self, table: str) -> list[Row]:
        """The rows of one table (KeyError for a table the world does not fill)."""
        return self.tables[table]


def rng_for(seed: int, part: str) -> np.random.Generator:
    """An independent generator per part of the world.

    Each part draws from its own stream, so adding a draw to one part never shifts
    the values of another; crc32 is stable across runs (unlike `hash`).
    """
    return np.random.default_rng([seed, zlib.crc32(part.encode())])


def local_datetime(day: date, at: time) -> datetime:
    """A local (Asia/Shanghai) wall-clock time as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(LOCAL_TIMEZONE)).astimezone(UTC)


def reference_instant(reference_date: date) -> datetime:
    """The demo's "now": 09:00 local on the reference date, in UTC."""
    return local_datetime(reference_date, time(REFERENCE_HOUR))
