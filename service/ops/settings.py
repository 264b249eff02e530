"""Settings of operations: retention, and the phases of a shutdown before streams end."""

from __future__ import annotations

from pydantic import Field

from ..live.settings import LiveSettings


class OpsSettings(LiveSettings):
    """What the process does on its own: keep the database small, and stop gracefully."""

    retention_days: float | None = Field(
        default=None,
        gt=0,
        description="When set, `serve` deletes read/archived notifications older than this.",
    )
    retention_interval_seconds: float = Field(
        default=3600, gt=0, description="How often `serve` runs retention (with RETENTION_DAYS)."
    )
    retention_batch_size: int = Field(
        default=5000,
        ge=1,
        description="Rows retention deletes per transaction (one replica runs it at a time).",
    )

    shutdown_unready_seconds: float = Field(
        default=2,
        ge=0,
        description="On SIGTERM, /readyz answers 503 this long (streams still served) before "
        "streams drain, so load balancers that route on it stop sending new ones.",
    )

    shutdown_drain_seconds: float = Field(
        default=10,
        ge=0,
        description="On SIGTERM, after the not-ready phase, open streams are ended spread over "
        "this long, each with a spread `retry:`; new ones get `event: unavailable`.",
    )
