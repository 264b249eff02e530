"""Limits on what a client may make the server hold: the request head and the request body.

- The request line and headers together may not pass `max_header_bytes`: the connection gets a
  431 and is closed, when a parsed head is larger or as soon as the bytes received for an
  unfinished head pass the limit, so a 20 MB header is never held (uvicorn's httptools parser
  has no such limit of its own).
- The same limit holds for what a chunked body carries besides its data (chunk sizes,
  extensions, trailers): past it the connection is closed (with a 431 when no answer has
  started). Trailers never reach the app.
- A request head must be complete within `head_timeout` seconds of the connection's opening
  or of its first byte (slowloris): else a 408 and the connection is closed. Idle keep-alive
  connections between requests are uvicorn's own `timeout_keep_alive`.
- A declared Content-Length above `max_body_bytes` is a 413 here, before a byte of the body is
  read and before the app sees the request; a chunked body is refused with 413 by FastAPI's own
  limit (`create_app`) as soon as it passes.
- Every answer from here is JSON (`{"detail": ...}`) with the security headers of `headers.py`.
"""

from __future__ import annotations

import asyncio
import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .headers import security_headers


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing request heads (and chunk framing) above
    `max_header_bytes`."""

    max_header_bytes = 16 * 1024
    max_body_bytes: int | None = None
    head_timeout = 10.0
    _head_timer: asyncio.TimerHandle | None = None
    _head_bytes = 0
    _in_head = True
    _in_body = False
    _framing_bytes = 0  # of the current body: bytes received that were not body data
    _body_seen = 0  # body data delivered during the current data_received
    _messages = 0  # requests begun on this connection
    _refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        was_in_body, messages = self._in_body, self._messages
        self._body_seen = 0
        super().data_received(data)
        if self._refused or self.parser is None:
            return
        # Counted per chunk after parsing: a chunk that finished the head (and carried body
        # bytes) is not counted; one that leaves the head unfinished is, whole. Likewise a
        # chunk wholly inside a body counts what of it was not body data.
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_bytes > self.max_header_bytes:
                self._refuse()
        elif was_in_body and self._in_body and messages == self._messages:  # one body's bytes
            self._framing_bytes += len(data) - self._body_seen
            if self._framing_bytes > self.max_header_bytes:
                # The app has this request by now: once its answer started, only a close is left.
                self._refuse("chunk framing and trailers", answer=not self.cycle.response_started)

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._in_head:  # after the head: a trailer, which the app never sees
            super().on_header(name, value)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_head_timer()

    def take_over(
        self, transport: asyncio.Transport, received: bytes, head_deadline: float
    ) -> None:
        """Serve a connection another protocol opened (`stream_protocol.py`), as if from its
        start: `received` is every byte read so far, and the head is due at `head_deadline`
        (the loop's clock) as it was for the other protocol."""
        self.connection_made(transport)
        self._stop_head_timer()
        self._head_timer = self.loop.call_at(head_deadline, self._head_timed_out)
        transport.set_protocol(self)
        if received:
            self.data_received(received)

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._messages += 1
        if self._head_timer is None:
            self._start_head_timer()

    def on_headers_complete(self) -> None:
        self._stop_head_timer()
        self._in_head = False
        self._head_bytes = 0
        self._in_body = True
        self._framing_bytes = 0
        # Each header as on the wire (`name: value` and its CRLF): 4,000 empty headers are 16 KB.
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > self.max_header_bytes:
            self._refuse()  # no ASGI task: the app never sees this request
            return
        if self._declared_too_large():
            self._refused = True
            detail = f"request body larger than {self.max_body_bytes} bytes"
            self._close_with(b"413 Content Too Large", detail)
            return
        super().on_headers_complete()

    def _declared_too_large(self) -> bool:
        if self.max_body_bytes is None:
            return False
        for name, value in self.headers:
            if name == b"content-length":
                return value.strip().isdigit() and int(value) > self.max_body_bytes
        return False

    # The rest of a refused request's chunk is still parsed: nothing of it reaches a cycle.
    def on_body(self, body: bytes) -> None:
        self._body_seen += len(body)
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_body = False
        if not self._refused:
            super().on_message_complete()

    def _start_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._refused or not self._in_head or self.transport.is_closing():
            return
        self._refused = True
        detail = f"request line and headers not received within {self.head_timeout:g} s"
        self._close_with(b"408 Request Timeout", detail)

    def _refuse(self, what: str = "request line and headers", *, answer: bool = True) -> None:
        self._refused = True
        if not answer:
            self.transport.close()
            return
        detail = f"{what} larger than {self.max_header_bytes} bytes"
        self._close_with(b"431 Request Header Fields Too Large", detail)

    def _close_with(self, status: bytes, detail: str) -> None:
        body = json.dumps({"detail": detail}).encode()
        headers = {
            **security_headers(),
            "content-type": "application/json",
            "content-length": str(len(body)),
            "connection": "close",
        }
        head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        self.transport.write(b"HTTP/1.1 " + status + b"\r\n" + head.encode() + b"\r\n" + body)
        self.transport.close()


def limited_protocol(
    max_header_bytes: int,
    head_timeout: float = LimitedHttpToolsProtocol.head_timeout,
    max_body_bytes: int | None = None,
) -> type[LimitedHttpToolsProtocol]:
    """The protocol class for uvicorn's `http=` with these limits."""
    return type(
        "LimitedHttpToolsProtocol",
        (LimitedHttpToolsProtocol,),
        {
            "max_header_bytes": max_header_bytes,
            "head_timeout": head_timeout,
            "max_body_bytes": max_body_bytes,
        },
    )
