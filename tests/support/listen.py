"""A LISTENing test connection that collects NOTIFY payloads in a queue."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from db.pool import connect


def channel(user_id: uuid.UUID) -> str:
    """The channel the trigger notifies for `user_id`."""
    return f"notifications:{user_id}"


@asynccontextmanager
async def listening(url: str, user_id: uuid.UUID) -> AsyncIterator[asyncio.Queue[dict[str, Any]]]:
    """Yield a queue that receives every NOTIFY on `notifications:<user_id>`."""
    queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    connection = await connect(url)

    def on_notify(_conn: object, _pid: int, _channel: str, payload: str) -> None:
        queue.put_nowait(json.loads(payload))

    await connection.add_listener(channel(user_id), on_notify)
    try:
        yield queue
    finally:
        await connection.close()


async def assert_nothing_more(
    conn: asyncpg.Connection, queue: asyncio.Queue[dict[str, Any]], user_id: uuid.UUID
) -> None:
    """Assert that `queue` got no NOTIFY beyond those already taken from it.

    Commits a marker NOTIFY on the user's channel and requires it to be the next message:
    Postgres delivers a session's notifications in commit order, so anything sent by an earlier
    commit would arrive first. Unlike a timed wait, this fails if the listener hears nothing.
    `conn` must not be inside a transaction.
    """
    marker = {"marker": str(uuid.uuid4())}
    await conn.execute("SELECT pg_notify($1, $2)", channel(user_id), json.dumps(marker))
    try:
        got = await asyncio.wait_for(queue.get(), 2)
    except TimeoutError:
        raise AssertionError("the marker NOTIFY never arrived: is the queue listening?") from None
    assert got == marker, f"unexpected NOTIFY {got}"


async def notify_user(conn: asyncpg.Connection, user_id: uuid.UUID, message: str) -> None:
    """Commit a NOTIFY of `message` (a JSON object) for `user_id` the way the triggers send
    one: on the channel of the database's channel mode (`vividly_notify_user_v1`)."""
    # Through text: the service's connections encode a jsonb parameter themselves.
    await conn.execute("SELECT vividly_notify_user_v1($1, $2::text::jsonb)", user_id, message)


async def mode_channel(conn: asyncpg.Connection, user_id: uuid.UUID) -> str:
    """The channel the triggers NOTIFY for `user_id` in the database's channel mode now."""
    name: str = await conn.fetchval(
        "SELECT vividly_notify_channel_v1($1, (SELECT shards FROM notify_channels))", user_id
    )
    return name
