"""Alembic revisions: up, down to nothing, up again; the result matches the models."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from db import migrate
from db.models import Base
from db.urls import asyncpg_dsn, sqlalchemy_url

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


def schema_diff(url: str) -> list[Any]:
    async def compare() -> list[Any]:
        engine = create_async_engine(sqlalchemy_url(url))
        async with engine.connect() as connection:
            diff: list[Any] = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
        await engine.dispose()
        return diff

    return asyncio.run(compare())


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
        "function vividly_read_state_notify_v3",
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


def test_migrated_schema_matches_models(database_url: str) -> None:
    assert schema_diff(database_url) == []
