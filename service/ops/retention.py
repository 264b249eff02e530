"""Retention: delete read or archived notifications older than N days; unread ones stay.

Each run raises the affected users' watermark (`notification_retention`) in the same statement,
so a stream resuming from a cursor below a deleted row gets `event: reset`, never a silent gap.
Then finished content requests older than N days that no notification refers to any more are
deleted, and their videos and thumbnails with them, and the email digests older than N days that
ended and own no notification any more (ops/sql.py PRUNE_DIGESTS says why that is safe).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from . import sql

logger = logging.getLogger(__name__)

# Deletes the media files of one content request under a media directory; returns how many.
DeleteMedia = Callable[[Path, uuid.UUID], int]


async def prune(
    pool: asyncpg.Pool | asyncpg.Connection,
    *,
    days: float,
    media_dir: Path,
    delete_media: DeleteMedia,
) -> int:
    """Delete read/archived notifications older than `days`, then the requests (and media)
    they leave behind; return how many notifications."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    deleted: int = await pool.fetchval(sql.PRUNE, cutoff)
    requests = await pool.fetch(sql.PRUNE_REQUESTS, cutoff)
    digests = await pool.fetchval(sql.PRUNE_DIGESTS, cutoff)
    if digests:
        logger.info("retention: deleted %d email digests", digests)
    files = 0
    for request in requests:
        files += await asyncio.to_thread(delete_media, media_dir, request["id"])
    if requests:
        logger.info("retention: deleted %d content requests, %d media files", len(requests), files)
    return deleted


async def prune_periodically(
    pool: asyncpg.Pool,
    *,
    days: float,
    interval: float,
    media_dir: Path,
    delete_media: DeleteMedia,
) -> None:
    """Run `prune` every `interval` seconds until cancelled; failures are logged, not fatal."""
    while True:
        try:
            deleted = await prune(pool, days=days, media_dir=media_dir, delete_media=delete_media)
            if deleted:
                logger.info("retention: deleted %d notifications older than %s days", deleted, days)
        except (OSError, asyncpg.PostgresError) as error:
            logger.warning("retention run failed: %s", error)
        await asyncio.sleep(interval)
