"""Unhandled errors: a JSON 500 that looks like every other answer, and one log line.

Guarantees: an exception that escapes a route before its response started becomes
`500 {"detail": "internal server error", "request_id": …}` with `X-Request-ID`, and, since this
middleware sits inside them, the security headers and CORS headers every answer carries. It is
logged once, at ERROR, with its traceback and the request id (the same id as in the body), and
not raised further (uvicorn would log it a second time, in plain text). An exception after the
response started cannot change its status: it is raised on, and uvicorn logs it and closes the
connection.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .logs import request_id

logger = logging.getLogger(__name__)
DETAIL = "internal server error"


class ServerErrors:
    """ASGI middleware turning an escaped exception into the JSON 500 above."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sender(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, sender)
        except Exception:
            if started:
                raise
            identifier = request_id() or "-"
            logger.exception(
                "unhandled error: %s %s answered 500",
                scope.get("method", ""),
                scope.get("path", ""),
            )
            body = json.dumps({"detail": DETAIL, "request_id": identifier}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"x-request-id", identifier.encode("latin-1")),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
