"""SQL for revisions: multi-statement scripts in the revision's transaction, and indexes built
CONCURRENTLY outside it.

asyncpg prepares every statement SQLAlchemy sends, and a prepared statement holds one command;
a script (functions with `;` inside dollar quotes included) goes through asyncpg's simple-query
`execute` on the same connection instead.

An index on a table that serves traffic (`notifications`, `content_requests`, ...) is built with
`create_index_concurrently`: a plain CREATE INDEX blocks the table's writes for the whole build.
The build runs outside the revision's transaction (what came before it in the revision is
committed first), so a revision that builds one does so first, and everything after it must be
safe to run again: a run that gives up after the build retries the whole revision.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from alembic import op
from sqlalchemy import text


def _on_driver(work: Callable[[Any], Awaitable[Any]]) -> Any:
    raw = op.get_bind().connection.dbapi_connection
    if raw is None:  # pragma: no cover - the bind is always live inside a migration
        raise RuntimeError("no database connection")
    return raw.run_async(work)


def execute_script(sql: str) -> None:
    """Execute `sql` (any number of statements) in the revision's transaction."""
    # SQLAlchemy's asyncpg adapter begins its transaction lazily, at its first statement: begin
    # it, or the script would run (and commit) on its own, apart from the version stamp.
    op.get_bind().execute(text("SELECT 1"))

    async def run(driver_connection: Any) -> None:
        await driver_connection.execute(sql)

    _on_driver(run)


def create_index_concurrently(name: str, definition: str) -> None:
    """`CREATE INDEX CONCURRENTLY name definition` (definition: `ON table ...`), idempotent.

    Writes go on during the build. A build that failed (lock_timeout while it waited for older
    transactions) leaves an invalid index behind: it is dropped and built again.
    """

    async def run(driver_connection: Any) -> None:
        valid = await driver_connection.fetchval(
            "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass($1)", name
        )
        if valid is False:
            await driver_connection.execute(f"DROP INDEX CONCURRENTLY {name}")
        if valid is not True:
            await driver_connection.execute(f"CREATE INDEX CONCURRENTLY {name} {definition}")

    with op.get_context().autocommit_block():
        _on_driver(run)
