"""The listener on a real Postgres: acknowledged LISTENs, NOTIFYs handed on, reconnects; and
through a running server, every committed notification arriving once across them."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import asyncpg
import pytest

from db.pool import connect
from db.urls import asyncpg_dsn
from service.http.routes import stream as stream_route
from service.live import topics as channels
from service.live.channel_mode import PER_USER, ChannelMode, set_mode
from service.live.listener import (
    APPLICATION_NAME,
    LOST,
    Heard,
    Item,
    Listener,
    Listening,
    Lost,
    open_listener_connection,
)
from tests.support.listen import mode_channel, notify_user
from tests.support.server import RunningServer, complete, open_stream, running_server, settings_for
from tests.support.tls_postgres import server_programs, tls_postgres
from tests.support.waiting import until

# Both channel modes even where TEST_CHANNEL_MODES narrows them (the Makefile's second pass):
# the shard channels' LISTENs and the mode switch are what the server does differently per mode.
EVERY_CHANNEL_MODE = True

FIND_LISTENER = """
SELECT pid FROM pg_stat_activity
WHERE application_name = $1 AND datname = current_database()
"""


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
    server: RunningServer,
    conn: asyncpg.Connection,
    user: uuid.UUID,
    stream_events: list[int],
    after: int = 0,
) -> None:
    expected = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM notifications WHERE user_id = $1 AND id > $2 ORDER BY id", user, after
        )
    ]
    assert stream_events == expected


@pytest.fixture
async def listener(database_url: str) -> AsyncIterator[Listener]:
    running = Listener(database_url, heartbeat=1)
    running.start()
    await asyncio.wait_for(running.connected.wait(), 5)
    yield running
    await running.stop()


async def next_item(listener: Listener, kind: type[Item]) -> Item:
    """The next item of `kind`, skipping others."""
    async with asyncio.timeout(5):
        while True:
            for item in await listener.next_batch():
                if isinstance(item, kind):
                    return item


async def test_listen_is_acknowledged_and_notifies_are_handed_on(
    listener: Listener, conn: asyncpg.Connection
) -> None:
    user, other = uuid.uuid4(), uuid.uuid4()
    listener.listen(user)
    assert await next_item(listener, Listening) == Listening((user,))
    await notify_user(conn, other, '{"n": 0}')
    await notify_user(conn, user, '{"n": 1}')
    assert await next_item(listener, Heard) == Heard(user, {"n": 1})  # the other was not heard
    assert listener.channel_count == len(listener.mode.channels([user]))


async def test_unlisten_before_the_round_trip_listens_to_nothing(
    listener: Listener, conn: asyncpg.Connection
) -> None:
    gone, kept = uuid.uuid4(), uuid.uuid4()
    listener.listen(gone)
    listener.unlisten(gone)
    listener.listen(kept)
    assert await next_item(listener, Listening) == Listening((kept,))
    await notify_user(conn, gone, '{"n": 0}')
    await notify_user(conn, kept, '{"n": 1}')
    assert await next_item(listener, Heard) == Heard(kept, {"n": 1})
    assert listener.channel_count == len(listener.mode.channels([kept]))


async def test_after_a_lost_connection_every_wanted_channel_is_acknowledged_again(
    listener: Listener, conn: asyncpg.Connection
) -> None:
    users = [uuid.uuid4() for _ in range(3)]
    for user in users:
        listener.listen(user)
    listener.unlisten(users[2])
    expected = len(listener.mode.channels(users[:2]))
    await until(lambda: listener.channel_count == expected, "two users' channels are LISTENed")
    await conn.fetchval("SELECT pg_terminate_backend($1)", await listener_pid(conn))
    assert await next_item(listener, Lost) is LOST
    again = await next_item(listener, Listening)
    assert isinstance(again, Listening)
    assert set(again.users) == set(users[:2])
    await notify_user(conn, users[0], '{"n": 2}')
    assert await next_item(listener, Heard) == Heard(users[0], {"n": 2})
    assert listener.reconnects == 1


async def test_terminated_backend_while_commits_continue(
    server: RunningServer, database_url: str, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    reconnects = server.listener.reconnects
    async with open_stream(server.base_url, server.token(user), last_event_id=0) as stream:
        await stream.next_data()
        writing = asyncio.create_task(commit_many(database_url, user, 120, 0.01))
        got = await stream.notifications(1)  # commits are flowing
        killed = await conn.fetchval("SELECT pg_terminate_backend($1)", await listener_pid(conn))
        assert killed
        await writing
        got += await stream.notifications(119, timeout=15)
        await stream.silent(0.5)
    assert server.listener.reconnects > reconnects
    await expect_all_once(server, conn, user, [n["id"] for n in got])


async def commit_round_robin(url: str, users: list[uuid.UUID], rounds: int, pause: float) -> None:
    writer = await connect(url)
    try:
        for _ in range(rounds):
            for user in users:
                await complete(writer, user)
            await asyncio.sleep(pause)
    finally:
        await writer.close()


def uses(server: RunningServer, mode: ChannelMode) -> Callable[[], bool]:
    return lambda: server.listener.mode == mode


async def test_switching_modes_with_streams_open_loses_and_repeats_nothing(
    server: RunningServer, database_url: str, conn: asyncpg.Connection, channel_mode: ChannelMode
) -> None:
    users = [uuid.uuid4() for _ in range(4)]
    # From this module's mode to the other, to another shard count (shards 0-4 stay LISTENed
    # when coming from 8), and back.
    other = ChannelMode(16) if channel_mode.shards is None else PER_USER
    switches = server.listener.mode_switches
    async with contextlib.AsyncExitStack() as opened:
        streams = [
            await opened.enter_async_context(
                open_stream(server.base_url, server.token(user), last_event_id=0)
            )
            for user in users
        ]
        for stream in streams:
            await stream.next_data()
        writing = asyncio.create_task(commit_round_robin(database_url, users, 25, 0.02))
        try:
            for mode in (other, ChannelMode(5), channel_mode):
                await asyncio.sleep(0.2)
                await set_mode(conn, mode)
                await until(uses(server, mode), f"the listener uses {mode}")
        finally:
            await writing
            await set_mode(conn, channel_mode)
        for user, stream in zip(users, streams, strict=True):
            got = await stream.notifications(25, timeout=15)
            await stream.silent(0.5)
            await expect_all_once(server, conn, user, [n["id"] for n in got])
    assert server.listener.mode_switches == switches + 3


async def test_a_notification_committed_before_the_new_channels_are_listened_arrives(
    server: RunningServer,
    conn: asyncpg.Connection,
    channel_mode: ChannelMode,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Committed after the change of mode, so sent on a new channel, before the listener
    # LISTENs it: no NOTIFY reaches the listener; the feed's read after the switch finds it.
    user = uuid.uuid4()
    other = ChannelMode(16) if channel_mode.shards is None else PER_USER
    held, release = asyncio.Event(), asyncio.Event()
    original = channels.ListenerConnection.execute

    async def held_listen(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if query.startswith("LISTEN") and not release.is_set():
            held.set()
            await release.wait()
        return await original(self, query, *args, **kwargs)

    async with open_stream(server.base_url, server.token(user)) as stream:
        await stream.next_data()
        monkeypatch.setattr(channels.ListenerConnection, "execute", held_listen)
        try:
            await set_mode(conn, other)
            await asyncio.wait_for(held.wait(), 5)
            await complete(conn, user)
            release.set()
            await until(lambda: server.listener.mode == other, "the listener switched")
            assert len(await stream.notifications(1)) == 1
        finally:
            release.set()
            monkeypatch.undo()
            await set_mode(conn, channel_mode)
            await until(lambda: server.listener.mode == channel_mode, "the listener is back")


async def test_silent_backend_is_noticed_by_the_heartbeat(
    server: RunningServer, database_url: str, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    pid = await listener_pid(conn)
    reconnects = server.listener.reconnects
    async with open_stream(server.base_url, server.token(user), last_event_id=0) as stream:
        await stream.next_data()
        os.kill(pid, signal.SIGSTOP)  # the backend stops answering, the socket stays open
        try:
            await commit_many(database_url, user, 20, 0.01)
            # Within the heartbeat (1 s), or the 10 s bound of a LISTEN/UNLISTEN in flight.
            await until(
                lambda: server.listener.reconnects > reconnects, "it is noticed", timeout=15
            )
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


async def test_a_malformed_notify_does_not_stop_delivery(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    reconnects = server.listener.reconnects
    async with open_stream(server.base_url, server.token(user)) as stream:
        await stream.next_data()
        channel = await mode_channel(conn, user)
        user_field = f', "user": "{user}"' if server.listener.mode.shards else ""
        for payload in (
            "[1]",
            "not json",
            '{"event": "notification", "id": "x"' + user_field + "}",
            '{"event": "notification", "user": "not-a-uuid"}',
            "{}",
        ):
            await conn.execute("SELECT pg_notify($1, $2)", channel, payload)
        await conn.execute("NOTIFY \"notifications:not-a-uuid\", '{}'")
        await complete(conn, user)
        assert len(await stream.notifications(1)) == 1
    assert server.listener.reconnects == reconnects


async def test_a_stream_abandoned_while_the_listener_is_down_leaves_no_channel(
    server: RunningServer, conn: asyncpg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_route, "SUBSCRIBE_TIMEOUT", 0.1)
    listener = server.listener
    reconnect = asyncio.Event()
    connect = listener._connect

    async def held_back() -> Any:
        await reconnect.wait()
        return await connect()

    monkeypatch.setattr(listener, "_connect", held_back)
    await conn.fetchval("SELECT pg_terminate_backend($1)", await listener_pid(conn))
    await until(lambda: not listener.connected.is_set(), "the listener is down")
    async with open_stream(server.base_url, server.token(uuid.uuid4())) as stream:
        event = await stream.next()
        assert event.event == "unavailable"  # gave up before the listener came back
    reconnect.set()
    await asyncio.wait_for(listener.connected.wait(), 10)
    await until(lambda: server.hub.source.followed == 0, "nobody is followed")  # type: ignore[attr-defined]
    fixed = len(listener.mode.fixed_channels())
    await until(lambda: listener.channel_count == fixed, "no user's channel is LISTENed")


async def test_a_stream_opened_during_unlisten_still_gets_everything(
    database_url: str,
    conn: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
    channel_mode: ChannelMode,
) -> None:
    if channel_mode.shards is not None:
        pytest.skip("shard mode LISTENs no user's channel: nothing is UNLISTENed")
    unlistening = asyncio.Event()
    original = channels.ListenerConnection.execute

    async def slow_unlisten(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        if query.startswith("UNLISTEN"):
            unlistening.set()
            await asyncio.sleep(0.3)
        return await original(self, query, *args, **kwargs)

    monkeypatch.setattr(channels.ListenerConnection, "execute", slow_unlisten)
    settings = settings_for(database_url, listener_heartbeat_seconds=3)
    user = uuid.uuid4()
    async with running_server(settings) as server:
        async with open_stream(server.base_url, server.token(user)) as first:
            await first.next_data()
        await asyncio.wait_for(unlistening.wait(), 3)
        async with open_stream(server.base_url, server.token(user)) as second:
            await second.next_data()  # LISTENed again, after the slow UNLISTEN
            await complete(conn, user)
            assert len(await second.notifications(1, timeout=5)) == 1


async def test_without_a_database_connection_the_stream_says_so_and_ends(
    server: RunningServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_route, "SUBSCRIBE_TIMEOUT", 0.2)

    def never(user_id: uuid.UUID) -> asyncio.Future[int]:
        return asyncio.get_running_loop().create_future()

    monkeypatch.setattr(server.hub.source, "ready", never)
    async with open_stream(server.base_url, server.token(uuid.uuid4())) as stream:
        assert stream.response.status_code == 200  # EventSource would give up on a 503
        event = await stream.next()
        assert event.event == "unavailable"
        assert event.retry == server.settings.sse_retry_ms
        await asyncio.wait_for(stream.ended.wait(), 2)


@pytest.fixture(scope="module")
def tcp_server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Postgres reached over TCP (keepalives mean nothing on the embedded one's Unix socket)."""
    if server_programs() is None:
        pytest.skip("no PostgreSQL server programs on this machine")
    with tls_postgres(tmp_path_factory.mktemp("tcp") / "server") as server:
        yield server.url("sslmode=require")


KEEPALIVES = (
    "SELECT current_setting('tcp_keepalives_idle')::int, "
    "current_setting('tcp_keepalives_interval')::int, "
    "current_setting('tcp_keepalives_count')::int, current_setting('tcp_user_timeout')::int"
)


async def test_the_listeners_backend_gives_up_on_a_vanished_peer(tcp_server_url: str) -> None:
    # A pod that vanishes (no FIN, no RST) would leave its listening backend holding the NOTIFY
    # queue's tail until TCP gives up: ~2 h idle with the kernel's keepalive defaults, ~15 min of
    # retransmissions once a NOTIFY is in flight. The listener asks its backend for less.
    connection = await open_listener_connection(
        asyncpg_dsn(tcp_server_url), connect_timeout=10, tcp_timeout=30
    )
    try:
        idle, interval, count, user_timeout = await connection.fetchrow(KEEPALIVES)
    finally:
        connection.terminate()
    assert user_timeout == 30_000  # ms
    assert 0 < idle < 30
    assert interval > 0
    assert idle + interval * count <= 30


async def test_the_listener_connects_with_keepalives(tcp_server_url: str) -> None:
    running = Listener(tcp_server_url, heartbeat=1, tcp_timeout=12)
    running.start()
    try:
        await until(lambda: running.receiving_problem() is None, "the listener hears itself")
    finally:
        await running.stop()
