"""What `/readyz` checks: can this process deliver notifications right now?

Ready means all of: the database answers (through the pool, within `DATABASE_TIMEOUT`) and its
schema is at the head revision of `migrations/`; the listener is connected *and receiving*
(it heard its own probe NOTIFY, sent through the pool, within the last few heartbeats; see
`listener.py`); every background task runs. `problems` returns one sentence per failed check,
so an operator reads the reason from the 503 body. Liveness (`/healthz`) checks none of this.

Load balancers that do not route on `/readyz` (nginx OSS, Docker's DNS) still send streams to a
process whose listener is deaf, so `gate_streams` also acts on it: while `Listener.deaf()`, the
hub is suspended (open streams end, new ones get `event: unavailable` and come back after
`retry:`, refusals counted as `listener_deaf`); once a probe is heard again, streams are admitted.
"""

from __future__ import annotations

import asyncio
import functools
import logging

import asyncpg
from alembic.script import ScriptDirectory

from db.migrate import MIGRATIONS_DIR

from .hub import Hub
from .listener import Listener
from .supervisor import Supervisor

logger = logging.getLogger(__name__)

DATABASE_TIMEOUT = 2.0
DEAF = "listener_deaf"  # the hub's suspension reason, a `vividly_streams_refused_total` label


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


async def gate_streams(listener: Listener, hub: Hub, interval: float) -> None:
    """Suspend the hub while the listener is deaf and resume it once it hears again (forever)."""
    while True:
        if listener.deaf():
            if hub.suspended is None:
                ended = hub.suspend(DEAF)
                logger.warning(
                    "refusing streams and ending %d: %s", ended, listener.receiving_problem()
                )
        elif hub.suspended == DEAF:
            hub.resume()
            logger.info("listener hears its probe again: admitting streams")
        await asyncio.sleep(interval)
