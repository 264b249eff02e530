"""The digest sender: a supervised task per API process that makes due digests and mails them.

The outbox (`email_digests`) is the only state; any number of processes may run a sender.

Guarantees:
- A digest is claimed by one sender at a time (FOR UPDATE SKIP LOCKED). The claim is a lease
  (SMTP_TIMEOUT_SECONDS + LEASE_MARGIN): a sender that dies mid-send leaves the digest to be
  claimed again once the lease runs out; every write of an attempt checks it still holds the
  claim (`attempts` is the fencing token).
- Once the SMTP server accepted a digest, the same statement that marks it `sent` records the
  server's reply (and moves the student's next digest to one period from now at the earliest),
  and the notifications it listed are marked delivered by `email` in that transaction (at the
  database's now(), the instant of `sent_at`, never an API host's clock). A failure to record
  it (the database away) is retried until RECORD_WINDOW after the send's time limit,
  counted from the claim, which is before the lease can run out: no other sender can have taken
  the digest meanwhile. A digest whose preparation took so long that its send could outlast the
  lease is not sent on this attempt. What is left: if this process dies, or the database stays
  away for that window, after the server accepted the digest and before the commit, the digest is
  sent again once the lease runs out, with the same Message-ID.
- A refused or failed send is retried: after DIGEST_RETRY_BASE_SECONDS, doubling up to
  DIGEST_RETRY_MAX_SECONDS, with the error kept in `last_error` (the student's preference shows
  it), until DIGEST_GIVE_UP_SECONDS after the digest was made. A permanent refusal (a 5xx reply
  to RCPT or DATA, an address the server cannot take) ends it as `failed` at once; giving up too.
  A digest that ends unsent releases its notifications for the student's next digest.
- A hard bounce (the recipient refused with a 5xx) counts on the address; DIGEST_BOUNCE_LIMIT
  in a row suspend it (no digest is made for it, the preference shows why) until the student
  saves the preference again or confirms the address. An accepted digest resets the count.
- One connection carries a pass's messages. A failure of the server (connecting, TLS, login,
  sender refused, connection lost, timeout) ends the pass, and every due digest waits a
  server-level backoff, so an outage costs one timeout per pass, not one per digest.
- Nothing one digest does (a bug, an address the library chokes on) stops the task: an
  unexpected error fails that attempt only (retried as above). A database error (a blip, a
  failover, the pool exhausted) ends the pass, not the task: `run` logs it (once per outage)
  and tries again after a jittered backoff doubling from `DATABASE_RETRY` up to
  DIGEST_POLL_SECONDS; nothing it holds is lost (the outbox is the state).
- Before every attempt the digest is checked again: a student who opted out, deleted their
  preference or has read or seen everything in it meanwhile gets nothing (`cancelled`); what
  they read or saw is left out of the email.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import uuid
from datetime import UTC, datetime
from typing import Literal

import asyncpg

from service.notifications import sql as notifications_sql

from ...notifications.deliveries import ReachCounts
from ...runtime.supervisor import Supervisor
from . import message as mail
from . import sql
from .open_links import OpenLinks
from .schedule import make_due_digests
from .settings import EmailSettings
from .signed_links import UnsubscribeLinks
from .transport import Mailer, SendFailed

logger = logging.getLogger(__name__)

CHANNEL = "email"  # this channel's name (`delivered_via`, metrics): said here only
Outcome = Literal["sent", "failed", "server down", "cancelled"]

LEASE_MARGIN = 60.0  # seconds beyond SMTP_TIMEOUT_SECONDS before a claim may be taken over
RECORD_WINDOW = 30.0  # seconds after the send's time limit to record it (< LEASE_MARGIN)
MIN_SLEEP = 0.05  # between passes, however soon the next thing is due
RECORD_RETRY = 1.0  # seconds between tries to record an accepted digest
MAX_DOUBLINGS = 30  # the backoff's exponent stops here (long before a float overflows)
DATABASE_RETRY = 1.0  # seconds before the first pass after a database error
DATABASE_ERRORS = (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError)


def backoff(settings: EmailSettings, failures: int) -> float:
    """The delay after `failures` failures in a row: doubling, capped, jittered (several
    processes do not retry in step)."""
    exponent = min(max(failures - 1, 0), MAX_DOUBLINGS)
    delay = min(settings.digest_retry_max_seconds, settings.digest_retry_base_seconds * 2**exponent)
    return random.uniform(delay * 0.8, delay)


class DigestSender:
    """Makes and sends the digests of the database behind `pool`."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: EmailSettings,
        links: UnsubscribeLinks,
        reach: ReachCounts | None = None,
    ) -> None:
        self._pool = pool
        self._reach = reach if reach is not None else ReachCounts()
        self._settings = settings
        self._links = links
        opens = OpenLinks.from_settings(settings)
        if opens is None:  # the key of `links` is this one: never the case
            raise ValueError("digest links need a key: set DIGEST_SECRET")
        self._opens = opens
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lease = settings.smtp_timeout_seconds + LEASE_MARGIN
        self._outages = 0  # passes in a row that ended because the server failed
        self.database_errors = 0  # passes that ended on a database error

    async def run(self) -> None:
        """Make and send due digests until cancelled; a database error waits and tries again."""
        failures = 0
        while True:
            try:
                await self.run_once()
                wait = await self._until_next()
            except DATABASE_ERRORS as error:
                failures += 1
                exponent = min(failures - 1, MAX_DOUBLINGS)
                delay = min(self._settings.digest_poll_seconds, DATABASE_RETRY * 2**exponent)
                wait = random.uniform(delay / 2, delay)
                if failures == 1:
                    logger.warning("email digest: database error (%r); retrying", error)
                self.database_errors += 1
            else:
                if failures:
                    logger.info("email digest: the database answers again")
                failures = 0
            await asyncio.sleep(wait)

    async def run_once(self) -> int:
        """One pass: make the digests due now, then send every digest due on one connection;
        return how many attempts were made. A failure of the server ends the pass, and every
        digest due waits (server-level backoff) instead of timing out one by one."""
        await make_due_digests(self._pool, self._settings)
        attempts = 0
        async with Mailer(self._settings) as mailer:
            while (outcome := await self.send_one(mailer)) is not None:
                attempts += 1
                if outcome == "server down":
                    self._outages += 1
                    delay = backoff(self._settings, self._outages)
                    await self._pool.execute(sql.DIGEST_POSTPONE_DUE, delay)
                    logger.warning("email digest: SMTP server failing; next try in %.0f s", delay)
                    break
                if outcome == "sent":
                    self._outages = 0
        return attempts

    async def _until_next(self) -> float:
        due: datetime | None = await self._pool.fetchval(sql.DIGEST_NEXT_DUE)
        poll = self._settings.digest_poll_seconds
        if due is None:
            return poll
        wait = (due - datetime.now(UTC)).total_seconds()
        return min(poll, max(MIN_SLEEP, wait))

    async def send_one(self, mailer: Mailer) -> Outcome | None:
        """Claim one due digest and make one attempt at it; None when none was due."""
        claimed_at = asyncio.get_running_loop().time()  # the lease runs from (at most) here
        claim = await self._pool.fetchrow(sql.CLAIM_DIGEST_SEND, self.name, self._lease)
        if claim is None:
            return None
        attempt = (claim["id"], self.name, claim["attempts"])
        try:
            return await self._attempt(mailer, claim, attempt, claimed_at)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
            raise  # the database: the supervisor restarts the task; the lease frees the digest
        except Exception as error:  # a bug with this digest must not stop the others
            logger.exception("digest %d: unexpected failure", claim["id"])
            failure = SendFailed(f"unexpected {type(error).__name__}: {error}", permanent=False)
            await self._failed(claim, attempt, failure)
            return "failed"

    async def _attempt(
        self,
        mailer: Mailer,
        claim: asyncpg.Record,
        attempt: tuple[int, str, int],
        claimed_at: float,
    ) -> Outcome:
        recipient = await self._pool.fetchrow(sql.DIGEST_RECIPIENT, claim["user_id"])
        if recipient is None or not recipient["opted_in"]:
            return await self._cancel(attempt, "opted out")
        if not recipient["confirmed"]:
            return await self._cancel(attempt, "the address changed and is not confirmed yet")
        rows = await self._pool.fetch(
            sql.DIGEST_CONTENT, claim["id"], self._settings.digest_max_items, claim["user_id"]
        )
        if not rows:
            return await self._cancel(attempt, "everything in it was read or seen")
        user = claim["user_id"]
        items = [
            mail.item_from_row(row, self._opens.url(user, row["id"]), self._settings)
            for row in rows
        ]
        address: str = recipient["address"]
        email = mail.build(
            self._settings,
            to=address,
            items=items,
            total=len(rows) + rows[0]["waiting"],
            unsubscribe_url=self._links.url(claim["user_id"], address),
            message_uuid=claim["message_uuid"],
            date=datetime.now(UTC),
            lang=recipient["locale"],
            time_zone=recipient["time_zone"],
        )
        if asyncio.get_running_loop().time() > claimed_at + LEASE_MARGIN - RECORD_WINDOW:
            # Too slow getting here (the database?): sending now could outlast the lease.
            await self._failed(claim, attempt, SendFailed("claim too old", permanent=False))
            return "failed"
        try:
            reply = await mailer.send(email)
        except SendFailed as error:
            if error.bounce:
                await self._bounced(attempt, error, address)
            await self._failed(claim, attempt, error)
            return "server down" if error.server else "failed"
        period = self._settings.digest_period_seconds[recipient["period"]]
        deadline = claimed_at + self._settings.smtp_timeout_seconds + RECORD_WINDOW
        await self._record_sent(attempt, reply, [row["id"] for row in rows], period, deadline)
        return "sent"

    async def _cancel(self, attempt: tuple[int, str, int], why: str) -> Outcome:
        await self._pool.execute(sql.DIGEST_END, *attempt, "cancelled", why)
        self._reach.digests["cancelled"] += 1
        return "cancelled"

    async def _bounced(
        self, attempt: tuple[int, str, int], error: SendFailed, address: str
    ) -> None:
        """Count a hard bounce on `address`; at DIGEST_BOUNCE_LIMIT in a row it is suspended."""
        reason = str(error).replace(address, "[address]")
        limit = self._settings.digest_bounce_limit
        await self._pool.execute(sql.DIGEST_BOUNCED, attempt[0], limit, reason[:300], address)

    async def _failed(
        self, claim: asyncpg.Record, attempt: tuple[int, str, int], error: SendFailed
    ) -> None:
        digest, _, attempts = attempt
        if error.permanent:
            logger.warning("digest %d refused for good: %s", digest, error)
            await self._pool.execute(sql.DIGEST_END, *attempt, "failed", str(error))
            self._reach.digests["failed"] += 1
            return
        settings = self._settings
        age = (datetime.now(UTC) - claim["created_at"]).total_seconds()
        if age >= settings.digest_give_up_seconds:
            reason = f"given up after {attempts} attempts over {age / 3600:.1f} h: {error}"
            logger.warning("digest %d %s", digest, reason)
            await self._pool.execute(sql.DIGEST_END, *attempt, "failed", reason[:300])
            self._reach.digests["failed"] += 1
            return
        delay = backoff(settings, attempts)
        logger.warning("digest %d not sent (%s); retrying in %.0f s", digest, error, delay)
        await self._pool.execute(sql.DIGEST_RETRY, *attempt, delay, str(error))
        self._reach.digests["retried"] += 1

    async def _record_sent(
        self,
        attempt: tuple[int, str, int],
        reply: str,
        ids: list[int],
        period: float,
        deadline: float,
    ) -> None:
        """Record an accepted digest; retried until `deadline` (before the lease runs out, so no
        other sender can have claimed it meanwhile)."""
        digest = attempt[0]
        while True:
            try:
                async with self._pool.acquire() as connection, connection.transaction():
                    marked = await connection.fetchval(
                        sql.DIGEST_SENT, *attempt, reply, len(ids), period
                    )
                    if marked != 1:
                        logger.error(
                            "digest %d was accepted but its claim was lost (lease ran out): "
                            "another sender may send it again",
                            digest,
                        )
                        return
                    first = await connection.execute(
                        notifications_sql.MARK_DELIVERED_NOW, ids, CHANNEL
                    )
                # Counted once committed: notifications no other channel had reached first.
                self._reach.first_delivered[CHANNEL] += int(first.rpartition(" ")[2] or 0)
                self._reach.digests["sent"] += 1
                logger.info("digest %d sent (%d notifications): %s", digest, len(ids), reply)
                return
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                if asyncio.get_running_loop().time() + RECORD_RETRY >= deadline:
                    raise
                logger.warning("digest %d accepted, recording it failed (%s); again", digest, error)
                await asyncio.sleep(RECORD_RETRY)


def start_digest_sender(
    supervisor: Supervisor, pool: asyncpg.Pool, settings: EmailSettings, reach: ReachCounts
) -> None:
    """Run the sender as the supervised task `digest`, or say in the log why it is off. It
    counts in `reach` (`/metrics`) the notifications it delivered first and each attempt's
    outcome."""
    if settings.smtp_host is None:
        logger.info("email digest: off (SMTP_HOST is unset)")
        return
    links = UnsubscribeLinks.from_settings(settings)
    if links is None:
        raise ValueError("SMTP_HOST is set: set DIGEST_SECRET (unsubscribe links need a key)")
    sender = DigestSender(pool, settings, links, reach)
    logger.info(
        "email digest: on, through %s:%d (%s) from %s",
        settings.smtp_host,
        settings.smtp_port_or_default,
        settings.smtp_tls,
        settings.email_from,
    )
    supervisor.start("digest", sender.run, optional=True)
