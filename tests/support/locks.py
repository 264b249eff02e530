"""Waiting until another transaction is blocked on a lock, instead of sleeping and hoping.

A lock-order test holds a row or table lock, starts a statement that must queue behind it, and
only then goes on. "Queued" is a fact Postgres shows: the waiting backend is in
`pg_stat_activity` with `wait_event_type = 'Lock'`, and `pg_blocking_pids()` names who it waits
for. The statistics views are a snapshot per transaction, so each look clears it first (the
observer may itself be the one holding the lock, inside its transaction).
"""

from __future__ import annotations

import asyncpg

from tests.support.waiting import until

WAITING_BEHIND = """
SELECT count(*) FROM pg_stat_activity
WHERE wait_event_type = 'Lock'
  AND ($1::int IS NULL OR pid = $1)
  AND ($2::int IS NULL OR $2 = ANY(pg_blocking_pids(pid)))
"""


async def backend_pid(connection: asyncpg.Connection) -> int:
    """The server process id of `connection` (what `pg_stat_activity.pid` calls it)."""
    pid: int = await connection.fetchval("SELECT pg_backend_pid()")
    return pid


async def waiting_on_locks(
    observer: asyncpg.Connection, *, pid: int | None = None, behind: int | None = None
) -> int:
    """How many backends wait on a lock: `pid` if given, and held by `behind` if given."""
    await observer.execute("SELECT pg_stat_clear_snapshot()")
    count: int = await observer.fetchval(WAITING_BEHIND, pid, behind)
    return count


async def until_blocked(
    observer: asyncpg.Connection,
    what: str,
    *,
    pid: int | None = None,
    behind: int | None = None,
    count: int = 1,
    timeout: float = 5.0,
) -> None:
    """Wait until `count` backends (the one at `pid`, or any) wait on a lock (held by `behind`)."""

    async def enough() -> bool:
        return await waiting_on_locks(observer, pid=pid, behind=behind) >= count

    await until(enough, what, timeout=timeout)
