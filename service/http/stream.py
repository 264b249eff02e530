"""One SSE stream: replay from the table, then live events, as a bare ASGI response.

Guarantees:
- With a cursor (Last-Event-ID), every notification of the user with a greater id is sent once,
  in id order: the subscription is live before the replay (`Feed.replay`) reads, and live
  events at or below the last id sent are skipped.
- A cursor below what retention has deleted gets `event: reset` (with the current id) instead
  of a silent gap.
- Every notification written (live or replayed) is handed to the process's `DeliveryRecorder`
  once its write returned, which records its first delivery in the table
  (service/notifications/deliveries.py).
- The stream ends when its token expires (after `event: auth_expired`), at its maximum age (both
  at most the hub wheel's resolution late, `service/live/wheel.py`), when
  the hub closes it (overflow, shutdown), or when a send blocks longer than the send timeout.
  The maximum age is jittered: STREAM_MAX_AGE_SECONDS less a random share of it up to
  STREAM_MAX_AGE_JITTER, so streams opened in the same second (after a deploy) do not all end
  in the same second an hour later.
- A stream ended by a drain (`service/drain.py`) gets its own `retry:` before it ends; one
  displaced by the user's newest stream (`Hub`) gets `event: displaced` with a long `retry:`.

One coroutine writes. Served on the socket (`stream_protocol.py`), that is all; served through
ASGI, one small task also waits for the client's disconnect. StreamingResponse and the SSE
libraries cost 3-5 tasks and 34-57 KiB per idle stream (bench/).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from datetime import datetime
from typing import Protocol

from starlette.types import Message, Receive, Scope, Send

from ..live import events
from ..live.events import Event
from ..live.feed import Feed
from ..live.hub import CLOSE, TICK, Subscription
from ..notifications.deliveries import DeliveryRecorder
from ..ops.metrics import EventMetrics
from ..runtime import logs
from .settings import HttpSettings

logger = logging.getLogger(__name__)

SLOW_CLIENT = frozenset({"overflow", "send_timeout"})  # reasons a client is dropped for

HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    # no-transform: a proxy or CDN must not compress or rewrite the stream (that buffers it).
    (b"cache-control", b"no-store, no-transform"),
    (b"x-accel-buffering", b"no"),
    # No `connection: keep-alive`: HTTP/1.1's default, a contradiction next to the `close`
    # uvicorn adds when the request asks for it, and forbidden in HTTP/2 (a proxy's next hop).
]


class Sink(Protocol):
    """Where a stream's bytes go: the ASGI server's `send`, or the socket (`stream_protocol`).

    Every method raises OSError when the client is gone, and TimeoutError when it has not
    taken the bytes within the send timeout.
    """

    async def open(self, first: bytes) -> None:
        """Start the 200 response (`HEADERS`) with `first` as its first bytes."""

    async def write(self, data: bytes) -> None:
        """Send `data` as more of the response."""

    def write_now(self, data: bytes) -> bool:
        """Send `data` at once when the client is taking bytes; False (nothing sent) when it
        is not, or when this sink can only send by waiting: then `write`."""

    async def end(self) -> None:
        """Finish the response."""


class _AsgiSink:
    __slots__ = ("_send", "_timeout")

    def __init__(self, send: Send, timeout: float) -> None:
        self._send = send
        self._timeout = timeout

    async def open(self, first: bytes) -> None:
        await self._send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await self.write(first)

    async def write(self, data: bytes) -> None:
        async with asyncio.timeout(self._timeout):
            await self._send({"type": "http.response.body", "body": data, "more_body": True})

    def write_now(self, data: bytes) -> bool:
        return False  # ASGI sends only by awaiting

    async def end(self) -> None:
        async with asyncio.timeout(self._timeout):
            await self._send({"type": "http.response.body", "body": b"", "more_body": False})


class EventStream:
    """`GET /api/v1/notifications/stream` for one entered subscription: `run` writes it to a
    `Sink`; called as an ASGI app it is the response through uvicorn."""

    __slots__ = (
        "_cursor",
        "_deadline",
        "_deliveries",
        "_feed",
        "_keepalive",
        "_metrics",
        "_settings",
        "_sink",
        "_subscription",
        "_token_deadline",
    )

    def __init__(
        self,
        *,
        feed: Feed,
        subscription: Subscription,
        settings: HttpSettings,
        cursor: int | None,
        token_expires_at: datetime,
    ) -> None:
        self._feed = feed
        self._subscription = subscription
        self._settings = settings
        self._cursor = cursor
        # Deadlines on the monotonic clock, so a wall-clock jump cannot stretch or cut a stream.
        now = time.monotonic()
        self._token_deadline = now + (token_expires_at.timestamp() - time.time())
        max_age = settings.stream_max_age_seconds
        max_age -= max_age * random.uniform(0, settings.stream_max_age_jitter)
        self._deadline = min(self._token_deadline, now + max_age)
        self._keepalive = settings.keepalive_seconds
        self._sink: Sink | None = None
        self._metrics: EventMetrics | None = None
        self._deliveries: DeliveryRecorder | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run as an ASGI response (a cross-origin request, or a connection that began with
        another request); `stream_protocol.py` runs the others on the socket itself."""
        state = scope.get("state", {})
        watcher = asyncio.create_task(self._watch_disconnect(receive))
        try:
            sink = _AsgiSink(send, self._settings.send_timeout_seconds)
            await self.run(sink, state.get("event_metrics"), state.get("deliveries"))
        finally:
            watcher.cancel()

    async def run(
        self,
        sink: Sink,
        metrics: EventMetrics | None = None,
        deliveries: DeliveryRecorder | None = None,
    ) -> None:
        """Write the stream to `sink` until it ends; the caller tells the subscription when the
        client disconnects (`Subscription.close("disconnected")`)."""
        self._sink = sink
        self._metrics = metrics
        self._deliveries = deliveries
        subscription = self._subscription
        logs.bind_user(subscription.user_id)
        try:
            await sink.open(self._connected_frame())
            if self._cursor is not None:
                await self._replay(self._cursor)
            await self._live()
            if subscription.closed_reason == "displaced":
                await sink.write(events.displaced_frame(subscription.retry_ms or 0))
            elif subscription.retry_ms is not None and subscription.closed_reason != "disconnected":
                await sink.write(events.retry_frame(subscription.retry_ms))
            if subscription.closed_reason != "disconnected":
                await sink.end()
        except (OSError, TimeoutError) as error:
            # The client is gone or stuck: returning without finishing makes the server drop
            # the connection; a stuck client that comes back replays with Last-Event-ID.
            subscription.close("send_timeout" if isinstance(error, TimeoutError) else "gone")
            logs.response_abandoned()
        if subscription.closed_reason in SLOW_CLIENT:
            logs.stream_dropped(subscription.user_id, subscription.closed_reason)

    def _connected_frame(self) -> bytes:
        # Built here, not in __call__: a local of that long-lived frame stays alive as long as
        # the stream, and orjson's output buffer is ~4 KiB (measured with tracemalloc).
        # A live-only stream hands the browser its starting point as Last-Event-ID.
        start = self._subscription.last_id if self._cursor is None else None
        return events.connected_frame(start_id=start, retry_ms=self._settings.sse_retry_ms)

    async def _watch_disconnect(self, receive: Receive) -> None:
        # Any failure to receive (a body limit raising, a broken connection) ends the stream
        # too: a watcher that died quietly would leave the stream registered with no client.
        try:
            while True:
                message: Message = await receive()
                if message["type"] == "http.disconnect":
                    break
        except Exception:
            logger.warning("stream receive failed; closing the stream", exc_info=True)
        self._subscription.close("disconnected")

    async def _write(self, data: bytes) -> None:
        assert self._sink is not None
        await self._sink.write(data)

    async def _replay(self, cursor: int) -> None:
        # A pool connection is held per query only, never while a page is being sent.
        subscription = self._subscription
        subscription.last_id = cursor
        frames: list[bytes] = []
        notifications: list[int] = []
        page_size = self._settings.replay_page_size
        replay = self._feed.replay(subscription.user_id, cursor, page_size)
        async with contextlib.aclosing(replay):
            async for event in replay:
                frames.append(event.frame)
                assert event.id is not None
                if event.notification:
                    notifications.append(event.id)
                subscription.last_id = event.id  # a `reset` moves the position too
                if len(frames) >= page_size:
                    await self._write(b"".join(frames))
                    self._count_replayed(notifications)
                    frames, notifications = [], []
                    if subscription.closed_reason is not None:
                        return
        if frames:
            await self._write(b"".join(frames))
            self._count_replayed(notifications)

    def _count_replayed(self, notifications: list[int]) -> None:
        if self._deliveries is not None:
            for notification_id in notifications:
                self._deliveries.record(notification_id)
        if self._metrics is not None and notifications:
            self._metrics.delivered_replayed.inc(len(notifications))

    def _count_live(self, event: Event) -> None:
        if self._deliveries is not None and event.notification:
            assert event.id is not None
            self._deliveries.record(event.id)
        if self._metrics is not None and event.notification:
            self._metrics.delivered_live.inc()
            if event.heard_at is not None:
                self._metrics.notify_to_write.observe(time.monotonic() - event.heard_at)
            if event.created_at is not None:
                self._metrics.commit_to_write.observe(max(0.0, time.time() - event.created_at))

    def due(self) -> bool:
        """The wheel's wake-up, from its turn (`hub.Due`): a keepalive written at once when the
        client is reading, with no task woken; False leaves it to `_live` (the deadline, or a
        client that is not reading)."""
        now = time.monotonic()
        if (
            now >= self._deadline
            or self._sink is None
            or not self._sink.write_now(events.KEEPALIVE)
        ):
            return False
        self._wake_for_keepalive(now)
        return True

    def _wake_for_keepalive(self, now: float) -> None:
        """Ask the wheel for the next keepalive after `now`, or the deadline if sooner."""
        self._subscription.wake_at(min(now + self._keepalive, self._deadline))

    async def _live(self) -> None:
        subscription = self._subscription
        queue = subscription.queue
        subscription.on_due = self
        self._wake_for_keepalive(time.monotonic())
        try:
            while subscription.closed_reason is None:
                event = await queue.get()
                if event is CLOSE:
                    return
                if event is TICK:  # `due` declined: the deadline, or a client not reading
                    now = time.monotonic()
                    if now >= self._deadline:
                        await self._expire()
                        return
                    await self._write(events.KEEPALIVE)
                    self._wake_for_keepalive(now)
                    continue
                if event.id is not None:
                    if event.id <= subscription.last_id:
                        continue  # already sent by the replay
                    subscription.last_id = event.id
                await self._write(event.frame)
                self._count_live(event)
        finally:
            subscription.on_due = None  # no cycle left for the collector

    async def _expire(self) -> None:
        if time.monotonic() >= self._token_deadline:
            self._subscription.close("token_expired")
            with contextlib.suppress(TimeoutError):
                await self._write(events.auth_expired_frame())
        else:
            self._subscription.close("max_age")
