"""Who a request is (`GET /api/v1/me`), whether it is signed in (`GET /api/v1/session`) and the
session cookie (`POST`/`DELETE /api/v1/session`).

`GET /session` always answers 200 (a page asks it at boot, so a signed-out visitor's console
stays clean): signed in or not, who, whether as an admin, and whether the development login
answers here (for a sign-in screen's button).

`POST /session` is how an app on another origin gets the HttpOnly cookie its EventSource needs:
it sends the token its platform issued as `Authorization: Bearer` (with `credentials:
"include"`), and the cookie lives exactly as long as that token.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from ..auth import AuthError, decode_token, token_from
from ..cookies import clear_token_cookie, set_token_cookie
from ..deps import AppSettings, Bearer, CurrentUser
from ..schemas import ErrorOut
from .dev import dev_login_answers

router = APIRouter(prefix="/api/v1", tags=["session"])


class Me(BaseModel):
    user_id: uuid.UUID
    expires_at: datetime
    name: str | None = Field(
        description="The display name: the token's `name` claim (plain text, at most 64 "
        "characters), null when it has none."
    )


@router.get("/me", response_model=Me, responses={401: {"model": ErrorOut}})
async def me(user: CurrentUser) -> Me:
    """The authenticated user, their display name and when the token expires."""
    return Me(user_id=user.id, expires_at=user.expires_at, name=user.name)


class SessionState(BaseModel):
    """Whether the request is signed in (a valid token, by header or cookie), and as whom."""

    signed_in: bool
    user_id: uuid.UUID | None = None
    admin: bool = False
    dev_login: bool


@router.get("/session", response_model=SessionState)
async def session_state(request: Request, settings: AppSettings) -> SessionState:
    """Signed in or not (never a 401: a missing, expired or invalid token is `signed_in:
    false`), the user and whether they hold ADMIN_ROLE; `dev_login`: whether the development
    login answers this request."""
    dev_login = dev_login_answers(request, settings)
    try:
        user = decode_token(token_from(request), settings)
    except AuthError:
        return SessionState(signed_in=False, dev_login=dev_login)
    return SessionState(
        signed_in=True,
        user_id=user.id,
        admin=settings.admin_role in user.roles,
        dev_login=dev_login,
    )


class SessionOut(BaseModel):
    """The user the cookie now authenticates, and when it (and the token) expires."""

    user_id: uuid.UUID
    expires_at: datetime


_SET_COOKIE = {
    "Set-Cookie": {
        "description": "`access_token=<the token>; HttpOnly; Path=/; Max-Age=<seconds left>`, "
        "with SameSite from COOKIE_SAMESITE and Secure per COOKIE_SECURE.",
        "schema": {"type": "string"},
    }
}


@router.post(
    "/session",
    response_model=SessionOut,
    responses={200: {"headers": _SET_COOKIE}, 401: {"model": ErrorOut}},
)
async def open_session(
    bearer: Bearer, request: Request, response: Response, settings: AppSettings
) -> SessionOut:
    """Exchange `Authorization: Bearer <token>` for the HttpOnly `access_token` cookie.

    The cookie expires with the token. A missing, malformed, expired or wrongly signed token is
    a 401 and sets nothing.
    """
    set_token_cookie(response, request, settings, bearer.token, bearer.user.expires_at)
    response.headers["cache-control"] = "no-store"
    return SessionOut(user_id=bearer.user.id, expires_at=bearer.user.expires_at)


@router.delete("/session", status_code=204)
async def close_session(request: Request, response: Response, settings: AppSettings) -> None:
    """Clear the `access_token` cookie (needs no valid token: signing out always works)."""
    clear_token_cookie(response, request, settings)
