"""The SSE stream over a real socket: delivery, shape, replay, limits, lifecycle."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from datetime import datetime, timedelta

import asyncpg
import httpx
import pytest

from service.live.events import rfc3339
from tests.support.channel_modes import channel_mode
from tests.support.listen import mode_channel
from tests.support.server import RunningServer, complete, open_stream, running_server, settings_for
from tests.support.waiting import until

__all__ = ["channel_mode"]  # every test here runs in both channel modes


async def test_headers_retry_and_connected_come_first(server: RunningServer) -> None:
    async with open_stream(server.base_url, server.token(uuid.uuid4())) as stream:
        assert stream.response.status_code == 200
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        assert stream.response.headers["cache-control"] == "no-store, no-transform"
        assert stream.response.headers["x-accel-buffering"] == "no"
        first = await stream.next()
        assert first.retry == server.settings.sse_retry_ms
        assert first.event == "connected"  # named: never taken for a notification
        data = first.json()
        assert "type" not in data
        assert data["timestamp"].endswith("Z")
        datetime.fromisoformat(data["timestamp"])


async def test_notification_arrives_within_a_second_in_the_documented_shape(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    async with open_stream(server.base_url, server.token(user)) as stream:
        await stream.next_data()  # connected
        started = time.monotonic()
        request_id = await complete(conn, user, duration_seconds=42)
        event = await stream.next(timeout=1)
        elapsed = time.monotonic() - started
    assert elapsed < 1
    data = event.json()
    row = await conn.fetchrow("SELECT id, created_at FROM notifications WHERE user_id = $1", user)
    assert event.event == "message"
    assert event.id == str(row["id"])
    assert data == {
        "id": row["id"],
        "type": "video_complete",
        "user_id": str(user),
        "payload": {
            "content_id": str(request_id),
            "title": "Photosynthesis",
            "video_url": "/media/v.webm",
            "thumbnail_url": "/media/t.png",
            "duration_seconds": 42,
        },
        "link": f"/videos/{request_id}",  # where a click leads: the video in the app's player
        "timestamp": rfc3339(row["created_at"]),
        "read_at": None,
        "dismissed_at": None,
        "snoozed_until": None,
    }
    assert data["timestamp"].endswith("Z")


async def test_the_stream_and_history_say_the_same_bytes_for_one_row(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    token = server.token(user)
    async with open_stream(server.base_url, token) as stream:
        await stream.next()  # connected
        await complete(conn, user)
        [live] = await stream.notifications(1)
    async with open_stream(server.base_url, token, last_event_id=0) as stream:
        [replayed] = await stream.notifications(1)
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        history = await client.get(
            "/api/v1/notifications/history", headers={"Authorization": f"Bearer {token}"}
        )
    [item] = history.json()["items"]
    assert live == replayed == item


async def test_a_failed_request_links_to_its_own_page_live_and_in_history(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    token = server.token(user)
    async with open_stream(server.base_url, token) as stream:
        await stream.next()  # connected
        failed = await conn.fetchval(
            "INSERT INTO content_requests (student_id, status, question, error_message)"
            " VALUES ($1, 'failed', 'Tides', 'No.') RETURNING id",
            user,
        )
        [live] = await stream.notifications(1)
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        history = await client.get(
            "/api/v1/notifications/history", headers={"Authorization": f"Bearer {token}"}
        )
    [item] = history.json()["items"]
    # Its Try again, on the request's page; never a video page (it has no video).
    assert live["link"] == item["link"] == f"/requests/{failed}"


async def test_a_notification_type_named_like_a_control_message_is_a_notification(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    await conn.execute(
        "INSERT INTO notification_types (name, description) VALUES ('connected', 'x')"
        " ON CONFLICT DO NOTHING"
    )
    async with open_stream(server.base_url, server.token(user)) as stream:
        assert (await stream.next()).event == "connected"
        async with conn.transaction():  # as the database's notification function does
            id_ = await conn.fetchval(
                "INSERT INTO notifications (user_id, type, payload)"
                " VALUES ($1, 'connected', '{}') RETURNING id",
                user,
            )
            wake_up = json.dumps({"event": "notification", "id": id_})
            await conn.execute("SELECT vividly_notify_user_v1($1, $2::text::jsonb)", user, wake_up)
        event = await stream.next()
    assert event.event == "message"  # unnamed: the browser's onmessage, a notification
    assert event.json()["type"] == "connected"


@pytest.mark.parametrize("how", ["header", "query"])
async def test_replay_after_last_event_id(
    server: RunningServer, conn: asyncpg.Connection, how: str
) -> None:
    user = uuid.uuid4()
    for _ in range(5):
        await complete(conn, user)
    ids = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", user
        )
    ]
    kwargs = {"last_event_id": ids[1]} if how == "header" else {"query": f"?last_event_id={ids[1]}"}
    async with open_stream(server.base_url, server.token(user), **kwargs) as stream:
        replayed = await stream.notifications(3)
        await stream.silent()
    assert [n["id"] for n in replayed] == ids[2:]


async def test_without_cursor_only_live_events(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    await complete(conn, user)
    async with open_stream(server.base_url, server.token(user)) as stream:
        await stream.next_data()
        await stream.silent()
        await complete(conn, user)
        assert len(await stream.notifications(1)) == 1


async def test_replay_racing_live_commits_has_no_duplicate_and_no_gap(
    server: RunningServer, database_url: str, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    for _ in range(50):
        await complete(conn, user)
    cursor = await conn.fetchval(
        "SELECT id FROM notifications WHERE user_id = $1 ORDER BY id OFFSET 9 LIMIT 1", user
    )
    writer = await asyncpg.connect(database_url.replace("postgresql+asyncpg", "postgresql"))

    async def keep_committing() -> None:
        for _ in range(100):
            await complete(writer, user)

    racing = asyncio.create_task(keep_committing())
    try:
        async with open_stream(server.base_url, server.token(user), last_event_id=cursor) as stream:
            await racing
            expected = [
                r["id"]
                for r in await conn.fetch(
                    "SELECT id FROM notifications WHERE user_id = $1 AND id > $2 ORDER BY id",
                    user,
                    cursor,
                )
            ]
            got = await stream.notifications(len(expected), timeout=10)
            await stream.silent()
    finally:
        await writer.close()
    assert len(expected) == 140
    assert [n["id"] for n in got] == expected


async def test_a_user_never_receives_another_users_notifications(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    alice, bob = uuid.uuid4(), uuid.uuid4()
    await complete(conn, bob)
    async with (
        open_stream(server.base_url, server.token(alice), last_event_id=0) as alice_stream,
        open_stream(server.base_url, server.token(bob)) as bob_stream,
    ):
        await alice_stream.next_data()
        await bob_stream.next_data()
        await complete(conn, bob)
        await complete(conn, alice)
        got = await alice_stream.notifications(1)
        assert got[0]["user_id"] == str(alice)
        await alice_stream.silent()
        assert (await bob_stream.notifications(1))[0]["user_id"] == str(bob)


async def test_past_the_per_user_limit_the_oldest_stream_is_displaced(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    token = server.token(user)
    limit = server.settings.max_streams_per_user
    assert limit == 10  # the default: tabs share a stream, so this counts a student's browsers
    async with contextlib.AsyncExitStack() as opened:
        streams = []
        for _ in range(limit):
            stream = await opened.enter_async_context(open_stream(server.base_url, token))
            await stream.next()  # connected
            streams.append(stream)
        oldest = streams[0]
        newest = await opened.enter_async_context(open_stream(server.base_url, token))
        assert newest.response.status_code == 200  # never refused
        assert (await newest.next()).event == "connected"
        farewell = await oldest.next()
        assert farewell.event == "displaced"  # named, told why, and asked to come back late
        assert "type" not in farewell.json()
        assert farewell.json()["reason"] == "too_many_streams"
        assert oldest.retry == server.settings.displaced_retry_ms
        await asyncio.wait_for(oldest.ended.wait(), 2)
        await until(lambda: server.hub.stream_count(user) == limit, "the oldest slot is free")
        await complete(conn, user)
        for stream in [*streams[1:], newest]:
            assert len(await stream.notifications(1)) == 1
        assert oldest.events.empty()
        # Another user is not affected.
        async with open_stream(server.base_url, server.token(uuid.uuid4())) as other:
            assert (await other.next()).event == "connected"
        assert all(not stream.ended.is_set() for stream in [*streams[1:], newest])


async def test_closed_streams_free_their_slot_and_channel(server: RunningServer) -> None:
    user = uuid.uuid4()
    for _ in range(5):  # one after another: each ends before the next
        async with open_stream(server.base_url, server.token(user)) as stream:
            assert stream.response.status_code == 200
            await stream.next_data()
        await until(lambda: server.hub.stream_count(user) == 0, "the stream's slot is free")
    fixed = len(server.listener.mode.fixed_channels())  # the shards stay
    await until(lambda: server.listener.channel_count == fixed, "the channel is UNLISTENed")


async def users_on_one_channel(conn: asyncpg.Connection, count: int) -> list[uuid.UUID]:
    """`count` users whose NOTIFYs share a channel in shard mode (any users per-user)."""
    users = [uuid.uuid4()]
    channel = await mode_channel(conn, users[0])
    per_user = channel.removeprefix("notifications:") == str(users[0])
    while len(users) < count:
        user = uuid.uuid4()
        if per_user or await mode_channel(conn, user) == channel:
            users.append(user)
    return users


async def test_on_a_shared_channel_each_stream_gets_only_its_users_notifications(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    alice, bob, carol = await users_on_one_channel(conn, 3)
    received = server.listener.notifications_received
    async with (
        open_stream(server.base_url, server.token(alice)) as alice_stream,
        open_stream(server.base_url, server.token(bob)) as bob_stream,
    ):
        await alice_stream.next_data()
        await bob_stream.next_data()
        await complete(conn, carol)  # on their channel, but nobody here follows carol
        await complete(conn, bob)
        await complete(conn, alice)
        assert [n["user_id"] for n in await alice_stream.notifications(1)] == [str(alice)]
        assert [n["user_id"] for n in await bob_stream.notifications(1)] == [str(bob)]
        await alice_stream.silent()
        await bob_stream.silent()
    # Carol's NOTIFY was dropped by the listener itself, not handed to the feed.
    assert server.listener.notifications_received - received == 2


async def test_read_state_and_progress_reach_the_stream_without_the_routing(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    async with open_stream(server.base_url, server.token(user)) as stream:
        await stream.next_data()
        request_id = await complete(conn, user)
        [notification] = await stream.notifications(1)
        await conn.execute(
            "UPDATE notifications SET read_at = now() WHERE id = $1", notification["id"]
        )
        read = await stream.next()
        second = await conn.fetchval(
            "INSERT INTO content_requests (student_id, title, status)"
            " VALUES ($1, 'x', 'processing') RETURNING id",
            user,
        )
        await conn.execute("UPDATE content_requests SET stage = 'tts' WHERE id = $1", second)
        progress = await stream.next()
    assert (read.event, read.json()) == (
        "read_state",
        {"state": "read", "ids": [notification["id"]], "changed": 1,
         "up_to_id": notification["id"], "unread_count": 0},
    )  # fmt: skip
    assert (progress.event, progress.json()) == (
        "progress",
        {"content_id": str(second), "status": "processing", "stage": "tts"},
    )
    assert request_id != second


@pytest.mark.parametrize(
    ("header", "query", "where"),
    [
        ("abc", "", ["header", "Last-Event-ID"]),
        (b"\xb2", "", ["header", "Last-Event-ID"]),  # latin-1 superscript two: isdigit()
        ("", "?last_event_id=%C2%B2", ["query", "last_event_id"]),
        ("", "?last_event_id=-1", ["query", "last_event_id"]),
        ("", f"?last_event_id={2**53}", ["query", "last_event_id"]),
        ("", "?last_event_id=" + "9" * 4301, ["query", "last_event_id"]),  # not parsed at all
        ("9" * 4301, "", ["header", "Last-Event-ID"]),
    ],
)
async def test_malformed_cursor_is_422(
    server: RunningServer, header: str | bytes, query: str, where: list[str]
) -> None:
    token = server.token(uuid.uuid4())
    headers: list[tuple[bytes, bytes]] = [(b"Authorization", f"Bearer {token}".encode())]
    if header:
        headers.append((b"Last-Event-ID", header if isinstance(header, bytes) else header.encode()))
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        response = await client.get("/api/v1/notifications/stream" + query, headers=headers)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == where
    assert len(response.text) < 500  # a short prefix of the input, not an echo of it


async def test_cursor_older_than_retention_gets_reset(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    for _ in range(3):
        await complete(conn, user)
    latest = await conn.fetchval("SELECT max(id) FROM notifications WHERE user_id = $1", user)
    await conn.execute(
        "INSERT INTO notification_retention (user_id, pruned_through_id) VALUES ($1, $2)",
        user,
        latest - 1,
    )
    async with open_stream(server.base_url, server.token(user), last_event_id=1) as stream:
        await stream.next_data()
        reset = await stream.next()
        assert reset.event == "reset"
        assert int(reset.id) >= latest - 1
        assert reset.json()["reason"] == "cursor_expired"
        await complete(conn, user)
        assert len(await stream.notifications(1)) == 1


async def test_stream_ends_with_auth_expired_when_the_token_expires(
    server: RunningServer,
) -> None:
    token = server.token(uuid.uuid4(), ttl=timedelta(seconds=2))
    async with open_stream(server.base_url, token) as stream:
        await stream.next_data()
        event = await stream.next(timeout=5)
        assert event.event == "auth_expired"
        await asyncio.wait_for(stream.ended.wait(), 2)


async def test_stream_ends_at_its_maximum_age(database_url: str) -> None:
    settings = settings_for(database_url, stream_max_age_seconds=1)
    async with (
        running_server(settings) as short,
        open_stream(short.base_url, short.token(uuid.uuid4())) as stream,
    ):
        await stream.next_data()
        await asyncio.wait_for(stream.ended.wait(), 3)
        assert stream.events.empty()


async def test_keepalive_comments_keep_the_stream_open(database_url: str) -> None:
    settings = settings_for(database_url, keepalive_seconds=0.2)
    received = b""
    async with (
        running_server(settings) as fast,
        httpx.AsyncClient(base_url=fast.base_url, timeout=5) as client,
        client.stream(
            "GET",
            "/api/v1/notifications/stream",
            headers={"Authorization": f"Bearer {fast.token(uuid.uuid4())}"},
        ) as response,
        asyncio.timeout(3),
    ):
        async for chunk in response.aiter_bytes():
            received += chunk
            if received.count(b": keepalive\n\n") >= 2:
                break
    assert received.count(b": keepalive\n\n") >= 2


async def test_replay_pages_through_a_long_backlog(
    database_url: str, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    for _ in range(20):
        await complete(conn, user)
    expected = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", user
        )
    ]
    async with (
        running_server(settings_for(database_url, replay_page_size=7)) as paged,
        open_stream(paged.base_url, paged.token(user), last_event_id=0) as stream,
    ):
        got = await stream.notifications(20)
        await stream.silent()
    assert [n["id"] for n in got] == expected


async def test_live_only_stream_hands_the_browser_a_resume_point(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    await complete(conn, user)
    latest = await conn.fetchval("SELECT max(id) FROM notifications WHERE user_id = $1", user)
    async with open_stream(server.base_url, server.token(user)) as stream:
        connected = await stream.next()
        assert connected.event == "connected"
        assert connected.id == str(latest)
    # Committed while the browser was away: the reconnect with that id gets exactly this one.
    await complete(conn, user)
    async with open_stream(server.base_url, server.token(user), last_event_id=latest) as again:
        [missed] = await again.notifications(1)
        await again.silent()
    assert missed["id"] > latest


async def test_cursor_from_elsewhere_gets_reset(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    await complete(conn, user)
    async with open_stream(server.base_url, server.token(user), last_event_id=10**15) as stream:
        await stream.next_data()
        reset = await stream.next()
    assert reset.event == "reset"
    assert reset.json()["reason"] == "cursor_unknown"
