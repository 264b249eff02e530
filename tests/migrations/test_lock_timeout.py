"""A migration never holds up traffic for longer than its lock_timeout: it gives up and retries.

A revision that needs ACCESS EXCLUSIVE on a table queues behind a long transaction that read the
table, and every later query on the table queues behind the revision's request. With
`lock_timeout` the revision gives up after that long, the queries behind it go on, and the run
is retried from the revision it stopped at until the long transaction has ended.
"""

from __future__ import annotations

import asyncio
import logging

import pytest
from alembic.script import ScriptDirectory

from db import migrate
from db.pool import connect
from tests.support.waiting import until

HEAD = ScriptDirectory(str(migrate.MIGRATIONS_DIR)).get_current_head()


async def test_a_revision_behind_a_long_reader_gives_up_and_retries_instead_of_blocking(
    empty_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="db.migrate")
    # 0012 changes push_deliveries; 0014 adds columns to email_digest_preferences (ACCESS
    # EXCLUSIVE on it).
    await asyncio.to_thread(migrate.upgrade, empty_database_url, "0011")
    reader = await connect(empty_database_url)
    traffic = await connect(empty_database_url)
    try:
        long_read = reader.transaction()
        await long_read.start()
        await reader.fetchval("SELECT count(*) FROM email_digest_preferences")
        run = asyncio.create_task(
            asyncio.to_thread(migrate.upgrade, empty_database_url, lock_timeout=0.3, attempts=50)
        )

        def retried_twice() -> bool:
            return caplog.text.count("retrying in") >= 2

        await until(retried_twice, "the migration gave up on its lock twice", timeout=30)
        # Meanwhile the table serves: a query waits at most one lock_timeout behind the revision.
        for _ in range(5):
            await traffic.fetchval("SELECT count(*) FROM email_digest_preferences", timeout=3)
        # Each revision commits on its own: what the run finished stays done while it retries.
        assert await traffic.fetchval("SELECT version_num FROM alembic_version") == "0012"
        assert not run.done()
        await long_read.rollback()
        await asyncio.wait_for(run, 60)
        version = await traffic.fetchval("SELECT version_num FROM alembic_version")
    finally:
        await reader.close()
        await traffic.close()
    assert version == HEAD
    assert "lock timeout" in caplog.text


def test_a_run_that_cannot_get_its_lock_fails_with_the_reason_after_its_attempts(
    empty_database_url: str,
) -> None:
    migrate.upgrade(empty_database_url, "0012")

    async def hold_and_try() -> BaseException:
        holder = await connect(empty_database_url)
        try:
            async with holder.transaction():
                await holder.execute("LOCK TABLE email_digest_preferences IN ACCESS SHARE MODE")
                try:
                    await asyncio.to_thread(
                        migrate.upgrade, empty_database_url, lock_timeout=0.05, attempts=2
                    )
                except Exception as error:  # what the caller sees
                    return error
                raise AssertionError("the migration went through a held lock")
        finally:
            await holder.close()

    error = asyncio.run(hold_and_try())
    assert migrate.retryable(error)
    assert "lock timeout" in str(error)


LOCKS_ON_NOTIFICATIONS = """
SELECT l.mode, l.granted FROM pg_locks l JOIN pg_stat_activity a USING (pid)
WHERE a.application_name = 'vividly-migrate' AND l.relation = 'notifications'::regclass
"""
WAITING_FOR_TRANSACTIONS = """
SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
WHERE a.application_name = 'vividly-migrate' AND l.locktype = 'virtualxid' AND NOT l.granted
"""
INDEX = """
SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE c.relname LIKE 'notifications_created_brin%'
"""


async def test_an_index_on_notifications_is_built_concurrently_and_rebuilt_after_giving_up(
    empty_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="db.migrate")
    # 0009 builds a BRIN index on notifications.
    await asyncio.to_thread(migrate.upgrade, empty_database_url, "0008")
    reader = await connect(empty_database_url)
    writer = await connect(empty_database_url)
    try:
        long_read = reader.transaction(isolation="repeatable_read")
        await long_read.start()
        await reader.fetchval("SELECT count(*) FROM content_requests")  # a snapshot, no lock
        run = asyncio.create_task(
            asyncio.to_thread(migrate.upgrade, empty_database_url, "0009", lock_timeout=0.3)
        )

        async def building() -> bool:
            await writer.execute("SELECT pg_stat_clear_snapshot()")
            return bool(await writer.fetchval(WAITING_FOR_TRANSACTIONS))

        # CREATE INDEX CONCURRENTLY waits for the older snapshot, holding only SHARE UPDATE
        # EXCLUSIVE on the table: writes go on meanwhile.
        await until(building, "the build waits for older transactions", timeout=30)
        modes = {row["mode"] for row in await writer.fetch(LOCKS_ON_NOTIFICATIONS)}
        assert modes == {"ShareUpdateExclusiveLock"}, modes
        await writer.execute(
            "INSERT INTO notifications (user_id, type, payload) VALUES"
            " (gen_random_uuid(), 'video_complete', '{}')",
            timeout=3,
        )
        await until(lambda: "retrying in" in caplog.text, "the build gave up and was retried")
        await long_read.rollback()
        await asyncio.wait_for(run, 60)
        # The invalid index a given-up build leaves was dropped and built again.
        assert [row["indisvalid"] for row in await writer.fetch(INDEX)] == [True]
    finally:
        await reader.close()
        await writer.close()
