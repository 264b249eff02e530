"""Which notifications go into whose digest, and when: the period rule.

A student who opted in with a period P (hourly, daily or weekly; lengths in
DIGEST_PERIOD_SECONDS) has a `next_digest_at`, one P after opting in or after choosing P. When
it comes (the sender looks at least every DIGEST_POLL_SECONDS, and sleeps no longer than until
the first one due), their digest is made, in one transaction holding their preference row:

- It takes every notification of theirs that is, at that moment, unread and not archived, was
  never written to an open stream (`delivered_via` is not `stream`: a push does not count), was
  never reported on screen (`seen_at`), was created after they last opted in and at least
  DIGEST_MIN_AGE_SECONDS before, and is in no digest yet, the newest DIGEST_MAX_ITEMS of them.
  Each becomes that digest's (`email_digest_items`, keyed by notification: never in two
  digests); the older ones wait for the next digest (the email says how many wait). A digest
  that ends unsent (refused for good, given up, cancelled) releases its notifications.
- `next_digest_at` moves to one P from now, whether or not anything was taken. So two digests of
  a student are always at least P apart (one digest per period at most), and a notification
  waits at most P + DIGEST_MIN_AGE_SECONDS (plus the sender's lag) for its digest.
- A student whose previous digest is still unsent (being retried) gets no new one until it is
  sent or given up (DIGEST_GIVE_UP_SECONDS); what arrives meanwhile waits for the next one. Once
  a digest is sent, the next may be made one P later at the earliest, however long it took.

Several processes may run this at once: each locks the due students it takes (FOR UPDATE SKIP
LOCKED), so a student's digest is made by one of them, once.
"""

from __future__ import annotations

import uuid

import asyncpg

from . import sql
from .settings import EmailSettings

BATCH = 100  # students per transaction


async def make_due_digests(pool: asyncpg.Pool, settings: EmailSettings) -> list[int]:
    """Make the digests that are due now; return their ids."""
    made: list[int] = []
    while True:
        async with pool.acquire() as connection, connection.transaction():
            due = await connection.fetch(sql.DUE_DIGEST_STUDENTS, BATCH)
            for student in due:
                digest = await make_digest(connection, settings, student)
                if digest is not None:
                    made.append(digest)
        if len(due) < BATCH:
            return made


async def make_digest(
    connection: asyncpg.Connection, settings: EmailSettings, student: asyncpg.Record
) -> int | None:
    """One due student's digest (the caller holds their preference row); None when empty."""
    user_id: uuid.UUID = student["user_id"]
    digest: int | None = await connection.fetchval(
        sql.MAKE_DIGEST,
        user_id,
        settings.digest_min_age_seconds,
        settings.digest_period_seconds[student["period"]],
        settings.digest_max_items,
    )
    return digest
