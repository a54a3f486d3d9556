"""Settings from the environment and `.env`: the only reader of configuration besides CLI flags."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

LogLevel = Literal["debug", "info", "warning", "error", "critical"]
_OFF = {"", "none", "off"}
# Limits that `limits.parse_many` surely accepts ("1200/minute; 20/second"): the command
# line checks its settings at every start and need not import `limits` for the defaults.
_PLAIN_LIMITS = re.compile(
    r"^[1-9][0-9]* */ *(second|minute|hour|day)( *; *[1-9][0-9]* */ *(second|minute|hour|day))*$"
)


class Settings(BaseSettings):
    """Spares configuration; every variable is prefixed `SPARES_` (e.g. SPARES_DATABASE_URL)."""

    model_config = SettingsConfigDict(
        env_prefix="SPARES_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str = Field(
        default="sqlite:///spares.db",
        description="SQLAlchemy URL; the default is a SQLite file in the working directory.",
    )
    log_level: LogLevel = "info"
    page_size_max: int = Field(default=500, ge=1, le=10_000)
    travel_provider: Literal["geodesic", "road"] = Field(
        default="geodesic",
        description="travel times: great-circle with a road model, or a real road network",
    )
    rush_hours: Literal["guangdong", "none"] = Field(
        default="guangdong",
        description="speed by local hour (optimizer.GUANGDONG_RUSH_HOURS) or free flow always",
    )
    road_network_pbf: Path | None = Field(
        default=None, description="OpenStreetMap extract (.osm.pbf) for travel_provider=road"
    )
    timezone: str | None = Field(
        default=None,
        description="the zone answers show times in (IANA, e.g. Asia/Shanghai); default: the"
        " one zone every region shares, else UTC. A request's `tz` or `Time-Zone` overrides it.",
    )
    max_body_bytes: int = Field(
        default=2**20, ge=1, description="the largest JSON request body (a larger one is a 413)"
    )
    world_import_max_bytes: int = Field(
        default=64 * 2**20, ge=1, description="the largest zip `POST /v1/world/import` accepts"
    )
    service_area_margin_deg: float | None = Field(
        default=1.0,
        ge=0,
        le=180,
        description="how far (degrees) a coordinate sent may lie outside the box of the regions'"
        " centres (a 422 beyond); 'off': no check",
    )
    web_workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="server processes `spares serve` runs on its socket (about one per core;"
        " each has its own caches and in-memory rate limits)",
    )
    write_slots: int = Field(
        default=16,
        ge=1,
        le=32,
        description="write requests run at once (below the 40 worker threads); the rest queue",
    )
    database_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="server connections each process keeps open (PostgreSQL): above the write"
        " slots, so the writes and some reads never open and close connections",
    )
    database_max_overflow: int = Field(
        default=20,
        ge=0,
        le=200,
        description="connections opened beyond the pool in a burst, and closed again after",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=30_000, ge=0, description="how long a SQLite write waits for the lock, then 503"
    )
    busy_retry_after_s: int = Field(
        default=2, ge=1, description="the Retry-After of a 503 when the database stays busy"
    )

    api_key_cache_ttl_s: float = Field(
        default=10.0,
        ge=0,
        description="how long a key's user is remembered without a query (0: query every"
        " request); changes through the API apply at once, others (CLI) within this",
    )
    snapshot_ttl_s: float = Field(
        default=30.0,
        ge=0,
        description="how long recommendations reuse one snapshot of the world while no row"
        " changed (0: a snapshot per request); an engineer whose job on site passes its"
        " planned end is read again at once all the same",
    )

    log_format: Literal["json", "text"] = Field(
        default="json",
        description="one JSON object per line (request id, user, route) or plain text",
    )
    rate_limit_per_key: str | None = Field(
        default="1200/minute",
        description="requests one API key may make (limits notation, e.g. '20/second;"
        " 1000/hour'); empty or 'off' disables",
    )
    rate_limit_per_address: str | None = Field(
        default="3000/minute",
        description="requests one client address may make, keyed or not; empty or 'off' disables",
    )
    rate_limit_storage: str = Field(
        default="memory://",
        description="where counters live (limits storage URI); memory is per process",
    )
    unavailable_retry_after_s: int = Field(
        default=5, ge=1, description="Retry-After of a 503 while the database does not answer"
    )
    worker_heartbeat_s: float = Field(
        default=10.0, gt=0, description="how often a worker marks its running job alive"
    )
    worker_stale_after_s: float = Field(
        default=60.0,
        gt=0,
        description="a running job whose heartbeat is this old is taken by another worker"
        " (its worker died); several heartbeats long, so a slow beat is not a death",
    )
    metrics_public: bool = Field(
        default=False,
        description="serve /metrics without a key; otherwise an admin or planner key is needed",
    )

    @field_validator("rate_limit_per_key", "rate_limit_per_address")
    @classmethod
    def _valid_limit(cls, value: str | None) -> str | None:
        if value is None or value.strip().lower() in _OFF:
            return None
        if _PLAIN_LIMITS.match(value.strip()):
            return value
        from limits import parse_many

        try:
            parse_many(value)
        except ValueError as exc:
            raise ValueError(f"not a rate limit: {value!r} (e.g. '1200/minute')") from exc
        return value

    @field_validator("service_area_margin_deg", mode="before")
    @classmethod
    def _area_off(cls, value: object) -> object:
        return None if isinstance(value, str) and value.strip().lower() in _OFF else value

    @field_validator("database_url")
    @classmethod
    def _valid_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {value!r}") from exc
        if url.get_backend_name() not in {"sqlite", "postgresql"}:
            raise ValueError("Spares supports SQLite and PostgreSQL URLs only")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"{value!r} is not an IANA time zone, e.g. Asia/Shanghai") from exc
        return value

    @model_validator(mode="after")
    def _stale_after_beats(self) -> Settings:
        if self.worker_stale_after_s <= 2 * self.worker_heartbeat_s:
            raise ValueError("worker_stale_after_s must exceed two worker heartbeats")
        return self

    @model_validator(mode="after")
    def _road_needs_a_map(self) -> Settings:
        if self.travel_provider == "road":
            if self.road_network_pbf is None:
                raise ValueError("travel_provider=road needs SPARES_ROAD_NETWORK_PBF")
            if not self.road_network_pbf.is_file():
                raise ValueError(f"road_network_pbf {self.road_network_pbf} is not a file")
        return self

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value
