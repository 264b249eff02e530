"""Alembic environment: runs migrations over asyncpg, one transaction per revision.

Guarantees:
- Runs queue on a session-level Postgres advisory lock, taken before alembic reads the current
  revision and held to the end of the run: instances that migrate at once do not race; the later
  ones then find the schema at head and do nothing. Only that wait is unbounded (the run holding
  the lock is itself bounded, below).
- Every other lock wait is bounded by `lock_timeout` (db/migrate.py passes it; 0 means none): a
  revision whose lock is held by a long transaction gives up instead of holding every later
  query on that table in the queue behind its own request. db/migrate.py retries the run.
- Each revision commits in its own transaction (`transaction_per_migration`), so a run that
  gives up keeps what it finished, and a revision may build an index CONCURRENTLY outside its
  transaction (migrations/script.py).
- The connection is made by asyncpg from the URL as given, like the pool's and the listener's:
  `sslmode`, `sslrootcert` and the rest mean the same everywhere.
"""

from __future__ import annotations

import asyncio

import asyncpg
from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

MIGRATION_LOCK = 0x76_69_76_69_64_6C_79  # "vividly": the advisory lock key of migration runs
APPLICATION_NAME = "vividly-migrate"  # in pg_stat_activity


def _run(connection: Connection, lock_timeout_ms: int) -> None:
    connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK})
    connection.execute(text(f"SET lock_timeout = {int(lock_timeout_ms)}"))
    # Committed before alembic starts: it begins (and commits) a transaction per revision.
    connection.commit()
    context.configure(
        connection=connection,
        # No autogenerate: revisions are written as SQL, and db/schema.sql (checked against
        # them) is the one description of the schema.
        target_metadata=None,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    # A run that fails releases the lock by closing its connection.
    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK})
    connection.commit()


async def _run_async(dsn: str, lock_timeout_ms: int) -> None:
    async def connect() -> asyncpg.Connection:
        # asyncpg reads sslmode & co. from the DSN; SQLAlchemy would pass them on as keyword
        # arguments, which asyncpg.connect refuses (TypeError).
        connection: asyncpg.Connection = await asyncpg.connect(
            dsn, server_settings={"application_name": APPLICATION_NAME}
        )
        return connection

    engine = create_async_engine("postgresql+asyncpg://", poolclass=NullPool, async_creator=connect)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run, lock_timeout_ms)
    finally:
        await engine.dispose()


_attributes = context.config.attributes
asyncio.run(_run_async(_attributes["dsn"], _attributes.get("lock_timeout_ms", 0)))
