"""Cross-origin requests: credentialed CORS for the CORS_ORIGINS, nothing for anyone else.

Added outside `StreamEndpoint`, so the stream (its 401/422/429 and `unavailable` answers too),
every REST route and the static files answer an allowed origin with CORS headers a browser
accepts with credentials, and preflights are answered here. Starlette's `CORSMiddleware` adds
`Access-Control-Allow-Credentials` and `-Expose-Headers` to the answers of *any* origin; only
requests from an allowed origin reach it, so other origins get no CORS header at all.

CSRF: the session cookie may be SameSite=None, which a browser sends on another site's form
posts as well. An unsafe request (POST, PUT, PATCH, DELETE) that the browser marks cross-site or
same-site (`Sec-Fetch-Site`) from an origin not allowed is refused here with 403, before it can
change anything. One authenticated by the cookie must also prove where it comes from
(`same_origin_refusal`, applied by the `CurrentUser` dependency): browsers without
`Sec-Fetch-Site` still send `Origin`. Bearer-authenticated calls are not affected, nor are the
`signed_link_paths` its maker names (the channels' one-click links), which take no cookie and
are authorised by a signed token in the URL (an email's one-click unsubscribe may be posted
by a webmail page on another site).
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers, MutableHeaders
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = ("GET", "POST", "PUT", "DELETE")
HEADERS = ("Authorization", "Content-Type", "Last-Event-ID")
EXPOSED = ("WWW-Authenticate",)  # why a 401 (invalid vs expired token)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PREFLIGHT_MAX_AGE = 600


class CrossOrigin:
    """ASGI middleware: CORS for `origins` (exact `scheme://host[:port]` strings)."""

    def __init__(
        self, app: ASGIApp, *, origins: Sequence[str], signed_link_paths: Sequence[str] = ()
    ) -> None:
        self.app = app
        self.origins = frozenset(origins)
        self.signed_link_paths = frozenset(signed_link_paths)
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
        if (
            scope["method"] not in SAFE_METHODS
            and headers.get("sec-fetch-site") in ("cross-site", "same-site")
            and scope["path"] not in self.signed_link_paths
        ):
            refused = JSONResponse(
                {"detail": f"cross-origin request refused: {origin} is not in CORS_ORIGINS"},
                status_code=403,
            )
            await refused(scope, receive, send)
            return
        if self.origins:
            # The same URL answers differently per Origin: a cache must not hand an answer
            # without CORS headers to an allowed origin (or the other way round).
            send = _vary_on_origin(send)
        await self.app(scope, receive, send)


def same_origin_refusal(connection: HTTPConnection, origins: Sequence[str]) -> str | None:
    """Why an unsafe request authenticated by the cookie is refused; None when it may proceed.

    It may when the browser says it comes from this origin (`Sec-Fetch-Site: same-origin`) or
    its `Origin` is this origin or one of `origins`. Anything else (another origin, `null`, no
    `Origin` at all) could be a forged form post carrying the user's cookie.
    """
    if connection.scope["method"] in SAFE_METHODS:
        return None
    headers = connection.headers
    if headers.get("sec-fetch-site") == "same-origin":
        return None
    origin = headers.get("origin")
    own = f"{connection.url.scheme}://{headers.get('host', '')}".lower()
    if origin is not None and (origin.lower() == own or origin in origins):
        return None
    return (
        "cross-site request refused: a change authenticated by the session cookie must come "
        f"from this origin or one in CORS_ORIGINS (Origin: {origin})"
    )


def _vary_on_origin(send: Send) -> Send:
    async def sender(message: Message) -> None:
        if message["type"] == "http.response.start":
            MutableHeaders(scope=message).add_vary_header("Origin")
        await send(message)

    return sender
