"""Retention: delete read or archived notifications older than N days; unread ones stay.

Each run raises the affected users' watermark (`notification_retention`) in the same statement,
so a stream resuming from a cursor below a deleted row gets `event: reset`, never a silent gap.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import asyncpg

from db import queries

logger = logging.getLogger(__name__)


async def prune(pool: asyncpg.Pool | asyncpg.Connection, *, days: float) -> int:
    """Delete read/archived notifications older than `days`; return how many."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    deleted: int = await pool.fetchval(queries.PRUNE, cutoff)
    return deleted


async def prune_periodically(pool: asyncpg.Pool, *, days: float, interval: float) -> None:
    """Run `prune` every `interval` seconds until cancelled; failures are logged, not fatal."""
    while True:
        try:
            deleted = await prune(pool, days=days)
            if deleted:
                logger.info("retention: deleted %d notifications older than %s days", deleted, days)
        except (OSError, asyncpg.PostgresError) as error:
            logger.warning("retention run failed: %s", error)
        await asyncio.sleep(interval)
