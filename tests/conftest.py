"""Shared fixtures: a real Postgres for the whole session, a fresh database per test module.

The server is TEST_DATABASE_URL when set, else an embedded pgserver started for this session.
A template database is migrated once; each module gets its own clone of it (fast, isolated).
`server` serves the app on that database, one per module; a module that needs other settings
overrides `server_settings`.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Literal

import asyncpg
import pytest

from db import migrate
from db.pool import connect
from db.urls import asyncpg_dsn, database_name, with_database
from service.live.channel_mode import PER_USER, ChannelMode, set_mode
from service.settings import Settings
from tests.support import channel_modes
from tests.support.mailbox import Mailbox, smtp_server
from tests.support.server import RunningServer, running_server, settings_for


async def _admin(url: str, *statements: str) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for statement in statements:
            await connection.execute(statement)
    finally:
        await connection.close()


def admin(url: str, *statements: str) -> None:
    """Run statements (CREATE/DROP DATABASE) outside a transaction, from synchronous code."""
    asyncio.run(_admin(url, *statements))


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a maintenance database on the test server."""
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        return configured
    from db.embedded import start_embedded_postgres

    return start_embedded_postgres(tmp_path_factory.mktemp("pg") / "data", delete_on_exit=True)


def create_database(server_url: str, *, template: str | None = None) -> str:
    """Create a uniquely named database (optionally cloned from `template`); return its URL."""
    name = f"vividly_test_{uuid.uuid4().hex[:12]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    admin(server_url, f'CREATE DATABASE "{name}"{clause}')
    return with_database(server_url, name)


def drop_database(server_url: str, url: str) -> None:
    """Drop the database at `url`, disconnecting whoever is still on it."""
    name = database_name(url)
    admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def template_url(server_url: str) -> Iterator[str]:
    """A database migrated to head, used only as a template."""
    url = create_database(server_url)
    migrate.upgrade(url)
    yield url
    drop_database(server_url, url)


@pytest.fixture(scope="module")
def channel_mode() -> ChannelMode:
    """The channel mode of this module's database: per-user, the default. A module (or folder)
    that proves both overrides it with `tests.support.channel_modes.channel_mode`."""
    return PER_USER


async def _set_mode(url: str, mode: ChannelMode) -> None:
    connection = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await set_mode(connection, mode)
    finally:
        await connection.close()


@pytest.fixture(scope="module")
def database_url(server_url: str, template_url: str, channel_mode: ChannelMode) -> Iterator[str]:
    """A migrated database of this test module's own, in the module's channel mode."""
    url = create_database(server_url, template=database_name(template_url))
    if channel_mode != PER_USER:
        asyncio.run(_set_mode(url, channel_mode))
    yield url
    drop_database(server_url, url)


@pytest.fixture
def empty_database_url(server_url: str) -> Iterator[str]:
    """A database with no schema at all (for migration tests)."""
    url = create_database(server_url)
    yield url
    drop_database(server_url, url)


@pytest.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    """A plain connection to this module's database."""
    connection = await connect(database_url)
    yield connection
    await connection.close()


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    """Settings for this module's `server`: override this fixture in a module to change them."""
    return settings_for(database_url)


@pytest.fixture(scope="module")
async def server(server_settings: Settings) -> AsyncIterator[RunningServer]:
    """The app served by uvicorn on a real socket, shared by the tests of one module."""
    async with running_server(server_settings) as running:
        yield running


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Every test that touches the server is a database test: `pytest -m db` reruns exactly
    # those against another Postgres (the Makefile does, with the system PostgreSQL 15).
    # Browser tests prove the page and the client, not the database: they run once.
    for item in items:
        if "server_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)
        if "/tests/web/" in str(item.path):
            item.add_marker(pytest.mark.browser)
    # TEST_CHANNEL_MODES narrows the modules that run in both channel modes (the Makefile's
    # second pass; tests/support/channel_modes.py says which and why).
    left_out = [item for item in items if channel_modes.deselected(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


def _mailbox_fixture(scope: Literal["function", "module"], name: str) -> Any:
    """The one definition of the SMTP fixture, at the scope a test needs."""

    @pytest.fixture(scope=scope, name=name)
    def fixture() -> Iterator[Mailbox]:
        with smtp_server() as box:
            yield box

    fixture.__doc__ = (
        "A real SMTP server (aiosmtpd) on the loopback, collecting what it is sent"
        f" (one per {'test' if scope == 'function' else 'module'})."
    )
    return fixture


# `mailbox` is a test's own; `module_mailbox` is for a module whose `server` (module-scoped)
# is configured with the SMTP server's port, so the two must live as long.
mailbox = _mailbox_fixture("function", "mailbox")
module_mailbox = _mailbox_fixture("module", "module_mailbox")
