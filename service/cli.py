"""The `vividly-notify` command line."""

from __future__ import annotations

import asyncio
import logging
import resource
import signal
import sys
import uuid
from datetime import timedelta
from types import FrameType
from typing import TextIO

import click
import uvicorn
from pydantic import ValidationError

from db import migrate as migrations
from db.embedded import start_embedded_postgres
from db.pool import connect, create_pool

from . import logs, retention
from .app import create_app
from .auth import mint_token
from .server import Server
from .settings import DEV_JWT_SECRET, Settings
from .worker import create_worker


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

    The embedded database is for trying the product out: it turns the development login on
    (unless DEV_LOGIN says otherwise).
    """
    if settings.database_url is not None:
        return settings
    url = start_embedded_postgres(settings.data_dir)
    dev_login = True if settings.dev_login is None else settings.dev_login
    return settings.model_copy(update={"database_url": url, "dev_login": dev_login})


def _exit_cleanly(signum: int, frame: FrameType | None) -> None:
    # uvicorn re-raises SIGINT/SIGTERM after its graceful shutdown; without a handler the process
    # would die of the signal and skip atexit, leaving the embedded Postgres running.
    sys.exit(0)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Real-time notifications that live inside Postgres."""
    logs.configure()


@main.command()
def migrate() -> None:
    """Migrate the database (DATABASE_URL, or the embedded one) to the latest schema."""
    settings = resolve_database(load_settings())
    assert settings.database_url is not None
    migrations.upgrade(settings.database_url)
    click.echo("database migrated to head")


HOST_OPTION = click.option(
    "--host", default=None, help="Address to bind (default: HOST or 127.0.0.1)."
)
PORT_OPTION = click.option(
    "--port", default=None, type=int, help="Port to bind (default: PORT or 8000)."
)


@main.command()
@HOST_OPTION
@PORT_OPTION
def serve(host: str | None, port: int | None) -> None:
    """Migrate, then serve the API and the web client."""
    _serve(host, port, with_worker=False)


@main.command()
@HOST_OPTION
@PORT_OPTION
def run(host: str | None, port: int | None) -> None:
    """The whole product in one process: migrate, serve the API and web client, run a worker."""
    _serve(host, port, with_worker=True)


@main.command()
def worker() -> None:
    """Claim content requests and produce their videos until SIGTERM (run `migrate` first)."""
    settings = resolve_database(load_settings())
    assert settings.database_url is not None
    logging.getLogger().setLevel(settings.log_level.upper())
    asyncio.run(_work(settings.database_url, settings))


async def _work(url: str, settings: Settings) -> None:
    pool = await create_pool(url, min_size=1, max_size=3)
    try:
        content_worker = create_worker(url, pool, settings)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, content_worker.stop)
        await content_worker.run()
    finally:
        await pool.close()


def _raise_open_file_limit() -> None:
    # Every open stream is a socket: allow as many as the hard limit does.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _serve(host: str | None, port: int | None, *, with_worker: bool) -> None:
    _raise_open_file_limit()
    settings = resolve_database(load_settings())
    assert settings.database_url is not None
    if (
        not settings.dev_login_enabled
        and settings.jwt_algorithm == "HS256"
        and settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET
    ):
        raise click.UsageError("set JWT_SECRET: the development secret is for DEV_LOGIN only")
    logging.getLogger().setLevel(settings.log_level.upper())
    migrations.upgrade(settings.database_url)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    app = create_app(settings, with_worker=with_worker)
    config = uvicorn.Config(
        app,
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level=settings.log_level,
        log_config=None,  # uvicorn's records go to the JSON handler `logs.configure` set up
        timeout_graceful_shutdown=5,
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
    settings = resolve_database(load_settings())
    assert settings.database_url is not None

    async def run(url: str) -> int:
        connection = await connect(url)
        try:
            return await retention.prune(connection, days=days)
        finally:
            await connection.close()

    click.echo(f"deleted {asyncio.run(run(settings.database_url))} notifications")


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
def token(user_id: uuid.UUID, ttl: int, private_key_file: TextIO | None) -> None:
    """Print an access token for USER_ID, signed with this deployment's settings."""
    private_key = private_key_file.read() if private_key_file is not None else None
    click.echo(
        mint_token(user_id, load_settings(), ttl=timedelta(seconds=ttl), private_key=private_key)
    )
