"""Per-user fan-out of rendered events to open streams. Knows nothing of Postgres.

Guarantees:
- `publish` never blocks and never waits on a stream: it only `put_nowait`s into bounded
  per-stream queues. A stream whose queue is full is closed ("overflow") so its client
  reconnects and replays from the table; the others are not slowed.
- At most `max_streams_per_user` subscriptions per user; the next is refused (TooManyStreams).
- A subscription returned by `subscribe` is registered before its user's channel is listened to,
  so every event published after `subscribe` returns reaches it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Final, Protocol

from .events import Event


class ChannelSource(Protocol):
    """Where a user's events come from (the Postgres listener, or a fake in unit tests)."""

    async def acquire(self, user_id: uuid.UUID) -> int:
        """Start (or keep) delivering the user's events; return the newest id already seen."""
        ...

    def release(self, user_id: uuid.UUID) -> None:
        """One fewer stream needs the user's events."""
        ...


class TooManyStreams(Exception):
    """The user already has the maximum number of open streams."""


CLOSE: Final = None  # the inbox sentinel that wakes a stream to end


class Inbox:
    """A bounded FIFO with one waiting reader: what `asyncio.Queue` does for this case, in a
    fraction of its memory (a Queue holds four deques; every idle stream holds one inbox)."""

    __slots__ = ("_items", "_limit", "_waiter")

    def __init__(self, limit: int) -> None:
        self._items: list[Event | None] = []
        self._limit = limit
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Event | None, *, force: bool = False) -> None:
        """Append `item`; QueueFull when at the limit (unless `force`)."""
        if len(self._items) >= self._limit and not force:
            raise asyncio.QueueFull
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def get_nowait(self) -> Event | None:
        if not self._items:
            raise asyncio.QueueEmpty
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Event | None:
        """The next item, waiting for one if needed."""
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class Subscription:
    """One open stream's inbox."""

    __slots__ = ("closed_reason", "last_id", "queue", "user_id")

    def __init__(self, user_id: uuid.UUID, queue_size: int) -> None:
        self.user_id = user_id
        self.queue = Inbox(queue_size)
        self.last_id = 0
        self.closed_reason: str | None = None

    def offer(self, event: Event) -> bool:
        """Queue `event` without waiting; close the subscription when it cannot keep up."""
        if self.closed_reason is not None:
            return False
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.close("overflow")
            return False
        return True

    def close(self, reason: str) -> None:
        """Ask the stream to end. Idempotent; the first reason wins."""
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        self.queue.put_nowait(CLOSE, force=True)


class Hub:
    """The open subscriptions of this process, by user."""

    def __init__(self, source: ChannelSource, *, max_streams_per_user: int) -> None:
        self._source = source
        self._max_streams = max_streams_per_user
        self._by_user: dict[uuid.UUID, set[Subscription]] = {}
        self.closed_by_reason: Counter[str] = Counter()
        self.delivered = 0
        self._closing: str | None = None

    async def subscribe(self, user_id: uuid.UUID, *, queue_size: int) -> Subscription:
        """Register a stream of `user_id`; return once the user's events are flowing to it."""
        subscriptions = self._by_user.setdefault(user_id, set())
        if len(subscriptions) >= self._max_streams:
            raise TooManyStreams(f"at most {self._max_streams} open streams per user")
        subscription = Subscription(user_id, queue_size)
        subscriptions.add(subscription)
        if self._closing is not None:
            subscription.close(self._closing)  # shutting down: end as soon as it starts
        try:
            subscription.last_id = await self._source.acquire(user_id)
        except BaseException:
            self._discard(subscription)
            raise
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget a stream that has ended; release its user's channel when it was the last."""
        if subscription.closed_reason is None:
            subscription.closed_reason = "ended"
        self.closed_by_reason[subscription.closed_reason] += 1
        if self._discard(subscription):
            self._source.release(subscription.user_id)

    def _discard(self, subscription: Subscription) -> bool:
        subscriptions = self._by_user.get(subscription.user_id)
        if subscriptions is None or subscription not in subscriptions:
            return False
        subscriptions.discard(subscription)
        if not subscriptions:
            del self._by_user[subscription.user_id]
        return True

    def publish(self, user_id: uuid.UUID, event: Event) -> None:
        """Offer `event` to every open stream of `user_id`."""
        for subscription in self._by_user.get(user_id, ()):
            if subscription.offer(event):
                self.delivered += 1

    def close_user(self, user_id: uuid.UUID, reason: str) -> int:
        """End every stream of one user (e.g. access revoked); return how many."""
        subscriptions = list(self._by_user.get(user_id, ()))
        for subscription in subscriptions:
            subscription.close(reason)
        return len(subscriptions)

    def close_all(self, reason: str) -> None:
        """End every stream, and any that subscribes from now on (server shutdown)."""
        self._closing = reason
        for subscriptions in self._by_user.values():
            for subscription in subscriptions:
                subscription.close(reason)

    def stream_count(self, user_id: uuid.UUID | None = None) -> int:
        """Open streams of one user, or of everyone."""
        if user_id is not None:
            return len(self._by_user.get(user_id, ()))
        return sum(len(subscriptions) for subscriptions in self._by_user.values())

    def users(self) -> list[uuid.UUID]:
        """Users with at least one open stream."""
        return list(self._by_user)
