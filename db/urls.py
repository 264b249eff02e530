"""Conversions between the one configured Postgres URL and what each driver expects.

Every connection (pool, listener, worker, migrations) is made by asyncpg from `asyncpg_dsn`,
so the URL's libpq-style TLS parameters (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`) mean the
same for all of them. Without `sslmode` asyncpg uses `prefer`: TLS if the server offers it,
with no check of its certificate, else plain text; `unverified_tls` says so for remote hosts.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit, urlunsplit

_SCHEMES = ("postgresql", "postgres", "postgresql+asyncpg")
_VERIFIED = ("verify-ca", "verify-full")
_LOCAL_HOSTS = ("", "localhost", "127.0.0.1", "::1")


def asyncpg_dsn(url: str) -> str:
    """The URL in the form asyncpg accepts (`postgresql://...`)."""
    parts = urlsplit(url)
    if parts.scheme not in _SCHEMES:
        raise ValueError(f"not a Postgres URL: scheme {parts.scheme!r}")
    return urlunsplit(parts._replace(scheme="postgresql"))


def sqlalchemy_url(url: str) -> str:
    """The URL in the form SQLAlchemy's asyncpg dialect accepts."""
    return "postgresql+asyncpg" + asyncpg_dsn(url)[len("postgresql") :]


def with_database(url: str, database: str) -> str:
    """The same server, another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


def database_name(url: str) -> str:
    """The database a URL names."""
    return urlsplit(url).path.lstrip("/")


def unverified_tls(url: str) -> str | None:
    """Why the connection to a remote host in `url` is not known to be private; None if it is.

    Local hosts and Unix sockets need no TLS; elsewhere only `verify-ca`/`verify-full` check
    whom the connection reaches.
    """
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    host = (query.get("host") or [parts.hostname or ""])[0]
    if host.startswith("/") or host in _LOCAL_HOSTS:
        return None
    mode = (query.get("sslmode") or ["prefer"])[-1]
    if mode in _VERIFIED:
        return None
    return (
        f"the database connection to {host} uses sslmode={mode}: the server's certificate is "
        "not checked (add sslmode=verify-full&sslrootcert=/path/to/ca.pem to the URL)"
    )
