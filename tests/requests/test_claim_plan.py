"""The fair claim, the per-student cap and the round trigger stay cheap on 300k requests.

The claim's plan reads the pending index in order (no sort, no sequential scan), and a whole
ask-and-claim transaction (the cap's count, the insert with its round trigger, the claim) makes
no sequential scan of `content_requests` at all (`pg_stat_xact_user_tables`).
"""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from db.pool import connect
from service.requests import sql as requests_sql

ROWS = 300_000
STUDENTS = 3_000
PENDING_EVERY = 50  # 6,000 pending requests, spread over the students and rounds


@pytest.fixture(scope="module")
async def big(database_url: str) -> str:
    connection = await connect(database_url)
    try:
        # Loaded with triggers off (a notification per completed row is not what is measured);
        # rounds as the trigger would have given them: one per student per round.
        await connection.execute("ALTER TABLE content_requests DISABLE TRIGGER USER")
        await connection.execute(
            """
            INSERT INTO content_requests (student_id, question, status, fair_round, created_at)
            SELECT ($1::uuid[])[1 + (i % $2)], 'q',
                   CASE WHEN i % $4 = 0 THEN 'pending' ELSE 'completed' END
                   ::content_request_status,
                   i / $2, now() - make_interval(secs => $3 - i)
            FROM generate_series(1, $3) AS i
            """,
            [uuid.uuid4() for _ in range(STUDENTS)],
            STUDENTS,
            ROWS,
            PENDING_EVERY,
        )
        await connection.execute("ALTER TABLE content_requests ENABLE TRIGGER USER")
        await connection.execute("ANALYZE content_requests")
    finally:
        await connection.close()
    return database_url


async def test_the_claim_reads_the_pending_index_in_order(
    big: str, conn: asyncpg.Connection
) -> None:
    rows = await conn.fetch("EXPLAIN " + requests_sql.CLAIM, "planner", 30.0)
    plan = "\n".join(row[0] for row in rows)
    assert "content_requests_pending" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert "Sort" not in plan, plan


async def test_asking_and_claiming_scan_no_table(big: str, conn: asyncpg.Connection) -> None:
    student = uuid.uuid4()
    async with conn.transaction():
        await conn.execute(requests_sql.LOCK_STUDENT_REQUESTS, student)
        assert await conn.fetchval(requests_sql.OPEN_REQUEST_COUNT, student) == 0
        await conn.fetchrow(requests_sql.CREATE_REQUEST, student, "How do tides work?")
        await conn.fetchrow(requests_sql.CREATE_REQUEST, student, "And waves?")
        claimed = await conn.fetchrow(requests_sql.CLAIM, "planner", 30.0)
        scans = await conn.fetchrow(
            "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables"
            " WHERE relname = 'content_requests'"
        )
    assert claimed is not None
    assert scans["seq_scan"] == 0, dict(scans)
    assert scans["idx_scan"] > 0
