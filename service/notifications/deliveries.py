"""Records when each notification was first written to a stream, in batches.

A stream calls `DeliveryRecorder.record(id)` right after writing a notification's frame (live or
replayed); that is one dict lookup and insert, no task, no object per stream. One recorder per
process collects `{id: first write time}` and `run` flushes it with one `MARK_DELIVERED`
statement every `interval` seconds, so 1,000 deliveries/s cost about one UPDATE per interval.

Guarantees:
- A notification written to a stream has `delivered_at` (the time of its first write in this
  process) and `delivered_via = 'stream'` in the table within `interval` plus one statement's
  time (~1 s with the default 0.5 s) while the database answers. The push dispatcher relies on
  this: it reaches a user elsewhere only when `delivered_at` is still NULL a few seconds after
  the notification was created.
- Only the first delivery of a notification counts, by any channel: the query sets only rows not
  yet delivered, so a replay, another tab or a later push or email never changes the record.
- A failed flush keeps its records and is retried at the next interval (one warning per outage,
  one line when it recovers). Pending records are bounded by `max_pending`: past it the oldest
  tenth is dropped, with a warning and `vividly_delivery_records_dropped_total`; a dropped
  notification stays undelivered in the table (another channel may then reach its user too).
- `close` flushes what is pending (the lifespan calls it after the streams have ended).
- Recording never sends a read-state NOTIFY: the table's read-state trigger only notifies when
  `read_at` or `dismissed_at` changes, and this writes neither
  (tests/notifications/test_deliveries.py).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import asyncpg

from . import sql

logger = logging.getLogger(__name__)

BATCH = 5_000  # ids per statement when much is pending (after an outage)
CHANNEL = "stream"
CLOSE_SECONDS = 5.0  # for the last flush at shutdown


@dataclass(slots=True)
class ReachCounts:
    """What this process recorded, for Prometheus (`service/ops/metrics.py`): notifications first
    delivered, by channel (rows its MARK_DELIVERED or the push dispatcher's PUSH_SENT changed),
    those first reported seen and opened through its API, the outcome of each push attempt
    (`pushes`: sent, retried, gone, failed, cancelled) and of each email digest attempt
    (`digests`: sent, retried, failed, cancelled)."""

    first_delivered: Counter[str] = field(default_factory=Counter)
    pushes: Counter[str] = field(default_factory=Counter)
    digests: Counter[str] = field(default_factory=Counter)
    seen: int = 0
    opened: int = 0


class DeliveryRecorder:
    """This process's pending stream deliveries, flushed to `notifications` in batches."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        interval: float,
        max_pending: int,
        counts: ReachCounts | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._pool = pool
        self._counts = counts if counts is not None else ReachCounts()
        self._interval = interval
        self._max_pending = max_pending
        self._timeout = timeout
        # Ints and floats only: the dict is never tracked by the cyclic GC (runtime/pauses.py).
        self._pending: dict[int, float] = {}
        self.dropped = 0
        self.failures = 0
        self._failing = False

    def record(self, notification_id: int) -> None:
        """Note that `notification_id` was just written to a stream (the hot path)."""
        pending = self._pending
        if notification_id in pending:
            return
        if len(pending) >= self._max_pending:
            self._drop_oldest()
            pending = self._pending
        pending[notification_id] = time.time()

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def written(self) -> int:
        """Rows this process marked delivered by a stream (the first delivery of each)."""
        return self._counts.first_delivered[CHANNEL]

    def _drop_oldest(self) -> None:
        # A tenth at once, by rebuilding: popping the first key one at a time makes every later
        # `next(iter(dict))` scan the deleted slots.
        count = max(1, self._max_pending // 10)
        self._pending = dict(itertools.islice(self._pending.items(), count, None))
        self.dropped += count
        logger.warning(
            "delivery records: %d pending (the database is not taking them); dropped the oldest %d",
            self._max_pending,
            count,
        )

    async def run(self) -> None:
        """Flush every `interval` seconds until cancelled; never raises otherwise."""
        while True:
            await asyncio.sleep(self._interval)
            await self.flush()

    async def flush(self) -> bool:
        """Write what is pending; on failure keep it for the next try. True when written."""
        batch, self._pending = self._pending, {}
        if not batch:
            return True
        items = list(batch.items())
        written = 0
        try:
            for start in range(0, len(items), BATCH):
                chunk = items[start : start + BATCH]
                status = await self._pool.execute(
                    sql.MARK_DELIVERED,
                    [notification_id for notification_id, _at in chunk],
                    [datetime.fromtimestamp(at, UTC) for _id, at in chunk],
                    CHANNEL,
                    timeout=self._timeout,
                )
                written = start + len(chunk)
                self._counts.first_delivered[CHANNEL] += int(status.rpartition(" ")[2] or 0)
        except BaseException as error:
            self._keep(items[written:])
            if not isinstance(error, Exception):
                raise  # cancelled: the records stay for `close`
            self.failures += 1
            if not self._failing:
                logger.warning(
                    "delivery records not written (%r); %d kept, retrying every %.1f s",
                    error,
                    len(self._pending),
                    self._interval,
                )
            self._failing = True
            return False
        if self._failing:
            logger.info("delivery records written again")
            self._failing = False
        return True

    def _keep(self, unwritten: list[tuple[int, float]]) -> None:
        # The unwritten ones are older than anything recorded meanwhile: they go first, and a
        # notification recorded again meanwhile keeps its earlier time.
        kept = dict(unwritten)
        for notification_id, at in self._pending.items():
            kept.setdefault(notification_id, at)
        excess = len(kept) - self._max_pending
        if excess > 0:
            kept = dict(itertools.islice(kept.items(), excess, None))
            self.dropped += excess
            logger.warning("delivery records: dropped the oldest %d (too many pending)", excess)
        self._pending = kept

    async def close(self) -> None:
        """Flush what is pending, waiting at most `CLOSE_SECONDS` (the process is stopping)."""
        try:
            async with asyncio.timeout(CLOSE_SECONDS):
                written = await self.flush()
        except TimeoutError:
            written = False
        if not written and self._pending:
            logger.warning("delivery records: %d lost at shutdown", len(self._pending))


async def mark_opened(
    pool: asyncpg.Pool, notification_id: int, user_id: uuid.UUID, counts: ReachCounts
) -> asyncpg.Record | None:
    """Record that the user acted on their notification (it is seen too); count the first time.

    None when it is not theirs (or gone). Idempotent: the first time is kept. Opened at the same
    moment elsewhere (a second tab, a double click), the statement waits for that change and,
    its snapshot older, sees neither: once more sees it.
    """
    row = await pool.fetchrow(sql.MARK_OPENED, notification_id, user_id)
    if row is None:
        row = await pool.fetchrow(sql.MARK_OPENED, notification_id, user_id)
    if row is not None:
        counts.opened += row["first"]
    return row
