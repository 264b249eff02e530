"""Shared by the push dispatcher tests: a running dispatcher, and the rows it writes."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import asyncpg

from service.channels.push.dispatcher import Dispatcher
from service.channels.push.sender import Sender
from service.settings import Settings
from tests.support.push_standin import Browser


@contextlib.asynccontextmanager
async def dispatching(pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[Dispatcher]:
    dispatcher = Dispatcher(pool, settings, Sender(settings))
    task = asyncio.create_task(dispatcher.run())
    try:
        yield dispatcher
    finally:
        dispatcher.stop()
        await asyncio.wait_for(task, 20)


async def delivery(conn: asyncpg.Connection, notification_id: int) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        "SELECT delivered_at, delivered_via FROM notifications WHERE id = $1", notification_id
    )
    return row


async def insert_subscription(conn: asyncpg.Connection, user: uuid.UUID, endpoint: str) -> Browser:
    """A subscription stored as an older version would have stored it (no checks)."""
    browser = Browser(endpoint)
    data = browser.json()
    await conn.execute(
        "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth) VALUES ($1, $2, $3, $4)",
        user,
        endpoint,
        data["keys"]["p256dh"],
        data["keys"]["auth"],
    )
    return browser


async def push_row(conn: asyncpg.Connection, notification_id: int) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        "SELECT state, attempts, last_error FROM push_deliveries WHERE notification_id = $1",
        notification_id,
    )
    return row


async def _async(value: bool) -> bool:
    return value
