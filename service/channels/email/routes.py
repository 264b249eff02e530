"""The email digest: a student's preference (with double opt-in), and the one-click unsubscribe
link. The confirmation link's routes are in `digest_confirm.py`.

Preferences are the authenticated student's own (`CurrentUser`); the unsubscribe link needs no
login, only its signature (`signed_links.py`). A bad address is a 422 and a forged,
altered or expired link a 400, and neither changes anything. The link answers browsers (Accept:
text/html) with a page and everyone else with JSON; only a POST unsubscribes (RFC 8058), so a
scanner prefetching the link (GET or HEAD) changes nothing. A new address gets digests only once
confirmed (service/channels/email/confirmation.py).
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from math import ceil
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ...http.deps import CurrentUser, Pool
from ...http.languages import LANGUAGE_TAG, MAX_TAG, preferred_language
from ...http.schemas import ErrorOut
from . import pages, sql
from .addresses import MAX_ADDRESS, student_address
from .answers import (
    EmailAppSettings,
    LinkRefused,
    Token,
    linked,
    links_of,
    refusal,
    wants_html,
)
from .confirmation import send_confirmation
from .digest_items import MAX_TIME_ZONE, time_zone_name
from .signed_links import UNSUBSCRIBE_PATH, UnsubscribeLinks

router = APIRouter(prefix="/api/v1/digest", tags=["email digest"])

Period = Literal["hourly", "daily", "weekly"]
Locale = Annotated[str, Field(max_length=MAX_TAG, pattern=LANGUAGE_TAG)]
TimeZone = Annotated[
    str,
    Field(min_length=1, max_length=MAX_TIME_ZONE),
    AfterValidator(time_zone_name),
]
EmailAddress = Annotated[
    str,
    Field(max_length=MAX_ADDRESS, json_schema_extra={"format": "email"}),
    AfterValidator(student_address),
]
OFF = "email digests are off on this server (SMTP_HOST is unset)"


class DigestPreferenceIn(BaseModel):
    """Where and how often to get the digest."""

    model_config = ConfigDict(extra="forbid")

    email: EmailAddress = Field(examples=["student@example.com"])
    period: Period = Field(examples=["daily"])
    opted_in: bool = Field(default=True, description="false: keep the address, send nothing.")
    locale: Locale | None = Field(
        default=None,
        examples=["pt-BR"],
        description="The student's language (a BCP 47 tag); the browser's Accept-Language "
        "when omitted. The digest marks the student's own words with it.",
    )
    time_zone: TimeZone | None = Field(
        default=None,
        examples=["Europe/Lisbon"],
        description="The student's time zone (an IANA name the server knows; 422 otherwise); "
        "the stored one is kept when omitted. The digest shows dates and times in it (UTC "
        "when none is known).",
    )


class DigestPreferenceOut(BaseModel):
    """The student's digest preference (defaults when they never set one)."""

    available: bool = Field(description="Whether this server sends digests (SMTP_HOST set).")
    email: str | None = Field(examples=["student@example.com"])
    period: Period
    opted_in: bool
    next_digest_at: datetime | None = Field(
        description="The next digest is made then, if anything is waiting; null when off."
    )
    last_sent_at: datetime | None
    last_error: str | None = Field(
        description="Why the latest digest has not been sent (yet), e.g. the address was refused."
    )
    confirmed: bool = Field(
        description="Whether the address was confirmed (the link mailed to it was followed): "
        "digests go only to a confirmed address."
    )
    confirmation_sent_at: datetime | None = Field(
        description="When the latest confirmation email was sent; another may be asked for "
        "10 minutes later."
    )
    confirmation_error: str | None = Field(
        default=None, description="Why the confirmation email just asked for was not sent."
    )
    suspended: bool = Field(
        default=False,
        description="Whether digests to the address are suspended: the mail server refused it "
        "for good several times in a row. Saving the preference again (or confirming the "
        "address) lifts it.",
    )
    suspended_reason: str | None = Field(
        default=None, description="Why: the latest refusal, e.g. 550 5.1.1 No such user."
    )
    locale: str | None = Field(
        default=None, description="The student's language as stored (a BCP 47 tag), if known."
    )
    time_zone: str | None = Field(
        default=None, description="The student's time zone as stored (an IANA name), if known."
    )
    opted_out_at: datetime | None = Field(
        default=None,
        description="When the digest was turned off (the email's unsubscribe link, or saved "
        "off); null while it is on, or when not known.",
    )


class UnsubscribedOut(BaseModel):
    unsubscribed: bool
    detail: str


async def _preference(pool: Pool, settings: EmailAppSettings, user: CurrentUser) -> dict[str, Any]:
    row = await pool.fetchrow(sql.DIGEST_PREFERENCE, user.id)
    available = settings.smtp_host is not None
    if row is None:
        return {
            "available": available,
            "email": None,
            "period": "daily",
            "opted_in": False,
            "next_digest_at": None,
            "last_sent_at": None,
            "last_error": None,
            "confirmed": False,
            "confirmation_sent_at": None,
            "suspended": False,
            "suspended_reason": None,
            "locale": None,
            "time_zone": None,
            "opted_out_at": None,
        }
    return {
        "available": available,
        "email": row["address"],
        "period": row["period"],
        "opted_in": row["opted_in"],
        "next_digest_at": row["next_digest_at"]
        if row["opted_in"] and available and row["suspended_at"] is None
        else None,
        "last_sent_at": row["last_sent_at"],
        "last_error": row["last_error"],
        "confirmed": row["confirmed_at"] is not None,
        "confirmation_sent_at": row["confirmation_sent_at"],
        "suspended": row["suspended_at"] is not None,
        "suspended_reason": row["suspended_reason"],
        "locale": row["locale"],
        "time_zone": row["time_zone"],
        "opted_out_at": None if row["opted_in"] else row["opted_out_at"],
    }


@router.get(
    "/preferences",
    response_model=DigestPreferenceOut,
    responses={401: {"model": ErrorOut, "description": "Missing or invalid token."}},
)
async def get_preference(user: CurrentUser, pool: Pool, settings: EmailAppSettings) -> Any:
    """The student's email digest preference."""
    return await _preference(pool, settings, user)


@router.put(
    "/preferences",
    response_model=DigestPreferenceOut,
    responses={
        401: {"model": ErrorOut, "description": "Missing or invalid token."},
        409: {"model": ErrorOut, "description": OFF},
    },
)
async def put_preference(
    body: DigestPreferenceIn,
    user: CurrentUser,
    pool: Pool,
    settings: EmailAppSettings,
    request: Request,
) -> Any:
    """Opt in (or out) with an address and a period. A new address is mailed a confirmation
    link (at most one per student per 10 minutes, and 3 a day to one address whoever asks;
    `confirmation_error` says when one was not sent, and why) and gets digests once confirmed;
    the first digest comes one period after opting in."""
    if settings.smtp_host is None:
        raise HTTPException(409, detail=OFF)
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(
            sql.SET_DIGEST_PREFERENCE,
            user.id,
            body.email,
            body.period,
            body.opted_in,
            settings.digest_period_seconds[body.period],
            body.locale or preferred_language(request.headers.get("accept-language")),
            body.time_zone,
        )
        if not body.opted_in:
            await connection.execute(sql.CANCEL_OPEN_DIGESTS, user.id, "opted out")
    outcome = await send_confirmation(pool, settings, user.id)
    return {**await _preference(pool, settings, user), "confirmation_error": outcome.problem}


@router.post(
    "/preferences/confirmation",
    response_model=DigestPreferenceOut,
    responses={
        401: {"model": ErrorOut, "description": "Missing or invalid token."},
        409: {"model": ErrorOut, "description": "Nothing to confirm, or digests are off."},
        429: {
            "model": ErrorOut,
            "description": "One was sent less than 10 minutes ago, or the address had its 3 "
            "of the day (Retry-After says when another may be asked for).",
        },
    },
)
async def resend_confirmation(
    user: CurrentUser, pool: Pool, settings: EmailAppSettings, response: Response
) -> Any:
    """Mail the confirmation link again (at most once per 10 minutes; 3 a day per address)."""
    if settings.smtp_host is None:
        raise HTTPException(409, detail=OFF)
    before = await _preference(pool, settings, user)
    if before["email"] is None or not before["opted_in"] or before["confirmed"]:
        raise HTTPException(409, detail="there is no unconfirmed address to confirm")
    outcome = await send_confirmation(pool, settings, user.id)
    if outcome.limited:
        wait = str(ceil(outcome.retry_after or 0))
        raise HTTPException(429, detail=outcome.problem, headers={"Retry-After": wait})
    return {**await _preference(pool, settings, user), "confirmation_error": outcome.problem}


@router.delete(
    "/preferences",
    status_code=204,
    responses={401: {"model": ErrorOut, "description": "Missing or invalid token."}},
)
async def delete_preference(user: CurrentUser, pool: Pool) -> Response:
    """Stop the digest and forget the address."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(sql.DELETE_DIGEST_PREFERENCE, user.id)
        await connection.execute(sql.CANCEL_OPEN_DIGESTS, user.id, None)
        await connection.execute(sql.FORGET_DIGEST_ERRORS, user.id)
    return Response(status_code=204)


LINK_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "Forged, altered or expired link: nothing changed."},
    410: {"model": ErrorOut, "description": "The address no longer gets digests."},
}
GONE = "This link is for an address that no longer gets the digest. Nothing was changed."


def _refusal(request: Request, detail: str, status: int) -> Response:
    return refusal(request, detail, status, pages.refused)


HTML_TOO: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "OK"}
}


UNSUBSCRIBE_PAGE: dict[str, Any] = {
    "response_model": UnsubscribedOut,
    "responses": {**LINK_RESPONSES, **HTML_TOO},
}


# HEAD: link checkers and mail scanners; it changes nothing either. Two routes, not one with two
# methods: each method is its own operation (its own operationId) in the OpenAPI document.
@router.get("/unsubscribe", **UNSUBSCRIBE_PAGE)
@router.head("/unsubscribe", **UNSUBSCRIBE_PAGE)
async def unsubscribe_page(
    request: Request, pool: Pool, settings: EmailAppSettings, token: Token = ""
) -> Response:
    """What the link would do, changing nothing (browsers get a page with the button)."""
    links = links_of(UnsubscribeLinks, settings)
    try:
        _named, row = await linked(links, token, partial(pool.fetchrow, sql.DIGEST_RECIPIENT), GONE)
    except LinkRefused as refused:
        return _refusal(request, refused.detail, refused.status)
    if not row["opted_in"]:
        detail = "This address is already unsubscribed."
        if wants_html(request):
            return pages.done(detail)
        return JSONResponse({"unsubscribed": True, "detail": detail})
    if wants_html(request):
        action = f"{UNSUBSCRIBE_PATH}?{urlencode({'token': token})}"
        return pages.confirm(row["address"], action)
    detail = "POST to this link to unsubscribe (RFC 8058 one-click)"
    return JSONResponse({"unsubscribed": False, "detail": detail})


@router.post(
    "/unsubscribe", response_model=UnsubscribedOut, responses={**LINK_RESPONSES, **HTML_TOO}
)
async def unsubscribe(
    request: Request, pool: Pool, settings: EmailAppSettings, token: Token = ""
) -> Response:
    """Unsubscribe the address the link was mailed to (RFC 8058 one-click; no login)."""
    links = links_of(UnsubscribeLinks, settings)
    async with pool.acquire() as connection, connection.transaction():
        try:
            unsubscriber, row = await linked(
                links, token, partial(connection.fetchrow, sql.DIGEST_ADDRESS_FOR_UPDATE), GONE
            )
        except LinkRefused as refused:
            return _refusal(request, refused.detail, refused.status)
        await connection.execute(sql.UNSUBSCRIBE_DIGEST, unsubscriber.user_id)
        await connection.execute(
            sql.CANCEL_OPEN_DIGESTS, unsubscriber.user_id, "unsubscribed by link"
        )
    detail = f"{pages.masked(row['address'])} gets no more email digests."
    if wants_html(request):
        return pages.done(detail)
    return JSONResponse({"unsubscribed": True, "detail": detail})
