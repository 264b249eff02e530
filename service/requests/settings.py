"""Settings of content requests: the per-student cap, the worker and its simulated pipeline."""

from __future__ import annotations

from pydantic import Field

from ..runtime.settings import CoreSettings


class WorkerSettings(CoreSettings):
    """How requests are taken and worked on."""

    worker_lease_seconds: float = Field(
        default=30,
        gt=0,
        description="A claim not renewed for this long is taken by another worker.",
    )
    worker_poll_seconds: float = Field(
        default=5,
        gt=0,
        description="Idle workers also look for work this often (NOTIFY wakes them).",
    )
    worker_concurrency: int = Field(
        default=2, ge=1, le=64, description="Jobs one worker process runs at a time."
    )
    max_open_requests_per_student: int = Field(
        default=5, ge=1, description="Pending + processing requests per student; more get 429."
    )
    worker_max_attempts: int = Field(
        default=3, ge=1, description="Claims of one request before it is failed for good."
    )
    worker_shutdown_grace_seconds: float = Field(
        default=10,
        ge=0,
        description="On SIGTERM, finish the current job within this, else release it.",
    )
    pipeline_stage_seconds: float = Field(
        default=1.0, ge=0, description="Simulated duration of each pipeline stage."
    )
    pipeline_failure_rate: float = Field(
        default=0.1, ge=0, le=1, description="Share of simulated jobs that fail."
    )
    pipeline_clarification_rate: float = Field(
        default=0.1, ge=0, le=1, description="Share of simulated jobs that ask for a clarification."
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="`vividly-notify worker` serves GET /metrics on this port (on HOST; with "
        "METRICS_TOKEN, for that Bearer token only). Unset: no metrics port.",
    )
