"""What `/readyz` checks: can this process serve streams right now?

Ready means all of: the listener is connected *and receiving* (it heard its own probe NOTIFY,
sent through the pool, on this connection, and is not deaf: see `listener.py`); every
background task this process needs to deliver (feed, wheel, admission) runs; the schema is not
behind the code's head; the process is not shutting down (`Shutdown`). What does not stop it
from serving is a *warning*, in the body of a 200 and in metrics, never a 503: an optional task
(digest, push, retention, deliveries, gc, worker) crashed and waiting out its backoff, the
database not answering the readiness query within `DATABASE_TIMEOUT`, a probe that could not be
sent, a schema newer than the code's head (a rolling deploy). A database blip or a failover
therefore never takes every replica out at once for the length of a task's backoff.
`check` returns one sentence per failed check and per warning. Liveness (`/healthz`) checks
none of this.

Load balancers that do not route on `/readyz` (nginx OSS, Docker's DNS) still send streams to a
process whose listener is deaf, so `gate_streams` also acts on it: once `Listener.deaf()` (a
few committed probes in a row unheard, never a probe that failed to send), the hub is suspended
(new streams get `event: unavailable` and come back after `retry:`, refusals counted as
`listener_deaf`) and the open ones are drained over `DEAF_DRAIN_SECONDS`, each with a spread
`retry:` (`drain.py`); once a probe is heard again, streams are admitted.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass

import asyncpg
from alembic.script import ScriptDirectory

from db.migrate import MIGRATIONS_DIR

from ..live.drain import drain
from ..live.hub import Hub
from ..live.listener import Listener
from ..runtime.supervisor import Supervisor
from .shutdown import Shutdown

logger = logging.getLogger(__name__)

# Below the 1 s default `timeoutSeconds` of a Kubernetes probe: a slow database must make a
# warning in time, not a probe that timed out (which the kubelet counts as not ready).
DATABASE_TIMEOUT = 0.5
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
    except Exception as error:  # any failure means "cannot reach it": a warning, not a 503
        return Readiness([], [f"database: unreachable ({type(error).__name__})"])
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


async def check(
    pool: asyncpg.Pool,
    listener: Listener,
    supervisor: Supervisor,
    shutdown: Shutdown | None = None,
) -> Readiness:
    """Everything that keeps this process from serving (and what merely deserves a look)."""
    schema = await _schema(pool)
    found = list(schema.problems)
    if shutdown is not None and shutdown.started:
        found.append("shutting down: streams are being drained")
    listening = listener.receiving_problem()
    if listening is not None:
        found.append(listening)
    found.extend(supervisor.problems())
    warnings = list(schema.warnings)
    hearing = listener.receiving_warning()
    if hearing is not None:
        warnings.append(hearing)
    warnings.extend(supervisor.warnings())
    return Readiness(found, warnings)


async def gate_streams(
    listener: Listener, hub: Hub, interval: float, *, drain_seconds: float, retry_ms: int
) -> None:
    """Suspend the hub and drain its streams while the listener is deaf; resume it once it
    hears again (forever)."""
    draining: asyncio.Task[int] | None = None
    try:
        while True:
            if listener.deaf():
                if hub.suspended is None:
                    hub.suspend(DEAF)
                    streams = hub.open_subscriptions()
                    logger.warning(
                        "refusing streams, ending %d over %.0f s: %s",
                        len(streams),
                        drain_seconds,
                        listener.receiving_problem(),
                    )
                    draining = asyncio.create_task(
                        drain(streams, "unavailable", seconds=drain_seconds, retry_ms=retry_ms)
                    )
            elif hub.suspended == DEAF:
                hub.resume()
                if draining is not None:
                    draining.cancel()  # what is still open may stay: it hears again
                logger.info("listener hears its probe again: admitting streams")
            await asyncio.sleep(interval)
    finally:
        if draining is not None:
            draining.cancel()
