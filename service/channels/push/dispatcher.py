"""The push dispatcher: a supervised task per API process that pushes what students missed.

Every `PUSH_POLL_SECONDS` it records, in `push_deliveries`, one row per (notification,
subscription) whose push is due (`sql.PUSH_ENQUEUE` states the rule: unread and unseen, no
stream took it within `PUSH_STREAM_GRACE_SECONDS` or nobody saw it within `PUSH_DELAY_SECONDS`,
not older than the subscription or the TTL). It claims due rows with a lease as sending slots
free up and sends each in its own task: at most `CONCURRENCY` sends at once, with no batch
barrier, so a push service that never answers holds only its own slots (and the sender lets it
hold at most `sender.PER_HOST` connections).

Guarantees:
- At most one push per notification and subscription, across processes and restarts: the row's
  primary key allows one row; a claim (FOR UPDATE SKIP LOCKED, the row `sending` with a lease in
  `next_attempt_at`) lets one dispatcher send it; a success is recorded once. A process that dies
  (or cannot record) after claiming leaves the row `sending`: when its lease ends it is closed as
  failed, outcome unknown, never sent again (migration 0012). Only an answer that asks for it
  (408/425/429/5xx), or an error that proves nothing was sent (no connection made: DNS, refused,
  TLS handshake, connect timeout), puts a push back to `pending` for another attempt; a timeout
  or disconnect once connected leaves the outcome unknown: `failed`, never resent.
- Only to the notification's own user: right before each send (`sql.PUSH_LOAD`) the row must
  still be this attempt's and the subscription still the notification user's; a browser moved to
  another user deletes the first user's rows (`PUSH_SUBSCRIBE`). What remains is the time of
  one request between that check and the push service's answer.
- A success marks the notification delivered via `push` (if nothing delivered it before, at the
  database's time) in the statement that records the send; `ReachCounts` counts it and every
  outcome (`pushes`: sent, retried, gone, failed, cancelled) for /metrics.
- Read, archived or seen before its send: not sent (`cancelled`). 404/410: the subscription is
  deleted with its rows. 408/425/429/5xx and connection failures: retried with exponential backoff
  (`PUSH_RETRY_SECONDS` doubling, at least the Retry-After), `PUSH_MAX_ATTEMPTS` sends at most,
  each with the TTL that is left; then `failed`. Other 4xx, an endpoint that resolves to no
  public address, a message too large, or any unexpected error: `failed` at once (logged). No
  row is claimed more than PUSH_MAX_ATTEMPTS times, whatever happens to the processes.
- Finding due pushes costs the recent notifications, not the whole TTL: each poll looks at those
  created in the last PUSH_DELAY_SECONDS + `WINDOW_MARGIN`, and every `SWEEP_SECONDS` (and at
  start) at the whole TTL, which catches what a pause of every dispatcher left behind. One process
  enqueues at a time (an advisory lock; the others skip that poll).
- `stop()` lets the sends in flight finish (each within PUSH_TIMEOUT_SECONDS) and record their
  outcome, then `run` returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import asyncpg

from ...notifications.deliveries import ReachCounts
from . import actions, message, sql
from .sender import Answer, NotPublic, Sender, TooLarge
from .settings import PushSettings

CHANNEL = "push"  # this channel's name (`delivered_via`, metrics): said here only

logger = logging.getLogger(__name__)

CONCURRENCY = 64  # sends in flight per process
BATCH = 64  # rows claimed by one `poll_once`
MAX_RETRY_DELAY = 3600.0
LEASE_MARGIN = 30.0  # beyond the send timeout: a claim is never taken while its send can run
WINDOW_MARGIN = 60.0  # late commits and pauses between polls
SWEEP_SECONDS = 300.0
ERROR_CHARS = 200
RETRIED = frozenset({408, 425, 429})
GONE = frozenset({404, 410})
DATABASE_ERRORS = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)
Key = tuple[int, int, int]  # notification, subscription, attempt


class Dispatcher:
    """Finds due pushes, claims them and sends them until `stop()`."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: PushSettings,
        sender: Sender,
        counts: ReachCounts | None = None,
    ) -> None:
        self._pool = pool
        self._settings = settings
        self._sender = sender
        self.counts = counts if counts is not None else ReachCounts()
        self._lease = settings.push_timeout_seconds + LEASE_MARGIN
        self._ttl = settings.push_ttl_seconds
        self._window = settings.push_delay_seconds + WINDOW_MARGIN
        self._action_key = actions.key_for(settings)
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    def stop(self) -> None:
        """Finish the sends in flight, then end `run`."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Poll and send until `stop()`; a database error is logged and the next poll retries."""
        self._stopping.clear()
        tasks: set[asyncio.Task[None]] = set()
        poll = self._settings.push_poll_seconds
        next_enqueue = next_sweep = time.monotonic()

        full = False

        def done(task: asyncio.Task[None]) -> None:
            tasks.discard(task)
            if full:
                self._wake.set()

        async with self._sender:
            try:
                while not self._stopping.is_set():
                    free = CONCURRENCY - len(tasks)
                    claimed = 0
                    try:
                        now = time.monotonic()
                        if now >= next_enqueue:
                            next_enqueue = now + poll  # set first: a failure waits a poll too
                            sweep = now >= next_sweep
                            await self.enqueue(whole_ttl=sweep)
                            next_sweep = now + SWEEP_SECONDS if sweep else next_sweep
                        if free:
                            for row in await self.claim(free):
                                task = asyncio.create_task(self.deliver(row))
                                tasks.add(task)
                                task.add_done_callback(done)
                                claimed += 1
                    except DATABASE_ERRORS as error:
                        logger.warning("push dispatcher: poll failed: %s", error)
                    if free and claimed == free:
                        continue  # more may be due: claim again as soon as a slot frees
                    # Woken by stop(), or (only when every slot is busy) by a send ending.
                    self._wake.clear()
                    full = not free
                    if self._stopping.is_set():
                        break
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(
                            self._wake.wait(), max(0.0, next_enqueue - time.monotonic())
                        )
                    full = False
            finally:
                if tasks:
                    # Shielded: a cancellation (shutdown past its grace) still records what was
                    # sent.
                    await asyncio.shield(asyncio.gather(*tasks))

    async def enqueue(self, *, whole_ttl: bool = False) -> None:
        """Record the pushes that became due (recent notifications, or the whole TTL)."""
        settings = self._settings
        window = float(self._ttl) if whole_ttl else self._window
        async with self._pool.acquire() as connection, connection.transaction():
            if await connection.fetchval(sql.PUSH_ENQUEUE_LOCK):
                await connection.execute(
                    sql.PUSH_ENQUEUE,
                    settings.push_stream_grace_seconds,
                    settings.push_delay_seconds,
                    float(self._ttl),
                    window,
                )

    async def claim(self, limit: int) -> list[asyncpg.Record]:
        """Claim up to `limit` due pushes (a lease each)."""
        rows: list[asyncpg.Record] = await self._pool.fetch(
            sql.PUSH_CLAIM, limit, self._lease, self._settings.push_max_attempts
        )
        return rows

    async def poll_once(self) -> int:
        """Record due pushes (the whole TTL), claim up to BATCH and send them; return how many
        were claimed. For tests and tools: `run` does the same as a pipeline."""
        await self.enqueue(whole_ttl=True)
        rows = await self.claim(BATCH)
        if rows:
            await asyncio.shield(asyncio.gather(*(self.deliver(row) for row in rows)))
        return len(rows)

    async def deliver(self, row: Mapping[str, Any]) -> None:
        """Send one claimed push and record its outcome; never raises (but cancellation)."""
        key: Key = (row["notification_id"], row["subscription_id"], row["attempts"])
        try:
            await self._deliver(key)
        except DATABASE_ERRORS as error:
            # Its outcome is unknown: when its lease ends it is closed, never resent (at most once).
            logger.warning("push %s: not recorded (%s); closed when its lease ends", key, error)
        except Exception as error:
            logger.exception("push %s: failed", key[:2])
            with contextlib.suppress(*DATABASE_ERRORS):
                why = f"{type(error).__name__}: {error}"[:ERROR_CHARS]
                await self._finish(key, "failed", why)

    async def _finish(self, key: Key, state: str, why: str | None) -> None:
        await self._pool.execute(sql.PUSH_FINISH, *key, state, why)
        self.counts.pushes["cancelled" if state == "cancelled" else "failed"] += 1

    async def _deliver(self, key: Key) -> None:
        row = await self._pool.fetchrow(sql.PUSH_LOAD, *key, float(self._ttl))
        if row is None:  # moved to another user or removed since the claim: its rows are gone
            self.counts.pushes["cancelled"] += 1
            return
        if not row["wanted"] or row["ttl_left"] <= 0:
            await self._finish(key, "cancelled", None)
            return
        action = actions.token(
            self._action_key, key[0], row["user_id"], int(time.time()) + self._ttl
        )
        data = message.render(
            self._settings,
            notification_id=key[0],
            type_name=row["type"],
            label=row["label"],
            payload=row["payload"],
            created_at=row["created_at"],
            action=action,
            request_title=row["request_title"],
            asked=row["question"],
        )
        try:
            answer = await self._sender.send(
                row["endpoint"], row["p256dh"], row["auth"], data, str(key[0]), row["ttl_left"]
            )
        except (NotPublic, TooLarge) as error:
            await self._give_up(key, str(error))
            return
        except aiohttp.ClientConnectorDNSError as error:
            # aiohttp wraps what the resolver raised: NotPublic is final, a DNS failure is not.
            if isinstance(error.os_error, NotPublic):
                await self._give_up(key, str(error.os_error))
            else:
                await self._retry(key, None, f"DNS: {error.os_error}"[:ERROR_CHARS])
            return
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as error:
            # No connection was made (refused, unreachable, TLS handshake, connect timeout):
            # nothing was sent, so another attempt cannot deliver it twice.
            await self._retry(key, None, f"{type(error).__name__}: {error}"[:ERROR_CHARS])
            return
        except (aiohttp.ClientError, TimeoutError, OSError) as error:
            # The request may have been written (a timeout or disconnect before the answer): the
            # push service may have accepted it, so it is never sent again (at most once).
            await self._give_up(key, f"outcome unknown: {type(error).__name__}: {error}")
            return
        await self._record(key, answer)

    async def _give_up(self, key: Key, why: str) -> None:
        await self._finish(key, "failed", why[:ERROR_CHARS])
        logger.warning("push %s: %s", key[:2], why)

    async def _record(self, key: Key, answer: Answer) -> None:
        status = answer.status
        if 200 <= status < 300:
            row = await self._pool.fetchrow(sql.PUSH_SENT, *key, CHANNEL)
            if row["sent"]:
                self.counts.pushes["sent"] += 1
                self.counts.first_delivered[CHANNEL] += row["first"]
        elif status in GONE:
            await self._pool.execute(sql.PUSH_REMOVE_SUBSCRIPTION, key[1])
            self.counts.pushes["gone"] += 1
            logger.info("push subscription %d is gone (%d): removed", key[1], status)
        elif status in RETRIED or status >= 500:
            await self._retry(key, answer.retry_after, f"HTTP {status}")
        else:
            await self._give_up(key, f"refused with HTTP {status}")

    async def _retry(self, key: Key, retry_after: float | None, why: str) -> None:
        attempts = key[2]
        if attempts >= self._settings.push_max_attempts:
            await self._finish(key, "failed", why)
            logger.warning("push %s failed %d times (%s): given up", key[:2], attempts, why)
            return
        delay = min(MAX_RETRY_DELAY, self._settings.push_retry_seconds * 2 ** (attempts - 1))
        delay = random.uniform(delay / 2, delay)
        if retry_after is not None:
            delay = max(delay, min(retry_after, MAX_RETRY_DELAY))
        await self._pool.execute(sql.PUSH_RETRY, *key, delay, why)
        self.counts.pushes["retried"] += 1
