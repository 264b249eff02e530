"""The `vividly-notify` command line."""

from __future__ import annotations

import logging
import signal
import sys
from types import FrameType

import click
import uvicorn

from db import migrate as migrations
from db.embedded import start_embedded_postgres

from .app import create_app
from .settings import Settings


def resolve_database(settings: Settings) -> Settings:
    """Settings whose `database_url` is set: the configured one, or the embedded server's."""
    if settings.database_url is not None:
        return settings
    url = start_embedded_postgres(settings.data_dir)
    return settings.model_copy(update={"database_url": url})


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
    migrations.upgrade(settings.database_url)
    signal.signal(signal.SIGTERM, _exit_cleanly)
    signal.signal(signal.SIGINT, _exit_cleanly)
    uvicorn.run(
        create_app(settings),
        host=host or settings.host,
        port=settings.port if port is None else port,
        log_level=settings.log_level,
        timeout_graceful_shutdown=5,
    )
