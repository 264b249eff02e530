"""Retention: delete read or archived notifications older than N days; unread ones stay.

Guarantees:
- One run at a time across all replicas: a run holds a session advisory lock on its connection
  from start to end; a run that finds it taken does nothing and says so (`prune` returns None).
- Bounded transactions: rows go in batches of at most `batch_size`, each batch its own
  statement and transaction, walking ids upwards; rows a writer holds locked at that moment are
  skipped (the next run takes them), so retention never waits on mark-read or delivery records,
  and never holds their locks for long. A first run on months of data is many short
  transactions, not one that spikes WAL and holds back vacuum.
- Each batch raises the affected users' watermark (`notification_retention`) in the same
  statement, so a stream resuming from a cursor below a deleted row gets `event: reset`, never a
  silent gap.
- Then finished content requests older than N days that no notification refers to any more are
  deleted (and their videos and thumbnails with them), and the email digests older than N days
  that ended and own no notification any more (db/sql.py PRUNE_DIGESTS says why that is
  safe), in batches too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg

from . import sql

logger = logging.getLogger(__name__)

# Deletes the media files of one content request under a media directory; returns how many.
DeleteMedia = Callable[[Path, uuid.UUID], int]
BATCH_SIZE = 5000  # rows per transaction (RETENTION_BATCH_SIZE)


@contextlib.asynccontextmanager
async def _connection(
    pool: asyncpg.Pool | asyncpg.Connection,
) -> AsyncIterator[asyncpg.Connection]:
    if isinstance(pool, asyncpg.Pool):
        async with pool.acquire() as connection:
            yield connection
    else:
        yield pool


async def prune(
    pool: asyncpg.Pool | asyncpg.Connection,
    *,
    days: float,
    media_dir: Path,
    delete_media: DeleteMedia,
    batch_size: int = BATCH_SIZE,
) -> int | None:
    """Delete read/archived notifications older than `days`, then the requests (and media)
    they leave behind; return how many notifications, or None when another run holds the lock."""
    cutoff = datetime.now(UTC) - timedelta(days=days)
    async with _connection(pool) as connection:
        if not await connection.fetchval(sql.RETENTION_LOCK):
            logger.info("retention: another process is running it; skipped")
            return None
        try:
            deleted = await _prune_notifications(connection, cutoff, batch_size)
            await _prune_requests(connection, cutoff, batch_size, media_dir, delete_media)
            digests = 0
            while (batch := await connection.fetchval(sql.PRUNE_DIGESTS, cutoff, batch_size)) > 0:
                digests += batch
            if digests:
                logger.info("retention: deleted %d email digests", digests)
            return deleted
        finally:
            # The pool's reset does not run pg_advisory_unlock_all: unlock before release.
            await connection.fetchval(sql.RETENTION_UNLOCK)


async def _prune_notifications(
    connection: asyncpg.Connection, cutoff: datetime, batch_size: int
) -> int:
    bound = await connection.fetchval(sql.PRUNE_BOUND, cutoff)
    deleted, after = 0, 0
    while bound is not None:
        row = await connection.fetchrow(sql.PRUNE, cutoff, after, bound, batch_size)
        deleted += row["deleted"]
        if row["looked_at"] == 0:  # fewer than a batch: rows were skipped (locked) or it is done
            break
        after = row["last_id"]
    return deleted


async def _prune_requests(
    connection: asyncpg.Connection,
    cutoff: datetime,
    batch_size: int,
    media_dir: Path,
    delete_media: DeleteMedia,
) -> None:
    requests = files = 0
    while batch := await connection.fetch(sql.PRUNE_REQUESTS, cutoff, batch_size):
        requests += len(batch)
        for request in batch:
            files += await asyncio.to_thread(delete_media, media_dir, request["id"])
        if len(batch) < batch_size:
            break
    if requests:
        logger.info("retention: deleted %d content requests, %d media files", requests, files)


async def prune_periodically(
    pool: asyncpg.Pool,
    *,
    days: float,
    interval: float,
    media_dir: Path,
    delete_media: DeleteMedia,
    batch_size: int = BATCH_SIZE,
) -> None:
    """Run `prune` every `interval` seconds until cancelled; failures are logged, not fatal."""
    while True:
        try:
            deleted = await prune(
                pool,
                days=days,
                media_dir=media_dir,
                delete_media=delete_media,
                batch_size=batch_size,
            )
            if deleted:
                logger.info("retention: deleted %d notifications older than %s days", deleted, days)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            logger.warning("retention run failed: %s", error)
        await asyncio.sleep(interval)
