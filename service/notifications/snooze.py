"""Snooze: a notification leaves the inbox now and comes back **as a new one** at the chosen time.

`POST /notifications/{id}/snooze` archives the row and sets `snoozed_until` (one UPDATE: the
read-state trigger tells every device `dismissed`, with the unread count). The waker, a
supervised task in every `serve` process, brings rows whose time has come back through
`vividly_wake_snoozed_v1` (migration 0018): the snoozed row is deleted and the same notification
(type, payload, content request and round) is created again by the one create path, with a new
id, in one transaction.

Why a new row and not un-archiving the old one: "comes back as new" should be true everywhere a
new notification is true, and with a new row it is without any other code. A new id is above
every device's cursor, so open streams receive it live (the page shows its toast), a device that
was offline replays it on reconnect from `Last-Event-ID` like any other, the unread count counts
it, it sorts at the top of history (an un-archived old row would sort at its old place, and
would reach devices only as a `restored` read-state event that makes them reload, with no toast
and nothing to replay), and push and the digest, which look at recent `created_at`, treat it as
new. The price: its old id is gone (a `restore` of it after it came back is a 404, the returned
one is restored by its new id), and the delivery analytics count it once, created when it came
back, without the seen/opened of its first appearance.

Guarantees:
- Each due row comes back once, whatever number of processes run the waker (rows are claimed
  `FOR UPDATE SKIP LOCKED`; deleting the old row and creating the new one commit together).
- A row comes back at most about `SNOOZE_POLL_SECONDS` after its time (the waker also sleeps
  no longer than until the next snooze it knows of), and it is never lost while every process
  is down: the next waker to run brings it back. Retention never deletes a snoozed row.
- `restore` cancels a snooze; a type muted meanwhile does not come back (it stays archived).
- The waker never raises on database trouble: it logs, waits, and tries again.
"""

from __future__ import annotations

import asyncio
import logging

import asyncpg

from . import sql

logger = logging.getLogger(__name__)
MIN_DELAY = 0.05  # seconds between rounds at least


async def wake_due(pool: asyncpg.Pool | asyncpg.Connection, *, batch_size: int) -> int:
    """Bring back every snoozed notification whose time has come; return how many came back."""
    woken = 0
    while True:
        batch: int = await pool.fetchval(sql.WAKE_SNOOZED, batch_size)
        woken += batch
        if batch < batch_size:
            return woken


async def wake_periodically(pool: asyncpg.Pool, *, poll: float, batch_size: int) -> None:
    """Run `wake_due` until cancelled: every `poll` seconds, or sooner when a snooze ends."""
    while True:
        delay = poll
        try:
            woken = await wake_due(pool, batch_size=batch_size)
            if woken:
                logger.info("snooze: %d notifications came back", woken)
            due_in = await pool.fetchval(sql.NEXT_SNOOZE_DUE)
            if due_in is not None:
                # Due but not taken (another process holds it this moment): look again soon.
                delay = min(poll, max(due_in, MIN_DELAY))
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
            logger.warning("snooze waker failed: %s", error)
        await asyncio.sleep(delay)
