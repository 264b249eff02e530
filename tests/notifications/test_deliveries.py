"""Stream deliveries recorded in the table: live and replayed, first channel only, batched,
retried, bounded, flushed at shutdown, and never a read-state NOTIFY."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from db.pool import connect, create_pool
from service.notifications import sql as notifications_sql
from service.notifications.deliveries import DeliveryRecorder
from service.settings import Settings
from tests.support.locks import backend_pid, until_blocked
from tests.support.server import RunningServer, complete, open_stream, running_server, settings_for
from tests.support.waiting import until

# The guarantee is ~1 s; the deadline leaves room for a loaded 2-core test machine.
RECORDED_WITHIN = 3.0


@pytest.fixture(scope="module")
def server_settings(database_url: str) -> Settings:
    return settings_for(database_url, delivery_flush_seconds=0.5)


async def delivery(conn: asyncpg.Connection, notification_id: int) -> asyncpg.Record:
    row: asyncpg.Record = await conn.fetchrow(
        "SELECT created_at, delivered_at, delivered_via, read_at FROM notifications WHERE id = $1",
        notification_id,
    )
    return row


async def recorded(conn: asyncpg.Connection, ids: list[int]) -> bool:
    count = await conn.fetchval(
        "SELECT count(*) FROM notifications WHERE id = ANY($1) AND delivered_at IS NOT NULL", ids
    )
    return bool(count == len(ids))


@asynccontextmanager
async def heard(database_url: str, user: uuid.UUID) -> AsyncIterator[list[dict[str, Any]]]:
    """Every NOTIFY payload on the user's channel while the block runs."""
    messages: list[dict[str, Any]] = []
    listener = await connect(database_url)
    await listener.add_listener(
        f"notifications:{user}", lambda *args: messages.append(json.loads(args[3]))
    )
    try:
        yield messages
    finally:
        await listener.close()


async def test_a_live_delivery_is_recorded_within_the_flush_period(
    server: RunningServer, conn: asyncpg.Connection, database_url: str
) -> None:
    user = uuid.uuid4()
    async with (
        heard(database_url, user) as messages,
        open_stream(server.base_url, server.token(user)) as stream,
    ):
        await stream.next()  # connected
        await complete(conn, user)
        [event] = await stream.notifications(1)
        received = datetime.now(UTC)
        await until(lambda: recorded(conn, [event["id"]]), "recorded", timeout=RECORDED_WITHIN)
        await stream.silent(0.3)  # no read_state event either
    row = await delivery(conn, event["id"])
    assert row["delivered_via"] == "stream"
    assert row["created_at"] <= row["delivered_at"] <= received  # the write time, not the flush
    assert row["read_at"] is None
    assert [m["event"] for m in messages] == ["notification"]  # no read_state NOTIFY


async def test_replayed_notifications_are_recorded(
    server: RunningServer, conn: asyncpg.Connection
) -> None:
    user = uuid.uuid4()
    for _ in range(3):
        await complete(conn, user)  # nobody is connected: not delivered
    ids = [
        r["id"] for r in await conn.fetch("SELECT id FROM notifications WHERE user_id = $1", user)
    ]
    await asyncio.sleep(0.8)  # more than a flush period: nothing records them
    assert not await conn.fetchval(
        "SELECT count(*) FROM notifications WHERE user_id = $1 AND delivered_at IS NOT NULL", user
    )
    async with open_stream(server.base_url, server.token(user), last_event_id=0) as stream:
        got = await stream.notifications(3)
    assert [n["id"] for n in got] == sorted(ids)
    await until(lambda: recorded(conn, ids), "replay recorded", timeout=RECORDED_WITHIN)
    vias = await conn.fetch("SELECT delivered_via FROM notifications WHERE id = ANY($1)", ids)
    assert {r["delivered_via"] for r in vias} == {"stream"}


async def test_the_first_channel_wins(server: RunningServer, conn: asyncpg.Connection) -> None:
    user = uuid.uuid4()
    await complete(conn, user)
    await complete(conn, user)
    first, second = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", user
        )
    ]
    pushed_at = datetime.now(UTC) - timedelta(minutes=1)
    await conn.execute(notifications_sql.MARK_DELIVERED, [first], [pushed_at], "push")
    async with open_stream(server.base_url, server.token(user), last_event_id=0) as stream:
        await stream.notifications(2)
    await until(lambda: recorded(conn, [second]), "second recorded", timeout=RECORDED_WITHIN)
    # Delivered again (a second tab, a later replay): still the first record.
    async with open_stream(server.base_url, server.token(user), last_event_id=0) as stream:
        await stream.notifications(2)
    await asyncio.sleep(1.0)  # two flush periods
    one, two = await delivery(conn, first), await delivery(conn, second)
    assert (one["delivered_via"], one["delivered_at"]) == ("push", pushed_at)
    assert two["delivered_via"] == "stream"
    again = await conn.fetchval("SELECT delivered_at FROM notifications WHERE id = $1", second)
    await conn.execute(notifications_sql.MARK_DELIVERED, [second], [datetime.now(UTC)], "email")
    assert (await delivery(conn, second))["delivered_at"] == again
    assert (await delivery(conn, second))["delivered_via"] == "stream"


async def test_recording_sends_no_read_state_notify_but_reading_does(
    conn: asyncpg.Connection, database_url: str
) -> None:
    user = uuid.uuid4()
    await complete(conn, user)
    id_ = await conn.fetchval("SELECT id FROM notifications WHERE user_id = $1", user)
    async with heard(database_url, user) as messages:
        await conn.execute(notifications_sql.MARK_DELIVERED, [id_], [datetime.now(UTC)], "stream")
        await conn.execute("SELECT 1")  # a round trip, so a NOTIFY would have arrived
        await asyncio.sleep(0.2)
        assert messages == []
        await conn.execute(
            notifications_sql.MARK_READ, id_, user
        )  # the test can see a read_state NOTIFY
        await until(lambda: messages, "read_state heard")
    assert [m["event"] for m in messages] == ["read_state"]


async def test_a_failed_flush_is_kept_and_retried(
    conn: asyncpg.Connection, database_url: str
) -> None:
    user = uuid.uuid4()
    await complete(conn, user)
    id_ = await conn.fetchval("SELECT id FROM notifications WHERE user_id = $1", user)
    pool = await create_pool(database_url, min_size=1, max_size=1)
    recorder = DeliveryRecorder(pool, interval=0.1, max_pending=1000, timeout=0.3)
    try:
        recorder.record(id_)
        async with conn.transaction():
            await conn.execute("LOCK TABLE notifications IN SHARE MODE")  # blocks the UPDATE
            assert not await recorder.flush()  # timed out
            assert recorder.pending == 1
            assert recorder.failures == 1
        assert await recorder.flush()
        assert recorder.pending == 0
        assert recorder.written == 1
        assert (await delivery(conn, id_))["delivered_via"] == "stream"
    finally:
        await pool.close()


async def test_pending_records_are_bounded_dropping_the_oldest(database_url: str) -> None:
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        recorder = DeliveryRecorder(pool, interval=1, max_pending=100)
        for id_ in range(1, 101):
            recorder.record(id_)
        recorder.record(1)  # already pending: no change
        assert recorder.pending == 100
        assert recorder.dropped == 0
        recorder.record(101)
        assert recorder.dropped == 10
        assert recorder.pending == 91
        assert recorder._pending.keys() == set(range(11, 102))
    finally:
        await pool.close()


async def test_close_flushes_what_is_pending(conn: asyncpg.Connection, database_url: str) -> None:
    user = uuid.uuid4()
    await complete(conn, user)
    id_ = await conn.fetchval("SELECT id FROM notifications WHERE user_id = $1", user)
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        recorder = DeliveryRecorder(pool, interval=60, max_pending=100)
        recorder.record(id_)
        await recorder.close()
    finally:
        await pool.close()
    assert (await delivery(conn, id_))["delivered_via"] == "stream"


async def test_a_server_stopping_while_the_database_is_blocked_still_records(
    conn: asyncpg.Connection, database_url: str
) -> None:
    user = uuid.uuid4()
    await complete(conn, user)
    id_ = await conn.fetchval("SELECT id FROM notifications WHERE user_id = $1", user)
    blocker = await connect(database_url)
    blocker_pid = await backend_pid(blocker)
    await blocker.execute("BEGIN")
    await blocker.execute("SELECT 1 FROM notifications WHERE id = $1 FOR SHARE", id_)
    releasing: asyncio.Task[None] | None = None
    try:
        async with running_server(settings_for(database_url)) as server:
            async with open_stream(server.base_url, server.token(user), last_event_id=0) as stream:
                await stream.notifications(1)
            await until_blocked(
                conn, "the periodic flush waits on the row lock", behind=blocker_pid
            )
            assert (await delivery(conn, id_))["delivered_at"] is None

            async def release() -> None:
                await asyncio.sleep(0.5)  # shutdown is under way: its flush waits too
                await blocker.execute("COMMIT")

            releasing = asyncio.create_task(release())
    finally:
        if releasing is not None:
            await releasing
        await blocker.close()
    assert (await delivery(conn, id_))["delivered_via"] == "stream"


@pytest.mark.parametrize("referrer", ["push_deliveries", "email_digest_items"])
async def test_a_flush_does_not_wait_for_an_open_insert_referencing_the_notification(
    conn: asyncpg.Connection, database_url: str, referrer: str
) -> None:
    """An insert into a table with a foreign key to `notifications` (the push queue, a digest's
    items) holds FOR KEY SHARE on the row until its transaction ends; recording a delivery
    changes no key, so it must not wait for it (FOR UPDATE would, for the whole digest)."""
    user = uuid.uuid4()
    await complete(conn, user)
    id_ = await conn.fetchval("SELECT id FROM notifications WHERE user_id = $1", user)
    inserter = await connect(database_url)
    pool = await create_pool(database_url, min_size=1, max_size=1)
    recorder = DeliveryRecorder(pool, interval=60, max_pending=100, timeout=2.0)
    try:
        await inserter.execute("BEGIN")
        if referrer == "push_deliveries":
            subscription = await inserter.fetchval(
                "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth)"
                " VALUES ($1, $2, $3, $4) RETURNING id",
                user, f"https://push.example/{uuid.uuid4()}", "A" * 87, "B" * 22,
            )  # fmt: skip
            await inserter.execute(
                "INSERT INTO push_deliveries (notification_id, subscription_id) VALUES ($1, $2)",
                id_, subscription,
            )  # fmt: skip
        else:
            digest = await inserter.fetchval(
                "INSERT INTO email_digests (user_id) VALUES ($1) RETURNING id", user
            )
            await inserter.execute(
                "INSERT INTO email_digest_items (notification_id, digest_id) VALUES ($1, $2)",
                id_, digest,
            )  # fmt: skip
        recorder.record(id_)
        assert await recorder.flush()  # FOR UPDATE: times out after 2 s and returns False
        assert recorder.written == 1
        await inserter.execute("COMMIT")
    finally:
        await inserter.close()
        await pool.close()
    assert (await delivery(conn, id_))["delivered_via"] == "stream"
