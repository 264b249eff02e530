"""Stream replays that start together are read together: one query for many cursors.

After a restart every browser comes back within seconds and resumes from its cursor; one query
per stream was what bounded how fast 10,000 of them caught up (bench/RESULTS.md, the storm).
A replay's first page joins the batch being gathered, and a batch is read as soon as the
previous batch's query has returned (a group commit: a lone stream waits for no one).

Guarantees:
- Each caller gets exactly what `FeedStore.rows_after({user: after}, limit)` alone would return:
  the query pages per cursor, so a user's rows are not limited by anyone else's.
- At most `max_batch` cursors per query; a user already waiting in the batch (a second tab) or
  a different page size is read alone, so a batch never holds one user twice.
- A failed query fails every caller of its batch with its error, as their own queries would
  have; a caller that gave up (cancelled) is skipped.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .store import Bounds, FeedStore, Row

Page = tuple["Bounds", list["Row"]]


class ReplayBatcher:
    """First pages of replays, read in batches through one `FeedStore`."""

    def __init__(self, store: FeedStore, *, max_batch: int = 100) -> None:
        self._store = store
        self._max_batch = max_batch
        self._limit: int | None = None  # the page size of the batch being gathered
        self._waiting: dict[uuid.UUID, tuple[int, asyncio.Future[Page]]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.queries = 0  # batched queries run (for tests and metrics)

    async def first_page(self, user: uuid.UUID, after: int, limit: int) -> Page:
        """`user`'s bounds and up to `limit` rows after `after`, by id."""
        if user in self._waiting or (self._waiting and limit != self._limit):
            bounds, rows = await self._store.rows_after({user: after}, limit)
            return bounds[user], rows
        self._limit = limit
        page: asyncio.Future[Page] = asyncio.get_running_loop().create_future()
        self._waiting[user] = (after, page)
        if self._reader is None:
            self._reader = asyncio.create_task(self._read_batches())
        return await page

    async def _read_batches(self) -> None:
        try:
            while self._waiting:
                batch = dict(list(self._waiting.items())[: self._max_batch])
                for user in batch:
                    del self._waiting[user]
                limit = self._limit
                assert limit is not None
                await self._read(batch, limit)
        finally:
            self._reader = None
            for _after, page in self._waiting.values():  # only if this task was cancelled
                page.cancel()
            self._waiting.clear()

    async def _read(
        self, batch: dict[uuid.UUID, tuple[int, asyncio.Future[Page]]], limit: int
    ) -> None:
        self.queries += 1
        try:
            bounds, rows = await self._store.rows_after(
                {user: after for user, (after, _page) in batch.items()}, limit
            )
        except Exception as error:
            for _after, page in batch.values():
                if not page.done():
                    page.set_exception(error)
            return
        except BaseException:
            for _after, page in batch.values():
                page.cancel()
            raise
        per_user: dict[uuid.UUID, list[Row]] = {user: [] for user in batch}
        for row in rows:  # by id: each user's list stays in id order
            per_user[row["user_id"]].append(row)
        for user, (_after, page) in batch.items():
            if not page.done():
                page.set_result((bounds[user], per_user[user]))
