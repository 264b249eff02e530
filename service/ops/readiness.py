"""What `/readyz` checks: can this process deliver notifications right now?

Ready means all of: the database answers (through the pool, within `DATABASE_TIMEOUT`) and its
schema is at the head revision of `migrations/`, or at a revision this code does not know (a
newer instance migrated during a rolling deploy: ready, with a warning; behind is not ready);
the listener is connected *and receiving* (it heard its own probe NOTIFY, sent through the
pool, within the last few heartbeats; see `listener.py`); every background task runs.
`check` returns one sentence per failed check (and per warning),
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
from dataclasses import dataclass

import asyncpg
from alembic.script import ScriptDirectory

from db.migrate import MIGRATIONS_DIR

from ..live.hub import Hub
from ..live.listener import Listener
from ..runtime.supervisor import Supervisor

logger = logging.getLogger(__name__)

DATABASE_TIMEOUT = 2.0
DEAF = "listener_deaf"  # the hub's suspension reason, a `vividly_streams_refused_total` label


@functools.cache
def head_revisions() -> frozenset[str]:
    """The head revision(s) of `migrations/` (read once per process)."""
    return frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


@functools.cache
def known_revisions() -> frozenset[str]:
    """Every revision of `migrations/`; revisions are never deleted, so one this code does not
    know came after its head (read once per process)."""
    return frozenset(
        script.revision for script in ScriptDirectory(str(MIGRATIONS_DIR)).walk_revisions()
    )


@dataclass(frozen=True, slots=True)
class Readiness:
    """What `/readyz` answers: ready when there are no `problems`; `warnings` do not count."""

    problems: list[str]
    warnings: list[str]


async def _schema(pool: asyncpg.Pool) -> Readiness:
    try:
        async with asyncio.timeout(DATABASE_TIMEOUT):
            rows = await pool.fetch("SELECT version_num FROM alembic_version")
    except asyncpg.UndefinedTableError:
        return Readiness(["schema: not migrated (run `vividly-notify migrate`)"], [])
    except Exception as error:  # any failure means "cannot reach it"
        return Readiness([f"database: unreachable ({type(error).__name__})"], [])
    current = frozenset(row["version_num"] for row in rows)
    heads = ", ".join(sorted(head_revisions()))
    at = ", ".join(sorted(current)) or "no revision"
    if current == head_revisions():
        return Readiness([], [])
    if current and not current & known_revisions():
        # A newer instance migrated during a rolling deploy: keep serving until replaced
        # (migrations are additive for one release; docs/deployment.md).
        return Readiness([], [f"schema: at {at}, newer than this code's head {heads}"])
    return Readiness(
        [f"schema: at {at}, this code needs {heads} (run `vividly-notify migrate`)"], []
    )


async def check(pool: asyncpg.Pool, listener: Listener, supervisor: Supervisor) -> Readiness:
    """Everything that keeps this process from being ready (and what merely deserves a look)."""
    schema = await _schema(pool)
    found = list(schema.problems)
    listening = listener.receiving_problem()
    if listening is not None:
        found.append(listening)
    found.extend(supervisor.problems())
    return Readiness(found, schema.warnings)


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
