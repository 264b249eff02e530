"""Service settings, read from the environment (and nothing else).

The settings object is passed to every factory that needs it; nothing reads a global.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Configuration of one process. Every field maps to an upper-case environment variable."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None,
        description="Postgres 15+ URL. Unset: an embedded Postgres (pgserver) in DATA_DIR.",
    )
    data_dir: Path = Field(
        default=Path(".data/postgres"),
        description="Data directory of the embedded Postgres; survives restarts.",
    )
    jwt_secret: SecretStr = Field(
        default=SecretStr("dev-only-insecure-secret-change-me"),
        description="HS256 secret that signs access tokens.",
    )
    host: str = Field(default="127.0.0.1", description="Address the API binds to.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port the API binds to.")
    pool_min_size: int = Field(default=1, ge=0, description="Minimum asyncpg pool connections.")
    pool_max_size: int = Field(default=10, ge=1, description="Maximum asyncpg pool connections.")
    log_level: str = Field(default="info", description="uvicorn and service log level.")
