"""The connection protocol: plain stream requests served on the socket, the rest by uvicorn.

Guarantees:
- A connection whose first request is `GET /api/v1/notifications/stream` over HTTP/1.1, with no
  body, no upgrade and nothing pipelined after it, no `Origin` or one of CORS_ORIGINS (its head
  then carries the CORS headers `cors.CrossOrigin` gives it), and a valid token and cursor, is
  served here: `EventStream` writes straight to
  the transport from one task, the head and `connected` in one write, chunked as uvicorn
  would. The stream hears of a disconnect from `connection_lost`; no task waits for it. When the
  stream ends the connection is closed: aborted if its client is not reading (the transport
  pushes back), else once what is buffered is sent, within the send timeout.
- Everything else goes to uvicorn's protocol (`limits.LimitedHttpToolsProtocol`) with every
  byte received so far, on the same connection, before anything was answered: another path or
  method, another origin, a refusal (400, 401, 422: the app answers and counts it), a
  head that is malformed, larger than `max_header_bytes` or not complete by its deadline
  (uvicorn's 400, 431, 408; the deadline is not restarted by the hand-over).
- A stream the hub does not admit gets the app's own `unavailable` answer
  (`routes/stream.unavailable`, with the security headers) and the connection is closed.
- uvicorn's shutdown sees these connections and their tasks as its own, and waits for them.

Why: through uvicorn a stream pays for its protocol object, parser, flow control, request cycle,
scope, ASGI task, two writes and a watcher task. Served here it holds 4.5 KiB instead of 15.5 and
its connect costs 0.60-0.68 of the CPU (bench/RESULTS.md, "a stream protocol of our own").
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import httptools
import uvicorn
from starlette.datastructures import QueryParams
from starlette.responses import Response
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ..live.hub import Hub, Subscription, Unavailable
from ..runtime import logs
from . import app_answers
from .auth import decode_token, token_of
from .limits import LimitedHttpToolsProtocol
from .routes.stream import STREAM_PATH, SUBSCRIBE_TIMEOUT, cursor_of, unavailable
from .settings import HttpSettings
from .stream import HEADERS, EventStream

_PATH = STREAM_PATH.encode()
_REQUEST_START = b"GET " + _PATH
_AFTER_PATH = frozenset(b" ?")
# Requests carrying these go to uvicorn: a body, 100-continue, an upgrade.
_NOT_HERE = frozenset({b"content-length", b"transfer-encoding", b"expect", b"upgrade"})
_END = b"0\r\n\r\n"
_access = logging.getLogger("uvicorn.access")
logger = logging.getLogger(__name__)
_Admitted = tuple[uuid.UUID, datetime, int | None]  # the user, the token's expiry, the cursor


class StreamProtocol(asyncio.Protocol):
    """One connection: a stream served here, or handed to `uvicorn_protocol` (see above)."""

    uvicorn_protocol: type[LimitedHttpToolsProtocol] = LimitedHttpToolsProtocol
    origins: frozenset[bytes] = frozenset()  # CORS_ORIGINS
    proxies: ProxyHeadersMiddleware | None = None  # made once, for the access log
    # The stream's head for each allowed origin (its CORS headers added), made once each.
    stream_heads: dict[bytes, list[tuple[bytes, bytes]]]
    # The whole head in bytes for each origin (None: no Origin), with the default headers it has.
    head_bytes: dict[bytes | None, tuple[list[tuple[bytes, bytes]], bytes]]

    __slots__ = (
        "_app_state",
        "_buffer",
        "_config",
        "_drained",
        "_head_deadline",
        "_head_timer",
        "_headers",
        "_loop",
        "_lost",
        "_origin",
        "_parser",
        "_paused",
        "_pipelined",
        "_server_state",
        "_subscription",
        "_task",
        "_url",
        "_url_done",
        "transport",
    )

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: Any,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._config = config
        self._server_state = server_state
        self._app_state = app_state
        self._loop = _loop or asyncio.get_event_loop()
        self._buffer = b""
        self._parser: httptools.HttpRequestParser | None = None
        self._url = b""
        self._url_done = False
        self._pipelined = False
        self._origin: bytes | None = None
        self._headers: list[tuple[bytes, bytes]] = []
        self._head_timer: asyncio.TimerHandle | None = None
        self._head_deadline = 0.0
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._paused = False
        self._drained: asyncio.Future[None] | None = None
        self._lost = False
        self.transport: asyncio.Transport | None = None

    # The connection

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self._server_state.connections.add(self)
        self._head_deadline = self._loop.time() + self.uvicorn_protocol.head_timeout
        self._head_timer = self._loop.call_at(self._head_deadline, self._head_timed_out)

    def data_received(self, data: bytes) -> None:
        if self._task is not None:
            return  # a stream reads nothing; what its client sends is dropped
        self._buffer += data
        buffer = self._buffer
        if not buffer.startswith(_REQUEST_START):
            if not _REQUEST_START.startswith(buffer):
                self._hand_over()
            return
        if len(buffer) > len(_REQUEST_START) and buffer[len(_REQUEST_START)] not in _AFTER_PATH:
            self._hand_over()
            return
        if self._parser is None:
            self._parser = httptools.HttpRequestParser(self)
            data = buffer
        try:
            self._parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade):
            self._hand_over()
            return
        if self._url_done:
            self._start()
        elif len(buffer) > self.uvicorn_protocol.max_header_bytes:
            self._hand_over()  # uvicorn answers 431

    def eof_received(self) -> bool | None:
        return None  # the transport closes itself; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self._server_state.connections.discard(self)
        self._cancel_head_timer()
        self._lost = True
        self._resume()
        if self._subscription is not None:
            self._subscription.close("disconnected")

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._resume()

    def shutdown(self) -> None:
        """uvicorn's shutdown, after the hub closed every stream: close what carries none."""
        if self._task is None and self.transport is not None:
            self.transport.close()

    # The head, as httptools parses it

    def on_url(self, url: bytes) -> None:
        if not self._url_done:
            self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if not self._url_done:
            self._headers.append((name.lower(), value))

    def on_headers_complete(self) -> None:
        self._url_done = True

    def on_message_begin(self) -> None:
        if self._url_done:  # a second request in the same bytes
            self._pipelined = True

    # Serving

    def _start(self) -> None:
        self._cancel_head_timer()
        parser = self._parser
        assert parser is not None
        admitted = self._admissible(parser)
        self._parser = None
        if admitted is None:
            self._hand_over()
            return
        user_id, expires_at, cursor = admitted
        self._buffer = b""  # nothing is handed over from here on
        self._task = task = self._loop.create_task(self._serve(user_id, expires_at, cursor))
        tasks = self._server_state.tasks
        tasks.add(task)
        task.add_done_callback(tasks.discard)

    def _admissible(self, parser: httptools.HttpRequestParser) -> _Admitted | None:
        """(user, token expiry, cursor) when this request is served here; None to hand it over."""
        if (
            self._pipelined  # uvicorn serves both
            or parser.get_method() != b"GET"
            or parser.get_http_version() != "1.1"
            or parser.should_upgrade()
        ):
            return None
        url = httptools.parse_url(self._url)
        if url.path != _PATH:
            return None
        size = len(self._url)
        # What a Starlette request would read (its first header of a name, latin-1), read here.
        authorization: str | None = None
        cookies: list[str] = []
        last_event_id: str | None = None
        for name, value in self._headers:
            if name in _NOT_HERE:
                return None
            if name == b"connection" and b"close" in value.lower():
                return None  # uvicorn's path says `connection: close` in the head
            if name == b"origin":
                if value not in self.origins or self._origin is not None:
                    return None  # CrossOrigin's answer for other origins: uvicorn's path
                self._origin = value
            elif name == b"authorization" and authorization is None:
                authorization = value.decode("latin-1")
            elif name == b"cookie":
                cookies.append(value.decode("latin-1"))
            elif name == b"last-event-id" and last_event_id is None:
                last_event_id = value.decode("latin-1")
            size += len(name) + len(value) + 4
        if size > self.uvicorn_protocol.max_header_bytes:
            return None
        settings: HttpSettings = self._app_state["settings"]
        try:
            user = decode_token(token_of(authorization, cookies), settings)
            query = QueryParams(url.query).get("last_event_id") if url.query else None
            cursor = cursor_of(query, last_event_id)
        except Exception:  # AuthError, InvalidCursor, or a fault of ours: the app's path
            return None  # answers it (and counts the refusal, or logs the fault)
        return user.id, user.expires_at, cursor

    async def _serve(self, user_id: uuid.UUID, expires_at: datetime, cursor: int | None) -> None:
        state = self._app_state
        settings: HttpSettings = state["settings"]
        hub: Hub = state["hub"]
        logs.start_request(self._headers)
        subscription = hub.subscription(
            user_id, queue_size=settings.stream_queue_size, timeout=SUBSCRIBE_TIMEOUT
        )
        try:
            async with subscription:
                self._subscription = subscription
                if self._lost:
                    subscription.close("disconnected")
                logs.bind_user(user_id)
                if self._origin is not None:
                    await self._cross_origin(self._origin)
                await self._log_access(200)
                self._buffer, self._headers, self._url = b"", [], b""
                stream = EventStream(
                    feed=state["feed"],
                    subscription=subscription,
                    settings=settings,
                    cursor=cursor,
                    token_expires_at=expires_at,
                )
                await stream.run(self, state.get("event_metrics"), state.get("deliveries"))
        except Unavailable as error:
            if not self._lost:
                await self._answer(unavailable(error, settings))
        except Exception:  # a fault of ours: said now, not when the task is collected
            logger.exception("the stream failed")
        finally:
            self._server_state.total_requests += 1
            self._subscription = None
            self._end(settings.send_timeout_seconds)

    def _end(self, grace: float) -> None:
        """Close the connection: at once if its client is not reading (the transport pushes
        back), else once what is buffered is sent, or after `grace` seconds at most."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if self._paused:
            transport.abort()
            return
        if transport.get_write_buffer_size():
            self._loop.call_later(grace, transport.abort)
        transport.close()

    def _hand_over(self) -> None:
        """Give the connection, and every byte received, to uvicorn's protocol."""
        self._cancel_head_timer()
        self._server_state.connections.discard(self)
        transport = self.transport
        received, self._buffer, self._parser = self._buffer, b"", None
        if transport is None or transport.is_closing():
            return
        protocol = self.uvicorn_protocol(
            config=self._config,
            server_state=self._server_state,
            app_state=self._app_state,
            _loop=self._loop,
        )
        protocol.take_over(transport, received, self._head_deadline)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        self._hand_over()  # uvicorn's protocol finds its deadline passed: 408

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    # The stream's sink (`stream.Sink`)

    async def open(self, first: bytes) -> None:
        self._check()
        self._write(b"".join((self._head(), *_chunk(first))))

    def _head(self) -> bytes:
        """The stream's head as bytes, made once per origin and second (uvicorn's default
        headers, its `date` among them, are a new list every second)."""
        defaults = self._server_state.default_headers
        made = self.head_bytes.get(self._origin)
        if made is not None and made[0] is defaults:
            return made[1]
        head = [b"HTTP/1.1 200 OK\r\n"]
        own = HEADERS if self._origin is None else self.stream_heads[self._origin]
        for name, value in [*defaults, *own]:
            head += (name, b": ", value, b"\r\n")
        head.append(b"transfer-encoding: chunked\r\n\r\n")
        made = self.head_bytes[self._origin] = (defaults, b"".join(head))
        return made[1]

    async def write(self, data: bytes) -> None:
        if not data:
            return  # an empty chunk would end the response
        if self._paused:
            await self._drain()
        self._check()
        self._write(b"".join(_chunk(data)))

    def write_now(self, data: bytes) -> bool:
        if self._paused or self._gone():
            return False
        self._write(b"".join(_chunk(data)))
        return True

    async def end(self) -> None:
        if self._paused:
            await self._drain()
        self._check()
        self._write(_END)

    def _check(self) -> None:
        if self._gone():
            raise ConnectionResetError("the client is gone")

    def _gone(self) -> bool:
        return self._lost or self.transport is None or self.transport.is_closing()

    def _write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    async def _drain(self) -> None:
        settings: HttpSettings = self._app_state["settings"]
        if self._drained is None or self._drained.done():
            self._drained = self._loop.create_future()
        async with asyncio.timeout(settings.send_timeout_seconds):
            await self._drained

    def _resume(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)

    async def _cross_origin(self, origin: bytes) -> None:
        """Make (once per origin) the head `CrossOrigin` gives a stream from `origin`."""
        if origin not in self.stream_heads:
            self.stream_heads[origin] = await app_answers.stream_head(origin, self.origins)

    async def _answer(self, response: Response) -> None:
        """Write `response` as the app would have, as the connection's last answer."""
        server_headers = self._server_state.default_headers
        self._write(await app_answers.answer(response, self._origin, self.origins, server_headers))

    async def _log_access(self, status: int) -> None:
        """uvicorn's access line, with the client its proxy-headers middleware would name."""
        if not _access.isEnabledFor(logging.INFO) or not _access.hasHandlers():
            return  # nothing would be written: work out nothing
        if self.transport is None:
            return
        cls, proxies = type(self), None
        if self._config.proxy_headers:
            if cls.proxies is None:
                cls.proxies = app_answers.proxy_rule(self._config.forwarded_allow_ips)
            proxies = cls.proxies
        peer = self.transport.get_extra_info("peername")
        where = await app_answers.client(self._headers, peer, proxies)
        path = self._url.decode("latin-1")
        _access.info('%s - "%s %s HTTP/%s" %d', where, "GET", path, "1.1", status)


def _chunk(data: bytes) -> tuple[bytes, bytes, bytes]:
    return (b"%x\r\n" % len(data), data, b"\r\n")


def stream_protocol(
    uvicorn_protocol: type[LimitedHttpToolsProtocol], origins: Sequence[str] = ()
) -> type[StreamProtocol]:
    """The protocol class for uvicorn's `http=`, for CORS_ORIGINS `origins`, handing what it
    does not serve to `uvicorn_protocol` (`limits.limited_protocol`, with the settings' limits)."""
    attributes = {
        "uvicorn_protocol": uvicorn_protocol,
        "origins": frozenset(origin.encode("latin-1") for origin in origins),
        "stream_heads": {},
        "head_bytes": {},
        "proxies": None,
        "__slots__": (),
    }
    return type("StreamProtocol", (StreamProtocol,), attributes)
