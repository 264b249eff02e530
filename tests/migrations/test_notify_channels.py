"""The channel mode in the database (migration 0022): where each sender's NOTIFY goes, and a
change of mode ordered after every notifying transaction in flight."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from db.pool import connect
from service.live import sql
from service.live.channel_mode import (
    CONTROL_CHANNEL,
    PER_USER,
    ChannelMode,
    heard,
    read_mode,
    set_mode,
)
from tests.support.server import complete

Heard = tuple[str, dict[str, Any]]


@pytest.fixture
async def mode_conn(conn: asyncpg.Connection) -> AsyncIterator[asyncpg.Connection]:
    """`conn`, with the module's database put back to per-user channels afterwards."""
    yield conn
    await set_mode(conn, PER_USER)


@pytest.fixture
async def everything(database_url: str) -> AsyncIterator[tuple[asyncpg.Connection, list[str]]]:
    """A connection LISTENing every shard of 8 and the control channel; what it heard, as
    (channel, payload)."""
    connection = await connect(database_url)
    heard_: list[str] = []
    channels = [f"notifications:shard:{n}" for n in range(8)] + [CONTROL_CHANNEL]
    for channel in channels:
        await connection.add_listener(
            channel, lambda _c, _pid, name, payload: heard_.append(f"{name} {payload}")
        )
    yield connection, heard_
    await connection.close()


async def messages(log: list[str], count: int) -> list[Heard]:
    async with asyncio.timeout(3):
        while len(log) < count:
            await asyncio.sleep(0.01)
    await asyncio.sleep(0.1)  # and nothing more
    assert len(log) == count, log
    return [(line.split(" ", 1)[0], json.loads(line.split(" ", 1)[1])) for line in log]


async def test_per_user_is_the_default_and_reads_back(mode_conn: asyncpg.Connection) -> None:
    assert await read_mode(mode_conn) == PER_USER
    assert await mode_conn.fetchval(sql.CHANNEL_MODE) is None
    user = uuid.uuid4()
    assert await mode_conn.fetchval("SELECT vividly_notify_channel_v1($1, NULL)", user) == (
        f"notifications:{user}"
    )


async def test_in_shard_mode_every_sender_notifies_the_users_shard_with_the_user(
    mode_conn: asyncpg.Connection, everything: tuple[asyncpg.Connection, list[str]]
) -> None:
    _listening, log = everything
    assert await set_mode(mode_conn, ChannelMode(8)) == ChannelMode(8)
    user = uuid.uuid4()
    shard = await mode_conn.fetchval("SELECT vividly_notify_channel_v1($1, 8)", user)
    await complete(mode_conn, user)  # a notification
    id_ = await mode_conn.fetchval("SELECT max(id) FROM notifications WHERE user_id = $1", user)
    await mode_conn.execute("UPDATE notifications SET read_at = now() WHERE id = $1", id_)
    request = await mode_conn.fetchval(
        "INSERT INTO content_requests (student_id, title, status) VALUES ($1, 'x', 'processing')"
        " RETURNING id",
        user,
    )
    await mode_conn.execute("UPDATE content_requests SET stage = 'rag' WHERE id = $1", request)
    control, *sent = await messages(log, 4)
    assert control == (CONTROL_CHANNEL, {"shards": 8})
    assert [channel for channel, _message in sent] == [shard] * 3
    assert [message["event"] for _channel, message in sent] == [
        "notification",
        "read_state",
        "progress",
    ]
    assert all(message["user"] == str(user) for _channel, message in sent)
    # The listener's reading: the user from the payload, the message as in per-user mode.
    assert heard(shard, json.dumps(sent[0][1])) == (user, {"event": "notification", "id": id_})


async def test_users_spread_over_every_shard(mode_conn: asyncpg.Connection) -> None:
    shards = await mode_conn.fetch(
        "SELECT DISTINCT vividly_notify_channel_v1(gen_random_uuid(), 8) AS c"
        " FROM generate_series(1, 2000)"
    )
    assert sorted(row["c"] for row in shards) == [f"notifications:shard:{n}" for n in range(8)]


async def test_a_change_waits_for_the_notifying_transactions_in_flight(
    database_url: str,
    mode_conn: asyncpg.Connection,
    everything: tuple[asyncpg.Connection, list[str]],
) -> None:
    _listening, log = everything
    await set_mode(mode_conn, ChannelMode(8))
    user = uuid.uuid4()
    writer = await connect(database_url)
    try:
        in_flight = writer.transaction()
        await in_flight.start()
        await writer.execute("SELECT vividly_notify_user_v1($1, '{\"n\": 1}')", user)
        with pytest.raises(asyncpg.LockNotAvailableError):
            await set_mode(mode_conn, PER_USER, lock_timeout=0.2)  # nothing changed
        assert await read_mode(mode_conn) == ChannelMode(8)
        changing = asyncio.create_task(set_mode(mode_conn, PER_USER, lock_timeout=5))
        await asyncio.sleep(0.2)
        assert not changing.done()  # waits for the writer's commit
        await in_flight.commit()
        assert await changing == PER_USER
    finally:
        await writer.close()
    first, sent, last = await messages(log, 3)
    assert first == (CONTROL_CHANNEL, {"shards": 8})
    # Sent in the old mode, and queued before the change that followed it.
    assert sent[1] == {"n": 1, "user": str(user)}
    assert last == (CONTROL_CHANNEL, {"shards": None})


async def test_a_mode_out_of_range_is_refused(mode_conn: asyncpg.Connection) -> None:
    for shards in (0, 1025):
        with pytest.raises(ValueError, match="shards must be 1 to 1024"):
            await set_mode(mode_conn, ChannelMode(shards))
        with pytest.raises(asyncpg.CheckViolationError):
            await mode_conn.execute(sql.SET_CHANNEL_MODE, shards)
    assert await read_mode(mode_conn) == PER_USER


async def test_a_database_before_the_modes_reads_as_per_user(
    empty_database_url: str,
) -> None:
    connection = await connect(empty_database_url)
    try:
        assert await read_mode(connection) == PER_USER
    finally:
        await connection.close()
