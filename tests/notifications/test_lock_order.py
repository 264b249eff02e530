"""Statements that lock several notifications lock them in id order, like the delivery
recorder's MARK_DELIVERED, so they wait for each other instead of deadlocking, whatever plan
the database picks (the (user_id, id DESC) index scan would lock in descending order)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from db.pool import connect
from service.notifications import sql as notifications_sql
from tests.support.locks import backend_pid, until_blocked
from tests.support.server import complete


async def three_ids(conn: asyncpg.Connection) -> tuple[uuid.UUID, list[int]]:
    user = uuid.uuid4()
    for _ in range(3):
        await complete(conn, user)
    rows = await conn.fetch("SELECT id FROM notifications WHERE user_id = $1 ORDER BY id", user)
    return user, [row["id"] for row in rows]


@pytest.mark.parametrize("statement", ["MARK_SEEN", "READ_ALL", "DISMISS_ALL"])
async def test_a_users_statement_and_the_recorder_do_not_deadlock(
    conn: asyncpg.Connection, database_url: str, statement: str
) -> None:
    user, ids = await three_ids(conn)
    writer, recorder, student = [await connect(database_url) for _ in range(3)]
    try:
        # The plan that locks in descending order: the (user_id, id DESC) index.
        await student.execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
        args = (user, ids) if statement == "MARK_SEEN" else (user, ids[-1])
        sql = getattr(notifications_sql, statement)
        plan = "\n".join(row[0] for row in await student.fetch("EXPLAIN " + sql, *args))
        assert "notifications_user_newest" in plan or "notifications_user_unread" in plan
        writer_pid, recorder_pid, student_pid = [
            await backend_pid(c) for c in (writer, recorder, student)
        ]
        # Another writer holds the middle row for a moment (a single-row change).
        await writer.execute("BEGIN")
        await writer.execute("SELECT 1 FROM notifications WHERE id = $1 FOR UPDATE", ids[1])
        # The recorder locks the first row, then waits for the middle one ...
        recording = asyncio.create_task(
            recorder.execute(
                notifications_sql.MARK_DELIVERED, ids, [datetime.now(UTC)] * 3, "stream"
            )
        )
        await until_blocked(
            conn, "the recorder waits for the writer's row", pid=recorder_pid, behind=writer_pid
        )
        # ... while the student's statement runs; locking from the last row down, it would
        # hold the last row and wait for the middle one, which the recorder takes next.
        marking = asyncio.create_task(student.execute(sql, *args))
        # In id order it queues behind the recorder's first row (backwards, behind the writer).
        await until_blocked(conn, "the student's statement waits on a row lock", pid=student_pid)
        await writer.execute("COMMIT")
        results = await asyncio.gather(recording, marking, return_exceptions=True)
    finally:
        for connection in (writer, recorder, student):
            await connection.close()
    assert not [r for r in results if isinstance(r, BaseException)], results
    assert results[0] == "UPDATE 3"
    assert results[1] == "UPDATE 3"
