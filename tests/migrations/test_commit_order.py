"""Per-user commit order: a reader that follows `id > last_seen` never misses a row.

Concurrent writers complete many requests of one user, each holding its transaction open a
little after the trigger ran. A reader polls `id > last_seen` throughout; every row that
exists at the end must have been seen. The control case writes rows without the trigger's
lock and shows that the reader then does miss rows, so the check can fail.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from db.pool import connect

WRITERS = 16
ROWS = 240

Write = Callable[[asyncpg.Connection, int], Awaitable[None]]


async def storm(url: str, user: uuid.UUID, write: Write) -> tuple[set[int], set[int]]:
    """Run the writers and the reader; return (ids the reader saw, ids that exist at the end)."""
    reader = await connect(url)
    writers = [await connect(url) for _ in range(WRITERS)]
    seen: set[int] = set()
    done = asyncio.Event()

    async def read() -> None:
        last_seen = 0
        while True:
            finished = done.is_set()
            rows = await reader.fetch(
                "SELECT id FROM notifications WHERE user_id = $1 AND id > $2 ORDER BY id",
                user,
                last_seen,
            )
            for row in rows:
                seen.add(row["id"])
                last_seen = row["id"]
            if finished:
                return

    async def write_all(connection: asyncpg.Connection, jobs: list[int]) -> None:
        for job in jobs:
            await write(connection, job)

    try:
        reading = asyncio.create_task(read())
        jobs = list(range(ROWS))
        await asyncio.gather(*(write_all(w, jobs[i::WRITERS]) for i, w in enumerate(writers)))
        done.set()
        await reading
        final = {
            r["id"]
            for r in await reader.fetch("SELECT id FROM notifications WHERE user_id = $1", user)
        }
    finally:
        for connection in [reader, *writers]:
            await connection.close()
    return seen, final


async def test_ids_of_one_user_become_visible_in_order(database_url: str) -> None:
    user = uuid.uuid4()
    setup = await connect(database_url)
    request_ids = [
        r["id"]
        for r in await setup.fetch(
            "INSERT INTO content_requests (student_id) SELECT $1 FROM generate_series(1, $2)"
            " RETURNING id",
            user,
            ROWS,
        )
    ]
    await setup.close()

    async def complete(connection: asyncpg.Connection, job: int) -> None:
        async with connection.transaction():
            await connection.execute(
                "UPDATE content_requests SET status = 'completed' WHERE id = $1", request_ids[job]
            )
            await asyncio.sleep(random.uniform(0, 0.004))

    seen, final = await storm(database_url, user, complete)
    assert len(final) == ROWS
    assert final - seen == set(), "rows committed behind the reader's cursor"


async def test_control_without_the_lock_the_reader_misses_rows(database_url: str) -> None:
    async def insert_unlocked(connection: asyncpg.Connection, job: int) -> None:
        async with connection.transaction():
            await connection.execute(
                "INSERT INTO notifications (user_id, type, payload)"
                " VALUES ($1, 'video_complete', '{}')",
                user,
            )
            await asyncio.sleep(random.uniform(0, 0.004))

    for _attempt in range(3):
        user = uuid.uuid4()
        seen, final = await storm(database_url, user, insert_unlocked)
        if final - seen:
            return
    raise AssertionError("the storm never produced an out-of-order commit without the lock")
