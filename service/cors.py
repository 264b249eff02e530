"""Cross-origin requests: credentialed CORS for the CORS_ORIGINS, nothing for anyone else.

Added outside `StreamEndpoint`, so the stream (its 401/422/429 and `unavailable` answers too),
every REST route and the static files answer an allowed origin with CORS headers a browser
accepts with credentials, and preflights are answered here. Starlette's `CORSMiddleware` adds
`Access-Control-Allow-Credentials` and `-Expose-Headers` to the answers of *any* origin; only
requests from an allowed origin reach it, so other origins get no CORS header at all.

CSRF: the session cookie may be SameSite=None, which a browser sends on another site's form
posts as well. An unsafe request (POST, PUT, PATCH, DELETE) is refused with 403 before it can
change anything when the browser marks it cross-site or same-site (`Sec-Fetch-Site`) from an
origin not allowed, and when it carries the cookie (and no `Authorization` header, which no other
site can make a browser send) without proof that it comes from this origin or an allowed one:
`Sec-Fetch-Site: same-origin`, or an `Origin` that is this origin or in CORS_ORIGINS.
Bearer-authenticated calls are not affected.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import cookie_parser
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import COOKIE_NAME

METHODS = ("GET", "POST", "PUT", "DELETE")
HEADERS = ("Authorization", "Content-Type", "Last-Event-ID")
EXPOSED = ("WWW-Authenticate",)  # why a 401 (invalid vs expired token)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PREFLIGHT_MAX_AGE = 600


class CrossOrigin:
    """ASGI middleware: CORS for `origins` (exact `scheme://host[:port]` strings)."""

    def __init__(self, app: ASGIApp, *, origins: Sequence[str]) -> None:
        self.app = app
        self.origins = frozenset(origins)
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_methods=METHODS,
            allow_headers=HEADERS,
            allow_credentials=True,
            expose_headers=EXPOSED,
            max_age=PREFLIGHT_MAX_AGE,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        if origin is not None and origin in self.origins:
            await self.cors(scope, receive, send)
            return
        if scope["method"] not in SAFE_METHODS:
            refusal = _forged(scope, headers, origin)
            if refusal is not None:
                await JSONResponse({"detail": refusal}, status_code=403)(scope, receive, send)
                return
        if self.origins:
            # The same URL answers differently per Origin: a cache must not hand an answer
            # without CORS headers to an allowed origin (or the other way round).
            send = _vary_on_origin(send)
        await self.app(scope, receive, send)


def _forged(scope: Scope, headers: Headers, origin: str | None) -> str | None:
    """Why an unsafe request from an origin not in CORS_ORIGINS is refused; None if it is not."""
    fetch_site = headers.get("sec-fetch-site")
    if fetch_site in ("cross-site", "same-site"):
        return f"cross-origin request refused: {origin} is not in CORS_ORIGINS"
    if "authorization" in headers or COOKIE_NAME not in cookie_parser(headers.get("cookie", "")):
        return None  # not authenticated by the cookie: nothing a forged request could use
    if fetch_site == "same-origin":
        return None
    own = f"{scope['scheme']}://{headers.get('host', '')}".lower()
    if origin is not None and origin.lower() == own:
        return None
    return (
        "cross-site request refused: a request authenticated by the session cookie must come "
        f"from this origin or one in CORS_ORIGINS (Origin: {origin})"
    )


def _vary_on_origin(send: Send) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).add_vary_header("Origin")
        await send(message)

    return sender
