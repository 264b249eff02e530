"""Per-user fan-out of rendered events to open streams. Knows nothing of Postgres.

Guarantees:
- The hub alone counts streams per user. The first stream of a user starts following them
  (`Source.follow`); `unfollow_delay` after the last one ends, the user is unfollowed (a
  reconnecting browser usually comes back within the delay and finds the user still followed).
- A subscription is an `async with`: entering registers it (or raises `AtCapacity` past the
  process's `max_streams`, or `Unavailable` when the user's events do not start flowing within
  the timeout); leaving always unregisters it, however the stream ended. Every refusal is
  counted by reason (`refused_by_reason`).
- The newest stream of a user always gets in: at `max_streams_per_user` open streams, entering
  closes the user's *oldest* open one ("displaced", with `displaced_retry_ms` as its `retry:`),
  so a student's newest device is live rather than refused. The displaced stream is told why
  (`event: displaced`) and its client waits for the student instead of coming back and
  displacing the next one: no loop (clients/js/src/stream.js). A stream asked to end no longer
  counts against the limit.
- While `suspend`ed (this process cannot deliver live events, e.g. its listener is deaf, or it
  is shutting down), every new stream is refused with `Unavailable`, counted under the
  suspension's reason, until `resume`. Open streams are not ended by it: the caller drains
  them spread over time (`service/drain.py`, `open_subscriptions`), and their browsers
  reconnect, likely to another process, and replay from their cursor.
- Every event published after entering returns reaches the subscription, in order.
- `publish` never blocks and never waits on a stream: it only `put_nowait`s into bounded
  per-stream queues. A stream whose queue is full is closed ("overflow") so its client
  reconnects and replays from the table; the others are not slowed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from types import TracebackType
from typing import Final, Protocol

from .events import Event
from .wheel import Wheel

logger = logging.getLogger(__name__)


class Source(Protocol):
    """Where a user's events come from (`feed.Feed`, or a fake in unit tests)."""

    def follow(self, user: uuid.UUID) -> None:
        """Start delivering the user's events (idempotent)."""
        ...

    def ready(self, user: uuid.UUID) -> asyncio.Future[int]:
        """The newest id already delivered, once the user's events flow: a future (done at
        once when they already flow) that the caller may cancel or settle to stop waiting."""
        ...

    def unfollow(self, user: uuid.UUID) -> None:
        """Stop delivering the user's events."""
        ...


class Unavailable(Exception):
    """No live events for this stream: they did not start flowing in time (no database
    connection), or the hub is suspended (the listener hears nothing)."""


class AtCapacity(Unavailable):
    """This process already holds `max_streams` streams: the client should come back later."""


class Suspended(Unavailable):
    """The hub is suspended: this process cannot deliver live events; try another."""


CLOSE: Final = None  # the inbox sentinel that wakes a stream to end
# The inbox item that wakes a stream at the time it asked for (`Subscription.wake_at`).
TICK: Final = Event(id=None, frame=b"")


class Due(Protocol):
    """What a stream can do at the time it asked for without its task: a keepalive written
    straight to the socket. A wake-up costs the task's resumption otherwise, and at 100,000
    streams every 15 s that is ~6,700 a second (issue 25)."""

    def due(self) -> bool:
        """Handle the time asked for now; False to get `TICK` in the inbox instead."""
        ...


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
    """One open stream: its inbox, its position, and (as `async with`) its registration."""

    __slots__ = (
        "_hub",
        "_timeout",
        "closed_reason",
        "last_id",
        "on_due",
        "queue",
        "retry_ms",
        "user_id",
    )

    def __init__(self, hub: Hub, user_id: uuid.UUID, queue_size: int, timeout: float) -> None:
        self._hub = hub
        self._timeout = timeout
        self.user_id = user_id
        self.queue = Inbox(queue_size)
        self.last_id = 0
        self.closed_reason: str | None = None
        self.retry_ms: int | None = None  # a `retry:` to send before the stream ends
        self.on_due: Due | None = None  # handles `wake_at`'s time without waking the stream

    async def __aenter__(self) -> Subscription:
        await self._hub._enter(self, self._timeout)
        return self

    async def __aexit__(
        self,
        _type: type[BaseException] | None,
        _error: BaseException | None,
        _traceback: TracebackType | None,
    ) -> None:
        self._hub._leave(self)

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

    def wake_at(self, when: float) -> None:
        """At `when` (monotonic), or up to the wheel's resolution later: `on_due` handles it, or
        (when there is none, or it declines) `TICK` comes in the inbox."""
        self._hub.wheel.wake_at(self, when)

    def wake(self) -> None:
        if self.closed_reason is not None:
            return
        if self.on_due is not None:
            try:
                if self.on_due.due():
                    return
            except Exception:  # never out of the wheel's turn: the rest of its slot must wake
                logger.exception("a stream's wake-up failed; its task takes it")
        self.queue.put_nowait(TICK, force=True)

    def close(self, reason: str, *, retry_ms: int | None = None) -> None:
        """Ask the stream to end (telling its client `retry:` first, when given). Idempotent;
        the first reason wins."""
        if self.closed_reason is not None:
            return
        self.closed_reason = reason
        self.retry_ms = retry_ms
        self.queue.put_nowait(CLOSE, force=True)


def _time_out(ready: asyncio.Future[int]) -> None:
    if not ready.done():
        ready.set_exception(TimeoutError())


class Hub:
    """The open subscriptions of this process, by user."""

    def __init__(
        self,
        source: Source,
        *,
        max_streams_per_user: int,
        unfollow_delay: float,
        max_streams: int | None = None,
        wake_resolution: float = 0.01,
        displaced_retry_ms: int = 600_000,
    ) -> None:
        self.source = source
        self.wheel = Wheel(wake_resolution)  # its `run` must be running for streams to wake
        self._max_streams = max_streams_per_user
        self._displaced_retry_ms = displaced_retry_ms
        self._max_total = max_streams
        self._open = 0
        self.refused_by_reason: Counter[str] = Counter()
        self._unfollow_delay = unfollow_delay
        # A list, not a set: a user has a few streams at most, and a list of one is 1/3 the size.
        self._by_user: dict[uuid.UUID, list[Subscription]] = {}
        self._unfollow_timers: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self.closed_by_reason: Counter[str] = Counter()
        self.delivered = 0
        self._closing: str | None = None
        self._suspended: str | None = None

    def subscription(self, user_id: uuid.UUID, *, queue_size: int, timeout: float) -> Subscription:
        """A stream of `user_id`, registered for the duration of an `async with` block."""
        return Subscription(self, user_id, queue_size, timeout)

    def refused(self, reason: str) -> None:
        """Count a stream refused at admission (`global_limit`, `auth`, `invalid_cursor`...)."""
        self.refused_by_reason[reason] += 1

    def suspend(self, reason: str) -> None:
        """Refuse new streams, counted as `reason`, until `resume` (open ones stay: drain them)."""
        self._suspended = reason

    def open_subscriptions(self) -> list[Subscription]:
        """Every registered stream that was not asked to end."""
        return [
            subscription
            for subscriptions in self._by_user.values()
            for subscription in subscriptions
            if subscription.closed_reason is None
        ]

    def resume(self) -> None:
        """Admit streams again."""
        self._suspended = None

    @property
    def suspended(self) -> str | None:
        """Why new streams are refused; None while they are admitted."""
        return self._suspended

    async def _enter(self, subscription: Subscription, wait: float) -> None:
        user = subscription.user_id
        if self._suspended is not None:
            self.refused(self._suspended)
            raise Suspended("this server cannot deliver live notifications right now")
        # A user at their own limit replaces their oldest stream: no net growth, so a full
        # process still admits it.
        replaces = len(self._still_open(user)) >= self._max_streams
        if self._max_total is not None and self._open >= self._max_total and not replaces:
            self.refused("global_limit")
            raise AtCapacity(f"this server holds its maximum of {self._max_total} streams")
        subscriptions = self._by_user.get(user)
        if subscriptions is None:
            subscriptions = self._by_user[user] = []
            timer = self._unfollow_timers.pop(user, None)
            if timer is not None:
                timer.cancel()  # came back within the delay: still followed
            else:
                self.source.follow(user)
        subscriptions.append(subscription)
        self._open += 1
        if self._closing is not None:
            subscription.close(self._closing)  # shutting down: end as soon as it starts
        deadline: asyncio.TimerHandle | None = None
        try:
            ready = self.source.ready(user)
            if not ready.done():
                # A timer of the loop, not `asyncio.timeout`: a quarter of its cost (0.9
                # against 3.8 µs in a loop), on every connect.
                deadline = asyncio.get_running_loop().call_later(wait, _time_out, ready)
            subscription.last_id = await ready
        except TimeoutError:
            self._leave(subscription, "unavailable")
            raise Unavailable("the user's notifications are not flowing yet") from None
        except BaseException:
            self._leave(subscription, "cancelled")
            raise
        finally:
            if deadline is not None:
                deadline.cancel()
        # Only a stream that is live takes a device's place: one that failed to start displaces
        # nobody.
        self._displace_oldest(user)

    def _still_open(self, user: uuid.UUID) -> list[Subscription]:
        # In admission order. Ones asked to end are on their way out (within the send timeout)
        # and do not count.
        return [each for each in self._by_user.get(user, ()) if each.closed_reason is None]

    def _displace_oldest(self, user: uuid.UUID) -> None:
        still_open = self._still_open(user)  # the newest last: never the one displaced
        for oldest in still_open[: max(0, len(still_open) - self._max_streams)]:
            oldest.close("displaced", retry_ms=self._displaced_retry_ms)

    def _leave(self, subscription: Subscription, reason: str = "ended") -> None:
        subscriptions = self._by_user.get(subscription.user_id)
        if subscriptions is None or subscription not in subscriptions:
            return
        if subscription.closed_reason is None:
            subscription.closed_reason = reason
        self.closed_by_reason[subscription.closed_reason] += 1
        subscriptions.remove(subscription)
        self._open -= 1
        if subscriptions:
            return
        user = subscription.user_id
        del self._by_user[user]
        if self._unfollow_delay <= 0:
            self.source.unfollow(user)
        else:
            self._unfollow_timers[user] = asyncio.get_running_loop().call_later(
                self._unfollow_delay, self._unfollow, user
            )

    def _unfollow(self, user: uuid.UUID) -> None:
        self._unfollow_timers.pop(user, None)
        if user not in self._by_user:
            self.source.unfollow(user)

    def close(self) -> None:
        """Cancel pending unfollows (the process is stopping)."""
        for timer in self._unfollow_timers.values():
            timer.cancel()
        self._unfollow_timers.clear()

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
        return self._open

    def users(self) -> list[uuid.UUID]:
        """Users with at least one open stream."""
        return list(self._by_user)
