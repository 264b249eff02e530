"""Alembic, driven from code: the only way the schema is created or changed.

Guarantees (with migrations/env.py):
- Runs queue on an advisory lock; each revision commits in its own transaction.
- No lock is waited for longer than `lock_timeout` seconds. A run that gives up (a long
  transaction holds a lock a revision needs) is retried from the revision it stopped at, after a
  jittered backoff that doubles each time (capped at `MAX_BACKOFF`), `attempts` runs in all;
  then the last error is raised. While a run waits, the queries queued behind its lock request
  wait at most `lock_timeout` too; between runs nothing waits for it.
- The URL is read the way asyncpg reads it (db/urls.py), so `sslmode=verify-full` and
  `sslrootcert` work here as for the pool and the listener.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config

import migrations

from .urls import asyncpg_dsn

MIGRATIONS_DIR = Path(migrations.__file__).parent
LOCK_TIMEOUT = 5.0  # seconds
ATTEMPTS = 10
MAX_BACKOFF = 30.0  # seconds
# lock_not_available (lock_timeout), deadlock_detected: both say "try again later".
RETRYABLE = frozenset({"55P03", "40P01"})

logger = logging.getLogger(__name__)


def alembic_config(url: str, *, lock_timeout: float = 0) -> Config:
    """An Alembic config for the database at `url`; `lock_timeout` in seconds (0: none)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["dsn"] = asyncpg_dsn(url)
    config.attributes["lock_timeout_ms"] = round(lock_timeout * 1000)
    return config


def upgrade(
    url: str,
    revision: str = "head",
    *,
    lock_timeout: float = LOCK_TIMEOUT,
    attempts: int = ATTEMPTS,
) -> None:
    """Migrate the database up to `revision`. Blocking: call it outside an event loop."""
    config = alembic_config(url, lock_timeout=lock_timeout)
    _retrying(lambda: command.upgrade(config, revision), lock_timeout, attempts)


def downgrade(
    url: str,
    revision: str = "base",
    *,
    lock_timeout: float = LOCK_TIMEOUT,
    attempts: int = ATTEMPTS,
) -> None:
    """Migrate the database down to `revision`. Blocking: call it outside an event loop."""
    config = alembic_config(url, lock_timeout=lock_timeout)
    _retrying(lambda: command.downgrade(config, revision), lock_timeout, attempts)


def retryable(error: BaseException) -> bool:
    """The error, or one it was raised from, is a lock wait given up or a deadlock."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [error]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if getattr(current, "sqlstate", None) in RETRYABLE:
            return True
        pending += [getattr(current, "orig", None), current.__cause__, current.__context__]
    return False


def _retrying(run: Callable[[], None], lock_timeout: float, attempts: int) -> None:
    for attempt in range(1, attempts + 1):
        try:
            run()
            return
        except Exception as error:
            if attempt == attempts or not retryable(error):
                raise
            # Full jitter on a doubling ceiling: replicas of a rollout do not retry in step.
            delay = random.uniform(0, min(MAX_BACKOFF, max(lock_timeout, 0.1) * 2**attempt))
            logger.warning(
                "migration gave up waiting for a lock (%s); retrying in %.1f s (attempt %d of %d)",
                str(error).splitlines()[0][:200],
                delay,
                attempt + 1,
                attempts,
            )
            time.sleep(delay)
