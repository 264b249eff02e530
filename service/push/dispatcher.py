"""The push dispatcher: a supervised task per API process that pushes what students missed.

Every `PUSH_POLL_SECONDS` it (1) records, in `push_deliveries`, one row per (notification,
subscription) whose push is due (`queries.PUSH_ENQUEUE` states the rule: unread and unseen, no
stream took it within `PUSH_STREAM_GRACE_SECONDS` or nobody saw it within `PUSH_DELAY_SECONDS`,
not older than the subscription or the TTL), then (2) claims due rows with a lease and sends
them.

Guarantees:
- At most one push per notification and subscription, across processes and restarts: the row's
  primary key allows one row; a claim (FOR UPDATE SKIP LOCKED, then a lease in
  `next_attempt_at`) lets one dispatcher send it; a success is recorded once. The one gap is a
  process that dies after the push service accepted a push and before the success committed: the
  push is sent again when the lease ends, with the same `Topic` (the push service replaces a copy
  it still holds) and the same notification `tag` (the browser replaces the one it shows).
- A success marks the notification delivered via `push` (if nothing delivered it before) in the
  transaction that records the send.
- Read, archived or seen before its claim: not sent (`cancelled`). 404/410: the subscription is
  deleted with its rows. 408/429/5xx and network errors: retried with exponential backoff
  (`PUSH_RETRY_SECONDS` doubling, at least the Retry-After), `PUSH_MAX_ATTEMPTS` sends at most,
  then `failed`. Other 4xx: `failed` at once (retrying would not change the answer).
- `stop()` lets the sends in flight finish (each within PUSH_TIMEOUT_SECONDS) and record their
  outcome, then `run` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg

from db import queries

from ..settings import Settings
from . import message
from .sender import Answer, NotPublic, Sender

logger = logging.getLogger(__name__)

BATCH = 64  # pushes claimed (and sent concurrently) at once
MAX_RETRY_DELAY = 3600.0
LEASE_MARGIN = 30.0  # beyond the send timeout: a claim is never taken while its send can run
ERROR_CHARS = 200
RETRIED = frozenset({408, 425, 429})
GONE = frozenset({404, 410})


class Dispatcher:
    """Finds due pushes, claims them and sends them until `stop()`."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, sender: Sender) -> None:
        self._pool = pool
        self._settings = settings
        self._sender = sender
        self._lease = settings.push_timeout_seconds + LEASE_MARGIN
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Finish the sends in flight, then end `run`."""
        self._stopping.set()

    async def run(self) -> None:
        """Poll and send until `stop()`; a database error is logged and the next poll retries."""
        self._stopping.clear()
        async with self._sender:
            while not self._stopping.is_set():
                claimed = 0
                try:
                    claimed = await self.poll_once()
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                    logger.warning("push dispatcher: poll failed: %s", error)
                if claimed < BATCH:  # a full batch: more may be due at once
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._stopping.wait(), self._settings.push_poll_seconds
                        )

    async def poll_once(self) -> int:
        """Record due pushes, claim up to BATCH and send them; return how many were claimed."""
        settings = self._settings
        await self._pool.execute(
            queries.PUSH_ENQUEUE,
            settings.push_stream_grace_seconds,
            settings.push_delay_seconds,
            float(settings.push_ttl_seconds),
        )
        rows = await self._pool.fetch(
            queries.PUSH_CLAIM, BATCH, self._lease, float(settings.push_ttl_seconds)
        )
        if rows:
            # Shielded: a cancellation (shutdown past its grace) still records what was sent.
            await asyncio.shield(asyncio.gather(*(self._deliver(row) for row in rows)))
        return len(rows)

    async def _deliver(self, row: Mapping[str, Any]) -> None:
        key = (row["notification_id"], row["subscription_id"], row["attempts"])
        if not row["wanted"]:
            await self._pool.execute(queries.PUSH_FINISH, *key, "cancelled", None)
            return
        data = message.render(
            self._settings,
            notification_id=row["notification_id"],
            type_name=row["type"],
            label=row["label"],
            payload=row["payload"],
            created_at=row["created_at"],
        )
        try:
            answer = await self._sender.send(
                row["endpoint"], row["p256dh"], row["auth"], data, str(row["notification_id"])
            )
        except NotPublic as error:
            await self._pool.execute(queries.PUSH_FINISH, *key, "failed", str(error))
            logger.warning("push %s: %s", key[:2], error)
            return
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            await self._retry(key, None, f"{type(error).__name__}: {error}"[:ERROR_CHARS])
            return
        await self._record(key, answer)

    async def _record(self, key: tuple[int, int, int], answer: Answer) -> None:
        status = answer.status
        if 200 <= status < 300:
            async with self._pool.acquire() as connection, connection.transaction():
                done = await connection.execute(queries.PUSH_SENT, *key)
                if done == "UPDATE 1":
                    await connection.execute(
                        queries.MARK_DELIVERED, [key[0]], [datetime.now(UTC)], "push"
                    )
        elif status in GONE:
            await self._pool.execute(queries.PUSH_REMOVE_SUBSCRIPTION, key[1])
            logger.info("push subscription %d is gone (%d): removed", key[1], status)
        elif status in RETRIED or status >= 500:
            await self._retry(key, answer.retry_after, f"HTTP {status}")
        else:
            await self._pool.execute(queries.PUSH_FINISH, *key, "failed", f"HTTP {status}")
            logger.warning("push %s refused with HTTP %d: given up", key[:2], status)

    async def _retry(self, key: tuple[int, int, int], retry_after: float | None, why: str) -> None:
        attempts = key[2]
        if attempts >= self._settings.push_max_attempts:
            await self._pool.execute(queries.PUSH_FINISH, *key, "failed", why)
            logger.warning("push %s failed %d times (%s): given up", key[:2], attempts, why)
            return
        delay = min(MAX_RETRY_DELAY, self._settings.push_retry_seconds * 2 ** (attempts - 1))
        delay = random.uniform(delay / 2, delay)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_DELAY))
        await self._pool.execute(queries.PUSH_RETRY, *key, delay, why)
