"""Request dependencies, as `Annotated` aliases for route signatures."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, HTTPException, Request

from ..notifications.analytics import AnalyticsGate
from ..notifications.deliveries import ReachCounts
from ..runtime import logs
from .auth import AuthError, User, bearer_token, decode_token, token_from
from .cors import same_origin_refusal
from .settings import HttpSettings


def _pool(request: Request) -> asyncpg.Pool:
    pool: asyncpg.Pool = request.state.pool
    return pool


def app_settings(request: Request) -> Any:
    """The process's settings; each package annotates them with its own class (`AppSettings`:
    the HTTP edge's)."""
    settings = request.state.settings
    return settings


def _reach(request: Request) -> ReachCounts:
    reach: ReachCounts = request.state.reach
    return reach


def _analytics_gate(request: Request) -> AnalyticsGate:
    gate: AnalyticsGate = request.state.analytics_gate
    return gate


def _unauthorized(error: AuthError) -> HTTPException:
    return HTTPException(
        401, detail=str(error), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
    )


def _current_user(
    request: Request, settings: Annotated[HttpSettings, Depends(app_settings)]
) -> User:
    try:
        cookie_authenticated = bearer_token(request) is None
        user = decode_token(token_from(request), settings)
    except AuthError as error:
        raise _unauthorized(error) from error
    if cookie_authenticated:  # CSRF: only the cookie is sent by a forged cross-site request
        refusal = same_origin_refusal(request, settings.cors_origins)
        if refusal is not None:
            raise HTTPException(403, detail=refusal)
    logs.bind_user(user.id)
    return user


def _admin(
    user: Annotated[User, Depends(_current_user)],
    settings: Annotated[HttpSettings, Depends(app_settings)],
) -> User:
    if settings.admin_role not in user.roles:
        raise HTTPException(403, detail=f"this needs the {settings.admin_role!r} role")
    return user


@dataclass(frozen=True, slots=True)
class BearerToken:
    """A verified token from the Authorization header, and whom it names."""

    token: str
    user: User


def _bearer(
    request: Request, settings: Annotated[HttpSettings, Depends(app_settings)]
) -> BearerToken:
    try:
        token = bearer_token(request)
        if token is None:
            raise AuthError("missing token: send 'Authorization: Bearer <token>'")
        user = decode_token(token, settings)
    except AuthError as error:
        raise _unauthorized(error) from error
    logs.bind_user(user.id)
    return BearerToken(token, user)


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
AppSettings = Annotated[HttpSettings, Depends(app_settings)]
Reach = Annotated[ReachCounts, Depends(_reach)]
Analytics = Annotated[AnalyticsGate, Depends(_analytics_gate)]
CurrentUser = Annotated[User, Depends(_current_user)]
# A user whose token holds ADMIN_ROLE (403 otherwise).
AdminUser = Annotated[User, Depends(_admin)]
# Only the Authorization header (never the cookie): what is exchanged for the session cookie.
Bearer = Annotated[BearerToken, Depends(_bearer)]
