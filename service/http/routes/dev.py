"""Development login: a cookie for any user id, so a person trying the product needs no IdP.

Mounted only when DEV_LOGIN is on (by default: with the embedded database). Unless
DEV_LOGIN=force, it answers only requests made to a loopback Host (`localhost`, 127.0.0.0/8,
`[::1]`, any port) that no proxy forwarded: a page on another site whose name resolves to
127.0.0.1 (DNS rebinding) cannot log in as anyone, nor can a request relayed from elsewhere.
With DEV_LOGIN=force it answers any request, but an admin login (`"admin": true`) still only
such a direct loopback one: a forced dev login never hands analytics to the network.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..auth import mint_token
from ..cookies import clear_token_cookie, set_token_cookie
from ..deps import AppSettings
from ..exposure import is_loopback
from ..schemas import ErrorOut

FORWARDED = ("x-forwarded-for", "forwarded", "x-forwarded-host", "x-real-ip")


def _host_name(host: str) -> str | None:
    """The name in a Host header (`name`, `name:port`, `[v6]`, `[v6]:port`), or None."""
    if host.startswith("["):
        name, bracket, port = host[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return None
        port = port[1:]
    else:
        name, _, port = host.partition(":")
    return name if port == "" or port.isdigit() else None


def _not_loopback(request: Request) -> str | None:
    """Why this request was not made directly to a loopback Host, or None when it was."""
    name = _host_name(request.headers.get("host", ""))
    if name is None or not is_loopback(name):
        return "the development login answers only on a loopback Host"
    if any(header in request.headers for header in FORWARDED):
        return "the development login answers no forwarded request"
    return None


def loopback_only(request: Request, settings: AppSettings) -> None:
    """403 unless this request was made to a loopback Host, directly (DEV_LOGIN=force: any)."""
    if settings.dev_login == "force":
        return
    refusal = _not_loopback(request)
    if refusal is not None:
        raise HTTPException(403, detail=refusal)


router = APIRouter(
    prefix="/api/v1/dev",
    tags=["development"],
    dependencies=[Depends(loopback_only)],
    responses={403: {"model": ErrorOut, "description": "Not a direct request to localhost."}},
)

SESSION = timedelta(hours=12)


class DevLogin(BaseModel):
    user_id: uuid.UUID = Field(description="The user to act as.")
    admin: bool = Field(default=False, description="Hold ADMIN_ROLE too (reads /admin).")


class DevSession(BaseModel):
    user_id: uuid.UUID
    expires_at: datetime
    access_token: str


@router.post("/login", response_model=DevSession)
async def dev_login(body: DevLogin, request: Request, settings: AppSettings) -> JSONResponse:
    """Set the `access_token` cookie for `user_id` (development only). An admin login only
    for a direct request to a loopback Host, even with DEV_LOGIN=force."""
    if body.admin:
        refusal = _not_loopback(request)
        if refusal is not None:
            raise HTTPException(403, detail=f"{refusal} (an admin login, even with force)")
    roles = [settings.admin_role] if body.admin else []
    token = mint_token(body.user_id, settings, ttl=SESSION, roles=roles)
    expires_at = datetime.now(UTC) + SESSION
    response = JSONResponse(
        DevSession(user_id=body.user_id, expires_at=expires_at, access_token=token).model_dump(
            mode="json"
        )
    )
    set_token_cookie(response, request, settings, token, expires_at)
    return response


@router.post("/logout", status_code=204)
async def dev_logout(request: Request, settings: AppSettings) -> JSONResponse:
    """Clear the cookie."""
    response = JSONResponse(None, status_code=204)
    clear_token_cookie(response, request, settings)
    return response
