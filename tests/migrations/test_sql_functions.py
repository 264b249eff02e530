"""The facts said once in SQL (migration 0005): the per-user lock key, the unread condition
and the notification a content request's status produces."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from db.pool import connect
from tests.support.listen import assert_nothing_more, listening

CREATE = "SELECT vividly_create_notification_v2($1, 'video_complete', NULL, NULL, '{}')"


async def test_the_lock_key_is_the_one_every_writer_of_the_user_waits_on(
    conn: asyncpg.Connection, database_url: str
) -> None:
    user = uuid.uuid4()
    key = await conn.fetchval("SELECT vividly_user_lock_key_v1($1)", user)
    # The key transactions of the previous revision still take while this one rolls out.
    assert key == await conn.fetchval(
        "SELECT hashtextextended('vividly.notifications:' || $1::uuid, 0)", user
    )
    holder = await connect(database_url)
    try:
        async with holder.transaction():
            await holder.execute("SELECT pg_advisory_xact_lock(vividly_user_lock_key_v1($1))", user)
            async with conn.transaction():
                await conn.execute("SET LOCAL lock_timeout = '200ms'")
                with pytest.raises(asyncpg.LockNotAvailableError):
                    await conn.execute(CREATE, user)
            # Another user's writer does not wait.
            await asyncio.wait_for(conn.fetchval(CREATE, uuid.uuid4()), 2)
    finally:
        await holder.close()
    assert await conn.fetchval(CREATE, user) is not None


async def test_unread_is_the_partial_index_predicate(conn: asyncpg.Connection) -> None:
    cases = await conn.fetch(
        "SELECT r IS NULL AS read_null, d IS NULL AS dismissed_null,"
        " vividly_unread_v1(r, d) AS unread"
        " FROM (VALUES (NULL, NULL), (now(), NULL), (NULL, now()), (now(), now()))"
        " AS v (r, d)"
    )
    assert [tuple(row) for row in cases] == [
        (True, True, True),
        (False, True, False),
        (True, False, False),
        (False, False, False),
    ]
    predicate = await conn.fetchval(
        "SELECT pg_get_expr(indpred, indrelid) FROM pg_index"
        " WHERE indexrelid = 'notifications_user_unread'::regclass"
    )
    assert predicate == "vividly_unread_v1(read_at, dismissed_at)"


@pytest.mark.parametrize(
    ("status", "expected_type", "expected_fields"),
    [
        ("pending", None, None),
        ("processing", None, None),
        (
            "completed",
            "video_complete",
            ["content_id", "duration_seconds", "thumbnail_url", "title", "video_url"],
        ),
        ("failed", "video_failed", ["content_id", "error_message", "title"]),
        ("clarification_needed", "clarification_needed", ["content_id", "question"]),
    ],
)
async def test_each_status_makes_a_registered_type_or_nothing(
    conn: asyncpg.Connection,
    status: str,
    expected_type: str | None,
    expected_fields: list[str] | None,
) -> None:
    request_id = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, title)"
        " VALUES ($1, $2::content_request_status, 'Tides') RETURNING id",
        uuid.uuid4(),
        status,
    )
    made = await conn.fetchrow(
        "SELECT (vividly_request_notification_v1(r)).* FROM content_requests r WHERE r.id = $1",
        request_id,
    )
    assert made is not None
    assert made["type"] == expected_type
    if expected_fields is None:
        assert made["payload"] is None
    else:
        assert sorted(made["payload"]) == expected_fields
        assert made["payload"]["content_id"] == str(request_id)
        assert await conn.fetchval(
            "SELECT label FROM notification_types WHERE name = $1", expected_type
        )


async def test_read_state_announces_changes_of_state_only(
    conn: asyncpg.Connection, database_url: str
) -> None:
    user = uuid.uuid4()
    notification = await conn.fetchval(CREATE, user)
    mark = "UPDATE notifications SET read_at = {} WHERE id = $1"
    async with listening(database_url, user) as heard:
        await conn.execute(mark.format("now()"), notification)
        read = await asyncio.wait_for(heard.get(), 2)
        assert (read["state"], read["ids"], read["unread_count"]) == ("read", [notification], 0)
        # Read again, at another time: the same state, so nothing to announce (it was "unread").
        await conn.execute(mark.format("now() + interval '1 minute'"), notification)
        await assert_nothing_more(conn, heard, user)
        await conn.execute(mark.format("NULL"), notification)
        unread = await asyncio.wait_for(heard.get(), 2)
        assert (unread["state"], unread["unread_count"]) == ("unread", 1)
