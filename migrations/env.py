"""Alembic environment: runs migrations over asyncpg, one transaction per migration run.

Runs queue on a Postgres advisory lock taken first in that transaction (released at commit or
rollback): instances that start together and each migrate do not race; the later ones then
find the schema at head and do nothing.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

MIGRATION_LOCK = 0x76_69_76_69_64_6C_79  # "vividly": the advisory lock key of migration runs


def _run(connection: Connection) -> None:
    # No autogenerate: revisions are written as SQL, and db/schema.sql (checked against them)
    # is the one description of the schema.
    context.configure(connection=connection, target_metadata=None)
    with context.begin_transaction():
        # Before alembic reads the current revision: the winner's commit is what we then see.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        context.run_migrations()


async def _run_async(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


asyncio.run(_run_async(context.config.attributes["url"]))
