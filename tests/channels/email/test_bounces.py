"""Hard bounces: a recipient refused with a 5xx counts on the address; DIGEST_BOUNCE_LIMIT in a
row suspend it (no more digests), the preference says why, and saving it again lifts it; an
accepted digest resets the count. Against a real SMTP server (before: each period mailed the dead
address again)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from db.pool import create_pool
from tests.support.digest import digest_settings, make_due, notify, sender, subscribe
from tests.support.digest_api import PREFS, auth, opt_in
from tests.support.mailbox import Mailbox
from tests.support.server import RunningServer

STATE = (
    "SELECT hard_bounces, suspended_at IS NOT NULL AS suspended, suspended_reason"
    " FROM email_digest_preferences WHERE user_id = $1"
)
DIGESTS = "SELECT state FROM email_digests WHERE user_id = $1 ORDER BY id"


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    opened = await create_pool(database_url, max_size=3)
    yield opened
    await opened.close()


async def test_three_hard_bounces_in_a_row_suspend_the_address(
    database_url: str, mailbox: Mailbox, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    settings = digest_settings(database_url, mailbox)
    assert settings.digest_bounce_limit == 3
    student = uuid.uuid4()
    address = f"gone-{student.hex[:8]}@example.com"
    await subscribe(conn, student, address)
    await notify(conn, student)
    mailbox.refuse_rcpt[address] = "550 5.1.1 No such user"
    for bounces in (1, 2, 3):
        await sender(pool, settings).run_once()
        row = await conn.fetchrow(STATE, student)
        assert row["hard_bounces"] == bounces
        assert row["suspended"] is (bounces == 3)
        await make_due(conn, student)
    assert "550 5.1.1 No such user" in row["suspended_reason"]
    assert address not in row["suspended_reason"]
    await sender(pool, settings).run_once()  # due, but suspended: nothing is made
    assert [r["state"] for r in await conn.fetch(DIGESTS, student)] == ["failed"] * 3
    assert mailbox.data_commands == 0


async def test_an_accepted_digest_resets_the_count_and_4xx_does_not_count(
    database_url: str, mailbox: Mailbox, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    settings = digest_settings(database_url, mailbox)
    student = uuid.uuid4()
    address = f"back-{student.hex[:8]}@example.com"
    await subscribe(conn, student, address)
    await notify(conn, student)
    mailbox.refuse_rcpt[address] = "550 5.1.1 No such user"
    for _ in range(2):
        await sender(pool, settings).run_once()
        await make_due(conn, student)
    assert (await conn.fetchrow(STATE, student))["hard_bounces"] == 2
    mailbox.refuse_rcpt[address] = "450 4.2.0 Mailbox busy"
    await sender(pool, settings).run_once()
    assert (await conn.fetchrow(STATE, student))["hard_bounces"] == 2  # only 5xx counts
    del mailbox.refuse_rcpt[address]
    await conn.execute(
        "UPDATE email_digests SET next_attempt_at = now() WHERE user_id = $1", student
    )
    await sender(pool, settings).run_once()
    assert len(mailbox.to(address)) == 1
    assert tuple(await conn.fetchrow(STATE, student)) == (0, False, None)


async def test_the_preference_shows_the_suspension_and_saving_it_again_lifts_it(
    server: RunningServer, module_mailbox: Mailbox, conn: asyncpg.Connection
) -> None:
    student = uuid.uuid4()
    address = f"fix-{student.hex[:8]}@example.com"
    await opt_in(server, module_mailbox, student, address)
    await conn.execute(
        "UPDATE email_digest_preferences SET hard_bounces = 3, suspended_at = now(),"
        " suspended_reason = 'recipient refused: 550 5.1.1 No such user' WHERE user_id = $1",
        student,
    )
    async with httpx.AsyncClient(base_url=server.base_url) as client:
        shown = (await client.get(PREFS, headers=auth(server, student))).json()
        assert shown["suspended"] is True
        assert shown["suspended_reason"] == "recipient refused: 550 5.1.1 No such user"
        assert shown["next_digest_at"] is None
        saved = await client.put(
            PREFS, json={"email": address, "period": "weekly"}, headers=auth(server, student)
        )
        assert saved.status_code == 200, saved.text
        assert (saved.json()["suspended"], saved.json()["suspended_reason"]) == (False, None)
        assert saved.json()["confirmed"] is True  # the same address stays confirmed
    assert tuple(await conn.fetchrow(STATE, student)) == (0, False, None)
