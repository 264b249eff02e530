"""`GET /api/v1/notifications/stream`: the user's notifications as Server-Sent Events.

The one entry point of a stream: authentication, cursor parsing and admission happen here
once, then `EventStream` runs. It is served in front of FastAPI's routing and dependency
machinery: an idle stream keeps its whole call stack alive for hours, and skipping the router,
the exception middleware and dependency solving is what keeps a stream near its memory target
(bench/RESULTS.md). FastAPI therefore has no route for it; `OPENAPI_PATH` documents it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ...live import events
from ...live.hub import AtCapacity, Hub, Suspended, Unavailable
from .. import headers
from ..auth import AuthError, decode_token, token_from
from ..cors import CrossOrigin
from ..schemas import CLIENT_ID_MAX
from ..settings import HttpSettings
from ..stream import EventStream

STREAM_PATH = "/api/v1/notifications/stream"
SUBSCRIBE_TIMEOUT = 5.0
_MAX_DIGITS = len(str(CLIENT_ID_MAX))
_ECHO = 64  # characters of a bad input echoed back
_CORS_DONE = "vividly.cors"  # scope key: this request already went through CrossOrigin


class InvalidCursor(Exception):
    """A cursor that is not a notification id; carries the 422 body's one error."""

    def __init__(self, location: tuple[str, str], raw: str) -> None:
        super().__init__(f"{location[1]} must be a notification id (0 to {CLIENT_ID_MAX})")
        self.error = {
            "type": "int_parsing",
            "loc": list(location),
            "msg": str(self),
            "input": raw[:_ECHO],
        }


def _parse_id(location: tuple[str, str], raw: str) -> int:
    # Length first: a huge digit string must not reach int() (Python's digit limit is a 500).
    if not (0 < len(raw) <= _MAX_DIGITS and raw.isascii() and raw.isdigit()):
        raise InvalidCursor(location, raw)
    value = int(raw)
    if value > CLIENT_ID_MAX:
        raise InvalidCursor(location, raw)
    return value


def parse_cursor(connection: HTTPConnection) -> int | None:
    """Where to resume: `?last_event_id=` (it wins), else `Last-Event-ID`, else None."""
    return cursor_of(
        connection.query_params.get("last_event_id"), connection.headers.get("last-event-id")
    )


def cursor_of(query: str | None, header: str | None) -> int | None:
    """`parse_cursor`'s rule on the `last_event_id` query parameter and the first
    `Last-Event-ID` header (as the stream protocol reads them, without a Starlette request)."""
    if query is not None:
        return _parse_id(("query", "last_event_id"), query)
    if header is None or header == "":
        return None
    return _parse_id(("header", "Last-Event-ID"), header)


class StreamEndpoint:
    """ASGI middleware that serves `GET {STREAM_PATH}`; everything else passes through.

    Requests with an `Origin` header go through `CrossOrigin` first (CORS for `origins`, none
    for anyone else); the others, the usual same-origin stream, skip it: one frame fewer kept
    alive per idle stream.
    """

    def __init__(self, app: ASGIApp, *, origins: Sequence[str] = ()) -> None:
        self.app = app
        # Calls this endpoint again, marked, with CORS applied: no extra frame for the others.
        self._cross_origin = CrossOrigin(self, origins=origins) if origins else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != STREAM_PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        if self._cross_origin is not None and _CORS_DONE not in scope and _has_origin(scope):
            scope[_CORS_DONE] = True
            await self._cross_origin(scope, receive, send)
            return
        state = scope["state"]
        settings: HttpSettings = state["settings"]
        hub: Hub = state["hub"]
        if _has_body(scope):  # before anything is held: the stream never reads a body
            hub.refused("body")
            refusal = JSONResponse({"detail": "the stream takes no request body"}, status_code=400)
            await headers.SecurityHeaders(refusal)(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        try:
            user = decode_token(token_from(connection), settings)
            cursor = parse_cursor(connection)
        except AuthError as error:
            hub.refused("auth")
            await headers.SecurityHeaders(_unauthorized(str(error)))(scope, receive, send)
            return
        except InvalidCursor as error:
            hub.refused("invalid_cursor")
            invalid = JSONResponse({"detail": [error.error]}, status_code=422)
            await headers.SecurityHeaders(invalid)(scope, receive, send)
            return
        subscription = hub.subscription(
            user.id, queue_size=settings.stream_queue_size, timeout=SUBSCRIBE_TIMEOUT
        )
        try:
            async with subscription:
                stream = EventStream(
                    feed=state["feed"],
                    subscription=subscription,
                    settings=settings,
                    cursor=cursor,
                    token_expires_at=user.expires_at,
                )
                await stream(scope, receive, send)
        except Unavailable as error:
            await headers.SecurityHeaders(unavailable(error, settings))(scope, receive, send)


def unavailable(error: Unavailable, settings: HttpSettings) -> Response:
    """The answer to a stream the hub did not admit: `event: unavailable`, then the end.

    Not a 503: EventSource gives up for good on any non-200 answer. Also the answer when this
    process is at MAX_STREAMS or its listener is deaf (the hub is suspended): the browser
    retries after `retry:`, through the load balancer, likely elsewhere.
    """
    if isinstance(error, AtCapacity | Suspended):
        body = events.unavailable_frame(settings.sse_retry_ms, f"{error}; retrying shortly")
    else:
        body = events.unavailable_frame(settings.sse_retry_ms)
    response = Response(body, media_type="text/event-stream")
    response.headers["cache-control"] = "no-store, no-transform"
    return response


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value.strip() != b"0"):
            return True
    return False


def _has_origin(scope: Scope) -> bool:
    return any(name == b"origin" for name, _value in scope["headers"])


def _unauthorized(detail: str) -> JSONResponse:
    return JSONResponse(
        {"detail": detail},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


_ERROR = {"content": {"application/json": {"example": {"detail": "why"}}}}

OPENAPI_PATH: dict[str, Any] = {
    "get": {
        "tags": ["stream"],
        "summary": "Stream",
        "operationId": "stream_notifications",
        "description": "The user's notifications as Server-Sent Events; with a cursor, what was "
        "missed is replayed first. Authenticated by the session cookie or a Bearer token.",
        "parameters": [
            {
                "name": "last_event_id",
                "in": "query",
                "required": False,
                "description": "Resume after this id (for clients that cannot set the "
                "Last-Event-ID header). Wins over the header.",
                "schema": {"type": "integer", "minimum": 0, "maximum": CLIENT_ID_MAX},
            },
            {
                "name": "Last-Event-ID",
                "in": "header",
                "required": False,
                "description": "Resume after this id (EventSource sends it on reconnect).",
                "schema": {"type": "string", "pattern": r"^[0-9]{0,16}$"},
            },
        ],
        "responses": {
            "200": {
                "description": "An endless `text/event-stream`. Notifications are unnamed "
                "messages (`id:` and `data:` with the JSON of a history item). Control "
                "messages are named events, never unnamed: `connected` (first, with "
                "`retry:`), `read_state`, `progress` (a request's stage, never replayed), "
                "`reset`, `auth_expired`, and `displaced` (last, with a long `retry:`: the "
                "user opened more than MAX_STREAMS_PER_USER streams and this is the oldest); "
                "`: keepalive` comments. "
                "While the server has no database connection, its listener hears nothing, "
                "it is shutting down, or it holds its maximum of streams: one "
                "`event: unavailable` (with `retry:`), then the stream ends (the browser "
                "retries, likely reaching another process). A stream the server drains "
                "(shutting down, or its listener deaf) gets its own `retry:` before it ends.",
                "content": {"text/event-stream": {"schema": {"type": "string"}}},
            },
            "401": {
                "description": "Missing, malformed, wrongly signed or expired token.",
                **_ERROR,
            },
            "400": {"description": "The request has a body.", **_ERROR},
            "422": {"description": "The cursor is not a notification id.", **_ERROR},
        },
    }
}
