"""The per-student cap on open content requests (MAX_OPEN_REQUESTS_PER_STUDENT).

Open means pending or processing. Whatever makes a request open (asking, a retry) does it inside
`open_request_slot`: a transaction in which the student's admissions are serialised and one more
open request is known to fit, or an HTTP 429 with `Retry-After` and a sentence a student can act
on. Two requests at once can never both take the last slot.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import HTTPException

from . import sql

RETRY_AFTER_SECONDS = 30  # about one simulated video; a real pipeline may want longer


@asynccontextmanager
async def open_request_slot(
    pool: asyncpg.Pool, student_id: uuid.UUID, limit: int
) -> AsyncIterator[asyncpg.Connection]:
    """A connection in a transaction where `student_id` may open one more request.

    Raises HTTPException(429) when `limit` requests are already open. Write the request on the
    connection given, before the block ends (the transaction commits then).
    """
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(sql.LOCK_STUDENT_REQUESTS, student_id)
        open_now: int = await connection.fetchval(sql.OPEN_REQUEST_COUNT, student_id)
        if open_now >= limit:
            raise HTTPException(
                429,
                detail=f"You already have {open_now} questions in progress (at most {limit}). "
                "Ask again when one of them is finished.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        yield connection
