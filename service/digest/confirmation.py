"""Double opt-in: the one email that asks a student to confirm the address they gave.

Guarantees: digests go only to a confirmed address (the schedule and the sender check
`confirmed_at`). A confirmation email goes out only for an opted-in, unconfirmed address, and
within two limits that nobody can lift, so nobody can use the service to flood a mailbox:
- per student, one per RESEND_SECONDS whatever the address;
- per recipient mailbox (`addresses.mailbox_key`: case and `+tag` variants are one), at most
  PER_ADDRESS_PER_DAY a day, whichever students ask.
Both are counted from a log of sends (`email_confirmation_sends`) that deleting or changing the
preference does not touch, and taken under advisory locks on both keys, so concurrent requests
cannot both pass. A send counts whatever the mail server did: a relay that is down or refuses
gives no turn back (each retry would otherwise reach the relay, or the address, again). What the
student is told is a plain sentence (`Confirmation.problem`); the server's own words go to the
log, without the address.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from db import queries

from ..settings import Settings
from . import message as mail
from .addresses import mailbox_key
from .links import ConfirmLinks
from .transport import SendFailed, deliver

logger = logging.getLogger(__name__)

RESEND_SECONDS = 600.0
PER_ADDRESS_PER_DAY = 3
DAY_SECONDS = 86400.0
STUDENT_KEY = "vividly.confirmation.student:"
ADDRESS_KEY = "vividly.confirmation.address:"


@dataclass(frozen=True, slots=True)
class Confirmation:
    """What became of a confirmation asked for: sent, or why not (for the student) and when
    another may be asked for (seconds; None when waiting would not help)."""

    sent: bool
    problem: str | None = None
    retry_after: float | None = None
    limited: bool = False


NOTHING_TO_CONFIRM = Confirmation(False)


def _in(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    if minutes < 90:
        return f"{minutes} minute{'s' if minutes != 1 else ''}"
    return f"{round(minutes / 60)} hours"


def _limited(student_wait: float, address_wait: float) -> Confirmation:
    if address_wait > student_wait:
        return Confirmation(
            False,
            f"this address was sent as many confirmation emails as it may get in a day; "
            f"you can ask for another in {_in(address_wait)}",
            address_wait,
            limited=True,
        )
    return Confirmation(
        False,
        "a confirmation email was sent less than 10 minutes ago; "
        f"you can ask for another in {_in(student_wait)}",
        student_wait,
        limited=True,
    )


def _not_sent(error: SendFailed) -> Confirmation:
    if error.permanent and not error.server:
        problem = "the mail server refused this address; check it and save it again"
    else:
        problem = "the mail server could not be reached just now"
    return Confirmation(
        False, f"{problem} (you can ask for another in {_in(RESEND_SECONDS)})", RESEND_SECONDS
    )


async def _take_turn(
    pool: asyncpg.Pool, user_id: uuid.UUID
) -> tuple[str | None, Confirmation | None]:
    """The address to mail now with the send recorded, or why not."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(queries.LOCK_CONFIRMATION_KEY, f"{STUDENT_KEY}{user_id}")
        address: str | None = await connection.fetchval(queries.CONFIRMATION_ADDRESS, user_id)
        if address is None:
            return None, NOTHING_TO_CONFIRM
        key = mailbox_key(address)
        await connection.execute(queries.LOCK_CONFIRMATION_KEY, f"{ADDRESS_KEY}{key}")
        waits = await connection.fetchrow(
            queries.CONFIRMATION_WAIT,
            user_id,
            key,
            RESEND_SECONDS,
            DAY_SECONDS,
            PER_ADDRESS_PER_DAY,
        )
        if waits["student_wait"] > 0 or waits["address_wait"] > 0:
            return None, _limited(waits["student_wait"], waits["address_wait"])
        await connection.execute(queries.RECORD_CONFIRMATION_SEND, user_id, key, DAY_SECONDS)
        return address, None


async def send_confirmation(
    pool: asyncpg.Pool, settings: Settings, user_id: uuid.UUID
) -> Confirmation:
    """Mail the confirmation if one is due and allowed now."""
    links = ConfirmLinks.from_settings(settings)
    if links is None or settings.smtp_host is None:
        return NOTHING_TO_CONFIRM
    address, refused = await _take_turn(pool, user_id)
    if address is None:
        return refused or NOTHING_TO_CONFIRM
    email = mail.confirmation(
        settings,
        to=address,
        confirm_url=links.url(user_id, address),
        message_uuid=uuid.uuid4(),
        date=datetime.now(UTC),
    )
    try:
        await deliver(settings, email)
    except SendFailed as error:
        logger.warning(
            "confirmation email not sent: %s",
            str(error).replace(address, "[address]"),
            extra={"user_id": str(user_id), "permanent": error.permanent},
        )
        return _not_sent(error)
    return Confirmation(True)
