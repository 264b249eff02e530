"""Service settings, read from the environment (and nothing else).

The settings object is passed to every factory that needs it; nothing reads a global.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from .digest.addresses import check_sender, is_loopback
from .jwt_keys import read_jwks
from .push import keys as push_keys
from .push.subscriptions import PRIVATE_SUFFIXES as LOCAL_DOMAINS

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
# The periods a student can choose for the email digest, and their default lengths in seconds.
DIGEST_PERIODS = {"hourly": 3600.0, "daily": 86400.0, "weekly": 604800.0}
SMTP_PORTS = {"starttls": 587, "tls": 465, "none": 25}


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


class Settings(BaseSettings):
    """Configuration of one process. Every field maps to an upper-case environment variable."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    database_url: str | None = Field(
        default=None,
        description="Postgres 15+ URL. Unset: an embedded Postgres (pgserver) in DATA_DIR.",
    )
    listen_database_url: str | None = Field(
        default=None,
        description="Where the listener LISTENs: the primary of DATABASE_URL, directly or "
        "through session pooling. Unset: DATABASE_URL.",
    )
    data_dir: Path = Field(
        default=Path(".data/postgres"),
        description="Data directory of the embedded Postgres; survives restarts.",
    )
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
    jwt_audience: str | None = Field(default=None, description="Required `aud`, when set.")
    jwt_issuer: str | None = Field(default=None, description="Required `iss`, when set.")
    dev_login: bool | Literal["force"] | None = Field(
        default=None,
        description="POST /api/v1/dev/login: only on a loopback bind (`force`: on any, with a "
        "warning). Unset: on for the embedded database on a loopback bind.",
    )
    sse_retry_ms: int = Field(default=3000, ge=0, description="`retry:` sent to browsers.")
    keepalive_seconds: float = Field(default=15, gt=0, description="Comment keepalive period.")
    max_streams_per_user: int = Field(default=3, ge=1, description="Open streams per user.")
    max_streams: int = Field(
        default=20_000, ge=1, description="Open streams per process; more get `unavailable`."
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
    stream_max_age_seconds: float = Field(
        default=3600, gt=0, description="A stream ends after this; the client resumes."
    )
    stream_queue_size: int = Field(
        default=256, ge=1, description="Events buffered per stream before it is dropped."
    )
    send_timeout_seconds: float = Field(
        default=10, gt=0, description="A stream whose send blocks longer is dropped."
    )
    unlisten_delay_seconds: float = Field(
        default=5, ge=0, description="UNLISTEN a user's channel this long after the last stream."
    )
    listener_heartbeat_seconds: float = Field(
        default=5, gt=0, description="Listener connection health check period (and timeout)."
    )
    gc_freeze_seconds: float = Field(
        default=0.25,
        ge=0,
        description="Freeze what survived into the permanent GC generation this often, so full "
        "collections skip idle streams (service/pauses.py). 0: off.",
    )
    gc_full_collect_seconds: float = Field(
        default=0,
        ge=0,
        description="Unfreeze and collect everything this often (one long pause) in case frozen "
        "objects became cyclic garbage. 0: never.",
    )
    replay_page_size: int = Field(
        default=500, ge=1, le=10_000, description="Rows per query when replaying a cursor."
    )
    host: str = Field(default="127.0.0.1", description="Address the API binds to.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port the API binds to.")
    backlog: int = Field(
        default=4096, ge=1, description="Listen backlog: room for a reconnect storm's SYNs."
    )
    pool_min_size: int = Field(default=1, ge=0, description="Minimum asyncpg pool connections.")
    pool_max_size: int = Field(default=10, ge=1, description="Maximum asyncpg pool connections.")
    retention_days: float | None = Field(
        default=None,
        gt=0,
        description="When set, `serve` deletes read/archived notifications older than this.",
    )
    retention_interval_seconds: float = Field(
        default=3600, gt=0, description="How often `serve` runs retention (with RETENTION_DAYS)."
    )
    media_dir: Path = Field(
        default=Path(".data/media"), description="Where the worker writes videos and thumbnails."
    )
    worker_lease_seconds: float = Field(
        default=30,
        gt=0,
        description="A claim not renewed for this long is taken by another worker.",
    )
    worker_poll_seconds: float = Field(
        default=5,
        gt=0,
        description="Idle workers also look for work this often (NOTIFY wakes them).",
    )
    worker_concurrency: int = Field(
        default=2, ge=1, le=64, description="Jobs one worker process runs at a time."
    )
    max_open_requests_per_student: int = Field(
        default=5, ge=1, description="Pending + processing requests per student; more get 429."
    )
    worker_max_attempts: int = Field(
        default=3, ge=1, description="Claims of one request before it is failed for good."
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=0,
        le=65535,
        description="`vividly-notify worker` serves GET /metrics on this port (on HOST; with "
        "METRICS_TOKEN, for that Bearer token only). Unset: no metrics port.",
    )
    worker_shutdown_grace_seconds: float = Field(
        default=10,
        ge=0,
        description="On SIGTERM, finish the current job within this, else release it.",
    )
    pipeline_stage_seconds: float = Field(
        default=1.0, ge=0, description="Simulated duration of each pipeline stage."
    )
    pipeline_failure_rate: float = Field(
        default=0.1, ge=0, le=1, description="Share of simulated jobs that fail."
    )
    pipeline_clarification_rate: float = Field(
        default=0.1, ge=0, le=1, description="Share of simulated jobs that ask for a clarification."
    )
    # -- reaching students who are away (issue 14): links, admin, Web Push, email digest --
    public_url: str | None = Field(
        default=None,
        description="Where browsers reach this service (scheme://host[:port], no path): the "
        "base of links in pushes and emails. Unset: http://HOST:PORT.",
    )
    video_link_template: str | None = Field(
        default=None,
        description="A notification's link, with {content_id}, e.g. "
        "https://app.example.com/video/{content_id}. Unset: the page on PUBLIC_URL.",
    )
    delivery_flush_seconds: float = Field(
        default=0.5,
        gt=0,
        le=1,
        description="How often a process writes the stream deliveries it recorded (one UPDATE).",
    )
    delivery_max_pending: int = Field(
        default=100_000,
        ge=100,
        description="Stream deliveries kept while the database is away; past it the oldest go.",
    )
    admin_role: str = Field(
        default="admin",
        min_length=1,
        description="Tokens whose `roles` (a list) or `role` claim holds this read /api/v1/admin.",
    )
    analytics_timeout_seconds: float = Field(
        default=10,
        gt=0,
        description="Statement timeout of the admin analytics query; past it the request gets "
        "a 503 (one such query runs at a time per process; another waits a second, then 429).",
    )
    analytics_min_group: int = Field(
        default=5,
        ge=1,
        description="Admin analytics show no numbers for a group (a type, a channel of a type) "
        "of fewer notifications than this (`suppressed: true`), so none isolates a student.",
    )
    # -- Web Push (service/push/) --
    vapid_public_key: str | None = Field(
        default=None,
        description="VAPID application-server public key: base64url of the uncompressed P-256 "
        "point (`vividly-notify vapid-keys` prints a pair). Web Push is off unless both are set "
        "(then VAPID_SUBJECT and PUBLIC_URL are required).",
    )
    vapid_private_key: SecretStr | None = Field(
        default=None,
        description="VAPID private key: base64url of the 32-byte P-256 scalar (or of its DER).",
    )
    vapid_subject: str | None = Field(
        default=None,
        description="Whom push services contact about this sender: mailto:you@example.com or an "
        "https:// URL on a public domain (Apple refuses localhost). Required with Web Push on.",
    )
    push_delay_seconds: float = Field(
        default=60,
        ge=0,
        description="Push a notification that was delivered to an open stream but not seen "
        "(and not read or archived) this long after it was created.",
    )
    push_stream_grace_seconds: float = Field(
        default=3,
        ge=0,
        description="A notification no stream took within this long after its creation is "
        "pushed (the stream's delivery record is written within about a second).",
    )
    push_ttl_seconds: int = Field(
        default=86_400,
        ge=0,
        le=2_419_200,
        description="TTL header: how long a push service keeps a push for an offline device; "
        "notifications older than this are never pushed.",
    )
    push_urgency: Literal["very-low", "low", "normal", "high"] = Field(
        default="normal", description="Urgency header of every push."
    )
    push_poll_seconds: float = Field(
        default=1, gt=0, description="How often the push dispatcher looks for due pushes."
    )
    push_max_attempts: int = Field(
        default=6, ge=1, description="Sends of one push (with backoff) before it is given up."
    )
    push_retry_seconds: float = Field(
        default=10,
        gt=0,
        description="First retry delay of a failed push; it doubles per attempt (up to an hour), "
        "or waits the push service's Retry-After when longer.",
    )
    push_timeout_seconds: float = Field(
        default=10, gt=0, description="Timeout of one request to a push service."
    )
    push_max_subscriptions_per_user: int = Field(
        default=20,
        ge=1,
        description="Devices per user; a newer subscription replaces the least recently renewed.",
    )
    push_allow_loopback: bool = Field(
        default=False,
        description="Tests only: accept http:// push endpoints on `localhost` or an IPv4 "
        "loopback literal (127.0.0.0/8; an [::1] literal is refused like every IP literal "
        "but these), and send to the loopback addresses they resolve to (127.0.0.0/8, ::1). "
        "Never set it on a public deployment.",
    )
    # -- email digest (service/digest/) --
    smtp_host: str | None = Field(
        default=None,
        description="SMTP server that sends email digests. Unset: no digest is made or sent "
        "(the log says so at start).",
    )
    smtp_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="SMTP port. Unset: 587 for starttls, 465 for tls, 25 for none.",
    )
    smtp_tls: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="starttls (upgrade a plain connection; refused if the server cannot), tls "
        "(TLS from the first byte) or none (loopback and tests only).",
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the CAs that may sign the SMTP server's certificate. Unset: "
        "the system's.",
    )
    smtp_username: str | None = Field(default=None, description="SMTP AUTH user, when set.")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP AUTH password.")
    smtp_timeout_seconds: float = Field(
        default=30,
        gt=0,
        le=600,
        description="Limit of one message's SMTP exchange (connecting included when it opens "
        "the connection). The sender's lease is this plus a margin.",
    )
    email_from: str | None = Field(
        default=None,
        description="From of the digests, `addr@example.com` or `Name <addr@example.com>`; "
        "needed with SMTP_HOST.",
    )
    digest_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs unsubscribe links (32+ bytes). Unset: derived from "
        "JWT_SECRET (so rotating that one ends the links already mailed).",
    )
    digest_period_seconds: Annotated[dict[str, float], NoDecode] = Field(
        default_factory=lambda: dict(DIGEST_PERIODS),
        description="Length of each period a student can choose, as JSON, e.g. "
        '{"hourly": 3600, "daily": 86400, "weekly": 604800} (the default).',
    )
    digest_min_age_seconds: float = Field(
        default=900,
        ge=0,
        description="A notification goes into a digest only once it is this old (time for the "
        "student to see it in the app).",
    )
    digest_poll_seconds: float = Field(
        default=30,
        gt=0,
        description="The sender looks for due digests at least this often (and sleeps no longer "
        "than until the next one it knows of).",
    )
    digest_retry_base_seconds: float = Field(
        default=60, gt=0, description="First retry delay of a failed send; doubles each time."
    )
    digest_retry_max_seconds: float = Field(
        default=3600, gt=0, description="Longest delay between two attempts of one digest."
    )
    digest_give_up_seconds: float = Field(
        default=3 * 86400,
        gt=0,
        description="A digest still not accepted this long after it was made is given up "
        "(`failed`); its notifications go into the student's next digest.",
    )
    digest_max_items: int = Field(
        default=50, ge=1, le=1000, description="Notifications listed in one email at most."
    )
    digest_unsubscribe_days: float = Field(
        default=365, gt=0, description="How long an emailed unsubscribe link stays valid."
    )

    log_level: str = Field(default="info", description="uvicorn and service log level.")
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
    def _keys_match_the_algorithm(self) -> Settings:
        if self.jwt_extra_secrets and self.jwt_algorithm != "HS256":
            raise ValueError("JWT_EXTRA_SECRETS verify HS256 tokens: with RS256 use JWT_JWKS_FILE")
        if self.jwt_jwks_file is not None:
            if self.jwt_algorithm != "RS256":
                raise ValueError("JWT_JWKS_FILE holds RS256 keys: set JWT_ALGORITHM=RS256")
            read_jwks(self.jwt_jwks_file)
        return self

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
    def _samesite_none_is_secure(self) -> Settings:
        if self.cookie_samesite == "none" and self.cookie_secure is False:
            raise ValueError(
                "COOKIE_SAMESITE=none needs a Secure cookie (browsers reject it otherwise): "
                "leave COOKIE_SECURE unset (auto) or set it to true"
            )
        return self

    @field_validator("public_url")
    @classmethod
    def _public_url_is_a_base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parsed = urlsplit(value.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError(f"PUBLIC_URL must be http(s)://host[:port], not {value!r}")
        if parsed.path.strip("/") or parsed.query or parsed.fragment:
            raise ValueError(f"PUBLIC_URL takes no path, query or fragment: {value!r}")
        return f"{parsed.scheme}://{parsed.netloc}"

    @field_validator("video_link_template")
    @classmethod
    def _template_names_the_content(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                link = value.format(content_id="00000000-0000-0000-0000-000000000000")
            except (KeyError, IndexError, ValueError) as error:
                raise ValueError(
                    f"VIDEO_LINK_TEMPLATE may name only {{content_id}}: {value!r}"
                ) from error
            if urlsplit(link).scheme not in ("http", "https") or "{content_id}" not in value:
                raise ValueError(
                    f"VIDEO_LINK_TEMPLATE must be an http(s) URL with {{content_id}}: {value!r}"
                )
        return value

    @field_validator("vapid_subject")
    @classmethod
    def _vapid_subject_is_contact(cls, value: str | None) -> str | None:
        if value is None:
            return None
        found = re.fullmatch(
            r"mailto:[^@\s]+@([^@\s/?]+)|https://([^\s/:?#]+)(:\d+)?(/\S*)?", value
        )
        domain = found and (found.group(1) or found.group(2) or "").lower().rstrip(".")
        if not domain:
            raise ValueError(
                f"VAPID_SUBJECT must be mailto:you@example.com or an https:// URL, not {value!r}"
            )
        if "." not in domain or domain == "localhost" or domain.endswith(LOCAL_DOMAINS):
            raise ValueError(
                f"VAPID_SUBJECT must name a public domain (push services such as Apple's refuse "
                f"{domain!r}): e.g. mailto:ops@your-school.example, not {value!r}"
            )
        return value

    @model_validator(mode="after")
    def _vapid_keys_pair(self) -> Settings:
        if (self.vapid_public_key is None) != (self.vapid_private_key is None):
            raise ValueError(
                "set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY (`vividly-notify vapid-keys` "
                "prints a pair), or neither to leave Web Push off"
            )
        if self.vapid_public_key is not None and self.vapid_private_key is not None:
            push_keys.check_pair(self.vapid_public_key, self.vapid_private_key.get_secret_value())
            if self.vapid_subject is None:
                raise ValueError(
                    "Web Push needs VAPID_SUBJECT: a contact for push services, "
                    "mailto:ops@your-school.example or an https:// URL"
                )
            if self.public_url is None:
                raise ValueError(
                    "Web Push is on: set PUBLIC_URL too (the links in pushes must reach this "
                    f"service from a student's device, not {self.base_url})"
                )
        return self

    @model_validator(mode="after")
    def _push_ttl_outlives_the_delays(self) -> Settings:
        # A notification is pushed no earlier than the grace (or the delay) and never past the
        # TTL: a TTL shorter than both would push nothing.
        if self.push_ttl_seconds <= max(self.push_stream_grace_seconds, self.push_delay_seconds):
            raise ValueError(
                f"PUSH_TTL_SECONDS ({self.push_ttl_seconds}) must be longer than "
                f"PUSH_STREAM_GRACE_SECONDS and PUSH_DELAY_SECONDS"
            )
        return self

    @property
    def push_enabled(self) -> bool:
        """Whether Web Push is on (both VAPID keys set)."""
        return self.vapid_public_key is not None and self.vapid_private_key is not None

    @field_validator("digest_secret")
    @classmethod
    def _digest_secret_is_strong(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            try:
                check_secret(value.get_secret_value())
            except ValueError as error:
                raise ValueError(str(error).replace("JWT_SECRET", "DIGEST_SECRET")) from error
        return value

    @field_validator("digest_period_seconds", mode="before")
    @classmethod
    def _periods_from_json(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError as error:
                raise ValueError(f"DIGEST_PERIOD_SECONDS must be JSON, not {value!r}") from error
        return value

    @field_validator("digest_period_seconds")
    @classmethod
    def _periods_are_the_periods(cls, value: dict[str, float]) -> dict[str, float]:
        if set(value) != set(DIGEST_PERIODS) or any(seconds <= 0 for seconds in value.values()):
            raise ValueError(
                f"DIGEST_PERIOD_SECONDS must give each of {sorted(DIGEST_PERIODS)} a positive "
                f"number of seconds, not {value!r}"
            )
        return value

    @field_validator("smtp_tls", mode="before")
    @classmethod
    def _tls_word(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("smtp_host", "email_from", "smtp_username", mode="before")
    @classmethod
    def _blank_is_unset(cls, value: Any) -> Any:
        # `SMTP_HOST=` in an env file means "off", not "a host named ''".
        if isinstance(value, str) and not value.strip():
            return None
        return value.strip() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _digest_can_send(self) -> Settings:
        if self.smtp_host is None:
            return self
        if self.email_from is None:
            raise ValueError("SMTP_HOST is set: set EMAIL_FROM too (the digests' sender)")
        check_sender(self.email_from)
        if self.digest_secret is None and self.jwt_secret is None and self.jwt_algorithm == "RS256":
            raise ValueError(
                "SMTP_HOST is set with RS256 tokens: set DIGEST_SECRET (the key of the digests' "
                "unsubscribe links; with HS256 it is derived from JWT_SECRET)"
            )
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("set both SMTP_USERNAME and SMTP_PASSWORD, or neither")
        if self.digest_retry_max_seconds < self.digest_retry_base_seconds:
            raise ValueError("DIGEST_RETRY_MAX_SECONDS must not be below DIGEST_RETRY_BASE_SECONDS")
        if self.smtp_tls == "none" and not is_loopback(self.smtp_host):
            raise ValueError(
                "SMTP_TLS=none sends passwords and addresses in plain text: it is allowed only "
                "with an SMTP_HOST on this machine (localhost, 127.0.0.1, ::1), not "
                f"{self.smtp_host!r}; use starttls or tls"
            )
        if self.public_url is None:
            raise ValueError(
                "SMTP_HOST is set: set PUBLIC_URL too (the links in digests must reach this "
                f"service from a mailbox, not {self.base_url})"
            )
        return self

    @property
    def smtp_port_or_default(self) -> int:
        """SMTP_PORT, else the usual port of SMTP_TLS."""
        return self.smtp_port if self.smtp_port is not None else SMTP_PORTS[self.smtp_tls]

    @property
    def base_url(self) -> str:
        """PUBLIC_URL, else where this process is bound (links in pushes and emails)."""
        if self.public_url is not None:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def dev_login_enabled(self) -> bool:
        """Whether the development login is on (the CLI decides it from the bind address)."""
        return self.dev_login is True or self.dev_login == "force"
