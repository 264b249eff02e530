"""Run a multi-statement SQL script inside the migration's transaction.

asyncpg prepares every statement SQLAlchemy sends, and a prepared statement holds one command;
a script (functions with `;` inside dollar quotes included) goes through asyncpg's simple-query
`execute` on the same connection instead.
"""

from __future__ import annotations

from typing import Any

from alembic import op


def execute_script(sql: str) -> None:
    """Execute `sql` (any number of statements) on the migration's connection."""
    raw = op.get_bind().connection.dbapi_connection
    if raw is None:  # pragma: no cover - the bind is always live inside a migration
        raise RuntimeError("no database connection")

    async def run(driver_connection: Any) -> None:
        await driver_connection.execute(sql)

    raw.run_async(run)
