"""The feed: each followed user's cursor, and the only path for "rows after id N".

Live wake-ups, catch-up after the listener reconnects, a new user's starting point and a
stream's replay all read the table through `FeedStore.rows_after`; NOTIFY only says *whom* to
read for. Guarantees:
- Each followed user's notifications are published in id order, each once: a row is published
  only when its id is above the user's cursor, and the cursor then moves to it.
- No gaps: a user is *ready* once their channel is LISTENed (the transport's `Listening`) and
  their rows after the cursor have been read *after* that. Wake-ups of a user who is not ready
  are ignored (the read that makes them ready sees those rows). After `Lost` nobody is ready;
  the next `Listening` catches everyone up from their cursor and resends their unread count
  (read-state NOTIFYs of the outage are gone). A `Listening` naming users already ready (the
  listener switched channel modes) reads them again the same way.
- A cursor below the retention watermark cannot be replayed: the user's streams get `reset`
  with the newest id, never a silent gap.
- A failed read is retried (`RETRY_SECONDS`) from the same cursor: nothing is skipped.
- Replays' first pages are read in batches (`replays.ReplayBatcher`), each cursor paged alone.
- Read-state changes and content requests' `progress` are passed on as heard, after the rows
  committed before them; neither is replayed (a stream that missed them reads the state).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Protocol

import asyncpg

from .events import (
    Event,
    notification_event,
    progress_event,
    read_state_event,
    reset_event,
    unread_count_event,
)
from .listener import Heard, Item, Listening, Lost
from .replays import ReplayBatcher
from .store import MAX_ID, FeedStore

logger = logging.getLogger(__name__)

CATCH_UP_PAGE = 1000
RETRY_SECONDS = 1.0

Publish = Callable[[uuid.UUID, Event], None]


class Transport(Protocol):
    """The LISTEN side (`listener.Listener`)."""

    def listen(self, user: uuid.UUID) -> None: ...

    def unlisten(self, user: uuid.UUID) -> None: ...

    async def next_batch(self) -> list[Item]: ...


class NotFollowed(Exception):
    """The feed stopped following a user `ready` was waiting for."""


class _Waiters:
    """The futures `Feed.ready` gave out for one user not ready yet. Those whose callers stopped
    waiting (timed out, cancelled) are dropped once the list doubles: a timed-out one holds its
    caller's frame through its exception's traceback, and one token opening many streams must
    not make each `ready` scan them all."""

    __slots__ = ("_prune_at", "futures")

    def __init__(self) -> None:
        self.futures: list[asyncio.Future[int]] = []
        self._prune_at = 8

    def add(self, waiter: asyncio.Future[int]) -> None:
        self.futures.append(waiter)
        if len(self.futures) >= self._prune_at:
            self.futures = [each for each in self.futures if not each.done()]
            self._prune_at = 2 * len(self.futures) + 8


class Feed:
    """Follows users: publishes each one's new rows, once, in order."""

    def __init__(self, store: FeedStore, transport: Transport) -> None:
        self._store = store
        self._transport = transport
        self._replays = ReplayBatcher(store)  # streams resuming together share a query
        self._cursors: dict[uuid.UUID, int | None] = {}  # followed users; None: not read yet
        self._ready: set[uuid.UUID] = set()
        self._behind: set[uuid.UUID] = set()  # ready, but a read failed: read again
        self._unstarted: set[uuid.UUID] = set()  # LISTENed, but the first read failed
        self._waiting: dict[uuid.UUID, _Waiters] = {}
        self._heard_at: dict[int, float] = {}  # this batch's announced ids: when, for metrics

    # -- following ---------------------------------------------------------------------------

    def follow(self, user: uuid.UUID) -> None:
        """Start following `user` (idempotent); `ready` tells when their rows flow."""
        if user not in self._cursors:
            self._cursors[user] = None
            self._transport.listen(user)

    def unfollow(self, user: uuid.UUID) -> None:
        """Stop following `user` and forget their cursor."""
        if user not in self._cursors:
            return
        del self._cursors[user]
        self._ready.discard(user)
        self._behind.discard(user)
        self._unstarted.discard(user)
        self._transport.unlisten(user)
        self._wake(user)

    def ready(self, user: uuid.UUID) -> asyncio.Future[int]:
        """The newest id published to `user`, once they are followed and caught up: a future,
        done at once when they already are; `NotFollowed` when the feed stops following them
        first. A caller that stops waiting cancels it (or sets its result or exception)."""
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if user in self._ready:
            cursor = self._cursors[user]
            assert cursor is not None
            waiter.set_result(cursor)
        elif user not in self._cursors:
            waiter.set_exception(NotFollowed(str(user)))
        else:
            waiters = self._waiting.get(user)
            if waiters is None:
                waiters = self._waiting[user] = _Waiters()
            waiters.add(waiter)
        return waiter

    def cursor(self, user: uuid.UUID) -> int | None:
        """The newest id published to `user` (None: not followed, or not read yet)."""
        return self._cursors.get(user)

    @property
    def followed(self) -> int:
        return len(self._cursors)

    def _wake(self, user: uuid.UUID) -> None:
        """Settle the waiters of `user`, who is now ready or no longer followed."""
        waiters = self._waiting.pop(user, None)
        for waiter in () if waiters is None else waiters.futures:
            if waiter.done():
                continue  # its caller stopped waiting
            cursor = self._cursors.get(user)
            if user in self._ready and cursor is not None:
                waiter.set_result(cursor)
            else:
                waiter.set_exception(NotFollowed(str(user)))

    # -- a stream's replay -------------------------------------------------------------------

    async def replay(
        self, user: uuid.UUID, after: int, page_size: int
    ) -> AsyncGenerator[Event, None]:
        """Events for a stream resuming after `after`: its rows in id order, or one `reset`."""
        bounds, rows = await self._replays.first_page(user, after, page_size)
        reason = bounds.reset_reason(after)
        if reason is not None:
            yield reset_event(reason, bounds.newest)
            return
        while rows:
            for row in rows:
                yield notification_event(row)
            if len(rows) < page_size:
                return
            _bounds, rows = await self._store.rows_after({user: rows[-1]["id"]}, page_size)

    # -- the feed's task ---------------------------------------------------------------------

    async def run(self, publish: Publish) -> None:
        """Publish every followed user's new rows until cancelled."""
        while True:
            retry = self._behind or self._unstarted
            try:
                async with asyncio.timeout(RETRY_SECONDS if retry else None):
                    batch = await self._transport.next_batch()
            except TimeoutError:
                batch = []
            await self._handle(batch, publish)

    async def _handle(self, batch: list[Item], publish: Publish) -> None:
        # In arrival (= commit) order: a run of wake-ups is read in one query; a read-state
        # change goes out after the rows that preceded it. Users acknowledged anywhere in the
        # batch are started together at its end, in one query (a connection burst acknowledges
        # users a few at a time): until then they are not ready, and the read that makes them
        # ready sees whatever their ignored wake-ups announced.
        listening: set[uuid.UUID] = set()
        woken: set[uuid.UUID] = set(self._behind)
        self._behind.clear()
        if self._unstarted:
            unstarted, self._unstarted = list(self._unstarted), set()
            await self._start(unstarted, publish)
        for item in batch:
            if isinstance(item, Heard):
                if item.user not in self._ready:
                    continue  # not followed, or the read that makes them ready is still due
                event = item.message.get("event")
                if event == "notification":
                    id_ = item.message.get("id")
                    cursor = self._cursors[item.user]
                    if isinstance(id_, int) and cursor is not None and id_ > cursor:
                        woken.add(item.user)
                        if item.at is not None:
                            self._heard_at[id_] = item.at
                elif event in ("read_state", "progress"):
                    await self._catch_up(woken, publish)
                    woken = set()
                    render = read_state_event if event == "read_state" else progress_event
                    publish(item.user, render(item.message))
            elif isinstance(item, Listening):
                listening.update(item.users)
                self._ready.difference_update(item.users)  # their read is due again
            elif isinstance(item, Lost):
                self._ready.clear()
                self._behind.clear()
                self._unstarted.clear()  # the next `Listening` names them all again
                listening.clear()  # acknowledged on the connection that was lost
                woken = set()
        await self._catch_up(woken, publish)
        self._heard_at.clear()
        if listening:
            await self._start(list(listening), publish)

    async def _start(self, users: Sequence[uuid.UUID], publish: Publish) -> None:
        followed = [user for user in users if user in self._cursors]
        new = [user for user in followed if self._cursors[user] is None]
        known = [user for user in followed if self._cursors[user] is not None]
        try:
            if new:
                bounds, _rows = await self._store.rows_after(dict.fromkeys(new, MAX_ID), 1)
                for user in new:
                    if user in self._cursors:  # not unfollowed meanwhile
                        self._cursors[user] = bounds[user].latest_id
            if known:
                # Back after an outage: what committed meanwhile, and the count of now.
                await self._read(known, publish)
                counts = await self._store.unread_counts(known)
                for user, count in counts.items():
                    if user in self._cursors:
                        publish(user, unread_count_event(count))
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            # Not ready yet: tried again shortly; until then their streams wait (or are told
            # the service is unavailable).
            logger.warning("feed could not start %d users (%r); retrying", len(followed), error)
            self._unstarted.update(followed)
            return
        for user in followed:
            if user in self._cursors:
                self._ready.add(user)
                self._wake(user)

    async def _catch_up(self, users: set[uuid.UUID], publish: Publish) -> None:
        users = {user for user in users if user in self._ready}
        if not users:
            return
        try:
            await self._read(list(users), publish)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            logger.warning("feed read failed for %d users (%r); retrying", len(users), error)
            self._behind.update(users)

    async def _read(self, users: list[uuid.UUID], publish: Publish) -> None:
        # Pages until every user has fewer than a page left.
        while users:
            cursors = {user: self._cursors[user] for user in users}
            bounds, rows = await self._store.rows_after(
                {user: cursor for user, cursor in cursors.items() if cursor is not None},
                CATCH_UP_PAGE,
            )
            for user, user_bounds in bounds.items():
                cursor = self._cursors.get(user)
                if cursor is None:
                    continue
                reason = user_bounds.reset_reason(cursor)
                if reason is not None:
                    self._cursors[user] = user_bounds.newest
                    publish(user, reset_event(reason, user_bounds.newest))
            per_user: dict[uuid.UUID, int] = {}
            for row in rows:  # by id, so each user's rows go out in commit order
                user = row["user_id"]
                per_user[user] = per_user.get(user, 0) + 1
                cursor = self._cursors.get(user)
                if cursor is None or row["id"] <= cursor:
                    continue  # not followed (any more), or already published
                self._cursors[user] = row["id"]
                publish(user, notification_event(row, self._heard_at.get(row["id"])))
            users = [user for user, count in per_user.items() if count >= CATCH_UP_PAGE]
