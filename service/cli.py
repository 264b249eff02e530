"""The `vividly-notify` command line."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import ssl
import sys
import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from types import FrameType
from typing import Any, TextIO, TypeVar

import asyncpg
import click
from pydantic import ValidationError

from db.embedded import start_embedded_postgres
from db.pool import connect, create_pool
from db.urls import unverified_tls

from .channels.push import keys as push_keys
from .http import exposure
from .http.auth import mint_token
from .live import channel_mode
from .live.channel_mode import MAX_SHARDS, ChannelMode
from .runtime import logs
from .settings import Settings

T = TypeVar("T")

# The app, the server, the worker and the migrations (SQLAlchemy) are imported by the commands
# that use them: together 1.8 s of start-up that `token`, `channels` or `--help` have no use for.


def load_settings() -> Settings:
    """The environment's settings; a bad value stops the command with its reason, no traceback."""
    try:
        return Settings()
    except ValidationError as error:
        reasons = []
        for problem in error.errors():
            reason = problem["msg"].removeprefix("Value error, ")
            name = "_".join(str(part) for part in problem["loc"]).upper()
            reasons.append(reason if not name or reason.startswith(name) else f"{name}: {reason}")
        raise click.UsageError("invalid configuration: " + "; ".join(reasons)) from error


def resolve_database(settings: Settings) -> Settings:
    """Settings whose `database_url` is set: the configured one, or the embedded server's.

    With the embedded database and no JWT_SECRET, the secret is the data directory's own
    (generated on first run).
    """
    if settings.database_url is not None:
        return settings
    url = start_embedded_postgres(settings.data_dir)
    update: dict[str, object] = {"database_url": url}
    if settings.jwt_secret is None:
        update["jwt_secret"] = _refusing(exposure.data_dir_secret, settings.data_dir, create=True)
    return settings.model_copy(update=update)


def _refusing(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return function(*args, **kwargs)
    except exposure.Refused as error:
        raise click.UsageError(str(error)) from error


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    # uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown; without a handler the process
    # would die of the signal and skip atexit, leaving the embedded Postgres running.
    sys.exit(0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Real-time notifications that live inside Postgres."""
    logs.configure()


@contextlib.contextmanager
def _database_errors(*more: type[Exception]) -> Iterator[None]:
    """A database that cannot be reached or refuses stops the command with why, no traceback
    (`more`: the errors of another driver, SQLAlchemy's for the migrations)."""
    try:
        yield
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, *more) as error:
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        if isinstance(error, ssl.SSLError):
            reason += (
                " (TLS to the database: with sslmode=verify-ca or verify-full, sslrootcert must "
                "name the authority that signed the server's certificate, and with verify-full "
                "the URL's host must be one the certificate names)"
            )
        raise click.ClickException(f"database: {reason}") from error


def _warn_unverified(*urls: str | None) -> None:
    for url in {url for url in urls if url is not None}:
        if (reason := unverified_tls(url)) is not None:
            logging.getLogger(__name__).warning(reason)


def _migrate(settings: Settings) -> None:
    from sqlalchemy.exc import DBAPIError  # alembic's driver: only the migrations raise it

    from db import migrate as migrations

    assert settings.database_url is not None
    with _database_errors(DBAPIError):
        migrations.upgrade(
            settings.database_url,
            lock_timeout=settings.migration_lock_timeout_seconds,
            attempts=settings.migration_attempts,
        )


@main.command()
def migrate() -> None:
    """Migrate the database (DATABASE_URL, or the embedded one) to the latest schema."""
    settings = resolve_database(load_settings())
    _warn_unverified(settings.database_url)
    _migrate(settings)
    click.echo("database migrated to head")


HOST_OPTION = click.option(
    "--host", default=None, help="Address to bind (default: HOST or 127.0.0.1)."
)
PORT_OPTION = click.option(
    "--port", default=None, type=int, help="Port to bind (default: PORT or 8000)."
)
MIGRATE_OPTION = click.option(
    "--migrate/--no-migrate",
    default=None,
    help="Migrate before serving. Default: `run` does; `serve` only on the embedded database "
    "(with DATABASE_URL, run `vividly-notify migrate` as a step of its own before the replicas).",
)


@main.command()
@HOST_OPTION
@PORT_OPTION
@MIGRATE_OPTION
def serve(host: str | None, port: int | None, migrate: bool | None) -> None:
    """Serve the API and the web client (migrating first only with --migrate or embedded)."""
    _serve(host, port, with_worker=False, migrate=migrate)


@main.command()
@HOST_OPTION
@PORT_OPTION
@MIGRATE_OPTION
def run(host: str | None, port: int | None, migrate: bool | None) -> None:
    """The whole product in one process: migrate, serve the API and web client, run a worker."""
    _serve(host, port, with_worker=True, migrate=True if migrate is None else migrate)


@main.command()
def worker() -> None:
    """Claim content requests and produce their videos until SIGTERM (run `migrate` first)."""
    settings = resolve_database(load_settings())
    assert settings.database_url is not None
    logging.getLogger().setLevel(settings.log_level.upper())
    _warn_unverified(settings.database_url, settings.listen_database_url)
    with _database_errors():
        asyncio.run(_work(settings.database_url, settings))


async def _work(url: str, settings: Settings) -> None:
    from .requests import metrics as worker_metrics
    from .requests.worker import create_worker

    pool = await create_pool(url, min_size=1, max_size=3)
    metrics_server = None
    try:
        content_worker = create_worker(url, pool, settings)
        if settings.worker_metrics_port is not None:
            registry = worker_metrics.worker_registry(content_worker, pool)
            metrics_server = await worker_metrics.serve_metrics(
                registry, settings.host, settings.worker_metrics_port, settings.metrics_token
            )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, content_worker.stop)
        await content_worker.run()
    finally:
        if metrics_server is not None:
            metrics_server.close()
        await pool.close()


def _raise_open_file_limit() -> None:
    # Every open stream is a socket: allow as many as the hard limit does.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _serve(host: str | None, port: int | None, *, with_worker: bool, migrate: bool | None) -> None:
    _raise_open_file_limit()
    configured = load_settings()
    bind = host or configured.host
    embedded = configured.database_url is None
    if configured.jwt_algorithm == "HS256" and configured.jwt_secret is None and not embedded:
        raise click.UsageError(
            "set JWT_SECRET (32+ random bytes, e.g. `openssl rand -hex 32`): it signs the tokens"
        )
    dev_login = _refusing(exposure.dev_login_on, configured, bind, embedded=embedded)
    settings = resolve_database(configured).model_copy(update={"dev_login": dev_login})
    assert settings.database_url is not None
    logging.getLogger().setLevel(settings.log_level.upper())
    _warn_unverified(settings.database_url, settings.listen_database_url)
    if embedded if migrate is None else migrate:
        _migrate(settings)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    from .app import create_app
    from .http.server import Server, server_config

    app = create_app(settings, with_worker=with_worker)
    config = server_config(
        app,
        settings,
        host=bind,
        port=settings.port if port is None else port,
        log_level=settings.log_level,
        access_log=settings.access_log,  # false: no handler, and the stream protocol sees it
        log_config=None,  # uvicorn's records go to the JSON handler `logs.configure` set up
        backlog=settings.backlog,
    )
    Server(app, config).run()


@main.command()
@click.option(
    "--days",
    required=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Delete read or archived notifications older than this many days.",
)
def prune(days: float) -> None:
    """Delete read or archived notifications older than --days (unread ones stay)."""
    from .ops import retention
    from .requests import media

    settings = resolve_database(load_settings())
    assert settings.database_url is not None

    async def run(url: str) -> int | None:
        connection = await connect(url)
        try:
            return await retention.prune(
                connection,
                days=days,
                media_dir=settings.media_dir,
                delete_media=media.delete,
                batch_size=settings.retention_batch_size,
            )
        finally:
            await connection.close()

    with _database_errors():
        deleted = asyncio.run(run(settings.database_url))
    if deleted is None:
        click.echo("retention is running in another process: nothing deleted")
    else:
        click.echo(f"deleted {deleted} notifications")


@main.group("channels")
def notify_channels() -> None:
    """The channels users' NOTIFYs go out on: per-user (the default) or shards.

    One setting in the database, read by the triggers and every listener; changing it switches
    running servers without losing anything (docs/deployment.md, "Channel mode").
    """


def _channels(change: ChannelMode | None) -> None:
    settings = resolve_database(load_settings())
    assert settings.database_url is not None

    async def run(url: str) -> ChannelMode:
        connection = await connect(url)
        try:
            if change is None:
                return await channel_mode.read_mode(connection)
            return await channel_mode.set_mode(connection, change)
        finally:
            await connection.close()

    with _database_errors():
        mode = asyncio.run(run(settings.database_url))
    click.echo(f"channels: {mode}")


@notify_channels.command("show")
def channels_show() -> None:
    """Print the channel mode in use."""
    _channels(None)


@notify_channels.command("per-user")
def channels_per_user() -> None:
    """One channel per user (the default; best on PostgreSQL 19 and later)."""
    _channels(ChannelMode())


@notify_channels.command("shards")
@click.option(
    "--count",
    default=64,
    show_default=True,
    type=click.IntRange(1, MAX_SHARDS),
    help="Shard channels; every listener LISTENs all of them.",
)
def channels_shards(count: int) -> None:
    """A fixed number of shard channels, the user in the payload (PostgreSQL 18 and earlier
    with many streams per listener)."""
    _channels(ChannelMode(count))


@main.command()
@click.argument("user_id", type=click.UUID)
@click.option(
    "--ttl",
    default=3600,
    show_default=True,
    type=click.IntRange(min=1),
    help="Lifetime in seconds.",
)
@click.option(
    "--private-key-file",
    type=click.File("r"),
    default=None,
    help="PEM private key, for JWT_ALGORITHM=RS256.",
)
@click.option(
    "--role",
    "roles",
    multiple=True,
    help="A role for the token's `roles` claim (repeatable); ADMIN_ROLE reads /admin.",
)
def token(
    user_id: uuid.UUID, ttl: int, private_key_file: TextIO | None, roles: tuple[str, ...]
) -> None:
    """Print an access token for USER_ID, signed with this deployment's settings."""
    private_key = private_key_file.read() if private_key_file is not None else None
    settings = load_settings()
    if settings.jwt_secret is None and settings.database_url is None:
        # The embedded product's own secret, when it has run once.
        secret = _refusing(exposure.data_dir_secret, settings.data_dir, create=False)
        settings = settings.model_copy(update={"jwt_secret": secret})
    if settings.jwt_algorithm == "HS256" and settings.jwt_secret is None:
        raise click.UsageError("set JWT_SECRET (or run the embedded product once to create one)")
    click.echo(
        mint_token(
            user_id,
            settings,
            ttl=timedelta(seconds=ttl),
            private_key=private_key,
            roles=roles,
        )
    )


@main.command("vapid-keys")
def vapid_keys() -> None:
    """Print a new VAPID key pair for Web Push, as environment variables."""
    public, private = push_keys.new_pair()
    click.echo(f"VAPID_PUBLIC_KEY={public}")
    click.echo(f"VAPID_PRIVATE_KEY={private}")
