"""`GET /api/v1/me`: who the request is authenticated as (the web client's login check)."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel

from ..deps import CurrentUser
from ..schemas import ErrorOut

router = APIRouter(prefix="/api/v1", tags=["session"])


class Me(BaseModel):
    user_id: uuid.UUID
    expires_at: datetime


@router.get("/me", response_model=Me, responses={401: {"model": ErrorOut}})
async def me(user: CurrentUser) -> Me:
    """The authenticated user and when the token expires."""
    return Me(user_id=user.id, expires_at=user.expires_at)
