"""The content worker: claims requests, runs a pipeline, commits the final status."""

from __future__ import annotations

import asyncpg

from .pipeline import SimulatedPipeline
from .runner import Worker, WorkerConfig
from .settings import WorkerSettings


def create_worker(url: str, pool: asyncpg.Pool, settings: WorkerSettings) -> Worker:
    """A worker running the simulated pipeline, configured from `settings`."""
    pipeline = SimulatedPipeline(
        settings.media_dir,
        stage_seconds=settings.pipeline_stage_seconds,
        failure_rate=settings.pipeline_failure_rate,
        clarification_rate=settings.pipeline_clarification_rate,
    )
    config = WorkerConfig(
        lease_seconds=settings.worker_lease_seconds,
        poll_seconds=settings.worker_poll_seconds,
        max_attempts=settings.worker_max_attempts,
        shutdown_grace_seconds=settings.worker_shutdown_grace_seconds,
        concurrency=settings.worker_concurrency,
        tcp_timeout=settings.listener_tcp_timeout_seconds,
    )
    # LISTEN where the API's listener does (a session-pooling path to the primary, if set).
    return Worker(settings.listen_database_url or url, pool, pipeline, config)
