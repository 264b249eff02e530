"""`GET /api/v1/notifications/stream`: the user's live notifications as Server-Sent Events."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from .. import sse
from ..deps import AppSettings, CurrentUser, Pool, StreamHub
from ..hub import TooManyStreams
from ..schemas import CLIENT_ID_MAX
from ..stream import EventStream

SUBSCRIBE_TIMEOUT = 5.0

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
    if not header.isdigit() or int(header) > CLIENT_ID_MAX:
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


@router.get("/stream", response_class=Response, responses=RESPONSES)
async def stream(
    request: Request,
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
    """Stream the user's notifications; with a cursor, replay what was missed first."""
    cursor = _cursor(last_event_id_header, last_event_id)
    try:
        async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
            subscription = await hub.subscribe(user.id, queue_size=settings.stream_queue_size)
    except TooManyStreams as error:
        raise HTTPException(429, detail=str(error)) from error
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
