"""The history and unread queries use their indexes on a table of a few hundred thousand rows."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from db.pool import connect
from service.live.store import MAX_ID
from service.notifications import sql as notifications_sql

ROWS = 300_000
USERS = 3_000


@pytest.fixture(scope="module")
async def big(database_url: str) -> tuple[str, uuid.UUID]:
    connection = await connect(database_url)
    try:
        users = [uuid.uuid4() for _ in range(USERS)]
        await connection.execute(
            """
            INSERT INTO notifications (user_id, type, payload, read_at)
            SELECT ($1::uuid[])[1 + (i % $2)], 'video_complete', '{}'::jsonb,
                   CASE WHEN i % 3 = 0 THEN NULL ELSE now() END
            FROM generate_series(1, $3) AS i
            """,
            users,
            USERS,
            ROWS,
        )
        await connection.execute("ANALYZE notifications")
    finally:
        await connection.close()
    return database_url, users[7]


async def plan(conn: asyncpg.Connection, sql: str, *args: object) -> str:
    rows = await conn.fetch("EXPLAIN " + sql, *args)
    return "\n".join(row[0] for row in rows)


@pytest.mark.parametrize(
    ("options", "index"),
    [
        (
            {"unread_only": False, "include_dismissed": False, "by_type": False},
            "notifications_user_newest",
        ),
        (
            {"unread_only": False, "include_dismissed": True, "by_type": False},
            "notifications_user_newest",
        ),
        (
            {"unread_only": True, "include_dismissed": False, "by_type": False},
            "notifications_user_unread",
        ),
        (
            {"unread_only": False, "include_dismissed": False, "by_type": False, "archived": True},
            "notifications_user_newest",
        ),
    ],
)
async def test_history_page_uses_the_index(
    big: tuple[str, uuid.UUID], conn: asyncpg.Connection, options: dict[str, bool], index: str
) -> None:
    _, user = big
    text = await plan(conn, notifications_sql.history_page(**options), user, MAX_ID, 21)
    assert index in text, text
    assert "Seq Scan" not in text, text


async def test_unread_count_uses_the_partial_index(
    big: tuple[str, uuid.UUID], conn: asyncpg.Connection
) -> None:
    _, user = big
    text = await plan(conn, notifications_sql.UNREAD_COUNT, user)
    assert "notifications_user_unread" in text, text
    assert "Seq Scan" not in text, text


async def test_the_snooze_waker_reads_only_snoozed_rows(
    big: tuple[str, uuid.UUID], conn: asyncpg.Connection
) -> None:
    # Every serve process asks this each SNOOZE_POLL_SECONDS: never a scan of the table.
    text = await plan(conn, notifications_sql.NEXT_SNOOZE_DUE)
    assert "notifications_snoozed_due" in text, text
    assert "Seq Scan" not in text, text
