"""The listener survives losing its connection: every committed notification arrives once."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from db.pool import connect
from service.listener import APPLICATION_NAME

from .live import RunningServer, complete, open_stream, running_server, settings_for

FIND_LISTENER = """
SELECT pid FROM pg_stat_activity
WHERE application_name = $1 AND datname = current_database()
"""


@pytest.fixture
async def server(database_url: str) -> AsyncIterator[RunningServer]:
    async with running_server(settings_for(database_url, listener_heartbeat_seconds=1)) as running:
        yield running


async def listener_pid(conn: asyncpg.Connection) -> int:
    pids: list[int] = [r["pid"] for r in await conn.fetch(FIND_LISTENER, APPLICATION_NAME)]
    assert len(pids) == 1, pids
    return pids[0]


async def commit_many(url: str, user: uuid.UUID, count: int, pause: float) -> None:
    writer = await connect(url)
    try:
        for _ in range(count):
            await complete(writer, user)
            await asyncio.sleep(pause)
    finally:
        await writer.close()


async def expect_all_once(
    server: RunningServer, conn: asyncpg.Connection, user: uuid.UUID, stream_events: list[int]
) -> None:
    expected = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", user
        )
    ]
    assert stream_events == expected


async def test_terminated_backend_while_commits_continue(
    server: RunningServer, database_url: str, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    async with open_stream(server.base_url, server.token(user), last_event_id=0) as stream:
        await stream.next_data()
        writing = asyncio.create_task(commit_many(database_url, user, 120, 0.01))
        await asyncio.sleep(0.3)
        killed = await conn.fetchval("SELECT pg_terminate_backend($1)", await listener_pid(conn))
        assert killed
        await writing
        got = await stream.notifications(120, timeout=15)
        await stream.silent(0.5)
    assert server.listener.reconnects >= 1
    await expect_all_once(server, conn, user, [n["id"] for n in got])


async def test_silent_backend_is_noticed_by_the_heartbeat(
    server: RunningServer, database_url: str, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    pid = await listener_pid(conn)
    async with open_stream(server.base_url, server.token(user), last_event_id=0) as stream:
        await stream.next_data()
        os.kill(pid, signal.SIGSTOP)  # the backend stops answering, the socket stays open
        try:
            await commit_many(database_url, user, 20, 0.01)
            for _ in range(100):  # heartbeat 1 s: noticed within about 2 s
                if server.listener.reconnects:
                    break
                await asyncio.sleep(0.05)
            assert server.listener.reconnects >= 1
        finally:
            os.kill(pid, signal.SIGCONT)
        got = await stream.notifications(20, timeout=10)
    await expect_all_once(server, conn, user, [n["id"] for n in got])
    assert await listener_pid(conn) != pid


async def test_new_streams_wait_for_the_reconnect_then_work(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    await conn.fetchval("SELECT pg_terminate_backend($1)", await listener_pid(conn))
    user = uuid.uuid4()
    async with open_stream(server.base_url, server.token(user)) as stream:
        assert stream.response.status_code == 200
        await stream.next_data()
        await complete(conn, user)
        assert len(await stream.notifications(1)) == 1
