"""What the digest's signed links (unsubscribe, confirm, open) share: their `token` parameter,
the key that checks them, and how a refusal is answered.

Guarantees: a browser (Accept: text/html) always gets a page, never FastAPI's 422 JSON: the
token is not validated by FastAPI (missing, empty or over-long included), only by the link's
`verify`, whose refusal is a 400 page for browsers and `{"detail": ...}` for everyone else.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from ...http.deps import app_settings
from .settings import EmailSettings
from .signed_links import InvalidLink, SignedLinks, UnsubscribeLinks, Unsubscriber

EmailAppSettings = Annotated[EmailSettings, Depends(app_settings)]

# No length limits: an absent or altered token is the verifier's to refuse (as a page).
Token = Annotated[str, Query(description="The signed token of the link.")]
L = TypeVar("L", bound=SignedLinks)


def wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def refusal(
    request: Request, detail: str, status: int, page: Callable[[str, int], Response]
) -> Response:
    """`page(detail, status)` for a browser, else the JSON error."""
    if wants_html(request):
        return page(detail, status)
    return JSONResponse({"detail": detail}, status_code=status)


def links_of(kind: type[L], settings: EmailAppSettings) -> L:
    """The links of `kind` under this server's key; 503 when it has none."""
    links = kind.from_settings(settings)
    if links is None:
        raise HTTPException(503, detail=f"{kind.NAME}s cannot be checked: set DIGEST_SECRET")
    return links


class LinkRefused(Exception):
    """A link that names nobody (400: forged, altered, expired) or an address that is no longer
    the student's (410)."""

    def __init__(self, detail: str, status: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.status = status


async def linked(
    links: UnsubscribeLinks,
    token: str,
    row_of: Callable[[uuid.UUID], Awaitable[Any]],
    gone: str,
) -> tuple[Unsubscriber, Any]:
    """Whom an unsubscribe or confirmation link names, with their preference row (`row_of`),
    while that row still holds the address the link was mailed to; else LinkRefused."""
    try:
        named = links.verify(token)
    except InvalidLink as error:
        raise LinkRefused(str(error), 400) from None
    row = await row_of(named.user_id)
    if row is None or not links.is_for(named, row["address"]):
        raise LinkRefused(gone, 410)
    return named, row
