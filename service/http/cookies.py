"""The `access_token` cookie: the one place it is set and cleared, with the configured attributes.

HttpOnly always (page scripts never see the token). SameSite comes from COOKIE_SAMESITE; Secure
from COOKIE_SECURE, where `auto` means "the request came over HTTPS" as uvicorn sees it (it
honours X-Forwarded-Proto from the proxies in FORWARDED_ALLOW_IPS). SameSite=None is always
Secure: browsers drop a SameSite=None cookie that is not.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from starlette.requests import HTTPConnection
from starlette.responses import Response

from .auth import COOKIE_NAME
from .settings import HttpSettings


def _secure(connection: HTTPConnection, settings: HttpSettings) -> bool:
    if settings.cookie_samesite == "none":
        return True
    if settings.cookie_secure == "auto":
        return connection.url.scheme == "https"
    return settings.cookie_secure


def set_token_cookie(
    response: Response,
    connection: HTTPConnection,
    settings: HttpSettings,
    token: str,
    expires_at: datetime,
) -> None:
    """Set the `access_token` cookie to `token` until `expires_at` (the token's own expiry)."""
    seconds = max(0, math.ceil((expires_at - datetime.now(UTC)).total_seconds()))
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=seconds,
        path="/",
        secure=_secure(connection, settings),
        httponly=True,
        samesite=settings.cookie_samesite,
    )


def clear_token_cookie(
    response: Response, connection: HTTPConnection, settings: HttpSettings
) -> None:
    """Clear the `access_token` cookie (same attributes, or a SameSite=None browser ignores it)."""
    response.delete_cookie(
        COOKIE_NAME,
        path="/",
        secure=_secure(connection, settings),
        httponly=True,
        samesite=settings.cookie_samesite,
    )
