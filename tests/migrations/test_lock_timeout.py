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

from ..waiting import until

HEAD = ScriptDirectory(str(migrate.MIGRATIONS_DIR)).get_current_head()


async def test_a_revision_behind_a_long_reader_gives_up_and_retries_instead_of_blocking(
    empty_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="db.migrate")
    # 0014 adds columns to email_digest_preferences: ACCESS EXCLUSIVE on it.
    await asyncio.to_thread(migrate.upgrade, empty_database_url, "0012")
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
