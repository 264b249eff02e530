"""The email digest's confirmation link (double opt-in): GET shows a page with a button and
changes nothing (mail scanners prefetch links; HEAD answers the same), POST confirms. No login
needed, only the link's signature; it confirms the student's address only while that is still
the address it was mailed to. A forged, altered or expired link is a 400, a link for an address
no longer theirs a 410, and neither changes anything.
"""

from __future__ import annotations

from functools import partial
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ...http.deps import Pool
from ...http.schemas import ErrorOut
from . import pages, sql
from .answers import (
    EmailAppSettings,
    LinkRefused,
    Token,
    linked,
    links_of,
    refusal,
    wants_html,
)
from .signed_links import CONFIRM_PATH, ConfirmLinks

router = APIRouter(prefix="/api/v1/digest", tags=["email digest"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "OK"},
    400: {"model": ErrorOut, "description": "Forged, altered or expired link: nothing changed."},
    410: {"model": ErrorOut, "description": "The link's address is no longer the student's."},
}
GONE = "This link is for an address that is no longer the one for digests. Nothing was changed."


class ConfirmedOut(BaseModel):
    confirmed: bool
    detail: str


def _answer(request: Request, confirmed: bool, detail: str) -> Response:
    if wants_html(request):
        return pages.address_confirmed(detail)
    return JSONResponse({"confirmed": confirmed, "detail": detail})


def _refusal(request: Request, detail: str, status: int) -> Response:
    return refusal(request, detail, status, pages.confirm_refused)


# GET and HEAD as two routes: each method its own operation (operationId) in the OpenAPI document.
@router.get("/confirm", response_model=ConfirmedOut, responses=RESPONSES)
@router.head("/confirm", response_model=ConfirmedOut, responses=RESPONSES)
async def confirm_page(
    request: Request, pool: Pool, settings: EmailAppSettings, token: Token = ""
) -> Response:
    """What the link would do, changing nothing (browsers get a page with the button)."""
    links = links_of(ConfirmLinks, settings)
    try:
        _owner, row = await linked(links, token, partial(pool.fetchrow, sql.DIGEST_RECIPIENT), GONE)
    except LinkRefused as refused:
        return _refusal(request, refused.detail, refused.status)
    if row["confirmed"]:
        return _answer(request, True, "This address is already confirmed.")
    if wants_html(request):
        return pages.confirm_address(
            row["address"], f"{CONFIRM_PATH}?{urlencode({'token': token})}"
        )
    return _answer(request, False, "POST to this link to confirm the address")


@router.post("/confirm", response_model=ConfirmedOut, responses=RESPONSES)
async def confirm(
    request: Request, pool: Pool, settings: EmailAppSettings, token: Token = ""
) -> Response:
    """Confirm the address the link was mailed to (no login)."""
    links = links_of(ConfirmLinks, settings)
    async with pool.acquire() as connection, connection.transaction():
        try:
            owner, row = await linked(
                links, token, partial(connection.fetchrow, sql.DIGEST_ADDRESS_FOR_UPDATE), GONE
            )
        except LinkRefused as refused:
            return _refusal(request, refused.detail, refused.status)
        await connection.execute(sql.CONFIRM_DIGEST_ADDRESS, owner.user_id)
    return _answer(request, True, f"{pages.masked(row['address'])} will get the email digest.")
