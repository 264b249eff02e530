"""Content requests and worker processes for tests of the worker and what watches it."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg

from tests.support.waiting import until


async def wait_for_status(
    conn: asyncpg.Connection, request_id: uuid.UUID, status: str, timeout: float = 15
) -> asyncpg.Record:
    async def reached() -> asyncpg.Record | None:
        row: asyncpg.Record = await conn.fetchrow(
            "SELECT * FROM content_requests WHERE id = $1", request_id
        )
        return row if row["status"] == status else None

    return await until(reached, f"request {request_id} is {status}", timeout=timeout)


async def new_request(
    conn: asyncpg.Connection, question: str = "How do magnets work?"
) -> uuid.UUID:
    request_id: uuid.UUID = await conn.fetchval(
        "INSERT INTO content_requests (student_id, question) VALUES ($1, $2) RETURNING id",
        uuid.uuid4(),
        question,
    )
    return request_id


@contextmanager
def worker_process(
    database_url: str, log: Path, **settings: object
) -> Iterator[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MEDIA_DIR": str(log.parent / "media"),
        "WORKER_POLL_SECONDS": "0.5",
        **{key.upper(): str(value) for key, value in settings.items()},
    }
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "worker"], env=env, stdout=output, stderr=output
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
