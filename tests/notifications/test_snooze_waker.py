"""The snooze waker on a real Postgres: due rows come back once as new rows, even with several
wakers racing; rows not due stay; a muted type, or a failure retried meanwhile, stays archived;
retention keeps snoozed rows."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path

import asyncpg

from db.pool import connect
from service.notifications.snooze import wake_due
from service.ops.retention import prune
from tests.support.server import complete


async def snooze(conn: asyncpg.Connection, ids: list[int], seconds: float) -> None:
    """What the snooze endpoint writes, with any time (also a past one, to be due now)."""
    await conn.execute(
        "UPDATE notifications SET dismissed_at = now(),"
        " snoozed_until = now() + make_interval(secs => $2) WHERE id = ANY($1::bigint[])",
        ids,
        seconds,
    )


async def rows_of(conn: asyncpg.Connection, users: list[uuid.UUID]) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT id, user_id, content_request_id, payload, read_at, dismissed_at, snoozed_until"
        " FROM notifications WHERE user_id = ANY($1::uuid[]) ORDER BY id",
        users,
    )
    return rows


async def test_due_rows_come_back_once_as_new_rows_with_wakers_racing(
    conn: asyncpg.Connection, database_url: str
) -> None:
    users = [uuid.uuid4() for _ in range(4)]
    for _ in range(15):
        for user in users:
            await complete(conn, user)
    before = await rows_of(conn, users)
    await snooze(conn, [row["id"] for row in before], -1)
    heard: list[str] = []
    listener = await connect(database_url)
    for user in users:
        await listener.add_listener(f"notifications:{user}", lambda *args: heard.append(args[3]))
    wakers = [await connect(database_url) for _ in range(3)]
    try:
        woken = await asyncio.gather(*(wake_due(waker, batch_size=4) for waker in wakers))
        assert sum(woken) == len(before) == 60
        assert await wake_due(wakers[0], batch_size=4) == 0  # nothing left, nothing twice
        await asyncio.sleep(0.2)  # the NOTIFYs of the last commits
    finally:
        for connection in [*wakers, listener]:
            await connection.close()
    after = await rows_of(conn, users)
    assert len(after) == 60
    assert min(row["id"] for row in after) > max(row["id"] for row in before)
    assert all(
        (row["read_at"], row["dismissed_at"], row["snoozed_until"]) == (None, None, None)
        for row in after
    )

    # The same notifications (their users, requests and payloads), each once.
    def same(rows: list[asyncpg.Record]) -> list[tuple[str, str, str]]:
        return sorted(
            (str(r["user_id"]), str(r["content_request_id"]), json.dumps(r["payload"]))
            for r in rows
        )

    assert same(after) == same(before)
    announced = sorted(json.loads(payload)["id"] for payload in heard)
    assert announced == [row["id"] for row in after]


async def test_rows_not_due_stay_snoozed_and_archived(conn: asyncpg.Connection) -> None:
    user = uuid.uuid4()
    for _ in range(3):
        await complete(conn, user)
    rows = await rows_of(conn, [user])
    await snooze(conn, [rows[0]["id"]], -1)
    await snooze(conn, [rows[1]["id"]], 3600)
    assert await wake_due(conn, batch_size=10) == 1
    after = await rows_of(conn, [user])
    assert [row["id"] for row in after][:2] == [rows[1]["id"], rows[2]["id"]]
    assert after[0]["snoozed_until"] is not None
    assert after[0]["dismissed_at"] is not None
    assert after[2]["id"] > rows[2]["id"]  # the due one, back with a new id
    assert after[2]["content_request_id"] == rows[0]["content_request_id"]


async def test_a_type_muted_meanwhile_stays_archived(conn: asyncpg.Connection) -> None:
    user = uuid.uuid4()
    await complete(conn, user)
    [row] = await rows_of(conn, [user])
    await snooze(conn, [row["id"]], -1)
    await conn.execute(
        "INSERT INTO notification_preferences (user_id, type, in_app)"
        " VALUES ($1, 'video_complete', false)",
        user,
    )
    assert await wake_due(conn, batch_size=10) == 0
    [after] = await rows_of(conn, [user])
    assert after["id"] == row["id"]
    assert after["snoozed_until"] is None
    assert after["dismissed_at"] is not None


async def test_a_failure_whose_request_was_retried_meanwhile_stays_archived(
    conn: asyncpg.Connection,
) -> None:
    user = uuid.uuid4()
    request = await conn.fetchval(
        "INSERT INTO content_requests (student_id, status, question, title, error_message)"
        " VALUES ($1, 'failed', 'q', 'Tides', 'No.') RETURNING id",
        user,
    )
    [row] = await rows_of(conn, [user])
    await snooze(conn, [row["id"]], -1)
    await conn.execute("UPDATE content_requests SET status = 'pending' WHERE id = $1", request)
    assert await wake_due(conn, batch_size=10) == 0  # the failure is stale: it was retried
    [after] = await rows_of(conn, [user])
    assert after["id"] == row["id"]
    assert (after["snoozed_until"], after["dismissed_at"] is not None) == (None, True)


async def test_retention_never_deletes_a_snoozed_row(
    conn: asyncpg.Connection, tmp_path: Path
) -> None:
    user = uuid.uuid4()
    for _ in range(2):
        await complete(conn, user)
    snoozed, archived = (row["id"] for row in await rows_of(conn, [user]))
    await snooze(conn, [snoozed], 3600)
    await conn.execute("UPDATE notifications SET dismissed_at = now() WHERE id = $1", archived)
    await conn.execute(
        "UPDATE notifications SET created_at = now() - interval '3 days' WHERE user_id = $1", user
    )
    await prune(conn, days=1, media_dir=tmp_path, delete_media=lambda *_: 0)
    assert [row["id"] for row in await rows_of(conn, [user])] == [snoozed]
