"""Development login: a cookie for any user id, so a person trying the product needs no IdP.

A user id is a UUID (a token's `sub` always is), or a name such as `alice`: letters, digits and
`. _ - @`, up to 64, case-insensitive, standing for the same UUID (version 5, `DEV_NAMES`) on
every server and every time, so "alice" in two browsers is one student. Anything else is a 422
whose message says what is accepted. A name given is also the token's `name` claim (the
student's display name, as it was typed); a UUID gives none.

Mounted only when DEV_LOGIN is on (by default: with the embedded database). Unless
DEV_LOGIN=force, it answers only requests made to a loopback Host (`localhost`, 127.0.0.0/8,
`[::1]`, any port) that no proxy forwarded: a page on another site whose name resolves to
127.0.0.1 (DNS rebinding) cannot log in as anyone, nor can a request relayed from elsewhere.
With DEV_LOGIN=force it answers any request, but an admin login (`"admin": true`) still only
such a direct loopback one: a forced dev login never hands analytics to the network.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import (
    BaseModel,
    Field,
    ModelWrapValidatorHandler,
    PlainValidator,
    PrivateAttr,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

from ..auth import mint_token
from ..cookies import clear_token_cookie, set_token_cookie
from ..deps import AppSettings
from ..exposure import is_loopback
from ..schemas import ErrorOut
from ..settings import HttpSettings

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


def dev_login_answers(request: Request, settings: HttpSettings) -> bool:
    """Whether `POST /api/v1/dev/login` is served and would answer this request."""
    if not settings.dev_login_enabled:
        return False
    return settings.dev_login == "force" or _not_loopback(request) is None


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
DEV_NAMES = uuid.UUID("6f1c2a4e-9d3b-5c8e-a1f0-4b7d2e9c0a15")  # never change: names would move
NAME = r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}"  # a UUID's canonical form is one too
ACCEPTED = (
    "A user id is a UUID, or a name such as alice: up to 64 letters, digits, '.', '_', '-' or '@'."
)


def dev_user_id(value: object) -> uuid.UUID:
    """The user a dev login acts as: a UUID as given (in any form `uuid.UUID` reads: with or
    without hyphens, braced, `urn:uuid:`), a name's own UUID; else a 422."""
    if not isinstance(value, str):
        raise PydanticCustomError("dev_user_id", ACCEPTED)
    if len(value) <= 45:  # the longest UUID form, `urn:uuid:` and 36
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    if not re.fullmatch(NAME, value):
        raise PydanticCustomError("dev_user_id", ACCEPTED)
    return uuid.uuid5(DEV_NAMES, value.lower())


DevUserId = Annotated[
    uuid.UUID,
    PlainValidator(dev_user_id),
    WithJsonSchema({"type": "string", "pattern": f"^{NAME}$", "examples": ["alice"]}),
]


class DevLogin(BaseModel):
    user_id: DevUserId = Field(
        description="The user to act as: a UUID, or a name (`alice`) that always stands for the "
        "same UUID (the answer's `user_id`)."
    )
    admin: bool = Field(default=False, description="Hold ADMIN_ROLE too (reads /admin).")
    _name: str | None = PrivateAttr(default=None)

    @model_validator(mode="wrap")
    @classmethod
    def _keep_name(cls, data: Any, handler: ModelWrapValidatorHandler[DevLogin]) -> DevLogin:
        # The name as typed ("Amelia"), when `user_id` was a name rather than a UUID.
        login = handler(data)
        given = data.get("user_id") if isinstance(data, dict) else None
        if isinstance(given, str) and uuid.uuid5(DEV_NAMES, given.lower()) == login.user_id:
            login._name = given
        return login

    @property
    def name(self) -> str | None:
        """The name the user id was given as, None for a UUID."""
        return self._name


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
    token = mint_token(body.user_id, settings, ttl=SESSION, roles=roles, name=body.name)
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
