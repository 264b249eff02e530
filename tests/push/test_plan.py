"""The dispatcher's two queries stay on their indexes with many notifications and deliveries."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from db import queries
from db.pool import connect

ROWS = 200_000
USERS = 2_000
SUBSCRIBED = 200


@pytest.fixture(scope="module")
async def big(database_url: str) -> str:
    connection = await connect(database_url)
    try:
        users = [uuid.uuid4() for _ in range(USERS)]
        await connection.execute(
            """
            INSERT INTO notifications (user_id, type, payload, read_at, created_at)
            SELECT ($1::uuid[])[1 + (i % $2)], 'video_complete', '{}'::jsonb,
                   CASE WHEN i % 3 = 0 THEN NULL ELSE now() END,
                   now() - make_interval(secs => ($3 - i) * 10)
            FROM generate_series(1, $3) AS i
            """,
            users,
            USERS,
            ROWS,
        )
        await connection.execute(
            """
            INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at)
            SELECT u, 'https://fcm.googleapis.com/fcm/send/' || u, repeat('A', 87),
                   repeat('A', 22), now() - interval '30 days'
            FROM unnest($1::uuid[]) AS u
            """,
            users[:SUBSCRIBED],
        )
        await connection.execute(
            """
            INSERT INTO push_deliveries (notification_id, subscription_id, state, finished_at)
            SELECT n.id, s.id, 'sent', now()
            FROM notifications n JOIN push_subscriptions s USING (user_id)
            """
        )
        await connection.execute("ANALYZE")
    finally:
        await connection.close()
    return database_url


async def plan(conn: asyncpg.Connection, sql: str, *args: object) -> str:
    rows = await conn.fetch("EXPLAIN " + sql, *args)
    return "\n".join(row[0] for row in rows)


async def test_finding_due_pushes_is_an_index_range_per_subscription(big: str) -> None:
    conn = await connect(big)
    try:
        shown = await plan(conn, queries.PUSH_ENQUEUE, 3.0, 60.0, 86400.0)
    finally:
        await conn.close()
    assert "notifications_push_pending" in shown, shown
    assert "Seq Scan on notifications" not in shown, shown


async def test_claiming_uses_the_due_index(big: str) -> None:
    conn = await connect(big)
    try:
        shown = await plan(conn, queries.PUSH_CLAIM, 64, 40.0, 86400.0)
    finally:
        await conn.close()
    assert "push_deliveries_due" in shown, shown
    assert "Seq Scan on push_deliveries" not in shown, shown
    assert "Seq Scan on notifications" not in shown, shown
