"""What `/readyz` checks: can this process deliver notifications right now?

Ready means all of: the database answers (through the pool, within `DATABASE_TIMEOUT`) and its
schema is at the head revision of `migrations/`; the listener is connected *and receiving*
(it heard its own probe NOTIFY, sent through the pool, within the last few heartbeats; see
`listener.py`); every background task runs. `problems` returns one sentence per failed check,
so an operator reads the reason from the 503 body. Liveness (`/healthz`) checks none of this.
"""

from __future__ import annotations

import asyncio
import functools

import asyncpg
from alembic.script import ScriptDirectory

from db.migrate import MIGRATIONS_DIR

from .listener import Listener
from .supervisor import Supervisor

DATABASE_TIMEOUT = 2.0


@functools.cache
def head_revisions() -> frozenset[str]:
    """The head revision(s) of `migrations/` (read once per process)."""
    return frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


async def _database_problems(pool: asyncpg.Pool) -> list[str]:
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            rows = await pool.fetch("SELECT version_num FROM alembic_version")
    except asyncpg.UndefinedTableError:
        return ["schema: not migrated (run `vividly-notify migrate`)"]
    except Exception as error:  # any failure means "cannot reach it"
        return [f"database: unreachable ({type(error).__name__})"]
    current = frozenset(row["version_num"] for row in rows)
    if current != head_revisions():
        return [
            f"schema: at {', '.join(sorted(current)) or 'no revision'}, this code needs "
            f"{', '.join(sorted(head_revisions()))} (run `vividly-notify migrate`)"
        ]
    return []


async def problems(pool: asyncpg.Pool, listener: Listener, supervisor: Supervisor) -> list[str]:
    """Everything that keeps this process from being ready; empty when it is."""
    found = await _database_problems(pool)
    listening = listener.receiving_problem()
    if listening is not None:
        found.append(listening)
    found.extend(supervisor.problems())
    return found
