"""Settings of the HTTP edge: tokens, cookies, CORS, request limits, the development login.

The edge serves the live core and the notification records, so its settings include theirs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import NoDecode

from ..live.settings import LiveSettings
from ..notifications.settings import NotificationSettings
from .jwt_keys import read_jwks

# Secrets that were published (in this repository's history or docs): never accepted.
PUBLISHED_SECRETS = frozenset({"dev-only-insecure-secret-change-me"})
MIN_SECRET_BYTES = 32
MIN_SECRET_DISTINCT = 8  # distinct characters: refuses "aaaa…" and short repeated words

# What a browser sends in `Origin`: lower-case scheme and host, a port only when not the default,
# nothing after it. Starlette compares origins as strings, so anything else would never match.
_ORIGIN = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://"
    r"(?P<host>[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|\[[0-9a-f:.]+\])"
    r"(:(?P<port>[1-9][0-9]{0,4}))?"
)
_DEFAULT_PORTS = {"http": "80", "https": "443"}
_CORS_EXAMPLE = 'CORS_ORIGINS must be a JSON list of origins, e.g. ["https://app.example"]'


def check_origin(origin: str) -> str:
    """`origin` when it is a plain `scheme://host[:port]` as browsers send it; else ValueError."""
    if origin.strip() == "*":
        raise ValueError(
            "CORS_ORIGINS: '*' is refused: the API answers with credentials (the session "
            "cookie), so every allowed origin must be named"
        )
    match = _ORIGIN.fullmatch(origin)
    if match is None or int(match["port"] or 1) > 65535:
        raise ValueError(
            f"CORS_ORIGINS: {origin!r} is not an origin: write scheme://host[:port] in lower "
            "case, with no path, no trailing slash, no wildcard (e.g. https://app.example)"
        )
    if _DEFAULT_PORTS.get(match["scheme"]) == match["port"]:
        raise ValueError(
            f"CORS_ORIGINS: {origin!r} names the default port, which browsers leave out of "
            f"Origin: write {match['scheme']}://{match['host']}"
        )
    return origin


MIN_METRICS_TOKEN = 16


def check_secret(secret: str) -> str:
    """`secret` when it is fit to sign tokens; else ValueError saying why."""
    if secret in PUBLISHED_SECRETS:
        raise ValueError("JWT_SECRET is a published example secret: generate your own")
    if len(secret.encode()) < MIN_SECRET_BYTES:
        raise ValueError(f"JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes")
    if len(set(secret)) < MIN_SECRET_DISTINCT:
        raise ValueError(
            "JWT_SECRET is too repetitive: use random bytes (e.g. openssl rand -hex 32)"
        )
    return secret


class HttpSettings(LiveSettings, NotificationSettings):
    """Who may call, from where, and how much they may send."""

    jwt_secret: SecretStr | None = Field(
        default=None,
        description="HS256 secret (32+ bytes, not a published or repetitive one) that signs "
        "tokens. Unset with the embedded database: a random one kept in DATA_DIR.",
    )
    jwt_algorithm: Literal["HS256", "RS256"] = Field(
        default="HS256", description="HS256 (JWT_SECRET) or RS256 (JWT_PUBLIC_KEY)."
    )
    jwt_public_key: str | None = Field(
        default=None, description="PEM public key that verifies RS256 tokens."
    )
    jwt_audience: str | None = Field(default=None, description="Required `aud`, when set.")
    jwt_issuer: str | None = Field(default=None, description="Required `iss`, when set.")
    dev_login: bool | Literal["force"] | None = Field(
        default=None,
        description="POST /api/v1/dev/login: only on a loopback bind (`force`: on any, with a "
        "warning). Unset: on for the embedded database on a loopback bind.",
    )
    max_body_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Larger request bodies get 413, unread."
    )
    max_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        description="Larger request lines + headers get 431 and the connection is closed.",
    )
    head_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="A request head unfinished this long after its first byte (or the "
        "connection's opening) gets 408 and the connection is closed.",
    )
    metrics_token: SecretStr | None = Field(
        default=None, description="When set, GET /metrics needs `Authorization: Bearer <it>`."
    )
    backlog: int = Field(
        default=4096, ge=1, description="Listen backlog: room for a reconnect storm's SYNs."
    )
    admin_role: str = Field(
        default="admin",
        min_length=1,
        description="Tokens whose `roles` (a list) or `role` claim holds this read /api/v1/admin.",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins given credentialed CORS (a JSON list); no `*`. Empty: none.",
    )
    cookie_samesite: Literal["lax", "strict", "none"] = Field(
        default="lax",
        description="SameSite of the access_token cookie; `none` (cross-site) implies Secure.",
    )
    cookie_secure: bool | Literal["auto"] = Field(
        default="auto",
        description="Secure attribute of the cookie; `auto`: when the request came over HTTPS.",
    )

    shutdown_requests_seconds: float = Field(
        default=5,
        ge=0,
        description="On SIGTERM, after the drain, how long other requests in flight may take.",
    )

    jwt_extra_secrets: Annotated[list[SecretStr], NoDecode] = Field(
        default_factory=list,
        description="HS256 secrets that also verify tokens (a JSON list), never sign: the old "
        "or the next one during a rotation (docs/deployment.md). Empty: JWT_SECRET only.",
    )

    jwt_jwks_file: Path | None = Field(
        default=None,
        description="A JSON Web Key Set file whose RSA keys also verify RS256 tokens; a token's "
        "`kid` picks its key. Read again when the file changes.",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _cors_origins_from_json(cls, value: Any) -> Any:
        if isinstance(value, str):  # from the environment: decoded here to word its errors
            if value.strip() == "*":
                check_origin(value)
            try:
                value = json.loads(value)
            except ValueError as error:
                raise ValueError(f"{_CORS_EXAMPLE}, not {value!r}") from error
        if not isinstance(value, list):
            raise ValueError(f"{_CORS_EXAMPLE}, not {value!r}")
        return value

    @field_validator("cors_origins")
    @classmethod
    def _cors_origins_are_origins(cls, value: list[str]) -> list[str]:
        return [check_origin(origin) for origin in value]

    @field_validator("jwt_secret")
    @classmethod
    def _secret_is_strong(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            check_secret(value.get_secret_value())
        return value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token_is_long(cls, value: SecretStr | None) -> SecretStr | None:
        # An empty METRICS_TOKEN= must not pass for a token (nor a guessable short one).
        if value is not None and len(value.get_secret_value().strip()) < MIN_METRICS_TOKEN:
            raise ValueError(
                f"METRICS_TOKEN must be at least {MIN_METRICS_TOKEN} characters (e.g. openssl "
                "rand -hex 16); unset it to serve /metrics without a token"
            )
        return value

    @field_validator("dev_login", mode="before")
    @classmethod
    def _dev_login_word(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("cookie_samesite", "cookie_secure", mode="before")
    @classmethod
    def _lower_case(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _samesite_none_is_secure(self) -> Self:
        if self.cookie_samesite == "none" and self.cookie_secure is False:
            raise ValueError(
                "COOKIE_SAMESITE=none needs a Secure cookie (browsers reject it otherwise): "
                "leave COOKIE_SECURE unset (auto) or set it to true"
            )
        return self

    @field_validator("jwt_extra_secrets", mode="before")
    @classmethod
    def _extra_secrets_from_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value) if value.strip() else []
            except ValueError as error:
                raise ValueError("JWT_EXTRA_SECRETS must be a JSON list of secrets") from error
        if not isinstance(value, list):
            raise ValueError("JWT_EXTRA_SECRETS must be a JSON list of secrets")
        return value

    @field_validator("jwt_extra_secrets")
    @classmethod
    def _extra_secrets_are_strong(cls, value: list[SecretStr]) -> list[SecretStr]:
        for secret in value:
            try:
                check_secret(secret.get_secret_value())
            except ValueError as error:
                raise ValueError(str(error).replace("JWT_SECRET", "JWT_EXTRA_SECRETS")) from error
        return value

    @model_validator(mode="after")
    def _keys_match_the_algorithm(self) -> Self:
        if self.jwt_extra_secrets and self.jwt_algorithm != "HS256":
            raise ValueError("JWT_EXTRA_SECRETS verify HS256 tokens: with RS256 use JWT_JWKS_FILE")
        if self.jwt_jwks_file is not None:
            if self.jwt_algorithm != "RS256":
                raise ValueError("JWT_JWKS_FILE holds RS256 keys: set JWT_ALGORITHM=RS256")
            read_jwks(self.jwt_jwks_file)
        return self

    @property
    def dev_login_enabled(self) -> bool:
        """Whether the development login is on (the CLI decides it from the bind address)."""
        return self.dev_login is True or self.dev_login == "force"
