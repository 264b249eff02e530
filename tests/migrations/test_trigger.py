"""The content-request trigger: one notification row and one NOTIFY per final transition."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from tests.support.listen import assert_nothing_more, listening

NEW_REQUEST = "INSERT INTO content_requests (student_id, title) VALUES ($1, $2) RETURNING id"


async def new_request(
    conn: asyncpg.Connection, user: uuid.UUID, title: str = "Photosynthesis"
) -> uuid.UUID:
    request_id: uuid.UUID = await conn.fetchval(NEW_REQUEST, user, title)
    return request_id


async def notifications_of(conn: asyncpg.Connection, user: uuid.UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, type, payload, content_request_id FROM notifications"
        " WHERE user_id = $1 ORDER BY id",
        user,
    )
    return rows


@pytest.mark.parametrize(
    ("update", "expected_type", "expected_payload"),
    [
        (
            "status = 'completed', video_url = '/v.webm', thumbnail_url = '/t.png',"
            " duration_seconds = 42",
            "video_complete",
            {
                "title": "Photosynthesis",
                "video_url": "/v.webm",
                "thumbnail_url": "/t.png",
                "duration_seconds": 42,
            },
        ),
        (
            "status = 'failed', error_message = 'TTS timed out'",
            "video_failed",
            {"title": "Photosynthesis", "error_message": "TTS timed out"},
        ),
        (
            "status = 'clarification_needed', clarification_question = 'Which grade?'",
            "clarification_needed",
            {"question": "Which grade?"},
        ),
    ],
)
async def test_final_status_creates_one_row_and_one_notify(
    conn: asyncpg.Connection,
    database_url: str,
    update: str,
    expected_type: str,
    expected_payload: dict[str, object],
) -> None:
    user = uuid.uuid4()
    request_id = await new_request(conn, user)
    await conn.execute(
        "UPDATE content_requests SET status = 'processing' WHERE id = $1", request_id
    )
    async with listening(database_url, user) as notifies:
        await conn.execute(f"UPDATE content_requests SET {update} WHERE id = $1", request_id)
        message = await asyncio.wait_for(notifies.get(), 2)
        await assert_nothing_more(conn, notifies, user)

    rows = await notifications_of(conn, user)
    assert len(rows) == 1
    assert rows[0]["type"] == expected_type
    assert rows[0]["content_request_id"] == request_id
    assert rows[0]["payload"] == {"content_id": str(request_id), **expected_payload}
    assert message == {"event": "notification", "id": rows[0]["id"]}


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE content_requests SET status = 'processing' WHERE id = $1",
        "UPDATE content_requests SET status = 'pending' WHERE id = $1",
        "UPDATE content_requests SET title = 'Renamed' WHERE id = $1",
    ],
    ids=["to-processing", "unchanged-status", "non-status-update"],
)
async def test_non_final_updates_create_nothing(
    conn: asyncpg.Connection, database_url: str, statement: str
) -> None:
    user = uuid.uuid4()
    request_id = await new_request(conn, user)
    async with listening(database_url, user) as notifies:
        await conn.execute(statement, request_id)
        await assert_nothing_more(conn, notifies, user)
    assert await notifications_of(conn, user) == []


async def test_rolled_back_update_creates_and_notifies_nothing(
    conn: asyncpg.Connection, database_url: str
) -> None:
    user = uuid.uuid4()
    request_id = await new_request(conn, user)
    async with listening(database_url, user) as notifies:
        transaction = conn.transaction()
        await transaction.start()
        await conn.execute(
            "UPDATE content_requests SET status = 'completed' WHERE id = $1", request_id
        )
        await transaction.rollback()
        await assert_nothing_more(conn, notifies, user)
    assert await notifications_of(conn, user) == []


async def test_repeated_transition_creates_no_duplicate(
    conn: asyncpg.Connection, database_url: str
) -> None:
    user = uuid.uuid4()
    request_id = await new_request(conn, user)
    async with listening(database_url, user) as notifies:
        await conn.execute(
            "UPDATE content_requests SET status = 'completed' WHERE id = $1", request_id
        )
        await asyncio.wait_for(notifies.get(), 2)
        # A retried worker: the same UPDATE again, then processing -> completed again.
        await conn.execute(
            "UPDATE content_requests SET status = 'completed' WHERE id = $1", request_id
        )
        await conn.execute(
            "UPDATE content_requests SET status = 'processing' WHERE id = $1", request_id
        )
        await conn.execute(
            "UPDATE content_requests SET status = 'completed' WHERE id = $1", request_id
        )
        await assert_nothing_more(conn, notifies, user)
    assert len(await notifications_of(conn, user)) == 1


async def test_new_round_after_clarification_notifies_again(
    conn: asyncpg.Connection, database_url: str
) -> None:
    user = uuid.uuid4()
    request_id = await new_request(conn, user)
    set_status = "UPDATE content_requests SET status = $2 WHERE id = $1"
    async with listening(database_url, user) as notifies:
        await conn.execute(set_status, request_id, "clarification_needed")
        await conn.execute(set_status, request_id, "pending")  # the student answered
        await conn.execute(set_status, request_id, "processing")
        await conn.execute(set_status, request_id, "completed")
        first = await asyncio.wait_for(notifies.get(), 2)
        second = await asyncio.wait_for(notifies.get(), 2)
        await assert_nothing_more(conn, notifies, user)
    rows = await notifications_of(conn, user)
    assert [row["type"] for row in rows] == ["clarification_needed", "video_complete"]
    assert [first["id"], second["id"]] == [row["id"] for row in rows]


async def test_insert_in_final_status_notifies(conn: asyncpg.Connection, database_url: str) -> None:
    user = uuid.uuid4()
    async with listening(database_url, user) as notifies:
        request_id = await conn.fetchval(
            "INSERT INTO content_requests (student_id, status, error_message)"
            " VALUES ($1, 'failed', 'bad input') RETURNING id",
            user,
        )
        message = await asyncio.wait_for(notifies.get(), 2)
    rows = await notifications_of(conn, user)
    assert [(row["type"], row["id"]) for row in rows] == [("video_failed", message["id"])]
    assert rows[0]["payload"]["content_id"] == str(request_id)


async def test_notify_goes_only_to_the_owners_channel(
    conn: asyncpg.Connection, database_url: str
) -> None:
    owner, other = uuid.uuid4(), uuid.uuid4()
    request_id = await new_request(conn, owner)
    async with (
        listening(database_url, owner) as owners,
        listening(database_url, other) as others,
    ):
        await conn.execute(
            "UPDATE content_requests SET status = 'completed' WHERE id = $1", request_id
        )
        message = await asyncio.wait_for(owners.get(), 2)
        await assert_nothing_more(conn, others, other)
    rows = await notifications_of(conn, owner)
    assert message == {"event": "notification", "id": rows[0]["id"]}


async def test_notify_payload_is_small(conn: asyncpg.Connection, database_url: str) -> None:
    user = uuid.uuid4()
    request_id = await new_request(conn, user, title="x" * 20_000)
    async with listening(database_url, user) as notifies:
        await conn.execute(
            "UPDATE content_requests SET status = 'failed', error_message = $2 WHERE id = $1",
            request_id,
            "e" * 20_000,
        )
        message = await asyncio.wait_for(notifies.get(), 2)
    assert len(str(message)) < 100


async def test_unknown_status_is_rejected_and_writes_nothing(conn: asyncpg.Connection) -> None:
    user = uuid.uuid4()
    request_id = await new_request(conn, user)
    with pytest.raises(
        asyncpg.InvalidTextRepresentationError,
        match='invalid input value for enum content_request_status: "done"',
    ):
        await conn.execute("UPDATE content_requests SET status = 'done' WHERE id = $1", request_id)
    assert (
        await conn.fetchval("SELECT status FROM content_requests WHERE id = $1", request_id)
        == "pending"
    )
    assert await notifications_of(conn, user) == []


async def test_updated_at_is_kept_current(conn: asyncpg.Connection) -> None:
    request_id = await new_request(conn, uuid.uuid4())
    before = await conn.fetchval(
        "SELECT updated_at FROM content_requests WHERE id = $1", request_id
    )
    await conn.execute("UPDATE content_requests SET title = 'New' WHERE id = $1", request_id)
    after = await conn.fetchval("SELECT updated_at FROM content_requests WHERE id = $1", request_id)
    assert after > before
