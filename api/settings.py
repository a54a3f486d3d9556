"""Settings from the environment and `.env`: the only reader of configuration besides CLI flags."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

LogLevel = Literal["debug", "info", "warning", "error", "critical"]


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
    road_network_pbf: Path | None = Field(
        default=None, description="OpenStreetMap extract (.osm.pbf) for travel_provider=road"
    )
    world_import_max_bytes: int = Field(
        default=64 * 2**20, ge=1, description="the largest zip `POST /v1/world/import` accepts"
    )

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

    @model_validator(mode="after")
    def _road_needs_a_map(self) -> Settings:
        if self.travel_provider == "road":
            if self.road_network_pbf is None:
                raise ValueError("travel_provider=road needs SPARES_ROAD_NETWORK_PBF")
            if not self.road_network_pbf.is_file():
                raise ValueError(f"road_network_pbf {self.road_network_pbf} is not a file")
        return self

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value
