"""Security headers on every answer but the stream's 200 (its refusals get them too).

The page and its static files run under a Content-Security-Policy that allows no inline script
and nothing from another origin; no page may frame them; nothing is MIME-sniffed; other sites
learn only this origin from the Referer. The interactive API docs (`/docs`, `/redoc`) run an
inline script (Swagger UI's), so they get every header but the page's script policy. An API
answer that does not say otherwise is `Cache-Control: no-store`: it may carry a student's data.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "media-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
DOCS_POLICY = "frame-ancestors 'none'"
DOCS_PATHS = ("/docs", "/redoc")
COMMON = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",  # frame-ancestors for browsers without CSP level 2
    "referrer-policy": "strict-origin-when-cross-origin",
}


API_PREFIX = "/api/"
API_CACHE = "no-store"  # a student's data: kept by no cache, shared or the browser's


def security_headers(path: str = "/") -> dict[str, str]:
    """The headers above for an answer to `path` (for answers made outside this middleware)."""
    policy = DOCS_POLICY if path.startswith(DOCS_PATHS) else CONTENT_SECURITY_POLICY
    headers = {**COMMON, "content-security-policy": policy}
    if path.startswith(API_PREFIX):
        headers["cache-control"] = API_CACHE
    return headers


class SecurityHeaders:
    """ASGI middleware adding the headers above to every HTTP answer that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = security_headers(scope["path"])

        async def sender(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, sender)
