"""Access tokens: JWT verification, minting, and where a request carries its token.

Browsers' EventSource cannot send headers, so a token is accepted as `Authorization: Bearer`
or in the HttpOnly cookie `access_token`. `exp` and `sub` are required; `sub` is the user's
UUID; `aud`/`iss` are checked when configured. A `roles` claim (a list of strings) or `role`
claim (a string) gives the user roles (`ADMIN_ROLE` reads /api/v1/admin); anything else there is
no role. The standard `name` claim (OpenID Connect's) is the user's display name: plain text,
control characters dropped, whitespace collapsed, at most `NAME_CHARS` characters; anything
else (absent, not a string, blank) is no name. Only the configured algorithm is accepted, so
`alg: none` and algorithm confusion fail like any bad signature. Whatever a token holds (an
`exp`, `iat` or `nbf` out of any date's range, infinities), it is valid or an `AuthError`.
Several keys may verify at once (a rotation): which, and in what order, is `jwt_keys.py`'s.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from starlette.requests import HTTPConnection, cookie_parser

from .jwt_keys import key_ring
from .plain_hs256 import plain_hs256_claims
from .settings import HttpSettings

COOKIE_NAME = "access_token"
NO_ROLES: frozenset[str] = frozenset()
NAME_CHARS = 64  # of a display name: a header's width, not an essay


@dataclass(frozen=True, slots=True)
class User:
    """An authenticated user and when their token stops being valid."""

    id: uuid.UUID
    expires_at: datetime
    roles: frozenset[str] = frozenset()
    name: str | None = None


class AuthError(Exception):
    """Why a request is not authenticated (the text is safe to show the client)."""


def _claims(token: str, settings: HttpSettings) -> dict[str, Any]:
    # Each key in turn until one matches the signature; any other failure is the token's.
    try:
        ring = key_ring(settings)
    except (OSError, ValueError) as error:  # the JWKS file, unreadable since start-up
        raise AuthError("server misconfigured: no key verifies tokens") from error
    if (
        settings.jwt_algorithm == "HS256"
        and settings.jwt_audience is None
        and settings.jwt_issuer is None
    ):
        plain = plain_hs256_claims(token, ring.unnamed)  # the common token, without PyJWT
        if plain is not None:
            return plain
    # The header is read for its `kid` only where a key has a name (a JWKS): decoding a token
    # twice was a tenth of a stream's connect (issue 25).
    keys = ring.candidates(jwt.get_unverified_header(token).get("kid") if ring.named else None)
    if not keys:
        needed = (
            "JWT_PUBLIC_KEY or JWT_JWKS_FILE" if settings.jwt_algorithm == "RS256" else "JWT_SECRET"
        )
        raise AuthError(f"server misconfigured: {settings.jwt_algorithm} without {needed}")
    for number, key in enumerate(keys, start=1):
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=[settings.jwt_algorithm],
                audience=settings.jwt_audience,
                issuer=settings.jwt_issuer,
                options={
                    "require": ["exp", "sub"],
                    "verify_aud": settings.jwt_audience is not None,
                    "verify_iss": settings.jwt_issuer is not None,
                },
            )
        except jwt.InvalidSignatureError:
            if number == len(keys):
                raise
        else:
            return claims
    raise AssertionError("unreachable: the last key's failure is raised")


def decode_token(token: str, settings: HttpSettings) -> User:
    """The user a token names; AuthError when it is not valid."""
    try:
        claims = _claims(token, settings)
    except jwt.ExpiredSignatureError as error:
        raise AuthError("token expired") from error
    except jwt.InvalidTokenError as error:
        raise AuthError(f"invalid token: {error}") from error
    except (OverflowError, ValueError, TypeError) as error:
        # PyJWT converts `iat`/`nbf` with int(): an infinity overflows before its own checks.
        raise AuthError("invalid token: a time claim is out of range") from error
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except ValueError as error:
        raise AuthError("invalid token: sub is not a UUID") from error
    try:
        expires_at = datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (OverflowError, ValueError, OSError) as error:
        raise AuthError("invalid token: exp is out of range") from error
    return User(
        id=user_id,
        expires_at=expires_at,
        roles=_roles(claims),
        name=display_name(claims.get("name")),
    )


def display_name(value: object) -> str | None:
    """`value` (a token's `name` claim) as a display name (the rule above), or None."""
    if not isinstance(value, str):
        return None
    # Runs of whitespace (line breaks too) become one space; then control, format (bidi
    # overrides), surrogate and private-use characters go.
    text = re.sub(r"\s+", " ", value)
    text = "".join(ch for ch in text if not unicodedata.category(ch).startswith("C")).strip()
    if not text:
        return None
    return text if len(text) <= NAME_CHARS else text[: NAME_CHARS - 1].rstrip() + "…"


def _roles(claims: dict[str, object]) -> frozenset[str]:
    # IdPs say it either way: `roles: ["admin", ...]` or `role: "admin"`.
    roles: set[str] = set()
    listed = claims.get("roles")
    if isinstance(listed, list):
        roles.update(role for role in listed if isinstance(role, str))
    single = claims.get("role")
    if isinstance(single, str):
        roles.add(single)
    # One shared empty set: a stream's frame keeps its User for hours, and most have no role.
    return frozenset(roles) if roles else NO_ROLES


def bearer_token(connection: HTTPConnection) -> str | None:
    """The token of the `Authorization: Bearer` header, None without the header."""
    return bearer_token_of(connection.headers.get("authorization"))


def bearer_token_of(header: str | None) -> str | None:
    """The token of an `Authorization` header's value (`bearer_token`'s rule)."""
    if header is None:
        return None
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer" or not credentials.strip():
        raise AuthError("malformed Authorization header: expected 'Bearer <token>'")
    return credentials.strip()


def token_from(connection: HTTPConnection) -> str:
    """The raw token of a request: the Bearer header first, then the cookie."""
    headers = connection.headers
    return token_of(headers.get("authorization"), headers.getlist("cookie"))


def token_of(authorization: str | None, cookies: Sequence[str]) -> str:
    """`token_from`'s rule on the values of a request's first `Authorization` header and its
    `Cookie` headers, merged as Starlette merges them (the stream protocol reads them so,
    without a Starlette request)."""
    token = bearer_token_of(authorization)
    if token is not None:
        return token
    value = None
    for header in cookies:
        value = cookie_parser(header).get(COOKIE_NAME, value)
    if value:
        return value
    raise AuthError(
        "missing token: send 'Authorization: Bearer <token>' or the access_token cookie"
    )


def mint_token(
    user_id: uuid.UUID,
    settings: HttpSettings,
    *,
    ttl: timedelta = timedelta(hours=1),
    private_key: str | None = None,
    roles: Sequence[str] = (),
    name: str | None = None,
) -> str:
    """A signed token for `user_id` (HS256 with JWT_SECRET, or RS256 with `private_key`),
    with the `name` claim when a display name is given."""
    now = datetime.now(UTC)
    claims: dict[str, object] = {"sub": str(user_id), "iat": now, "exp": now + ttl}
    if roles:
        claims["roles"] = list(roles)
    if name:
        claims["name"] = name
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience
    if settings.jwt_issuer:
        claims["iss"] = settings.jwt_issuer
    if settings.jwt_algorithm == "RS256":
        if private_key is None:
            raise ValueError("RS256 tokens need a private key")
        return jwt.encode(claims, private_key, algorithm="RS256")
    if settings.jwt_secret is None:
        raise ValueError("HS256 tokens need JWT_SECRET")
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")
