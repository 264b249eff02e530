"""The digest sender: a supervised task per API process that makes due digests and mails them.

The outbox (`email_digests`) is the only state; any number of processes may run a sender.

Guarantees:
- A digest is claimed by one sender at a time (FOR UPDATE SKIP LOCKED). The claim is a lease
  (SMTP_TIMEOUT_SECONDS + LEASE_MARGIN): a sender that dies mid-send leaves the digest to be
  claimed again once the lease runs out; every write of an attempt checks it still holds the
  claim (`attempts` is the fencing token).
- Once the SMTP server accepted a digest, the same statement that marks it `sent` records the
  server's reply, and the notifications it listed are marked delivered by `email` in that
  transaction. A failure to record it (the database away) is retried for up to half the lease,
  so another sender does not mail it again. What is left: a crash in the milliseconds between the
  server's acceptance and that commit means the digest is sent again, with the same Message-ID.
- A refused or failed send is retried, never dropped: after DIGEST_RETRY_BASE_SECONDS, doubling
  up to DIGEST_RETRY_MAX_SECONDS, for as long as it takes, with the error kept in `last_error`
  (the student's preference shows it). Only a permanent refusal of the address (5xx to RCPT)
  ends it as `failed`.
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

import asyncpg

from db import queries

from ..deliveries import ReachCounts
from ..settings import Settings
from ..supervisor import Supervisor
from . import message as mail
from .links import UnsubscribeLinks
from .schedule import make_due_digests
from .transport import SendFailed, deliver

logger = logging.getLogger(__name__)

LEASE_MARGIN = 60.0  # seconds beyond SMTP_TIMEOUT_SECONDS before a claim may be taken over
MIN_SLEEP = 0.05  # between passes, however soon the next thing is due
RECORD_RETRY = 1.0  # seconds between tries to record an accepted digest


class DigestSender:
    """Makes and sends the digests of the database behind `pool`."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        settings: Settings,
        links: UnsubscribeLinks,
        reach: ReachCounts | None = None,
    ) -> None:
        self._pool = pool
        self._reach = reach if reach is not None else ReachCounts()
        self._settings = settings
        self._links = links
        self.name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._lease = settings.smtp_timeout_seconds + LEASE_MARGIN

    async def run(self) -> None:
        """Make and send due digests until cancelled."""
        while True:
            await self.run_once()
            await asyncio.sleep(await self._until_next())

    async def run_once(self) -> int:
        """One pass: make the digests due now, then send every digest due; return how many
        attempts were made."""
        await make_due_digests(self._pool, self._settings)
        attempts = 0
        while await self.send_one():
            attempts += 1
        return attempts

    async def _until_next(self) -> float:
        due: datetime | None = await self._pool.fetchval(queries.DIGEST_NEXT_DUE)
        poll = self._settings.digest_poll_seconds
        if due is None:
            return poll
        wait = (due - datetime.now(UTC)).total_seconds()
        return min(poll, max(MIN_SLEEP, wait))

    async def send_one(self) -> bool:
        """Claim one due digest and make one attempt at it; False when none was due."""
        claim = await self._pool.fetchrow(queries.CLAIM_DIGEST_SEND, self.name, self._lease)
        if claim is None:
            return False
        attempt = (claim["id"], self.name, claim["attempts"])
        recipient = await self._pool.fetchrow(queries.DIGEST_RECIPIENT, claim["user_id"])
        if recipient is None or not recipient["opted_in"]:
            await self._pool.execute(queries.DIGEST_END, *attempt, "cancelled", "opted out")
            return True
        rows = await self._pool.fetch(
            queries.DIGEST_CONTENT, claim["id"], self._settings.digest_max_items
        )
        if not rows:
            await self._pool.execute(
                queries.DIGEST_END, *attempt, "cancelled", "everything in it was read or seen"
            )
            return True
        items = [mail.item_from_row(self._settings, row) for row in rows]
        address: str = recipient["address"]
        email = mail.build(
            self._settings,
            to=address,
            items=items,
            total=rows[0]["total"],
            unsubscribe_url=self._links.url(claim["user_id"], address),
            message_uuid=claim["message_uuid"],
            date=datetime.now(UTC),
        )
        try:
            reply = await deliver(self._settings, email)
        except SendFailed as error:
            await self._failed(attempt, error)
            return True
        await self._record_sent(attempt, reply, [row["id"] for row in rows])
        return True

    async def _failed(self, attempt: tuple[int, str, int], error: SendFailed) -> None:
        digest, _, attempts = attempt
        if error.permanent:
            logger.warning("digest %d refused for good: %s", digest, error)
            await self._pool.execute(queries.DIGEST_END, *attempt, "failed", str(error))
            return
        settings = self._settings
        delay = min(
            settings.digest_retry_max_seconds,
            settings.digest_retry_base_seconds * 2 ** (attempts - 1),
        )
        delay = random.uniform(delay * 0.8, delay)  # several processes do not retry in step
        logger.warning("digest %d not sent (%s); retrying in %.0f s", digest, error, delay)
        await self._pool.execute(queries.DIGEST_RETRY, *attempt, delay, str(error))

    async def _record_sent(self, attempt: tuple[int, str, int], reply: str, ids: list[int]) -> None:
        digest = attempt[0]
        deadline = asyncio.get_running_loop().time() + self._lease / 2
        while True:
            try:
                async with self._pool.acquire() as connection, connection.transaction():
                    status = await connection.execute(
                        queries.DIGEST_SENT, *attempt, reply, len(ids)
                    )
                    if status != "UPDATE 1":
                        logger.error(
                            "digest %d was accepted but its claim was lost (lease ran out): "
                            "another sender may send it again",
                            digest,
                        )
                        return
                    now = datetime.now(UTC)
                    first = await connection.execute(
                        queries.MARK_DELIVERED, ids, [now] * len(ids), "email"
                    )
                # Counted once committed: notifications no other channel had reached first.
                self._reach.first_delivered["email"] += int(first.rpartition(" ")[2] or 0)
                logger.info("digest %d sent (%d notifications): %s", digest, len(ids), reply)
                return
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                if asyncio.get_running_loop().time() >= deadline:
                    raise
                logger.warning("digest %d accepted, recording it failed (%s); again", digest, error)
                await asyncio.sleep(RECORD_RETRY)


def start_digest_sender(
    supervisor: Supervisor, pool: asyncpg.Pool, settings: Settings, reach: ReachCounts
) -> None:
    """Run the sender as the supervised task `digest`, or say in the log why it is off. It
    counts the notifications it delivered first in `reach` (`/metrics`)."""
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
    if settings.public_url is None:
        logger.warning(
            "email digest: PUBLIC_URL is unset, so the links in digests point at %s",
            settings.base_url,
        )
    supervisor.start("digest", sender.run)
