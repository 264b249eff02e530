"""Request dependencies, as `Annotated` aliases for route signatures."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, HTTPException, Request

from .auth import AuthError, User, decode_token, token_from
from .hub import Hub
from .settings import Settings


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.state.pool
    return pool


def _settings(request: Request) -> Settings:
    settings: Settings = request.state.settings
    return settings


def _hub(request: Request) -> Hub:
    hub: Hub = request.state.hub
    return hub


def _current_user(request: Request, settings: Annotated[Settings, Depends(_settings)]) -> User:
    try:
        return decode_token(token_from(request), settings)
    except AuthError as error:
        raise HTTPException(
            401, detail=str(error), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        ) from error


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
AppSettings = Annotated[Settings, Depends(_settings)]
StreamHub = Annotated[Hub, Depends(_hub)]
CurrentUser = Annotated[User, Depends(_current_user)]
