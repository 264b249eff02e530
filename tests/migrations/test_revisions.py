"""Alembic revisions: up, down to nothing, up again (what they build is `db/schema.sql`, checked
by test_schema_snapshot.py: the one description of the schema)."""

from __future__ import annotations

import asyncio
import sys
from asyncio.subprocess import PIPE
from pathlib import Path

import asyncpg
from alembic.script import ScriptDirectory

from db import migrate
from db.urls import asyncpg_dsn
from tests.support.waiting import until

ROOT = Path(__file__).resolve().parents[2]

OBJECTS = """
SELECT 'table ' || tablename FROM pg_tables WHERE schemaname = 'public'
UNION ALL SELECT 'type ' || typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typtype IN ('e', 'c') AND t.typrelid = 0
UNION ALL SELECT 'function ' || proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public'
UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
UNION ALL SELECT 'sequence ' || sequencename FROM pg_sequences WHERE schemaname = 'public'
"""


def schema_objects(url: str) -> set[str]:
    async def fetch() -> set[str]:
        connection = await asyncpg.connect(asyncpg_dsn(url))
        try:
            return {row[0] for row in await connection.fetch(OBJECTS)}
        finally:
            await connection.close()

    return asyncio.run(fetch())


def test_upgrade_downgrade_upgrade(empty_database_url: str) -> None:
    migrate.upgrade(empty_database_url)
    created = schema_objects(empty_database_url)
    assert {
        "table content_requests",
        "table notifications",
        "table notification_types",
        "type content_request_status",
        "function vividly_create_notification_v2",
        "function vividly_content_request_notify_v3",
        "function vividly_read_state_notify_v4",
        "function vividly_notify_user_v1",
        "table notify_channels",
        "trigger notify_channels_changed",
        "function vividly_user_lock_key_v1",
        "function vividly_unread_v1",
        "function vividly_request_notification_v1",
        "table notification_preferences",
        "trigger content_requests_notify_update",
    } <= created

    migrate.downgrade(empty_database_url, "base")
    assert schema_objects(empty_database_url) == {"table alembic_version"}

    migrate.upgrade(empty_database_url)
    assert schema_objects(empty_database_url) == created


async def test_instances_migrating_at_once_queue_and_leave_one_head(
    empty_database_url: str,
) -> None:
    # Several `serve` processes start together and each migrates: they must queue, not race.
    # To make them meet for sure, both are held at their first read of alembic's version table
    # (created empty, as alembic's first step would) until both wait; then both go.
    holder = await asyncpg.connect(asyncpg_dsn(empty_database_url))
    try:
        await holder.execute(
            "CREATE TABLE alembic_version (version_num varchar(32) NOT NULL,"
            " CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num))"
        )
        hold = holder.transaction()
        await hold.start()
        await holder.execute("LOCK TABLE alembic_version IN ACCESS EXCLUSIVE MODE")
        script = "import sys; from db import migrate; migrate.upgrade(sys.argv[1])"
        runs = [
            await asyncio.create_subprocess_exec(
                sys.executable, "-c", script, empty_database_url, cwd=ROOT, stderr=PIPE
            )
            for _ in range(2)
        ]
        waiting = (
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )

        async def both_wait() -> bool:
            await holder.execute("SELECT pg_stat_clear_snapshot()")  # else one per transaction
            return bool(await holder.fetchval(waiting) == 2)

        await until(both_wait, "both migrations wait", timeout=30)
        await hold.rollback()
        outputs = [await asyncio.wait_for(run.communicate(), 60) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], [
            err.decode()[-800:] for _, err in outputs
        ]
        versions = [row[0] for row in await holder.fetch("SELECT * FROM alembic_version")]
    finally:
        await holder.close()
    assert versions == [ScriptDirectory(str(migrate.MIGRATIONS_DIR)).get_current_head()]
