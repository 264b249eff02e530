"""Channel names and batched LISTEN statements."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from db.urls import asyncpg_dsn
from service.live.topics import LISTEN_BATCH, ListenerConnection, channel_of, statements, user_of


def test_channel_round_trip() -> None:
    user = uuid.uuid4()
    assert channel_of(user) == f"notifications:{user}"
    assert user_of(channel_of(user)) == user


@pytest.mark.parametrize("channel", ["notifications:alice", "other:" + str(uuid.uuid4()), ""])
def test_foreign_channels_are_refused(channel: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        user_of(channel)


def test_statements_are_quoted_and_batched() -> None:
    users = [uuid.uuid4() for _ in range(LISTEN_BATCH + 3)]
    batches = statements("LISTEN", users)
    assert len(batches) == 2
    assert batches[0].count("LISTEN ") == LISTEN_BATCH
    assert batches[1] == "; ".join(f'LISTEN "notifications:{u}"' for u in users[-3:])


async def test_the_private_hook_still_receives_notifications(database_url: str) -> None:
    """`ListenerConnection` relies on asyncpg calling `_process_notification` (channels.py says
    why): an asyncpg upgrade that stops calling it fails here, not in production."""
    heard: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    connection: ListenerConnection = await asyncpg.connect(
        asyncpg_dsn(database_url), connection_class=ListenerConnection
    )
    try:
        connection.on_notification = lambda channel, payload: heard.put_nowait((channel, payload))
        user = uuid.uuid4()
        await connection.execute(statements("LISTEN", [user])[0])
        await connection.execute(f"SELECT pg_notify('{channel_of(user)}', 'hello')")
        assert await asyncio.wait_for(heard.get(), 2) == (channel_of(user), "hello")
    finally:
        await connection.close()
