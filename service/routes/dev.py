"""Development login: a cookie for any user id, so a person trying the product needs no IdP.

Mounted only when DEV_LOGIN is on (by default: with the embedded database).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..auth import mint_token
from ..cookies import clear_token_cookie, set_token_cookie
from ..deps import AppSettings

router = APIRouter(prefix="/api/v1/dev", tags=["development"])

SESSION = timedelta(hours=12)


class DevLogin(BaseModel):
    user_id: uuid.UUID = Field(description="The user to act as.")


class DevSession(BaseModel):
    user_id: uuid.UUID
    expires_at: datetime
    access_token: str


@router.post("/login", response_model=DevSession)
async def dev_login(body: DevLogin, request: Request, settings: AppSettings) -> JSONResponse:
    """Set the `access_token` cookie for `user_id` (development only)."""
    token = mint_token(body.user_id, settings, ttl=SESSION)
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
