"""The dispatcher's queries stay cheap with many subscriptions and many pushed notifications.

The data has the shape of a busy day: every user subscribed, each with several unread, unseen
notifications within the TTL that were all pushed already, and a few new ones. Finding due
pushes each poll must cost the new notifications, not subscriptions times notifications: the test
counts the buffers the statement touches (EXPLAIN ANALYZE), which depends on the data and the
plan, not on timing.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest

from db.pool import connect
from service.channels.push import sql as push_sql

USERS = 20_000
PER_USER = 5  # pushed notifications per user within the TTL
NEW = 50  # notifications of the last minute, not yet pushed
GRACE, DELAY, TTL = 3.0, 60.0, 86_400.0
WINDOW = DELAY + 60.0


@pytest.fixture(scope="module")
async def big(database_url: str) -> str:
    connection = await connect(database_url)
    try:
        users = [uuid.uuid4() for _ in range(USERS)]
        await connection.execute(
            """
            INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at)
            SELECT u, 'https://fcm.googleapis.com/fcm/send/' || u, repeat('A', 87),
                   repeat('A', 22), now() - interval '30 days'
            FROM unnest($1::uuid[]) AS u
            """,
            users,
        )
        # Oldest first, as they are inserted in production (the BRIN index relies on it).
        await connection.execute(
            """
            INSERT INTO notifications (user_id, type, payload, created_at)
            SELECT ($1::uuid[])[1 + (i % $2)], 'video_complete', '{}'::jsonb,
                   now() - interval '23 hours' + make_interval(secs => i * (22 * 3600.0 / $3))
            FROM generate_series(1, $3) AS i
            """,
            users,
            USERS,
            USERS * PER_USER,
        )
        await connection.execute(
            """
            INSERT INTO push_deliveries (notification_id, subscription_id, state, finished_at)
            SELECT n.id, s.id, 'sent', now()
            FROM notifications n JOIN push_subscriptions s USING (user_id)
            """
        )
        await connection.execute(
            """
            INSERT INTO notifications (user_id, type, payload, created_at)
            SELECT ($1::uuid[])[1 + i * 7], 'video_complete', '{}'::jsonb,
                   now() - make_interval(secs => 10 + i)
            FROM generate_series(1, $2) AS i
            """,
            users,
            NEW,
        )
        await connection.execute("VACUUM ANALYZE notifications")
        await connection.execute("VACUUM ANALYZE push_subscriptions")
        await connection.execute("VACUUM ANALYZE push_deliveries")
    finally:
        await connection.close()
    return database_url


def _buffers(node: dict[str, Any]) -> int:
    # A node's counts include its children's.
    return int(node.get("Shared Hit Blocks", 0)) + int(node.get("Shared Read Blocks", 0))


async def analyze(conn: asyncpg.Connection, sql: str, *args: object) -> tuple[int, int, str]:
    """(buffers the search touched, rows inserted, plan) of the INSERT … SELECT `sql`, rolled
    back; the inserting itself (heap, indexes) is left out, it is the same for either window."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        [row] = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql, *args)
        value = row[0]  # decoded by the connection's json codec, or text
        [tree] = json.loads(value) if isinstance(value, str) else value
        inserted = await conn.fetchval(
            "SELECT count(*) FROM push_deliveries WHERE state = 'pending'"
        )
    finally:
        await transaction.rollback()
    plan = tree["Plan"]
    [search] = plan["Plans"]
    return _buffers(search), inserted, json.dumps(plan)


async def test_a_poll_costs_the_new_notifications_not_every_subscription(big: str) -> None:
    conn = await connect(big)
    try:
        pages = await conn.fetchval(
            "SELECT sum(relpages) FROM pg_class"
            " WHERE relname IN ('notifications', 'push_subscriptions', 'push_deliveries')"
        )
        buffers, inserted, shown = await analyze(
            conn, push_sql.PUSH_ENQUEUE, GRACE, DELAY, TTL, WINDOW
        )
        full_buffers, full_inserted, _ = await analyze(
            conn, push_sql.PUSH_ENQUEUE, GRACE, DELAY, TTL, TTL
        )
    finally:
        await conn.close()
    assert inserted == full_inserted == NEW  # the window finds what the whole TTL finds
    assert "Seq Scan" not in shown, shown
    # A few pages per new notification (index probes), far below the tables' size, which the
    # whole TTL reads.
    assert buffers <= 10 * NEW, (buffers, shown)
    assert buffers * 4 < pages, (buffers, pages)
    assert buffers * 4 < full_buffers, (buffers, full_buffers)


async def test_claiming_uses_the_due_index(big: str) -> None:
    conn = await connect(big)
    try:
        rows = await conn.fetch("EXPLAIN " + push_sql.PUSH_CLAIM, 64, 40.0, 6)
    finally:
        await conn.close()
    shown = "\n".join(row[0] for row in rows)
    assert "push_deliveries_due" in shown, shown
    assert "Seq Scan on push_deliveries" not in shown, shown
