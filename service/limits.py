"""Limits on what a client may make the server hold: the request head and the request body.

- The request line and headers together may not pass `max_header_bytes`: the connection gets a
  431 and is closed, when a parsed head is larger or as soon as the bytes received for an
  unfinished head pass the limit, so a 20 MB header is never held (uvicorn's httptools parser
  has no such limit of its own).
- Bodies above MAX_BODY_BYTES are refused with 413 by FastAPI's own limit (`create_app`): a
  declared Content-Length above it before a byte is read, a chunked body as soon as it passes.
"""

from __future__ import annotations

import json

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, refusing request heads above `max_header_bytes`."""

    max_header_bytes = 16 * 1024
    _head_bytes = 0
    _in_head = True
    _refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if not self._in_head or self.parser is None:
            return
        # Counted per chunk after parsing: a chunk that finished the head (and carried body
        # bytes) is not counted; one that leaves the head unfinished is, whole.
        self._head_bytes += len(data)
        if self._head_bytes > self.max_header_bytes:
            self._refuse()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        size = len(self.url) + sum(len(name) + len(value) for name, value in self.headers)
        if size > self.max_header_bytes:
            self._refuse()  # no ASGI task: the app never sees this request
            return
        super().on_headers_complete()

    # The rest of a refused request's chunk is still parsed: nothing of it reaches a cycle.
    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        if not self._refused:
            super().on_message_complete()

    def _refuse(self) -> None:
        self._refused = True
        body = json.dumps(
            {"detail": f"request line and headers larger than {self.max_header_bytes} bytes"}
        ).encode()
        self.transport.write(
            b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
            b"content-type: application/json\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n"
            b"connection: close\r\n\r\n" + body
        )
        self.transport.close()


def limited_protocol(max_header_bytes: int) -> type[LimitedHttpToolsProtocol]:
    """The protocol class for uvicorn's `http=` with this head limit."""
    return type(
        "LimitedHttpToolsProtocol",
        (LimitedHttpToolsProtocol,),
        {"max_header_bytes": max_header_bytes},
    )
