"""`GET /api/v1/notifications/stream`: the user's live notifications as Server-Sent Events."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import asyncpg
import orjson
from fastapi import APIRouter, Header, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import sse
from ..auth import AuthError, User, decode_token, token_from
from ..deps import AppSettings, CurrentUser, Pool, StreamHub
from ..hub import Hub, TooManyStreams
from ..schemas import CLIENT_ID_MAX
from ..settings import Settings
from ..stream import EventStream

SUBSCRIBE_TIMEOUT = 5.0

STREAM_PATH = "/api/v1/notifications/stream"
router = APIRouter(prefix="/api/v1/notifications", tags=["stream"])

ERROR = {"content": {"application/json": {"example": {"detail": "why"}}}}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "An endless `text/event-stream`: `retry:`, a `connected` message, then "
        "one `id:`/`data:` event per notification, `event: read_state`, `event: reset`, "
        "`event: auth_expired` and `: keepalive` comments. While the server has no database "
        "connection: one `event: unavailable`, then the stream ends (the browser retries).",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    },
    401: {"description": "Missing, malformed, wrongly signed or expired token.", **ERROR},
    429: {"description": "The user already has the maximum number of open streams.", **ERROR},
}


def _cursor(header: str | None, query: int | None) -> int | None:
    if query is not None:
        return query
    if header is None or header == "":
        return None
    if not (header.isascii() and header.isdigit()) or int(header) > CLIENT_ID_MAX:
        raise RequestValidationError(
            [
                {
                    "type": "int_parsing",
                    "loc": ("header", "Last-Event-ID"),
                    "msg": "Last-Event-ID must be a notification id (an integer)",
                    "input": header,
                }
            ]
        )
    return int(header)


async def open_stream(
    user: User, cursor: int | None, hub: Hub, pool: asyncpg.Pool, settings: Settings
) -> Response:
    """Subscribe the user and return the stream (or why not)."""
    try:
        async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
            subscription = await hub.subscribe(user.id, queue_size=settings.stream_queue_size)
    except TooManyStreams as error:
        return JSONResponse({"detail": str(error)}, status_code=429)
    except TimeoutError:
        # Not a 503: EventSource gives up for good on any non-200 answer. A short stream that
        # ends makes it come back after `retry`.
        body = orjson.dumps({"detail": "not connected to the database; retrying shortly"})
        return Response(
            sse.frame(body, event="unavailable", retry=settings.sse_retry_ms),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store"},
        )
    return EventStream(
        hub=hub,
        subscription=subscription,
        pool=pool,
        settings=settings,
        cursor=cursor,
        token_expires_at=user.expires_at,
    )


@router.get("/stream", response_class=Response, responses=RESPONSES)
async def stream(
    user: CurrentUser,
    hub: StreamHub,
    pool: Pool,
    settings: AppSettings,
    last_event_id_header: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
    last_event_id: Annotated[
        int | None,
        Query(
            ge=0,
            le=CLIENT_ID_MAX,
            description="Resume after this id (for clients that "
            "cannot set the Last-Event-ID header).",
        ),
    ] = None,
) -> Any:
    """Stream the user's notifications; with a cursor, replay what was missed first.

    Served by `StreamFastPath` in front of the framework; this route documents it and serves
    it where the fast path is not installed.
    """
    return await open_stream(
        user, _cursor(last_event_id_header, last_event_id), hub, pool, settings
    )


def _query_cursor(connection: HTTPConnection) -> int | None:
    raw = connection.query_params.get("last_event_id")
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > CLIENT_ID_MAX:
        raise RequestValidationError(
            [
                {
                    "type": "int_parsing",
                    "loc": ("query", "last_event_id"),
                    "msg": f"last_event_id must be an integer from 0 to {CLIENT_ID_MAX}",
                    "input": raw,
                }
            ]
        )
    return int(raw)


class StreamFastPath:
    """Serves `GET {STREAM_PATH}` before FastAPI's routing and dependency machinery.

    An idle stream keeps its whole call stack alive for hours; skipping the router, the
    exception middleware and dependency solving for this one path is what keeps a stream near
    its target memory (bench/RESULTS.md). Everything else passes through untouched. It answers
    exactly as the documented route does: the same 401/422/429 bodies, the same stream.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != STREAM_PATH or scope["method"] != "GET":
            await self.app(scope, receive, send)
            return
        state = scope["state"]
        settings: Settings = state["settings"]
        connection = HTTPConnection(scope)
        response: Response
        try:
            user = decode_token(token_from(connection), settings)
            cursor = _query_cursor(connection)
            if cursor is None:
                cursor = _cursor(connection.headers.get("last-event-id"), None)
        except AuthError as error:
            response = JSONResponse(
                {"detail": str(error)},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        except RequestValidationError as error:
            response = JSONResponse({"detail": jsonable_encoder(error.errors())}, status_code=422)
        else:
            response = await open_stream(user, cursor, state["hub"], state["pool"], settings)
        await response(scope, receive, send)
