"""The `vividly-notify` command line."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import uuid
from datetime import timedelta
from types import FrameType
from typing import TextIO

import click
import uvicorn

from db import migrate as migrations
from db.embedded import start_embedded_postgres
from db.pool import connect

from . import retention
from .app import create_app
from .auth import mint_token
from .server import Server
from .settings import DEV_JWT_SECRET, Settings


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
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")


@main.command()
def migrate() -> None:
    """Migrate the database (DATABASE_URL, or the embedded one) to the latest schema."""
    settings = resolve_database(Settings())
    assert settings.database_url is not None
    migrations.upgrade(settings.database_url)
    click.echo("database migrated to head")


@main.command()
@click.option("--host", default=None, help="Address to bind (default: HOST or 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to bind (default: PORT or 8000).")
def serve(host: str | None, port: int | None) -> None:
    """Migrate, then serve the API and the web client."""
    settings = resolve_database(Settings())
    assert settings.database_url is not None
    if (
        not settings.dev_login_enabled
        and settings.jwt_algorithm == "HS256"
        and settings.jwt_secret.get_secret_value() == DEV_JWT_SECRET
    ):
        raise click.UsageError("set JWT_SECRET: the development secret is for DEV_LOGIN only")
    migrations.upgrade(settings.database_url)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=5,
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
    settings = resolve_database(Settings())
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
    click.echo(mint_token(user_id, Settings(), ttl=timedelta(seconds=ttl), private_key=private_key))
