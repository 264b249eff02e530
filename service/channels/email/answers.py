"""What the digest's signed links (unsubscribe, confirm, open) share: their `token` parameter,
the key that checks them, and how a refusal is answered.

Guarantees: a browser (Accept: text/html) always gets a page, never FastAPI's 422 JSON: the
token is not validated by FastAPI (missing, empty or over-long included), only by the link's
`verify`, whose refusal is a 400 page for browsers and `{"detail": ...}` for everyone else.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from ...http.deps import app_settings
from .settings import EmailSettings
from .signed_links import SignedLinks

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
