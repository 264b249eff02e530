"""Settings every part of a process shares: where it runs, its database, its public address.

Each package has a settings class of its own, built on this one (`service/settings.py` composes
them into the one object a process reads from the environment); a module takes the class of its
own package, so nothing imports the composed settings but the application's root.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _is_loopback_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CoreSettings(BaseSettings):
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
    host: str = Field(default="127.0.0.1", description="Address the API binds to.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port the API binds to.")
    pool_min_size: int = Field(default=1, ge=0, description="Minimum asyncpg pool connections.")
    pool_max_size: int = Field(default=10, ge=1, description="Maximum asyncpg pool connections.")
    media_dir: Path = Field(
        default=Path(".data/media"), description="Where the worker writes videos and thumbnails."
    )
    public_url: str | None = Field(
        default=None,
        description="Where browsers reach this service (scheme://host[:port], no path): the "
        "base of links in pushes and emails. Unset: http://HOST:PORT.",
    )
    log_level: str = Field(default="info", description="uvicorn and service log level.")
    access_log: bool = Field(
        default=True,
        description="One INFO line per HTTP request and stream (uvicorn's access log). Under "
        "thousands of connects a second (a reconnect storm) it is about a third of a stream's "
        "connect CPU (bench/RESULTS.md); false drops those lines only.",
    )
    gc_freeze_seconds: float = Field(
        default=0.1,
        ge=0,
        description="Freeze what survived into the permanent GC generation this often, so full "
        "collections skip idle streams (service/runtime/pauses.py). 0: off.",
    )
    gc_full_collect_seconds: float = Field(
        default=0,
        ge=0,
        description="Unfreeze and collect everything this often (one long pause) in case frozen "
        "objects became cyclic garbage. 0: never.",
    )

    migration_lock_timeout_seconds: float = Field(
        default=5,
        gt=0,
        description="A migration waits no longer than this for a lock (the queries behind it "
        "wait as long), then gives up and is retried with backoff.",
    )

    migration_attempts: int = Field(
        default=10, ge=1, description="Runs of a migration that gives up on a lock, in all."
    )

    listener_tcp_timeout_seconds: float = Field(
        default=30,
        ge=4,
        description="The database drops a LISTEN connection (the listener's, a worker's) within "
        "about this long after its process vanished (TCP keepalives, tcp_user_timeout).",
    )

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

    def require_https(self, what: str) -> None:
        """ValueError unless PUBLIC_URL is https, or plain http on the loopback (a developer's
        machine): links mailed and pushed carry signed tokens, and one-click unsubscribe
        (RFC 8058) needs HTTPS."""
        parts = urlsplit(self.public_url or "")
        host = (parts.hostname or "").lower().rstrip(".")
        if parts.scheme == "https" or host == "localhost" or _is_loopback_ip(host):
            return
        raise ValueError(
            f"PUBLIC_URL must be https:// with {what} on, not {self.public_url!r}: the links in "
            "emails and pushes carry signed tokens and one-click unsubscribe needs HTTPS "
            "(plain http is allowed only on localhost or a loopback address)"
        )

    @property
    def base_url(self) -> str:
        """PUBLIC_URL, else where this process is bound (links in pushes and emails)."""
        if self.public_url is not None:
            return self.public_url
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"
