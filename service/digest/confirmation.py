"""Double opt-in: the one email that asks a student to confirm the address they gave.

Guarantees: digests go only to a confirmed address (the schedule and the sender check
`confirmed_at`). A confirmation email goes out only for an opted-in, unconfirmed address, at most
once per RESEND_SECONDS per student whatever the address (taken atomically in the database, so
concurrent requests cannot both send), so nobody can use the service to flood a third party. A
send that failed for a reason that may pass (4xx, the server away) gives the turn back; a
permanent refusal does not.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from db import queries

from ..settings import Settings
from . import message as mail
from .links import ConfirmLinks
from .transport import SendFailed, deliver

RESEND_SECONDS = 600.0


async def send_confirmation(
    pool: asyncpg.Pool, settings: Settings, user_id: uuid.UUID
) -> tuple[bool, str | None]:
    """Mail the confirmation if one is due and allowed now: (whether it was sent, why not when
    the server refused it)."""
    links = ConfirmLinks.from_settings(settings)
    if links is None or settings.smtp_host is None:
        return False, None
    address: str | None = await pool.fetchval(
        queries.TAKE_CONFIRMATION_SEND, user_id, RESEND_SECONDS
    )
    if address is None:
        return False, None
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
        if not error.permanent:
            await pool.execute(queries.GIVE_BACK_CONFIRMATION_SEND, user_id)
        return False, f"the confirmation email was not sent: {error}"
    return True, None
