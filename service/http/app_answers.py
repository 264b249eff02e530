"""What the app would have said, for the requests `stream_protocol` serves without it.

The CORS rules (`cors.CrossOrigin`), the security headers (`headers.SecurityHeaders`) and
uvicorn's rule for which client a proxied request names (`ProxyHeadersMiddleware`) each live
in one place, the app's own middleware. The protocol does not copy them: it runs that
middleware here on a request of its own and takes what it sends.

Guarantees: the head CORS gives a stream from an allowed origin, an answer's bytes and an
access line's client are those uvicorn's path would give (`tests/http/test_stream_protocol.py`
compares the two paths).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from uvicorn.protocols.http.httptools_impl import STATUS_LINE

from . import headers
from .cors import CrossOrigin
from .routes.stream import STREAM_PATH
from .stream import HEADERS

Headers = list[tuple[bytes, bytes]]


async def stream_head(origin: bytes, origins: Iterable[bytes]) -> Headers:
    """The headers of a stream's 200 from `origin`, one of `origins` (CORS_ORIGINS)."""
    start, *_ = await _through_asgi(_StreamStart(), origin, origins)
    return list(start["headers"])


async def answer(
    response: Response, origin: bytes | None, origins: Iterable[bytes], server_headers: Headers
) -> bytes:
    """`response` as the app sends it (security headers; CORS with an `Origin`), with
    uvicorn's `server_headers` first, as a connection's last answer (`connection: close`)."""
    start, *bodies = await _through_asgi(headers.SecurityHeaders(response), origin, origins)
    lines = [STATUS_LINE[start["status"]]]
    for name, value in [*server_headers, *start["headers"]]:
        lines += (name, b": ", value, b"\r\n")
    lines.append(b"connection: close\r\n\r\n")
    lines += (message.get("body", b"") for message in bodies)
    return b"".join(lines)


def proxy_rule(trusted: list[str] | str) -> ProxyHeadersMiddleware:
    """uvicorn's proxy-headers rule for these trusted addresses (`forwarded_allow_ips`), to
    ask `client` with."""
    return ProxyHeadersMiddleware(_nothing, trusted_hosts=trusted)  # type: ignore[arg-type]


async def client(
    request_headers: Sequence[tuple[bytes, bytes]],
    peer: Any,
    proxies: ProxyHeadersMiddleware | None,
) -> str:
    """`host:port` of the request's client as uvicorn's access line names it: the peer, or
    with `proxies` (uvicorn's `--proxy-headers`) what a trusted proxy forwarded."""
    scope: Scope = {
        "type": "http",
        "headers": request_headers,
        "client": tuple(peer[:2]) if isinstance(peer, tuple) else None,
    }
    if proxies is not None:
        await proxies(scope, _disconnected, _ignore)  # type: ignore[arg-type]
    named = scope["client"]
    return f"{named[0]}:{named[1]}" if named else ""


async def _through_asgi(
    app: ASGIApp, origin: bytes | None, origins: Iterable[bytes]
) -> list[Message]:
    """The messages `app` sends for the stream's request, through CrossOrigin when it has an
    `Origin`: the one place the CORS rules live (`cors.py`)."""
    messages: list[Message] = []

    async def collect(message: Message) -> None:
        messages.append(message)

    scope: Scope = {"type": "http", "path": STREAM_PATH, "method": "GET", "headers": []}
    if origin is not None:
        scope["headers"] = [(b"origin", origin)]
        app = CrossOrigin(app, origins=[o.decode("latin-1") for o in origins])
    await app(scope, _disconnected, collect)
    return messages


class _StreamStart:
    """An ASGI app that only starts a stream's answer (to see the headers CORS adds)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})


async def _nothing(scope: Scope, receive: Receive, send: Send) -> None:
    return None


async def _disconnected() -> Message:
    return {"type": "http.disconnect"}


async def _ignore(message: Message) -> None:
    return None
