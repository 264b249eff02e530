"""Settings of operations: retention."""

from __future__ import annotations

from pydantic import Field

from ..runtime.settings import CoreSettings


class OpsSettings(CoreSettings):
    """What the process does on its own to keep the database small."""

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
