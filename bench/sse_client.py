"""A lean SSE client for driving thousands of streams from one process.

One asyncio Protocol per stream, no task per stream: it parses HTTP/1.1 chunked framing (a
stream) or a Content-Length body (a refusal: `event: unavailable` and its `retry:`) and SSE
events incrementally and records what it receives with a monotonic timestamp. Reconnects (when
enabled) send the last id it saw as Last-Event-ID, as a browser would. With `port_source`,
each (re)connect asks it for the port to dial, as a load balancer would pick a replica.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import orjson

STREAM_PATH = "/api/v1/notifications/stream"


@dataclass
class Received:
    """Everything one stream saw."""

    notifications: list[tuple[int, str, float]] = field(default_factory=list)  # id, content, t
    named: list[tuple[str, float]] = field(default_factory=list)


class SSEClient(asyncio.Protocol):
    """One stream of one user."""

    def __init__(
        self,
        host: str,
        port: int,
        token: str,
        *,
        on_connected: Callable[[SSEClient], None] | None = None,
        reconnect: bool = False,
        retry_seconds: float = 0.5,
        browser_like: bool = False,
        token_source: Callable[[], str] | None = None,
        port_source: Callable[[], int] | None = None,
    ) -> None:
        self.host, self.port, self.token = host, port, token
        self.port_source = port_source  # the replica to dial, picked at each (re)connect
        self.token_source = token_source  # a fresh token for each (re)connect, when given
        self.on_connected = on_connected
        self.reconnect = reconnect
        self.retry_seconds = retry_seconds
        # As a browser's EventSource with jitter: wait the server's `retry:` plus up to half of
        # it again, every time (EventSource does not back off); otherwise retry_seconds ± 50 %.
        self.browser_like = browser_like
        if browser_like:
            self.retry_seconds = 3.0  # until the server's `retry:` arrives
        self.received = Received()
        self.last_id: int | None = None
        self.connected_at: float | None = None
        self.connects = 0
        self.status: int | None = None
        self.closed = asyncio.get_running_loop().create_future()
        self.ready = asyncio.Event()  # connected, or refused
        self._transport: asyncio.Transport | None = None
        self._raw = b""
        self._body = b""
        self._headers_done = False
        self._chunk_left = 0
        self._length: int | None = None  # a body framed by Content-Length (a refusal), not chunks
        self._stopped = False

    # -- connecting ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the stream (returns when the TCP connection is up and the request sent)."""
        loop = asyncio.get_running_loop()
        if self.port_source is not None:
            self.port = self.port_source()
        await loop.create_connection(lambda: self, self.host, self.port)

    def request(self) -> bytes:
        if self.token_source is not None:
            self.token = self.token_source()
        head = (
            f"GET {STREAM_PATH} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"Authorization: Bearer {self.token}\r\nAccept: text/event-stream\r\n"
        )
        if self.last_id is not None:
            head += f"Last-Event-ID: {self.last_id}\r\n"
        return (head + "\r\n").encode()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._raw, self._body, self._headers_done, self._chunk_left = b"", b"", False, 0
        self._length = None
        self.connected_at = None
        self.ready.clear()
        self._transport.write(self.request())

    def close(self) -> None:
        """Close for good (no reconnect)."""
        self._stopped = True
        if self._transport is not None:
            self._transport.close()
        elif not self.closed.done():
            self.closed.set_result(None)  # between connections: nothing left to close

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if self.reconnect and not self._stopped:
            asyncio.get_running_loop().call_later(self._delay(), self._redial)
        elif not self.closed.done():
            self.closed.set_result(None)

    def _delay(self) -> float:
        if not self.browser_like:
            return self.retry_seconds * random.uniform(0.5, 1.5)
        return self.retry_seconds * random.uniform(1.0, 1.5)

    def _redial(self) -> None:
        if self._stopped:
            return

        async def dial() -> None:
            try:
                await self.connect()
            except OSError:
                self.connection_lost(None)

        asyncio.get_running_loop().create_task(dial())

    # -- parsing ------------------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if not self._headers_done:
            self._raw += data
            end = self._raw.find(b"\r\n\r\n")
            if end < 0:
                return
            head, data = self._raw[:end], self._raw[end + 4 :]
            self._raw = b""
            self._headers_done = True
            self.status = int(head.split(b" ", 2)[1])
            if self.status != 200:
                self.ready.set()
                assert self._transport is not None
                self._transport.close()
                return
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    self._length = int(value)
        if self._length is not None:
            self._whole(data)
        else:
            self._dechunk(data)

    def _whole(self, data: bytes) -> None:
        """A body of known length (the server's `event: unavailable` refusal): its events, then
        the end of the response, after which the stream reconnects as after any other end."""
        assert self._length is not None
        self._body += data
        self._length -= len(data)
        self._events()
        if self._length <= 0 and self._transport is not None:
            self._transport.close()

    def _dechunk(self, data: bytes) -> None:
        raw = self._raw + data
        self._raw = b""
        while raw:
            if self._chunk_left == 0:
                line_end = raw.find(b"\r\n")
                if line_end < 0:
                    self._raw = raw
                    return
                size = int(raw[:line_end].split(b";")[0], 16)
                raw = raw[line_end + 2 :]
                if size == 0:
                    # The response ended (maximum age, token expiry, shutdown): reconnect now,
                    # as EventSource does, rather than wait for the server's keep-alive timeout.
                    if self._transport is not None:
                        self._transport.close()
                    return
                self._chunk_left = size + 2  # the chunk, then its CRLF
            take = raw[: self._chunk_left]
            raw = raw[self._chunk_left :]
            self._chunk_left -= len(take)
            if self._chunk_left == 0:
                take = take[:-2]
            elif self._chunk_left == 1:
                take = take[:-1]
            self._body += take
            self._events()

    def _events(self) -> None:
        while True:
            end = self._body.find(b"\n\n")
            if end < 0:
                return
            block, self._body = self._body[:end], self._body[end + 2 :]
            self._event(block)

    def _event(self, block: bytes) -> None:
        now = time.monotonic()
        name, data, event_id = b"message", b"", None
        for line in block.split(b"\n"):
            if line.startswith(b":"):
                continue
            key, _, value = line.partition(b": ")
            if key == b"data":
                data = value
            elif key == b"event":
                name = value
            elif key == b"id":
                event_id = int(value)
            elif key == b"retry" and self.browser_like:
                self.retry_seconds = int(value) / 1000
        if event_id is not None:
            self.last_id = event_id
        if not data:
            return
        if name == b"connected":
            self.connected_at = now
            self.connects += 1
            self.ready.set()
            if self.on_connected is not None:
                self.on_connected(self)
            return
        if name != b"message":
            self.received.named.append((name.decode(), now))
            return
        message: dict[str, Any] = orjson.loads(data)
        self.received.notifications.append(
            (message["id"], message["payload"].get("content_id", ""), now)
        )
